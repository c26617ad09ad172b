import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from disputes.models import CaseEvent, Decision, DisputeCase
from disputes.services import market_upsert_from_gamma, rulebook_section_save
from disputes.services.cases import (
    CitationInput,
    decision_approve,
    dispute_decide,
    dispute_file,
    dispute_transition,
)
from disputes.tests.factories import gamma_market

pytestmark = pytest.mark.django_db
RULE = "The resolution source for this market is information from Chainlink"


@pytest.fixture
def market(specialist):
    return market_upsert_from_gamma(data=gamma_market(), by=specialist).market


@pytest.fixture
def case(specialist, market):
    return dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category="market_resolution",
        claim="Binance showed the price up at 2:40.",
        amount_at_stake=Decimal("500"),
        market=market,
    )


def cite(market, excerpt=RULE):
    return [CitationInput(excerpt=excerpt, market_rule_version=market.current_version)]


MID_YEAR = dt.datetime(2027, 7, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def mid_year(monkeypatch):
    """A fixed 'now' far from New Year: numbers restart at 00001 each (UTC) year, so two filings
    straddling midnight on 31 December would get DSP-<year>-00001 and DSP-<year+1>-00001."""
    monkeypatch.setattr(timezone, "now", lambda: MID_YEAR)


@pytest.mark.usefixtures("mid_year")  # requested first, so the `case` fixture files under it too
def test_filing_gives_sequential_references_and_pins_the_rules(specialist, market, case):
    second = dispute_file(
        by=specialist, account=case.account, category="order_execution", claim="Partial fill."
    )
    assert case.year == second.year == MID_YEAR.year
    assert case.reference.endswith("-00001") and second.reference.endswith("-00002")
    assert case.reference.startswith(f"DSP-{case.year}-")
    assert case.rule_version == market.current_version
    assert case.currency == "USDC"
    assert case.events.get().kind == CaseEvent.Kind.FILED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "market_resolution", "market": None}, "market"),
        ({"claim": "  "}, "claim"),
        ({"amount_at_stake": Decimal("-1")}, "amount_at_stake"),
    ],
)
def test_bad_filings_are_refused_and_nothing_is_written(specialist, changes, field):
    data = {
        "by": specialist,
        "account": make_account(owner=specialist),
        "category": "order_execution",
        "claim": "x",
    }
    with pytest.raises(ValidationError) as caught:
        dispute_file(**{**data, **changes})
    assert field in caught.value.message_dict
    assert not DisputeCase.objects.exists()


def test_filing_with_another_accounts_conversation_is_refused_by_the_registered_check(specialist):
    # The check lives in support (support.case_filing), registered through disputes.hooks.
    from support.services import conversation_sync
    from support.tests.factories import conversation_object

    mine = make_account(owner=specialist, display_name="Dana")
    other = make_account(owner=specialist, display_name="Eli")
    conversation_sync(
        data=conversation_object(intercom_id="777", external_id=other.external_id), source="import"
    )
    with pytest.raises(ValidationError) as caught:
        dispute_file(
            by=specialist,
            account=mine,
            category="order_execution",
            claim="Partial fill.",
            intercom_conversation_id="#777",
        )
    assert caught.value.message_dict == {
        "intercom_conversation_id": ["Conversation 777 is with Eli, not with Dana."]
    }
    assert not DisputeCase.objects.exists()


def test_the_workflow_refuses_illegal_moves_and_reopening_without_a_reason(specialist, case):
    dispute_transition(case=case, by=specialist, to="investigating")
    with pytest.raises(ValidationError, match="decided by recording a decision"):
        dispute_transition(case=case, by=specialist, to="decided")
    dispute_transition(case=case, by=specialist, to="closed")
    with pytest.raises(ValidationError, match="can’t move"):
        dispute_transition(case=case, by=specialist, to="waiting_on_user")
    with pytest.raises(ValidationError, match="why the case is reopened"):
        dispute_transition(case=case, by=specialist, to="investigating")
    dispute_transition(case=case, by=specialist, to="investigating", reason="User sent new evidence")
    case.refresh_from_db()
    assert case.status == "investigating"
    assert case.events.filter(kind=CaseEvent.Kind.STATUS).count() == 3


def test_a_change_against_an_out_of_date_page_is_refused(specialist, case):
    opened_at = case.revision
    dispute_transition(case=case, by=specialist, to="investigating", expected_revision=opened_at)
    with pytest.raises(ValidationError, match="Someone else changed this case"):
        dispute_transition(case=case, by=specialist, to="escalated", expected_revision=opened_at)
    case.refresh_from_db()
    assert case.status == "investigating"


def test_a_decision_needs_a_citation_found_in_the_rule_text(specialist, market, case):
    with pytest.raises(ValidationError, match="at least one rule"):
        dispute_decide(case=case, by=specialist, outcome="denied", rationale="Per the rules.", citations=[])
    with pytest.raises(ValidationError, match="does not appear"):
        dispute_decide(
            case=case,
            by=specialist,
            outcome="denied",
            rationale="x",
            citations=cite(market, "resolves by Binance price"),
        )
    # White space and curly quotes do not matter.
    excerpt = "This market will resolve to “Up” if the Bitcoin   price"
    decision = dispute_decide(
        case=case,
        by=specialist,
        outcome="denied",
        rationale="Chainlink governs.",
        citations=cite(market, excerpt),
    )
    case.refresh_from_db()
    assert decision.state == Decision.State.RECORDED and case.status == "decided"
    assert decision.citations.get().market_rule_version == market.current_version


def test_a_rulebook_section_can_be_cited(specialist, portal_admin, case):
    section, _ = rulebook_section_save(
        by=portal_admin,
        venue="international",
        number="2.2",
        title="Minimum size",
        body="An order below the market's minimum size is rejected before matching.",
        effective_from="2026-01-01",
    )
    section.refresh_from_db()
    citation = CitationInput(excerpt="is rejected before matching", rulebook_version=section.current_version)
    assert dispute_decide(case=case, by=specialist, outcome="denied", rationale="x", citations=[citation]).pk


def test_large_amounts_need_a_second_specialist_who_is_not_the_proposer(specialist, market, case, settings):
    settings.DISPUTE_FOUR_EYES_THRESHOLD = Decimal("100")
    proposal = dispute_decide(
        case=case, by=specialist, outcome="upheld", rationale="Refund.", citations=cite(market)
    )
    assert proposal.state == Decision.State.PROPOSED
    with pytest.raises(ValidationError, match="other than the proposer"):
        decision_approve(decision=proposal, by=specialist)
    decision_approve(decision=proposal, by=specialist_user())
    case.refresh_from_db()
    assert case.status == "decided"
    proposal.refresh_from_db()
    assert proposal.state == Decision.State.RECORDED and proposal.approved_by != specialist


def test_an_amendment_keeps_the_earlier_decision(specialist, market, case):
    first = dispute_decide(
        case=case, by=specialist, outcome="denied", rationale="No.", citations=cite(market)
    )
    with pytest.raises(ValidationError, match="why the decision is amended"):
        dispute_decide(case=case, by=specialist, outcome="upheld", rationale="Yes.", citations=cite(market))
    second = dispute_decide(
        case=case,
        by=specialist,
        outcome="upheld",
        rationale="Yes.",
        citations=cite(market),
        amendment_reason="New evidence.",
    )
    first.refresh_from_db()
    assert first.state == Decision.State.SUPERSEDED and second.supersedes == first
    assert case.events.filter(kind=CaseEvent.Kind.DECISION_AMENDED).exists()


def test_only_specialists_decide(leader, market, case):
    with pytest.raises(ValidationError, match="Only a Specialist"):
        dispute_decide(case=case, by=leader, outcome="denied", rationale="x", citations=cite(market))


@pytest.mark.django_db(transaction=True)
def test_two_people_filing_at_once_get_different_numbers(specialist):
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    account = make_account(owner=specialist)
    references, errors = [], []

    def file_one():
        try:
            references.append(
                dispute_file(
                    by=specialist, account=account, category="platform_mechanics", claim="Withdrawal late"
                ).reference
            )
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(references)) == 6


def test_open_cases_lower_the_account_health_and_reach_intercom(specialist, market, case):
    from accounts.models import Account
    from integrations.models import SyncJob

    account = Account.objects.get(pk=case.account_id)
    assert account.health_components["disputes"]["score"] == 60
    job = SyncJob.objects.get(kind=SyncJob.Kind.CONTACT_ATTRIBUTES, key=f"account:{account.pk}:disputes")
    assert job.payload["custom_attributes"]["advanced_open_disputes"] == 1
    dispute_decide(case=case, by=specialist, outcome="denied", rationale="Chainlink.", citations=cite(market))
    account.refresh_from_db()
    assert account.health_components["disputes"]["score"] == 100
    assert SyncJob.objects.filter(kind=SyncJob.Kind.CONTACT_NOTE).count() == 1


def test_internal_notes_are_kept_in_the_history_and_empty_ones_refused(specialist, case):
    from disputes.services.cases import case_note_add

    case_note_add(case=case, by=specialist, text="Called the user; they will send screenshots.")
    assert case.events.filter(kind=CaseEvent.Kind.NOTE, note__startswith="Called the user").exists()
    with pytest.raises(ValidationError):
        case_note_add(case=case, by=specialist, text="  ")
