"""A year of support history for the leadership reports (`seed_demo --history-*`): conversations
with replies, closings, reopenings and ratings; dispute cases with replies and decisions;
escalations with their pages and acknowledgements; check-ins at each tier's cadence. Written a
chunk at a time through the same bulk paths the import and the other demo seeders use, so the SLA
clocks (and their wall and working durations) are the ones the real code computes.

Past breaches are history, not news: the warnings and breaches the clocks record while history is
written are not announced (no escalation raised now, no warning mail) — see `history_not_announced`.
"""

import random
from collections.abc import Callable

from django.db import transaction

from reports.demo.cases import seed_history_cases
from reports.demo.check_ins import seed_history_check_ins
from reports.demo.conversations import seed_history_conversations
from reports.demo.escalations import seed_history_escalations
from reports.demo.moments import Window, history_not_announced

__all__ = ["seed_history"]


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
