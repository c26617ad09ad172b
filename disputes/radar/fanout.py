"""From a signal to one heads-up per owner of the accounts holding the market (as the last
exposure refresh found them: an account that sold before is not told), each mailed once."""

import difflib
import logging
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.selectors import market_holdings
from accounts.services.exposure import market_exposure_refresh
from disputes.models import HeadsUp, MarketSignal

logger = logging.getLogger(__name__)
RULES_DIFF_LINES = 40


def heads_ups_create(signal: MarketSignal) -> list[HeadsUp]:
    """One heads-up per owner of the accounts holding the signal's market; a second run adds none.
    Returns the heads-ups of the signal (new or not)."""
    market = signal.market
    by_owner: dict[int, list] = defaultdict(list)
    if market.condition_id:
        for held in market_holdings(market.condition_id):
            by_owner[held.account.owner_id].append(held)
    now = timezone.now()
    HeadsUp.objects.bulk_create(
        [
            HeadsUp(
                signal=signal,
                owner_id=owner_id,
                holdings=[_holding_json(h) for h in held],
                accounts=len({h.account.pk for h in held}),
                total_value=_total(held),
                created_at=now,
            )
            for owner_id, held in by_owner.items()
        ],
        ignore_conflicts=True,
    )
    return list(signal.heads_ups.select_related("owner"))


def _holding_json(held) -> dict:
    return {
        "account_id": held.account.pk,
        "name": held.account.display_name,
        "outcome": held.outcome,
        "size": str(held.size),
        "value": None if held.value is None else str(held.value),
        "as_of": held.fetched_at.isoformat(),
        "current": held.current,
        "synthetic": held.synthetic,
    }


def _total(held) -> Decimal | None:
    values = [h.value for h in held if h.value is not None]
    return sum(values, Decimal("0")) if values else None


def heads_ups_mail(signal: MarketSignal) -> int:
    """Mail each owner's heads-up that is not mailed yet, claiming it first so that two workers
    never mail one twice; a mail server that refuses leaves it for the next run. Returns mails sent."""
    sent = 0
    for heads_up_id in signal.heads_ups.filter(mailed_at=None).values_list("pk", flat=True):
        with transaction.atomic():
            heads_up = (
                # Only the heads-up's row: the owner and the market stay free while the mail goes.
                HeadsUp.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("owner", "signal__market", "signal__version", "signal__previous_version")
                .filter(pk=heads_up_id, mailed_at=None)
                .first()
            )
            if heads_up is None or not heads_up.owner.email:
                continue
            try:
                _mail(heads_up)
            except OSError as error:
                logger.warning("Heads-up %s not mailed: %s", heads_up.pk, error)
                continue
            heads_up.mailed_at = timezone.now()
            heads_up.save(update_fields=["mailed_at"])
            sent += 1
    return sent


def _mail(heads_up: HeadsUp) -> None:
    context = {"heads_up": heads_up, "signal": heads_up.signal, "market": heads_up.signal.market}
    context["base_url"] = settings.PORTAL_BASE_URL.rstrip("/")
    context["rules_diff"] = rules_diff(heads_up.signal)
    subject = render_to_string("disputes/email/heads_up_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:200],
        body=render_to_string("disputes/email/heads_up.txt", context),
        to=[heads_up.owner.email],
    )
    message.send()


def rules_diff(signal: MarketSignal, *, max_lines: int = RULES_DIFF_LINES) -> str:
    """The rules' change as unified-diff lines (for the mail), cut at `max_lines`; "" when the
    signal did not change the rules."""
    if signal.version is None or signal.previous_version is None:
        return ""
    lines = list(
        difflib.unified_diff(
            signal.previous_version.full_text.splitlines(),
            signal.version.full_text.splitlines(),
            f"version {signal.previous_version.number}",
            f"version {signal.version.number}",
            lineterm="",
            n=1,
        )
    )
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"… {len(lines) - max_lines} more lines on the market page"]
    return "\n".join(lines)


def radar_fan_out(signal_id: int) -> dict:
    """The heads-ups of one signal, then their mails. Idempotent: safe to retry or to run twice."""
    signal = MarketSignal.objects.select_related("market").filter(pk=signal_id).first()
    if signal is None:
        return {"missing": signal_id}
    refreshed = {}
    if signal.market.condition_id and not signal.heads_ups.exists():
        # Positions not current are fetched again first, so that an account that sold since is
        # not told, and the heads-up's positions are today's (within a minute, for a big market).
        refreshed = market_exposure_refresh(signal.market.condition_id, only_stale=True)
    heads_ups = heads_ups_create(signal)
    return {"heads_ups": len(heads_ups), "mailed": heads_ups_mail(signal), **_refresh_counts(refreshed)}


def _refresh_counts(refreshed: dict) -> dict:
    return {f"wallets_{key}": value for key, value in refreshed.items() if value and key != "wallets"}
