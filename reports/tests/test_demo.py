"""The reports' history (`seed_demo --history-*`): a year of conversations, cases, escalations
and check-ins that agree with each other and with what the real code computes."""

import datetime as dt

import pytest
from django.core.management.base import CommandError
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from accounts.models import Account, CheckIn
from disputes.models import CaseEvent, Decision, DisputeCase
from oncall.models import Escalation, EscalationEvent, Page, Rota
from oncall.rota import on_call_at, rota_specs
from portal.tests.seeding import seed
from reports.demo.conversations import FIRST_HISTORY_ID
from support.models import Conversation, SlaClock
from support.sla.bulk import sla_evaluate_items

pytestmark = pytest.mark.django_db
HISTORY = (
    "--seed",
    "5",
    "--accounts",
    "20",
    "--markets",
    "8",
    "--disputes",
    "0",
    "--feedback",
    "0",
    "--conversations",
    "0",
    "--history-months",
    "12",
    "--history-conversations",
    "400",
    "--history-cases",
    "80",
    "--history-escalations",
    "80",
)
HISTORY_IDS = Q(intercom_id__gte=str(FIRST_HISTORY_ID))


@pytest.fixture
def history():
    return seed(*HISTORY)


def _conversations():
    return Conversation.objects.filter(HISTORY_IDS)


def test_conversations_are_spread_over_the_year_answered_after_creation_and_closed_after_reply(history):
    conversations = _conversations()
    assert conversations.count() == 400 and not conversations.filter(account=None).exists()
    assert "400 conversations" in history
    now = timezone.now()
    span = conversations.aggregate(first=Min("created_at_intercom"), last=Max("created_at_intercom"))
    assert span["first"] < now - dt.timedelta(days=300) and span["last"] > now - dt.timedelta(days=7)
    months = {c.created_at_intercom.strftime("%Y-%m") for c in conversations}
    assert len(months) >= 12
    assert not conversations.filter(first_admin_reply_at__lt=F("created_at_intercom")).exists()
    assert not conversations.filter(closed_at__lt=F("first_admin_reply_at")).exists()
    assert not conversations.filter(closed_at__lt=F("created_at_intercom")).exists()
    closed = conversations.filter(state="closed")
    assert closed.count() > 0.9 * 400 and conversations.exclude(state="closed").exists()
    assert not closed.filter(closed_at=None).exists()
    assert not conversations.exclude(state="closed").exclude(closed_at=None).exists()
    assert conversations.filter(reopened_count__gt=0).exists()
    assert not conversations.filter(assignee=None, state="closed").exists()
    owned = conversations.filter(assignee=F("account__owner")).count()
    assert owned > 0.7 * conversations.count()
    assert conversations.filter(priority="priority").exists()
    weekend = [c for c in conversations if c.created_at_intercom.weekday() >= 5]
    night = [c for c in conversations if c.created_at_intercom.hour < 6]
    assert weekend and night


def test_ratings_only_on_closed_conversations_after_closing_and_mostly_good(history):
    conversations = _conversations()
    rated = conversations.exclude(rating=None)
    assert not rated.exclude(state="closed").exists()
    assert not rated.filter(Q(rated_at=None) | Q(rated_at__lt=F("closed_at"))).exists()
    assert not conversations.filter(rating=None).exclude(rated_at=None).exists()
    share = rated.count() / conversations.filter(state="closed").count()
    assert 0.25 < share < 0.45
    good = rated.filter(rating__gte=4).count() / rated.count()
    assert 0.6 < good < 0.95 and rated.filter(rating__lte=2).exists()
    assert rated.filter(rated_at__gt=timezone.now()).count() == 0


def test_response_times_vary_and_some_miss_their_target(history):
    clocks = SlaClock.objects.filter(conversation__in=_conversations())
    first = clocks.filter(metric=SlaClock.Metric.FIRST_RESPONSE)
    assert (
        first.filter(status=SlaClock.Status.HIT).exists()
        and first.filter(status=SlaClock.Status.MISSED).exists()
    )
    waits = sorted(first.exclude(wall_seconds=None).values_list("wall_seconds", flat=True))
    assert waits[0] < 10 * 60 and waits[-1] > 3 * 3600


def test_every_closed_conversation_has_its_clocks_stopped_as_the_real_evaluation_leaves_them(history):
    closed = _conversations().filter(state="closed")
    clocks = SlaClock.objects.filter(conversation__in=closed)
    assert set(clocks.values_list("conversation", flat=True).distinct()) == set(
        closed.values_list("pk", flat=True)
    )
    assert not clocks.filter(status__in=SlaClock.RUNNING).exists()
    assert not clocks.filter(stopped_at=None).exists()
    answered = clocks.filter(
        metric=SlaClock.Metric.FIRST_RESPONSE, conversation__first_admin_reply_at__isnull=False
    )
    assert not answered.exclude(status__in=[SlaClock.Status.HIT, SlaClock.Status.MISSED]).exists()
    assert not answered.filter(Q(wall_seconds=None) | Q(working_seconds=None)).exists()
    assert (
        not clocks.filter(metric=SlaClock.Metric.FIRST_RESPONSE)
        .exclude(stopped_at=F("conversation__first_admin_reply_at"))
        .exclude(conversation__first_admin_reply_at=None)
        .exists()
    )
    # A reopened conversation's resolution has a cycle per opening.
    reopened = closed.filter(reopened_count__gt=0).first()
    assert reopened is not None
    assert set(reopened.sla_clocks.filter(metric="resolution").values_list("cycle", flat=True)) == {0, 1}
    # Evaluating again with the real code changes nothing.
    before = list(clocks.order_by("pk").values_list("pk", "status", "due_at", "stopped_at", "wall_seconds"))
    sla_evaluate_items(conversation_ids=list(closed.values_list("pk", flat=True)[:200]))
    after = list(clocks.order_by("pk").values_list("pk", "status", "due_at", "stopped_at", "wall_seconds"))
    assert after == before


def test_open_conversations_have_running_clocks_and_accounts_their_last_contact(history):
    open_ = _conversations().exclude(state="closed")
    for conversation in open_:
        assert conversation.sla_clocks.filter(status__in=SlaClock.RUNNING).exists()
    for account in Account.objects.filter(conversations__in=_conversations()).distinct()[:20]:
        newest = max(c.last_contact_reply_at or c.created_at_intercom for c in account.conversations.all())
        assert account.last_contact_at >= newest


def test_cases_are_filed_over_the_year_decided_replied_to_and_on_the_clock(history):
    cases = DisputeCase.objects.all()
    assert cases.count() >= 70
    now = timezone.now()
    assert cases.filter(created_at__lt=now - dt.timedelta(days=240)).exists()
    decided = cases.filter(status=DisputeCase.Status.DECIDED)
    assert decided.count() > cases.count() / 2
    assert not decided.filter(decided_at__lt=F("created_at")).exists()
    assert Decision.objects.filter(state=Decision.State.RECORDED).count() >= decided.count()
    replies = CaseEvent.objects.filter(kind=CaseEvent.Kind.REPLY)
    assert replies.exists()
    assert not replies.filter(at__lt=F("case__created_at")).exists()
    assert not replies.filter(actor=None).exists()
    for reply in replies.select_related("case")[:50]:
        assert reply.after.get("sent") is True
        ended = reply.case.decided_at or reply.case.closed_at
        assert ended is None or reply.at <= ended
    proposed = CaseEvent.objects.filter(kind=CaseEvent.Kind.DECISION_PROPOSED)
    for event in proposed:
        approved = CaseEvent.objects.filter(case=event.case, kind=CaseEvent.Kind.DECISION_APPROVED).first()
        assert approved is None or (approved.at > event.at and approved.actor_id != event.actor_id)
    assert proposed.exists()
    # Every case has its clocks, stopped once it was decided or closed.
    assert not cases.annotate(n=Count("sla_clocks")).filter(n=0).exists()
    ended = SlaClock.objects.filter(case__status__in=[DisputeCase.Status.DECIDED, DisputeCase.Status.CLOSED])
    assert ended.exists() and not ended.filter(status__in=SlaClock.RUNNING).exists()


def test_escalations_are_paged_to_whoever_was_on_call_and_acknowledged_by_someone_paged(history):
    escalations = Escalation.objects.all()
    assert escalations.count() == 80
    assert {e.source for e in escalations} == {Escalation.Source.MANUAL, Escalation.Source.SLA_BREACH}
    assert len({e.severity for e in escalations}) == 3
    assert not escalations.exclude(status=Escalation.Status.RESOLVED).exists()
    assert not escalations.filter(
        Q(acknowledged_at__lt=F("raised_at")) | Q(resolved_at__lt=F("acknowledged_at"))
    ).exists()
    rota = Rota.objects.get()
    spec = rota_specs([rota], since=timezone.now() - dt.timedelta(days=400))[rota.pk]
    waits = []
    for escalation in escalations.prefetch_related("pages", "events"):
        paged = {p.recipient_id for p in escalation.pages.all()}
        assert escalation.acknowledged_by_id in paged
        first = [p for p in escalation.pages.all() if p.round == 0]
        assert first and all(p.created_at == escalation.raised_at for p in first)
        assert first[0].recipient_id == on_call_at(spec, 1, escalation.raised_at)
        assert all(p.created_at < escalation.acknowledged_at for p in escalation.pages.all())
        kinds = [e.kind for e in sorted(escalation.events.all(), key=lambda e: (e.at, e.pk))]
        assert kinds[0] == EscalationEvent.Kind.RAISED and kinds[-1] == EscalationEvent.Kind.RESOLVED
        assert kinds.count(EscalationEvent.Kind.PAGED) == escalation.round
        ack = next(e for e in escalation.events.all() if e.kind == EscalationEvent.Kind.ACKNOWLEDGED)
        assert ack.at == escalation.acknowledged_at and ack.actor_id == escalation.acknowledged_by_id
        if escalation.source == Escalation.Source.SLA_BREACH:
            assert (
                escalation.sla_clock is not None and escalation.raised_at == escalation.sla_clock.breached_at
            )
        item = escalation.conversation or escalation.case
        if item is not None:
            assert escalation.raised_at >= getattr(item, "created_at_intercom", item.created_at)
        waits.append((escalation.acknowledged_at - escalation.raised_at).total_seconds() / 60)
    waits.sort()
    assert 4 < waits[len(waits) // 2] < 20 and waits[-1] > 30
    assert sum(w <= 30 for w in waits) / len(waits) > 0.8
    assert Page.objects.filter(status=Page.Status.SENT).count() == Page.objects.count()


def test_check_ins_cover_the_year_at_each_tier_cadence_and_the_newest_sets_the_account(history):
    start = timezone.now() - dt.timedelta(days=330)
    for account in Account.objects.select_related("tier"):
        check_ins = account.check_ins.all()
        assert not check_ins.exclude(specialist=account.owner).exists()
        newest = check_ins.aggregate(newest=Max("occurred_at"))["newest"]
        assert account.last_check_in_at == newest
        if account.status == Account.Status.ACTIVE:
            assert account.next_check_in_due == newest + dt.timedelta(days=account.cadence_days)
        in_year = check_ins.filter(occurred_at__gte=start).count()
        expected = 330 / account.cadence_days
        assert 0.5 * expected <= in_year <= 2 * expected + 2


def test_each_account_is_dated_a_month_before_its_first_check_in_or_case(history):
    accounts = Account.objects.annotate(
        first_check_in=Min("check_ins__occurred_at"), first_case=Min("dispute_cases__created_at")
    )
    dated = 0
    for account in accounts:
        firsts = [t for t in (account.first_check_in, account.first_case) if t is not None]
        if firsts:
            assert account.created_at == min(firsts) - dt.timedelta(days=30), account
            dated += 1
    assert dated == Account.objects.count() > 0


def _figures() -> dict:
    conversations = _conversations()
    return {
        "conversations": conversations.count(),
        "by_state": dict(conversations.values_list("state").annotate(n=Count("pk")).order_by()),
        "ratings": conversations.aggregate(n=Count("rating"), total=Sum("rating")),
        "clocks": dict(SlaClock.objects.values_list("status").annotate(n=Count("pk")).order_by()),
        "cases": dict(DisputeCase.objects.values_list("status").annotate(n=Count("pk")).order_by()),
        "case_events": CaseEvent.objects.count(),
        "escalations": dict(Escalation.objects.values_list("severity").annotate(n=Count("pk")).order_by()),
        "pages": Page.objects.count(),
        "check_ins": CheckIn.objects.count(),
    }


def test_the_same_seed_gives_the_same_history(history):
    first = _figures()
    seed("--force", *HISTORY)
    assert _figures() == first


def test_defaults_seed_a_small_history_and_bad_values_are_refused():
    out = seed(
        "--accounts", "10", "--markets", "0", "--disputes", "0", "--feedback", "0", "--conversations", "0"
    )
    assert "history over 6 months: 3000 conversations" in out and "150 escalations" in out
    with pytest.raises(CommandError, match="--history-months"):
        seed("--force", "--history-months", "0")
    with pytest.raises(CommandError, match="--history-conversations"):
        seed("--force", "--history-cases", "-1")
