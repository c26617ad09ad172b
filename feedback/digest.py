"""The weekly feedback digest: one e-mail to each active Product person with an e-mail address.

Three sections, over the seven days before the run:

* **New items** — items logged in the window (merged duplicates left out: they live on in the
  item they were merged into): how many, and the ten with the highest impact.
* **Biggest movers** — older items (logged before the window; new ones have their own section)
  whose impact grew most. Impact is stored, not versioned, so there is no baseline to subtract
  from; growth is instead the sum, over the accounts linked in the window (`said_at` in the
  window), of each account's 30-day volume × its tier's weight — exactly what those links added
  to `impact_score`, in one aggregate query. What it leaves out: changes in volume or tier of
  accounts linked earlier, unlinks, and links back-dated to before the window (`said_at` is the
  only time a link carries). Accounts moved in by a merge keep their `said_at`, so a merge counts
  only for what was said in the window.
* **Waiting on triage** — items still `new` that were logged more than seven days ago: how many,
  and the ten oldest.

A week with nothing in any section still gets a short "nothing new" e-mail: Product then knows
the digest ran and that the log is quiet, rather than wondering whether it broke.

Idempotent per ISO week (in settings.TIME_ZONE, as the schedule's cron): the week's `DigestRun`
row is created in the same transaction that decides to send and sends, so a second run the same
week — a retry, a manual run, a second worker — finds it and sends nothing. When sending fails
the transaction rolls back with the row, and a later run that week sends the digest. With no
recipient at all nothing is recorded, so a run after someone joins Product still sends.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from feedback.models import DigestRun, FeedbackItem, FeedbackSource
from portal.models import User
from portal.roles import Role

logger = logging.getLogger(__name__)
WINDOW = dt.timedelta(days=7)
TOP = 10
Status = FeedbackItem.Status


@dataclass(frozen=True)
class Mover:
    pk: int
    title: str
    status: str
    impact_score: Decimal
    growth: Decimal
    accounts_added: int


@dataclass(frozen=True)
class Digest:
    week: str
    since: dt.datetime
    until: dt.datetime
    new_count: int
    new_top: list[FeedbackItem]
    movers: list[Mover]
    waiting_count: int
    waiting_oldest: list[FeedbackItem]

    @property
    def is_empty(self) -> bool:
        return not (self.new_count or self.movers or self.waiting_count)


def iso_week(when: dt.datetime) -> str:
    """ "2026-W48": the ISO week of `when` in the portal's time zone."""
    year, week, _ = timezone.localtime(when).isocalendar()
    return f"{year}-W{week:02d}"


def digest_build(*, now: dt.datetime) -> Digest:
    """The digest's figures for the seven days before `now` (five queries)."""
    since = now - WINDOW
    items = FeedbackItem.objects.select_related("area")
    new = items.filter(created_at__gte=since, created_at__lte=now).exclude(status=Status.DUPLICATE)
    waiting = items.filter(status=Status.NEW, created_at__lt=since)
    weighted = ExpressionWrapper(
        F("account__volume_30d_usd") * F("account__tier__weight"),
        output_field=DecimalField(max_digits=24, decimal_places=4),
    )
    movers = (
        FeedbackSource.objects.filter(said_at__gte=since, said_at__lte=now, item__created_at__lt=since)
        .exclude(item__status=Status.DUPLICATE)
        .values("item_id", "item__title", "item__status", "item__impact_score")
        .annotate(growth=Sum(weighted), added=Count("pk"))
        .order_by("-growth", "item_id")[:TOP]
    )
    return Digest(
        week=iso_week(now),
        since=since,
        until=now,
        new_count=new.count(),
        new_top=list(new.order_by("-impact_score", "-pk")[:TOP]),
        movers=[
            Mover(
                pk=row["item_id"],
                title=row["item__title"],
                status=Status(row["item__status"]).label,
                impact_score=row["item__impact_score"],
                growth=Decimal(row["growth"] or 0).quantize(Decimal("0.01")),
                accounts_added=row["added"],
            )
            for row in movers
        ],
        waiting_count=waiting.count(),
        waiting_oldest=list(waiting.order_by("created_at", "pk")[:TOP]),
    )


def digest_recipients() -> list[User]:
    return list(
        User.objects.filter(is_active=True, groups__name=Role.PRODUCT)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _subject(digest: Digest) -> str:
    if digest.is_empty:
        return f"Feedback digest {digest.week}: nothing new"
    return f"Feedback digest {digest.week}: {digest.new_count} new, {digest.waiting_count} waiting on triage"


def _message(digest: Digest, user: User, connection) -> EmailMultiAlternatives:
    base_url = settings.PORTAL_BASE_URL.rstrip("/")
    context = {
        "digest": digest,
        "user": user,
        "base_url": base_url,
        "list_url": base_url + reverse("feedback:list"),
        "board_url": base_url + reverse("feedback:board"),
        "waiting_url": base_url + reverse("feedback:list") + "?status=new&sort=created_at",
    }
    message = EmailMultiAlternatives(
        subject=_subject(digest),
        body=render_to_string("feedback/email/digest.txt", context),
        to=[user.email],
        connection=connection,
    )
    message.attach_alternative(render_to_string("feedback/email/digest.html", context), "text/html")
    return message


def weekly_digest_send(*, now: dt.datetime | None = None) -> dict:
    """Send this ISO week's digest to Product, unless it went already. Safe to run any number of
    times; returns what it did (JSON-friendly, for the task's result)."""
    now = now or timezone.now()
    week = iso_week(now)
    recipients = digest_recipients()
    if not recipients:
        logger.warning("Feedback digest %s: nobody in Product has an e-mail address; nothing sent", week)
        return {"week": week, "sent": 0, "reason": "no recipients"}
    with transaction.atomic():
        run, created = DigestRun.objects.get_or_create(
            week=week, defaults={"sent_at": now, "recipients": len(recipients)}
        )
        if not created:
            return {"week": week, "sent": 0, "reason": f"already sent {run.sent_at.isoformat()}"}
        digest = digest_build(now=now)
        with get_connection() as connection:
            messages = [_message(digest, user, connection) for user in recipients]
            sent = connection.send_messages(messages) or 0
    logger.info("Feedback digest %s sent to %d Product people", week, sent)
    return {
        "week": week,
        "sent": sent,
        "new": digest.new_count,
        "movers": len(digest.movers),
        "waiting": digest.waiting_count,
    }
