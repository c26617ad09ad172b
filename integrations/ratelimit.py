"""One rate-limit budget for every worker process (a locked database row per API), so that
several worker clusters together stay under what the service allows.

Intercom counts calls per app in 10-second windows (10,000 a minute is ~1,666 per window), and
Polymarket's Data API per 10 seconds as well (150 for /positions). Each call takes one unit from
the shared row before it is sent; when the window is spent, callers sleep until it reopens. For
Intercom every response also corrects the row (`observe`): its `X-RateLimit-Remaining` and
`X-RateLimit-Reset` win over ours, so windows that started at different moments line up.
"""

import random
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from integrations.models import RateBudget

# Keep a little headroom under the advertised limit for calls in flight in other processes.
HEADROOM = 0.97


class SharedRateBudget:
    def __init__(
        self,
        name: str = "intercom",
        *,
        limit: int | None = None,
        window_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.name = name
        self.limit = limit or settings.INTERCOM_RATE_LIMIT
        self.window_seconds = window_seconds or settings.INTERCOM_RATE_WINDOW_SECONDS
        self.clock = clock
        self.sleep = sleep
        self.waited_seconds = 0.0

    def _usable(self, limit: int) -> int:
        return max(1, int(limit * HEADROOM))

    def acquire(self) -> None:
        """Take one call from the budget, sleeping until the window reopens when it is spent."""
        while True:
            wait = self._try_take()
            if wait <= 0:
                return
            pause = wait + random.uniform(0, 0.05)  # noqa: S311 - jitter, not secrecy
            self.waited_seconds += pause
            self.sleep(pause)

    def _try_take(self) -> float:
        now = self.clock()
        with transaction.atomic():
            row, _ = RateBudget.objects.select_for_update().get_or_create(
                name=self.name, defaults={"limit": self.limit}
            )
            if now >= row.window_ends_at:
                row.window_ends_at = now + self.window_seconds
                row.remaining = self._usable(row.limit or self.limit)
            if row.remaining > 0:
                row.remaining -= 1
                row.save(update_fields=["window_ends_at", "remaining"])
                return 0.0
            row.save(update_fields=["window_ends_at", "remaining"])
            return row.window_ends_at - now

    def observe(self, headers) -> None:
        """Line the budget up with what Intercom reported on a response."""
        try:
            remaining = int(headers.get("X-RateLimit-Remaining"))
            reset_at = float(headers.get("X-RateLimit-Reset"))
        except (TypeError, ValueError):
            return
        limit = headers.get("X-RateLimit-Limit")
        with transaction.atomic():
            row, _ = RateBudget.objects.select_for_update().get_or_create(
                name=self.name, defaults={"limit": self.limit}
            )
            if limit and str(limit).isdigit():
                row.limit = int(limit)
            usable = remaining - (row.limit - self._usable(row.limit))
            if reset_at > row.window_ends_at + 0.5:
                # Intercom is already in a later window than ours: adopt it.
                row.window_ends_at, row.remaining = reset_at, max(0, usable)
            elif abs(reset_at - row.window_ends_at) <= 0.5:
                row.window_ends_at = reset_at
                row.remaining = max(0, min(row.remaining, usable))
            row.save()

    def exhausted(self, reset_at: float | None) -> float:
        """After a 429: nothing is left until `reset_at`. Returns the seconds to wait."""
        now = self.clock()
        reset_at = reset_at if reset_at and reset_at > now else now + self.window_seconds
        with transaction.atomic():
            row, _ = RateBudget.objects.select_for_update().get_or_create(
                name=self.name, defaults={"limit": self.limit}
            )
            row.window_ends_at = max(row.window_ends_at, reset_at)
            row.remaining = 0
            row.save()
        return reset_at - now
