import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Concat
from django.http import Http404

from disputes.models import (
    CaseEvent,
    Market,
    MarketRuleVersion,
    RulebookSection,
    RulebookSectionVersion,
    RuleCitation,
)
from integrations.models import SyncJob
from portal.models import User
from portal.roles import Role, has_role
from portal.selectors import object_get_for_user

# Who works with markets and the rulebook. Product reads playbooks, not case material.
RULE_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
MARKET_WRITERS = (Role.SPECIALIST, Role.ADMIN)
RULEBOOK_EDITORS = (Role.ADMIN,)

CONDITION_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
URL_SLUG = re.compile(r"polymarket\.com/(?:event|market)/([^/?#]+)(?:/([^/?#]+))?")


def market_list(*, query: str = "") -> QuerySet[Market]:
    """Markets, searchable by question, slug, Gamma id, condition id or Polymarket URL."""
    markets = Market.objects.all()
    query = (query or "").strip()
    if not query:
        return markets
    if CONDITION_ID.match(query):
        return markets.filter(condition_id=query.lower())
    if query.isdigit():
        return markets.filter(gamma_id=query)
    url = URL_SLUG.search(query)
    if url:
        slug = url.group(2) or url.group(1)
        return markets.filter(Q(slug=slug) | Q(event_slug=url.group(1)))
    return markets.filter(Q(question__icontains=query) | Q(slug=query) | Q(event_slug=query))


def market_get_for_user(*, user: User, pk, to_change: bool = False) -> Market:
    return object_get_for_user(
        Market.objects.select_related("current_version"),
        user=user,
        roles=MARKET_WRITERS if to_change else RULE_READERS,
        denied="Your role does not include markets and rules.",
        missing="No such market.",
        pk=pk,
    )


def rule_versions(market: Market) -> list[MarketRuleVersion]:
    return list(market.rule_versions.select_related("recorded_by").order_by("-number"))


def rules_at(market: Market, when: dt.datetime) -> MarketRuleVersion | None:
    """The version in force at `when`: the newest one that had taken effect by then."""
    return market.rule_versions.filter(effective_at__lte=when).order_by("-effective_at", "-number").first()


def rulebook(*, venue: str | None = None) -> QuerySet[RulebookSection]:
    sections = RulebookSection.objects.select_related("current_version")
    return sections.filter(venue=venue) if venue else sections


def rulebook_in_force(*, venue: str) -> list[RulebookSectionVersion]:
    """The current version of each of a venue's rulebook sections: what a decision may cite now."""
    return [
        section.current_version
        for section in rulebook(venue=venue).select_related("current_version__section")
        if section.current_version
    ]


def rulebook_section_get_for_user(*, user: User, pk, to_change: bool = False) -> RulebookSection:
    return object_get_for_user(
        RulebookSection.objects.select_related("current_version"),
        user=user,
        roles=RULEBOOK_EDITORS if to_change else RULE_READERS,
        denied="Your role does not include the rulebook.",
        missing="No such rulebook section.",
        pk=pk,
    )


def rulebook_section_at(section: RulebookSection, day: dt.date) -> RulebookSectionVersion | None:
    return section.versions.filter(effective_from__lte=day).order_by("-effective_from", "-number").first()


TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
CASE_REFERENCE = re.compile(r"^DSP-\d{4}-\d+$", re.IGNORECASE)


def case_list(*, query: str = "") -> QuerySet:
    """Cases with account, market and assignee joined; searchable by reference, account name or
    e-mail, market question, and a transaction hash found in the evidence or a wallet snapshot."""
    from disputes.models import DisputeCase, EvidenceItem, WalletActivityRow

    cases = DisputeCase.objects.select_related("account", "market", "assignee")
    query = (query or "").strip()
    if not query:
        return cases
    if CASE_REFERENCE.match(query):
        try:
            year, number = reference_parts(query)
        except Http404:
            return cases.none()
        return cases.filter(year=year, number=number)
    if TX_HASH.match(query):
        tx_hash = query.lower()
        in_evidence = EvidenceItem.objects.filter(kind="transaction", value=tx_hash).values("case_id")
        in_snapshots = WalletActivityRow.objects.filter(transaction_hash=tx_hash).values("case_id")
        return cases.filter(Q(pk__in=in_evidence) | Q(pk__in=in_snapshots))
    return cases.filter(
        Q(account__display_name__icontains=query)
        | Q(market__question__icontains=query)
        | Q(account__email__iexact=query)
    )


def case_get_for_user(*, user: User, reference: str):
    from disputes.models import DisputeCase

    if not has_role(user, *RULE_READERS):
        raise PermissionDenied("Your role does not include dispute cases.")
    year, number = reference_parts(reference)
    try:
        return DisputeCase.objects.select_related(
            "account__tier",
            "account__owner",
            "market__current_version",
            "rule_version",
            "assignee",
            "filed_by",
        ).get(year=year, number=number)
    except DisputeCase.DoesNotExist:
        raise Http404("No such case.") from None


def reference_parts(reference: str) -> tuple[int, int]:
    """(year, number) of "DSP-2026-00042" in any case and padding, through the unique index
    rather than a case-insensitive scan; 404 for anything else."""
    match = re.fullmatch(r"DSP-(\d{4})-(\d{1,9})", (reference or "").strip(), flags=re.IGNORECASE)
    if not match:
        raise Http404("No such case.")
    return int(match.group(1)), int(match.group(2))


def _recorded_decisions():
    from disputes.models import Decision

    return Decision.objects.filter(state=Decision.State.RECORDED).select_related("case", "proposed_by")


def _merge_newest(*querysets, limit: int) -> list:
    """Newest-approved first across several querysets, each already ordered and limited; an
    OR of the two paths with DISTINCT would scan every recorded decision instead."""
    merged = {}
    for queryset in querysets:
        for decision in queryset:
            merged[decision.pk] = decision
    return sorted(merged.values(), key=lambda d: (d.approved_at, d.pk), reverse=True)[:limit]


def _same_rules(case, section_ids, *, limit: int, other_than: str = ""):
    """Recorded rulings (not referrals) on other cases about the same market, and on cases
    citing one of the given rulebook sections; with `other_than`, only other outcomes."""
    from disputes.models import Decision, DisputeCase

    recorded = (
        _recorded_decisions()
        .exclude(case_id=case.pk)
        .exclude(outcome__in=[Decision.Outcome.REFERRED, other_than])
        # Newest by id: the primary key walks backwards and stops at `limit`, where ordering
        # by approval time would sort every match (thousands cite a popular section).
        .order_by("-pk")
    )
    paths = []
    if case.market_id:
        # Through the market's case ids (an index), not a join the planner walks by state.
        market_cases = DisputeCase.objects.filter(market_id=case.market_id).values("pk")
        paths.append(recorded.filter(case_id__in=market_cases)[:limit])
    if section_ids:
        paths.append(
            recorded.filter(
                pk__in=RuleCitation.objects.filter(rulebook_version__section_id__in=list(section_ids)).values(
                    "decision_id"
                )
            )[:limit]
        )
    return paths


def decisions_conflicting(*, case, outcome: str, section_ids=frozenset()) -> list:
    """Recorded decisions on other cases about the same market, or citing one of the same
    rulebook sections, whose outcome differs. A referral is not a ruling, so it never conflicts."""
    from disputes.models import Decision

    if outcome == Decision.Outcome.REFERRED:
        return []
    return _merge_newest(*_same_rules(case, section_ids, limit=20, other_than=outcome), limit=20)


def related_decisions(case, *, limit: int = 20) -> list:
    """Recorded decisions on other cases about the same market or citing the rulebook sections
    this case's decisions cite: what a consistent answer has to agree with."""
    section_ids = set(
        RuleCitation.objects.filter(decision__case_id=case.pk, rulebook_version__isnull=False).values_list(
            "rulebook_version__section_id", flat=True
        )
    )
    return _merge_newest(*_same_rules(case, section_ids, limit=limit), limit=limit)


def market_outcomes(market) -> dict[str, int]:
    """How the recorded decisions on a market's cases came out: {outcome: count}."""
    from django.db.models import Count

    from disputes.models import Decision

    rows = (
        Decision.objects.filter(state=Decision.State.RECORDED, case__market_id=market.pk)
        .exclude(outcome=Decision.Outcome.REFERRED)
        .values("outcome")
        .annotate(n=Count("pk"))
    )
    return {row["outcome"]: row["n"] for row in rows}


def approvals_waiting() -> QuerySet:
    """Proposed decisions waiting for a second specialist, oldest first."""
    from disputes.models import Decision

    return (
        Decision.objects.filter(state=Decision.State.PROPOSED)
        .select_related("case__account", "case__market", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def decisions_citing(*, section=None, market=None, outcome: str = "") -> QuerySet:
    """Past decisions searched by the rule they cite: a rulebook section (any version) or a
    market's rules (any version)."""
    from disputes.models import Decision

    decisions = Decision.objects.exclude(state=Decision.State.SUPERSEDED).select_related(
        "case__account", "case__market", "proposed_by"
    )
    if section is not None:
        decisions = decisions.filter(
            pk__in=RuleCitation.objects.filter(rulebook_version__section=section).values("decision_id")
        )
    if market is not None:
        decisions = decisions.filter(
            pk__in=RuleCitation.objects.filter(market_rule_version__market=market).values("decision_id")
        )
    if outcome:
        decisions = decisions.filter(outcome=outcome)
    return decisions.order_by("-pk")


# --- replies sent to Intercom: their delivery, read from the outbox ------------------------------

REPLY_JOB_KIND = "conversation.reply"
REPLY_KEY_PREFIX = "reply:"


def reply_job_key(use_pk: int) -> str:
    """The outbox key of a case reply sent to Intercom: one job per template use."""
    return f"{REPLY_KEY_PREFIX}{use_pk}"


@dataclass(frozen=True)
class ReplyDelivery:
    """Where a sent reply stands, from its outbox job."""

    state: str  # queued, sending, sent, failed (retried later), dead (retries given up)
    error: str = ""
    retry_at: dt.datetime | None = None
    at: dt.datetime | None = None  # when the job last changed

    @property
    def refused(self) -> bool:
        return self.state in ("failed", "dead")


_DELIVERY_STATES = {
    SyncJob.Status.PENDING: "queued",
    SyncJob.Status.RUNNING: "sending",
    SyncJob.Status.DONE: "sent",
    SyncJob.Status.FAILED: "failed",
    SyncJob.Status.DEAD: "dead",
}
REFUSED_JOB_STATUSES = (SyncJob.Status.FAILED, SyncJob.Status.DEAD)


def _sent_reply_keys(events) -> dict[str, int]:
    """Outbox key -> event id, for the reply events that were sent to Intercom."""
    return {
        reply_job_key(event.after["use"]): event.pk
        for event in events
        if event.kind == CaseEvent.Kind.REPLY and event.after.get("sent") and event.after.get("use")
    }


def reply_deliveries(events) -> dict[int, ReplyDelivery]:
    """Event id -> delivery of each sent reply among `events`, from the newest outbox job of its
    key: one query however many replies."""
    keys = _sent_reply_keys(events)
    if not keys:
        return {}
    newest: dict[str, SyncJob] = {}
    jobs = (
        SyncJob.objects.filter(kind=REPLY_JOB_KIND, key__in=list(keys))
        .only("key", "status", "last_error", "next_attempt_at", "updated_at")
        .order_by("key", "pk")
    )
    for job in jobs:
        newest[job.key] = job
    return {
        keys[key]: ReplyDelivery(
            state=_DELIVERY_STATES.get(job.status, job.status),
            error=job.last_error if job.status in REFUSED_JOB_STATUSES else "",
            retry_at=job.next_attempt_at if job.status == SyncJob.Status.FAILED else None,
            at=job.updated_at,
        )
        for key, job in newest.items()
    }


def case_history(case) -> list[CaseEvent]:
    """The case's history, oldest first; each event carries `delivery` (a ReplyDelivery for a
    reply sent to Intercom, else None). Two queries."""
    events = list(case.events.select_related("actor"))
    deliveries = reply_deliveries(events)
    for event in events:
        event.delivery = deliveries.get(event.pk)
    return events


def replies_refused_for(user: User, *, limit: int = 25) -> list[CaseEvent]:
    """Replies sent to Intercom that it has not taken (failing and retried, or dead) on the cases
    `user` is assigned to, or sent by `user` on cases nobody is assigned to; oldest first, each
    with its `delivery` and its case and account. Two queries."""
    newest_status = (
        SyncJob.objects.filter(kind=REPLY_JOB_KIND, key=OuterRef("job_key"))
        .order_by("-pk")
        .values("status")[:1]
    )
    events = list(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.REPLY, after__sent=True)
        .filter(Q(case__assignee=user) | Q(case__assignee__isnull=True, actor=user))
        .annotate(job_key=Concat(Value(REPLY_KEY_PREFIX), Cast(KT("after__use"), CharField())))
        .annotate(job_status=Subquery(newest_status))
        .filter(job_status__in=REFUSED_JOB_STATUSES)
        .select_related("case__account")
        .order_by("at", "pk")[:limit]
    )
    deliveries = reply_deliveries(events)
    for event in events:
        event.delivery = deliveries.get(event.pk)
    return events
