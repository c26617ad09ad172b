"""A year of support history for the leadership reports (`seed_demo --history-*`): conversations
with replies, closings, reopenings and ratings; dispute cases with replies and decisions;
escalations with their pages and acknowledgements; check-ins at each tier's cadence. Written a
chunk at a time through the same bulk paths the import and the other demo seeders use, so the SLA
clocks (and their wall and working durations) are the ones the real code computes.

Past breaches are history, not news: the warnings and breaches the clocks record while history is
written are not announced (no escalation raised now, no warning mail) — see `history_not_announced`.
"""

import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce, Least

from accounts.models import Account, CheckIn
from disputes.models import DisputeCase
from reports.demo.cases import seed_history_cases
from reports.demo.check_ins import seed_history_check_ins
from reports.demo.conversations import seed_history_conversations
from reports.demo.escalations import seed_history_escalations
from reports.demo.moments import Window, history_not_announced

__all__ = ["accounts_dated_before_their_history", "seed_history"]


def seed_history(
    *,
    rng: random.Random,
    months: int,
    conversations: int,
    cases: int,
    escalations: int,
    specialists: list,
    lead,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Seed `months` of history on top of the seeded accounts, specialists, on-call rota and SLA
    policies. Deterministic for a given `rng` state (times are relative to now). Returns counts."""
    window = Window.last_months(months)
    result = {}
    with transaction.atomic(), history_not_announced():
        result["check_ins"] = seed_history_check_ins(rng=rng, window=window, progress=progress)
        result.update(
            seed_history_conversations(
                rng=rng, window=window, count=conversations, specialists=specialists, progress=progress
            )
        )
        result.update(
            seed_history_cases(
                rng=rng, window=window, count=cases, specialists=specialists, progress=progress
            )
        )
        result.update(
            seed_history_escalations(
                rng=rng,
                window=window,
                count=escalations,
                specialists=specialists,
                lead=lead,
                progress=progress,
            )
        )
    return result


def accounts_dated_before_their_history(margin: dt.timedelta = dt.timedelta(days=30)) -> int:
    """The demo writes its accounts now and their check-ins and cases up to years back: date each
    account `margin` before the first of them, as a real book would be, so that a report's earlier
    period has the portfolio it had then (coverage's comparison reads the accounts that existed
    at its end). One UPDATE; returns the accounts dated."""
    firsts = [
        _first(CheckIn.objects.filter(account=OuterRef("pk")), "occurred_at"),
        _first(DisputeCase.objects.filter(account=OuterRef("pk")), "created_at"),
    ]
    earliest = Least(*(Coalesce(first, F("created_at")) for first in firsts), F("created_at"))
    return Account.objects.update(created_at=earliest - margin)


def _first(rows, field: str) -> Subquery:
    return Subquery(rows.order_by().values("account").annotate(first=Min(field)).values("first")[:1])
