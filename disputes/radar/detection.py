"""Signals from a market's change: compared before and after a refresh from Gamma (or a
clarification recorded), each stored once however often the same change is seen again."""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from disputes.models import Market, MarketRuleVersion, MarketSignal
from integrations.polymarket.gamma import FIFTY_FIFTY

# Closed this long before its scheduled end: closed early, not simply ended.
EARLY_BY = dt.timedelta(hours=1)
FAN_OUT_TASK = "disputes.tasks.radar_fan_out"
Kind = MarketSignal.Kind


@dataclass(frozen=True)
class MarketState:
    """What a signal is a change of."""

    uma_history: tuple[str, ...]
    is_resolved: bool
    resolved_outcome: str
    is_closed: bool
    version_id: int | None

    @classmethod
    def of(cls, market: Market) -> "MarketState":
        return cls(
            tuple(market.uma_history or ()),
            market.is_resolved,
            market.resolved_outcome,
            market.is_closed,
            market.current_version_id,
        )


def changes_detect(
    market: Market, before: MarketState, *, now: dt.datetime | None = None
) -> list[MarketSignal]:
    """Store the signals of the market's change since `before` (it is saved already), each once,
    and queue their fan-out after commit. Returns the signals new this time."""
    now = now or timezone.now()
    candidates = [*_uma(market, before), *_resolution(market, before, now)]
    if market.current_version_id and market.current_version_id != before.version_id and before.version_id:
        version = MarketRuleVersion.objects.get(pk=market.current_version_id)
        if version.origin != MarketRuleVersion.Origin.CLARIFICATION:
            candidates.append(
                MarketSignal(
                    kind=Kind.RULES_CHANGED,
                    key=f"version:{version.number}",
                    summary="given new rules",
                    version=version,
                    previous_version_id=before.version_id,
                )
            )
    return signals_store(market, candidates, now=now)


def clarification_signal(
    market: Market,
    *,
    clarification_id: int,
    version: MarketRuleVersion | None,
    previous_version_id: int | None,
) -> list[MarketSignal]:
    """A clarification recorded: a signal, with the rules before and after when it made a version."""
    signal = MarketSignal(
        kind=Kind.CLARIFIED,
        key=f"clarification:{clarification_id}",
        summary="clarified",
        version=version,
        previous_version_id=previous_version_id if version is not None else None,
    )
    return signals_store(market, [signal], now=timezone.now())


def _uma(market: Market, before: MarketState) -> list[MarketSignal]:
    history = list(market.uma_history or ())
    found = []
    for index in range(len(before.uma_history), len(history)):
        status = history[index]
        if status == "proposed":
            found.append(
                MarketSignal(kind=Kind.PROPOSED, key=f"uma:{index}", summary="proposed for resolution")
            )
        elif status == "disputed":
            second = history[: index + 1].count("disputed") >= 2
            summary = "disputed a second time (to UMA's vote)" if second else "disputed"
            found.append(MarketSignal(kind=Kind.DISPUTED, key=f"uma:{index}", summary=summary))
    return found


def _resolution(market: Market, before: MarketState, now: dt.datetime) -> list[MarketSignal]:
    found = []
    if (
        market.is_resolved
        and market.resolved_outcome == FIFTY_FIFTY
        and before.resolved_outcome != FIFTY_FIFTY
    ):
        found.append(MarketSignal(kind=Kind.FIFTY_FIFTY, key="resolved", summary="resolved 50-50"))
    closed_at = market.closed_at or now
    if (
        market.is_closed
        and not before.is_closed
        and market.end_date
        and closed_at < market.end_date - EARLY_BY
    ):
        found.append(MarketSignal(kind=Kind.CLOSED_EARLY, key="closed", summary="closed early"))
    return found


def signals_store(market: Market, candidates: list[MarketSignal], *, now: dt.datetime) -> list[MarketSignal]:
    from django_q.tasks import async_task

    stored = []
    for signal in candidates:
        signal.market, signal.detected_at = market, now
        try:
            with transaction.atomic():
                signal.save()
        except IntegrityError:
            continue  # seen before: one signal, one heads-up
        stored.append(signal)
        transaction.on_commit(lambda pk=signal.pk: async_task(FAN_OUT_TASK, pk))
    return stored
