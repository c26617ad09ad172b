"""Bad input on the case pages: a 4xx or a message, never a 500, nothing written."""

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account
from disputes.models import CaseEvent, Decision, DisputeCase
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import dispute_file
from disputes.tests.factories import decision_form_data, gamma_market

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999"


@pytest.fixture
def web(client, specialist):
    client.force_login(specialist)
    client.raise_request_exception = False
    return client


@pytest.fixture
def case(specialist):
    return dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="x"
    )


@pytest.mark.parametrize(
    "path",
    ["/disputes/DSP-2026-999999999/", "/disputes/DSP-2026-999999999/decide/", "/disputes/DSP-20260-1/"],
)
def test_unknown_cases_are_404(web, path):
    assert web.get(path).status_code in (404, 405)


def test_approving_a_decision_of_another_case_or_a_huge_id_is_404(web, specialist, case):
    other = dispute_file(by=specialist, account=case.account, category="order_execution", claim="y")
    foreign = Decision.objects.create(
        case=other,
        outcome="denied",
        rationale="r",
        state="proposed",
        proposed_by=specialist,
        proposed_at=other.created_at,
    )
    assert web.post(reverse("disputes:case_approve", args=[case.reference, foreign.pk])).status_code == 404
    assert web.post(f"/disputes/{case.reference}/decisions/999999999999999999/approve/").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"to": "decided", "revision": "1"},
        {"to": "bogus", "revision": "1"},
        {"to": "investigating", "revision": HUGE},
        {"to": "investigating", "revision": "abc"},
        {"to": "investigating"},
    ],
)
def test_bad_status_changes_are_400_and_change_nothing(web, case, data):
    assert web.post(reverse("disputes:case_transition", args=[case.reference]), data).status_code == 400
    case.refresh_from_db()
    assert case.status == "new" and case.events.count() == 1


@pytest.mark.parametrize(
    "source",
    ["m999999", "r1", "x1", "", HUGE, "m" + HUGE],
)
def test_a_decision_citing_something_not_offered_is_400(web, specialist, case, source):
    market_upsert_from_gamma(data=gamma_market(), by=specialist)
    response = web.post(
        reverse("disputes:case_decide", args=[case.reference]),
        decision_form_data(
            revision=case.revision,
            rationale="r",
            citations=[(source, "The resolution source for this market")],
        ),
    )
    assert response.status_code == 400
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {
            "account": "",
            "category": "order_execution",
            "claim": "x",
            "amount_at_stake": "0",
            "priority": "normal",
        },
        {
            "account": "x" * 300,
            "category": "order_execution",
            "claim": "x",
            "amount_at_stake": "0",
            "priority": "normal",
        },
        {
            "account": "desk@example.com",
            "category": "bogus",
            "claim": "x",
            "amount_at_stake": "1e309",
            "priority": "normal",
        },
        {
            "account": "desk@example.com",
            "category": "order_execution",
            "claim": "x",
            "amount_at_stake": "NaN",
            "priority": "x",
        },
        {
            "account": "desk@example.com",
            "category": "order_execution",
            "claim": "x",
            "amount_at_stake": "0",
            "priority": "normal",
            "assignee": HUGE,
        },
    ],
)
def test_bad_filings_from_the_page_are_400(web, specialist, data):
    make_account(owner=specialist, email="desk@example.com")
    assert web.post(reverse("disputes:case_new"), data).status_code == 400
    assert not DisputeCase.objects.exists()


def test_an_empty_note_is_400_and_not_kept(web, case):
    assert web.post(reverse("disputes:case_note", args=[case.reference]), {"text": "   "}).status_code == 400
    assert not case.events.filter(kind=CaseEvent.Kind.NOTE).exists()


def test_filing_refuses_a_conversation_id_that_is_not_intercoms(specialist):
    from django.core.exceptions import ValidationError

    account = make_account(owner=specialist)
    with pytest.raises(ValidationError) as refused:
        dispute_file(
            by=specialist,
            account=account,
            category="order_execution",
            claim="Partial fill.",
            intercom_conversation_id="123/reply?x=1",
        )
    assert "digits only" in str(refused.value.message_dict["intercom_conversation_id"])
    assert not DisputeCase.objects.exists()
    case = dispute_file(
        by=specialist,
        account=account,
        category="order_execution",
        claim="Partial fill.",
        intercom_conversation_id="#42",
    )
    assert case.intercom_conversation_id == "42"
