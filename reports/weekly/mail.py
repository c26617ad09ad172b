"""The weekly figures e-mail: each frozen week, once, to Leadership and to whoever an Admin
added. Each send is a WeeklyMail row, recorded when the week is frozen and claimed (locked,
others skip it) when sent, so a rerun or a second worker sends nothing again; a refused send
waits and is tried again, and after MAX_ATTEMPTS it is given up, shown to Admins."""

import csv
import datetime as dt
import io
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.models import User
from portal.roles import Role
from reports.exporting import FIGURE_HEADER, snapshot_rows
from reports.models import MetricSnapshot, WeeklyMail, WeeklyMailRecipient
from reports.weekly.freezing import program_tz, week_period
from reports.weekly.reading import TREND_WEEKS, snapshot_sections

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=10)  # doubled at each failure: 10 min, 20 min … about 21 h in all
SEND_BATCH = 200


def recipients() -> dict[str, User | None]:
    """Who gets the weekly e-mail, by address: active Leadership people with an address (their
    user, for their time zone), then the addresses Admins added (no user: the program's zone)."""
    found: dict[str, User | None] = {}
    for user in (
        User.objects.filter(is_active=True, groups__name=Role.LEADERSHIP)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    ):
        found.setdefault(user.email.lower(), user)
    for email in WeeklyMailRecipient.objects.order_by("pk").values_list("email", flat=True):
        found.setdefault(email.lower(), None)
    return found


def mails_queue(snapshot: MetricSnapshot, *, now: dt.datetime | None = None) -> int:
    """Record the week's e-mail for each recipient (once: a week already queued adds nobody it
    has). Returns how many were added."""
    now = now or timezone.now()
    rows = [WeeklyMail(week=snapshot.week, email=email, next_attempt_at=now) for email in recipients()]
    before = WeeklyMail.objects.filter(week=snapshot.week).count()
    WeeklyMail.objects.bulk_create(rows, ignore_conflicts=True)
    return WeeklyMail.objects.filter(week=snapshot.week).count() - before


def mails_send(*, now: dt.datetime | None = None) -> dict:
    """Send the e-mails that are due, each in its own transaction with its row locked (a second
    worker skips it). Returns counts for the task's result."""
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "gave_up": 0}
    users = {email: user for email, user in recipients().items() if user is not None}
    snapshots: dict[dt.date, MetricSnapshot] = {}
    due = WeeklyMail.objects.filter(
        status__in=(WeeklyMail.Status.PENDING, WeeklyMail.Status.FAILED), next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    for pk in list(due.values_list("pk", flat=True)[:SEND_BATCH]):
        with transaction.atomic():
            mail = due.select_for_update(skip_locked=True).filter(pk=pk).first()
            if mail is None:
                continue  # another worker has it, or sent it
            snapshot = (
                snapshots.get(mail.week)
                or MetricSnapshot.objects.filter(week=mail.week, replaced_at__isnull=True).first()
            )
            if snapshot is None:
                continue
            snapshots[mail.week] = snapshot
            try:
                weekly_message(snapshot, mail.email, users.get(mail.email)).send()
            except Exception as error:  # any refusal: the row says why, and waits for its retry
                mail.attempts += 1
                mail.last_error = f"{type(error).__name__}: {error}"[:2000]
                gave_up = mail.attempts >= MAX_ATTEMPTS
                mail.status = WeeklyMail.Status.DEAD if gave_up else WeeklyMail.Status.FAILED
                mail.next_attempt_at = now + FIRST_RETRY * 2 ** (mail.attempts - 1)
                counts["gave_up" if gave_up else "failed"] += 1
                logger.warning(
                    "Weekly e-mail for %s to %s failed: %s", mail.week, mail.email, mail.last_error
                )
            else:
                mail.attempts += 1
                mail.status, mail.sent_at, mail.last_error = WeeklyMail.Status.SENT, timezone.now(), ""
                counts["sent"] += 1
            mail.save()
    return counts


def mail_retry(*, mail: WeeklyMail) -> None:
    """An Admin asks for a given-up or failed e-mail to be sent at the next pass."""
    WeeklyMail.objects.filter(pk=mail.pk).exclude(status=WeeklyMail.Status.SENT).update(
        status=WeeklyMail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )


def weekly_message(snapshot: MetricSnapshot, email: str, user: User | None) -> EmailMultiAlternatives:
    """The week's e-mail to one reader: HTML (tables and inline styles only: mail clients drop
    scripts and style sheets), a plain-text part, and the week's figures as CSV; times in the
    reader's time zone."""
    tz = _zone(user)
    sections = snapshot_sections(snapshot)
    base_url = settings.PORTAL_BASE_URL.rstrip("/")
    week_label = f"{snapshot.week:%-d %b %Y}"
    context = {
        "snapshot": snapshot,
        "sections": sections,
        "trend": _trend_rows(snapshot),
        "reader_zone": str(tz),
        "starts": snapshot.starts_at,
        "ends": snapshot.ends_at,
        "frozen_at": snapshot.made_at,
        "week_url": base_url + reverse("reports:week", args=[snapshot.week.isoformat()]),
        "week_label": week_label,
    }
    message = EmailMultiAlternatives(
        subject=f"Support program, week of {week_label}" + (": no data" if not snapshot.items else ""),
        body=render_to_string("reports/email/weekly.txt", context),
        to=[email],
        connection=get_connection(),
    )
    message.attach_alternative(render_to_string("reports/email/weekly.html", context), "text/html")
    message.attach(
        f"support-week-{snapshot.week.isoformat()}.csv", snapshot_csv(snapshot, sections), "text/csv"
    )
    return message


def snapshot_csv(snapshot: MetricSnapshot, sections=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIGURE_HEADER)
    writer.writerows(snapshot_rows(sections or snapshot_sections(snapshot), week_period(snapshot.week)))
    return buffer.getvalue()


def _zone(user: User | None) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone) if user is not None and user.time_zone else program_tz()
    except (KeyError, ValueError):
        return program_tz()


def _trend_rows(snapshot: MetricSnapshot) -> dict:
    """The lead figures of the TREND_WEEKS weeks up to this one, as a table: mail clients show
    tables where they would not show a drawing."""
    weeks = list(
        MetricSnapshot.objects.filter(replaced_at__isnull=True, week__lte=snapshot.week)
        .order_by("-week")
        .values_list("week", "headline")[:TREND_WEEKS]
    )[::-1]
    leads = [(key, item) for key, item in snapshot.headline.items() if item.get("lead")]
    return {
        "weeks": [week for week, _ in weeks],
        "rows": [
            (item["label"], item["unit"], [(headline.get(key) or {}).get("value") for _, headline in weeks])
            for key, item in leads
        ],
    }
