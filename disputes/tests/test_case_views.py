import csv
import io

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account
from disputes.models import DisputeCase
from disputes.services import market_upsert_from_gamma
from disputes.tests.factories import decision_form_data, gamma_market
from portal.tests.pages import form_on, link_to, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(specialist):
    return market_upsert_from_gamma(data=gamma_market(), by=specialist).market


def test_file_a_case_then_decide_it_with_a_citation(
    client, specialist, market, django_assert_max_num_queries
):
    account = make_account(owner=specialist, email="whale@example.com")
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:case_new"),
        {
            "account": "whale@example.com",
            "category": "market_resolution",
            "market": market.gamma_id,
            "claim": "Price was up on Binance.",
            "amount_at_stake": "250",
            "priority": "normal",
        },
    )
    case = DisputeCase.objects.get()
    assert (
        response.status_code == 302
        and case.account == account
        and case.rule_version == market.current_version
    )
    with django_assert_max_num_queries(21):  # 20, and the routing decision (support.case_page)
        page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    assert f"Market rules v{market.current_version.number}" in page.content.decode()

    wrong = client.post(
        reverse("disputes:case_decide", args=[case.reference]),
        decision_form_data(
            revision=case.revision,
            rationale="Rules.",
            citations=[(f"m{market.current_version.pk}", "Binance is the resolution source")],
        ),
    )
    assert wrong.status_code == 400 and "does not appear" in wrong.content.decode()
    right = client.post(
        reverse("disputes:case_decide", args=[case.reference]),
        decision_form_data(
            revision=case.revision,
            rationale="Chainlink governs.",
            citations=[
                (
                    f"m{market.current_version.pk}",
                    "The resolution source for this market is information from Chainlink",
                )
            ],
        ),
        follow=True,
    )
    assert "Decision recorded." in right.content.decode()
    case.refresh_from_db()
    assert case.status == "decided"


def test_a_status_change_from_a_stale_page_is_refused(client, specialist, market):
    make_account(owner=specialist, email="w@example.com")
    client.force_login(specialist)
    client.post(
        reverse("disputes:case_new"),
        {
            "account": "w@example.com",
            "category": "order_execution",
            "claim": "Partial fill.",
            "amount_at_stake": "0",
            "priority": "normal",
        },
    )
    case = DisputeCase.objects.get()
    stale = case.revision
    client.post(
        reverse("disputes:case_transition", args=[case.reference]), {"to": "investigating", "revision": stale}
    )
    response = client.post(
        reverse("disputes:case_transition", args=[case.reference]), {"to": "escalated", "revision": stale}
    )
    assert response.status_code == 400 and "Someone else changed this case" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "investigating"


def test_unknown_account_or_market_is_explained(client, specialist):
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:case_new"),
        {
            "account": "nobody@example.com",
            "category": "market_resolution",
            "market": "999",
            "claim": "x",
            "amount_at_stake": "-5",
            "priority": "normal",
        },
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "No single account matches" in text and "No single imported market" in text
    assert not DisputeCase.objects.exists()


def test_header_search_opens_a_case_by_reference(client, specialist, market):
    make_account(owner=specialist, email="w@example.com")
    client.force_login(specialist)
    client.post(
        reverse("disputes:case_new"),
        {
            "account": "w@example.com",
            "category": "order_execution",
            "claim": "x",
            "amount_at_stake": "0",
            "priority": "normal",
        },
    )
    case = DisputeCase.objects.get()
    response = client.get(reverse("search"), {"q": case.reference.lower()})
    assert response.status_code == 302 and response["Location"] == reverse(
        "disputes:case_detail", args=[case.reference]
    )


def test_case_list_filters_export_and_constant_queries(
    client, leader, specialist, django_assert_max_num_queries
):
    from disputes.services.cases import dispute_file

    account = make_account(owner=specialist)
    other = make_account(owner=specialist, display_name="Other trader", email="other-trader@example.com")
    cases = [
        dispute_file(
            by=specialist,
            account=other if n == 11 else account,
            category="order_execution" if n % 2 else "platform_mechanics",
            claim=f"c{n}",
        )
        for n in range(12)
    ]
    client.force_login(leader)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("disputes:case_list"), {"per_page": 3})
    with django_assert_max_num_queries(12) as large:
        page = client.get(reverse("disputes:case_list"), {"per_page": 12})
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(page.context["table"].page.object_list) == 12

    def exported(listing):
        response = client.get(link_to(listing, "Export CSV"))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(body)))[1:]

    assert len(exported(page)) == 12
    filtered = submit(client, form_on(page, has_field="q", action=""), category="order_execution")
    assert len(filtered.context["table"].page.object_list) == 6
    rows = exported(filtered)
    assert len(rows) == 6 and {row[2] for row in rows} == {"order_execution"}
    searched = submit(client, form_on(filtered, has_field="q", action=""), q="other-trader@example.com")
    assert [row[:2] for row in exported(searched)] == [[cases[11].reference, "Other trader"]]
    assert client.get(reverse("disputes:case_list"), {"status": "bogus"}).status_code == 400


def test_add_an_internal_note_from_the_case_page(client, specialist):
    from disputes.services.cases import dispute_file

    case = dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="x"
    )
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:case_note", args=[case.reference]), {"text": "Asked for the order id."}, follow=True
    )
    assert "Note added to the history." in response.content.decode()
    assert "Asked for the order id." in response.content.decode()


def test_a_case_is_linked_to_its_intercom_conversation_after_filing(client, specialist):
    from disputes.services.cases import dispute_file

    case = dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category="order_execution",
        claim="Partial fill.",
    )
    url = reverse("disputes:case_conversation", args=[case.reference])
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert "Link the Intercom conversation" in page

    bad = client.post(url, {"intercom_conversation_id": "../contacts/1"})
    assert bad.status_code == 400 and "digits only" in bad.content.decode()
    case.refresh_from_db()
    assert case.intercom_conversation_id == "" and not case.events.filter(kind="updated").exists()

    assert client.post(url, {"intercom_conversation_id": " #215470000000042 "}).status_code == 302
    case.refresh_from_db()
    assert case.intercom_conversation_id == "215470000000042"
    event = case.events.get(kind="updated")
    assert event.summary == "Linked to Intercom conversation 215470000000042"
    assert client.post(url, {"intercom_conversation_id": "215470000000042"}).status_code == 302
    assert case.events.filter(kind="updated").count() == 1  # unchanged: no history line

    assert client.post(url, {"intercom_conversation_id": ""}).status_code == 302
    case.refresh_from_db()
    assert case.intercom_conversation_id == ""
    assert case.events.filter(summary="Unlinked from Intercom conversation 215470000000042").exists()


def test_a_case_cannot_be_linked_to_another_accounts_conversation(client, specialist):
    from disputes.services.cases import dispute_file
    from support.services import conversation_sync
    from support.tests.factories import conversation_object

    mine = make_account(owner=specialist, display_name="Dana")
    other = make_account(owner=specialist, display_name="Eli")
    conversation_sync(
        data=conversation_object(intercom_id="777", external_id=other.external_id), source="import"
    )
    conversation_sync(
        data=conversation_object(intercom_id="778", external_id=mine.external_id), source="import"
    )
    case = dispute_file(by=specialist, account=mine, category="order_execution", claim="Partial fill.")
    url = reverse("disputes:case_conversation", args=[case.reference])
    client.force_login(specialist)
    refused = client.post(url, {"intercom_conversation_id": "777"})
    assert refused.status_code == 400 and "is with Eli, not with Dana" in refused.content.decode()
    fullwidth = client.post(url, {"intercom_conversation_id": "\uff17\uff17\uff17"})
    assert fullwidth.status_code == 400 and "digits only" in fullwidth.content.decode()
    assert client.post(url, {"intercom_conversation_id": "778"}).status_code == 302
    assert (
        client.post(url, {"intercom_conversation_id": "999"}).status_code == 302
    )  # not mirrored yet: allowed


def test_the_case_page_shows_the_panels_apps_above_disputes_register(client, specialist, leader):
    from disputes.selectors import CASE_FACTS_PANELS
    from disputes.services.cases import dispute_file
    from portal.page_panels import register_page_panel, unregister_page_panel

    case = dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="x"
    )
    register_page_panel(
        page=CASE_FACTS_PANELS,
        name="test.watchers",
        template="portal_tests/_panel.html",
        context=lambda *, obj, user: (
            {"items": [f"{obj.reference} seen by {user.username}"]} if user.username == "spec" else None
        ),
    )
    try:
        client.force_login(specialist)
        page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
        assert f"{case.reference} seen by spec" in page
        client.force_login(leader)
        page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
        assert "seen by" not in page
    finally:
        unregister_page_panel(page=CASE_FACTS_PANELS, name="test.watchers")


@pytest.mark.parametrize(("venue", "currency"), [("international", "USDC"), ("us", "USD")])
def test_the_amount_field_names_the_currency_of_the_account_filed_for(client, specialist, venue, currency):
    account = make_account(owner=specialist, venue=venue)
    client.force_login(specialist)
    account_page = client.get(reverse("accounts:detail", args=[account.pk]))
    form_page = client.get(link_to(account_page, "File a dispute")).content.decode()
    assert f"Amount at stake ({currency})" in form_page
    blank = client.get(reverse("disputes:case_new")).content.decode()
    assert "Amount at stake (USDC; USD for Polymarket US accounts)" in blank
