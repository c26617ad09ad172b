import datetime as dt
import random
import re
import uuid
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import AccountEvent, Wallet
from disputes import demo_cases
from disputes.models import (
    CaseCounter,
    CaseEvent,
    Decision,
    DisputeCase,
    EvidenceItem,
    RuleCitation,
    WalletActivityRow,
)
from disputes.selectors import rules_at
from disputes.services.cases import FIRST_RESPONSE_HOURS, RESOLUTION_HOURS, TRANSITIONS, normalise_text
from disputes.services.snapshots import collateral_at
from integrations.models import SyncJob
from portal.models import User
from portal.roles import Role
from portal.tests.seeding import seed
from support.sla.cycles import CASE_EVENT_KINDS, FIRST_RESPONSE, case_spans

pytestmark = pytest.mark.django_db
SMALL = ("--accounts", "40", "--markets", "10", "--disputes", "120")
HASH_32 = re.compile(r"^0x[0-9a-f]{64}$")
OPEN = {"new", "investigating", "waiting_on_user", "escalated"}


@pytest.fixture
def seeded():
    return seed("--seed", "7", *SMALL)


def test_seeds_the_requested_cases_with_sequential_references_per_year(seeded):
    assert "dispute cases: 120 (" in seeded
    cases = list(DisputeCase.objects.order_by("created_at", "pk"))
    assert len(cases) == 120
    by_year = defaultdict(list)
    for case in cases:
        assert case.year == case.created_at.year
        assert case.reference == f"DSP-{case.year}-{case.number:05d}"
        by_year[case.year].append(case.number)
    assert len(by_year) >= 2  # spread over about two years
    for numbers in by_year.values():
        assert numbers == list(range(1, len(numbers) + 1))  # filing order, no gaps
    assert dict(CaseCounter.objects.values_list("year", "last_number")) == {
        year: len(numbers) for year, numbers in by_year.items()
    }


def test_cases_follow_the_filing_rules(seeded):
    cases = DisputeCase.objects.select_related("market", "rule_version", "account__tier")
    categories = {c.category for c in cases}
    assert categories == set(DisputeCase.Category.values)
    for case in cases:
        if case.category == DisputeCase.Category.MARKET_RESOLUTION:
            assert case.market_id and case.rule_version_id
        if case.market_id:
            in_force = rules_at(case.market, case.created_at)
            assert case.rule_version_id == (in_force.pk if in_force else case.market.current_version_id)
            assert case.venue == case.market.venue
        else:
            assert case.venue == case.account.venue
        assert case.first_response_due > case.created_at and case.resolution_due > case.created_at
        assert case.updated_at >= case.created_at
        assert case.amount_at_stake >= 0 and case.claim
        assert (case.closed_at is not None) == (case.status == "closed")
        if case.status == "decided":
            assert case.decided_at is not None
    assert cases.filter(status__in=OPEN).exists() and cases.filter(status__in=["decided", "closed"]).exists()


def test_histories_only_make_legal_moves_and_end_in_the_cases_status(seeded):
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("at", "pk"):
        events[event.case_id].append(event)
    for case in DisputeCase.objects.all():
        history = events[case.pk]
        assert history[0].kind == CaseEvent.Kind.FILED
        status = "new"
        for event in history:
            if event.kind == CaseEvent.Kind.STATUS:
                assert event.before == {"status": status}
                assert event.after["status"] in TRANSITIONS[status]
                status = event.after["status"]
            elif event.kind in (CaseEvent.Kind.DECISION_RECORDED, CaseEvent.Kind.DECISION_AMENDED):
                assert event.before == {"status": status}
                status = "decided"
        assert status == case.status, case.reference
    most = CaseEvent.objects.values("case").annotate(n=Count("pk")).order_by("-n").first()
    assert most["n"] >= 100  # the long history the benchmark opens


def test_every_citation_quotes_its_version(seeded):
    citations = RuleCitation.objects.select_related(
        "market_rule_version", "rulebook_version", "decision__case"
    ).all()
    assert citations.exists()
    for citation in citations:
        assert len(citation.excerpt) >= 40
        if citation.market_rule_version_id:
            assert citation.market_rule_version.market_id == citation.decision.case.market_id
            text = citation.market_rule_version.full_text
        else:
            text = citation.rulebook_version.body
        assert normalise_text(citation.excerpt) in normalise_text(text), citation.excerpt


def test_decisions_keep_four_eyes_and_governing_rules(seeded):
    threshold = settings.DISPUTE_FOUR_EYES_THRESHOLD
    decisions = Decision.objects.select_related("case__market")
    assert decisions.exists()
    for decision in decisions:
        case = decision.case
        assert decision.citations.exists()
        if decision.state == Decision.State.PROPOSED:
            assert case.status in OPEN and case.amount_at_stake > threshold
            assert decision.approved_at is None
            continue
        assert decision.approved_at is not None and decision.approved_at >= decision.proposed_at
        if case.amount_at_stake > threshold:
            assert decision.approved_by_id != decision.proposed_by_id
        if case.market_id and case.rule_version_id != case.market.current_version_id:
            assert decision.governing_version_id and decision.governing_reason
        if decision.state == Decision.State.SUPERSEDED:
            assert decision.superseded_by.amendment_reason
    for case in DisputeCase.objects.filter(status="decided"):
        assert case.decisions.filter(state=Decision.State.RECORDED).count() == 1
    # Filings and decisions are on the accounts' timelines, linked to the case file.
    timeline = AccountEvent.objects.filter(kind=AccountEvent.Kind.DISPUTE)
    assert timeline.filter(summary__contains="filed").count() == 120
    entry = timeline.first()
    assert entry.details["url"] == f"/disputes/{entry.details['case']}/"


def test_evidence_and_wallet_snapshots_look_real(seeded):
    wallets = defaultdict(set)
    for account_id, address in Wallet.objects.values_list("account_id", "address"):
        wallets[account_id].add(address)
    items = EvidenceItem.objects.select_related("case")
    assert items.exists()
    for item in items:
        if item.kind in (EvidenceItem.Kind.TRANSACTION, EvidenceItem.Kind.ORDER):
            assert HASH_32.match(item.value)
        elif item.kind == EvidenceItem.Kind.TRADE:
            assert str(uuid.UUID(item.value)) == item.value
        elif item.kind == EvidenceItem.Kind.WALLET:
            assert item.value in wallets[item.case.account_id]
        else:
            assert item.value.startswith("https://")
    for row in WalletActivityRow.objects.select_related("snapshot"):
        assert row.collateral == collateral_at(row.at)
        assert row.case_id == row.snapshot.case_id
        assert row.snapshot.wallet_address in wallets[row.snapshot.case.account_id]


def test_same_seed_same_cases_and_another_seed_others(seeded):
    def snapshot():
        return list(DisputeCase.objects.order_by("reference").values_list("reference", "category", "claim"))

    first = snapshot()
    seed("--seed", "7", *SMALL, "--force")
    assert snapshot() == first
    seed("--seed", "8", *SMALL, "--force")
    assert snapshot() != first


def test_cases_are_the_same_written_in_chunks(monkeypatch):
    """Each case draws from its own random sequence, so the chunk size (5,000 cases, which keeps
    the memory of a large seed flat) changes nothing: not the cases, their histories or decisions,
    nor the consistency notes read back across chunks."""

    def everything():
        cases = DisputeCase.objects.order_by("reference")
        return (
            list(
                cases.values_list(
                    "reference", "account__external_id", "claim", "status", "assignee__username", "updated_at"
                )
            ),
            list(
                CaseEvent.objects.order_by("case__reference", "at", "kind").values_list(
                    "case__reference", "kind", "at", "note"
                )
            ),
            list(
                Decision.objects.order_by("case__reference", "proposed_at").values_list(
                    "case__reference", "outcome", "state", "consistency_note"
                )
            ),
            list(
                EvidenceItem.objects.order_by("case__reference", "added_at").values_list(
                    "case__reference", "value"
                )
            ),
        )

    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)  # both seeds count back from one moment
    seed("--seed", "7", *SMALL)
    whole = everything()
    monkeypatch.setattr(demo_cases, "CASE_CHUNK", 25)
    seed("--seed", "7", *SMALL, "--force")
    assert everything() == whole
    assert any(note for *_, note in whole[2])  # some decisions differ from earlier ones, and say why


def test_disputes_option_is_validated_and_scales_down():
    with pytest.raises(CommandError, match="--disputes must be 0 or more"):
        seed("--disputes", "-1")
    output = seed("--accounts", "10", "--markets", "3", "--disputes", "0")
    assert "dispute cases: 0 (" in output and not DisputeCase.objects.exists()

    seed("--accounts", "10", "--markets", "0", "--disputes", "30", "--force")
    assert DisputeCase.objects.count() == 30
    assert not DisputeCase.objects.filter(category=DisputeCase.Category.MARKET_RESOLUTION).exists()
    assert not DisputeCase.objects.exclude(market=None).exists()

    seed("--accounts", "0", "--markets", "3", "--disputes", "30", "--force")
    assert not DisputeCase.objects.exists()


# --- Open cases in bulk (seed_demo --open-items) --------------------------------------------------

OPEN_COUNT = 150


def _specialists():
    return list(User.objects.filter(groups__name=Role.SPECIALIST.value).order_by("pk"))


def _last_pk():
    return DisputeCase.objects.order_by("-pk").values_list("pk", flat=True).first()


@pytest.fixture
def open_seeded(seeded, monkeypatch):
    """The small demo, then OPEN_COUNT open cases written 70 at a time (three batches)."""
    monkeypatch.setattr(demo_cases, "OPEN_CHUNK", 70)
    earlier = dict(CaseCounter.objects.values_list("year", "last_number"))
    last = _last_pk()
    written = demo_cases.seed_open_cases(rng=random.Random(3), count=OPEN_COUNT, specialists=_specialists())
    assert written == OPEN_COUNT
    return earlier, list(DisputeCase.objects.filter(pk__gt=last).select_related("account__tier"))


def test_open_cases_are_all_open_filed_lately_and_mixed(open_seeded):
    _, cases = open_seeded
    assert len(cases) == OPEN_COUNT
    now = timezone.now()
    specialists = {u.pk for u in _specialists()}
    statuses = Counter(c.status for c in cases)
    assert set(statuses) == OPEN  # mostly new and investigating, some waiting, a few escalated
    assert statuses["new"] + statuses["investigating"] > OPEN_COUNT / 2
    assert statuses["escalated"] < statuses["waiting_on_user"] < statuses["investigating"]
    for case in cases:
        assert now - dt.timedelta(days=14, minutes=5) < case.created_at < now
        assert case.first_response_due == case.created_at + dt.timedelta(
            hours=FIRST_RESPONSE_HOURS.get(case.account.tier.rank, 8)
        )
        assert case.resolution_due == case.created_at + dt.timedelta(hours=RESOLUTION_HOURS[case.category])
        assert case.decided_at is None and case.closed_at is None and not case.decisions.exists()
        assert case.assignee_id is None or case.assignee_id in specialists
        assert case.updated_at >= case.created_at and case.claim
    assert any(now - c.created_at < dt.timedelta(hours=6) for c in cases)  # some just filed
    assert 0 < sum(c.assignee_id is None for c in cases) < OPEN_COUNT / 3  # most assigned
    answered = [c for c in cases if c.first_responded_at is not None]
    picked_up = [c for c in cases if c.status != "new"]
    assert 0.25 < len(answered) / len(picked_up) < 0.75
    assert {c.category for c in cases} == set(DisputeCase.Category.values)


def test_open_histories_match_their_status_and_what_the_sla_reads(open_seeded):
    _, cases = open_seeded
    events = defaultdict(list)
    for event in CaseEvent.objects.filter(case__in=[c.pk for c in cases]).order_by("at", "pk"):
        events[event.case_id].append(event)
    for case in cases:
        history = events[case.pk]
        assert history[0].kind == CaseEvent.Kind.FILED and history[0].at == case.created_at
        status, moves = "new", 0
        for event in history:
            assert case.created_at <= event.at <= timezone.now()
            assert not event.kind.startswith("decision")
            if event.kind == CaseEvent.Kind.STATUS:
                assert event.before == {"status": status}
                assert event.after["status"] in TRANSITIONS[status]
                status, moves = event.after["status"], moves + 1
        assert status == case.status, case.reference
        assert case.revision == 1 + moves + sum(e.kind == CaseEvent.Kind.ASSIGNED for e in history)
        replies = [e for e in history if e.kind == CaseEvent.Kind.REPLY]
        assert all(e.after == {"sent": True} for e in replies)
        if case.first_responded_at is None:
            assert not replies
            continue
        assert case.intercom_conversation_id and replies[0].at == case.first_responded_at
        spans, _ = case_spans(
            case, [(e.kind, e.at, e.before, e.after) for e in history if e.kind in CASE_EVENT_KINDS]
        )
        first = next(s for s in spans if s.metric == FIRST_RESPONSE)
        assert first.achieved_at == case.first_responded_at


def test_open_cases_continue_each_years_numbering_across_batches(open_seeded):
    earlier, cases = open_seeded
    by_year = defaultdict(list)
    for case in cases:
        assert case.reference == f"DSP-{case.year}-{case.number:05d}" and case.year == case.created_at.year
        by_year[case.year].append(case.number)
    for year, numbers in by_year.items():
        start = earlier.get(year, 0)
        assert sorted(numbers) == list(range(start + 1, start + len(numbers) + 1))
    counters = dict(CaseCounter.objects.values_list("year", "last_number"))
    assert counters == {**earlier, **{year: max(numbers) for year, numbers in by_year.items()}}
    assert DisputeCase.objects.values("reference").distinct().count() == 120 + OPEN_COUNT
    # Filed on the account's timeline, and each account's open count queued for Intercom.
    assert AccountEvent.objects.filter(summary__contains="filed").count() == 120 + OPEN_COUNT
    for account_id in {c.account_id for c in cases}:
        job = SyncJob.objects.get(kind=SyncJob.Kind.CONTACT_ATTRIBUTES, key=f"account:{account_id}:disputes")
        expected = DisputeCase.objects.filter(account_id=account_id, status__in=OPEN).count()
        assert job.payload["custom_attributes"]["advanced_open_disputes"] == expected


def test_open_cases_are_the_same_for_the_same_rng(seeded):
    def run(seed_value):
        last = _last_pk()
        with transaction.atomic():
            demo_cases.seed_open_cases(rng=random.Random(seed_value), count=40, specialists=_specialists())
            cases = list(
                DisputeCase.objects.filter(pk__gt=last).values_list(
                    "reference", "category", "claim", "status", "assignee", "priority", "amount_at_stake"
                )
            )
            transaction.set_rollback(True)
        return cases

    first = run(5)
    assert len(first) == 40
    assert run(5) == first
    assert run(6) != first


def test_open_cases_need_a_count_accounts_and_specialists(seeded):
    specialists = _specialists()
    assert demo_cases.seed_open_cases(rng=random.Random(1), count=0, specialists=specialists) == 0
    assert demo_cases.seed_open_cases(rng=random.Random(1), count=-5, specialists=specialists) == 0
    assert demo_cases.seed_open_cases(rng=random.Random(1), count=10, specialists=[]) == 0
    assert DisputeCase.objects.count() == 120


def test_open_cases_without_accounts_write_nothing():
    seed("--accounts", "0", "--markets", "3", "--disputes", "0")
    assert demo_cases.seed_open_cases(rng=random.Random(1), count=10, specialists=_specialists()) == 0
    assert not DisputeCase.objects.exists()
