"""Step 3: the minute passes that several clusters may run at once (SLA clocks, escalation paging,
the cadence pass), queued many times together over the three clusters, and the check that each
warning, breach, page and e-mail happened exactly once."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PASSES = (
    "support.tasks.sla_tick",
    "oncall.tasks.escalations_page",
    "accounts.tasks.cadence_daily_pass",
)
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # between messages in Django's file e-mail backend


@dataclass
class Due:
    """What was made due: clocks to warn, clocks to breach, escalations to page, accounts overdue."""

    warn: list[int] = field(default_factory=list)
    breach: list[int] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)
    overdue_owners: set[int] = field(default_factory=set)


def make_due(hook_url: str, *, clocks: int, escalations: int, overdue: int) -> Due:
    """Move real rows' deadlines into the past, as time passing would."""
    from django.utils import timezone

    from support.models import SlaClock

    now = timezone.now()
    due = Due()
    running = list(
        SlaClock.objects.filter(
            stopped_at=None, paused_since=None, breached_at=None, warned_at=None, due_at__isnull=False
        ).values_list("pk", flat=True)[:clocks]
    )
    due.warn, due.breach = running[: len(running) // 2], running[len(running) // 2 :]
    warn_at = now - dt.timedelta(seconds=5)
    SlaClock.objects.filter(pk__in=due.warn).update(
        warn_at=warn_at, due_at=now + dt.timedelta(hours=2), next_deadline=warn_at
    )
    SlaClock.objects.filter(pk__in=due.breach).update(
        warn_at=now - dt.timedelta(minutes=5), due_at=warn_at, next_deadline=warn_at
    )
    due.escalations = _escalations_due(hook_url, escalations, now)
    due.overdue_owners = _overdue(overdue, now)
    return due


def _overdue(count: int, now) -> set[int]:
    """`count` accounts whose last check-in was a year ago (their due date computed as the pass
    computes it, so that its recompute leaves it); returns their owners."""
    from accounts.models import Account
    from accounts.services.cadence import compute_next_due

    accounts = list(
        Account.objects.filter(status=Account.Status.ACTIVE, snoozed_until=None)
        .exclude(owner__email="")
        .select_related("tier")
        .order_by("?")[:count]
    )
    for account in accounts:
        account.last_check_in_at = now - dt.timedelta(days=365)
        account.next_check_in_due = compute_next_due(account)
        account.overdue_notified_for = None
    Account.objects.bulk_update(accounts, ["last_check_in_at", "next_check_in_due", "overdue_notified_for"])
    return {account.owner_id for account in accounts}


def _escalations_due(hook_url: str, count: int, now) -> list[int]:
    from oncall.models import Escalation, EscalationPolicy, EscalationStep, Rota, RotaLayer, RotaMember
    from portal.models import User
    from support.models import Conversation

    people = list(User.objects.filter(username__startswith="specialist", is_active=True).order_by("pk")[:4])
    rota, created = Rota.objects.get_or_create(
        name="Rehearsal", defaults={"starts_on": now.date() - dt.timedelta(days=30), "webhook_url": hook_url}
    )
    if created:
        layer = RotaLayer.objects.create(rota=rota, name="Primary", position=1)
        RotaMember.objects.bulk_create(
            RotaMember(layer=layer, user=u, position=n) for n, u in enumerate(people, 1)
        )
        policy = EscalationPolicy.objects.create(name="Rehearsal", rota=rota)
        EscalationStep.objects.bulk_create(
            [
                EscalationStep(policy=policy, position=1, layer_position=1, wait_minutes=30),
                EscalationStep(policy=policy, position=2, person=people[0], wait_minutes=30),
            ]
        )
    policy = EscalationPolicy.objects.get(name="Rehearsal")
    taken = Escalation.objects.filter(status=Escalation.Status.TRIGGERED).values("conversation_id")
    conversations = Conversation.objects.exclude(pk__in=taken).values_list("pk", flat=True)[:count]
    made = Escalation.objects.bulk_create(
        Escalation(
            severity="sev2",
            summary=f"Rehearsal escalation {n}",
            policy=policy,
            raised_at=now - dt.timedelta(minutes=35),
            round=1,
            next_page_at=now - dt.timedelta(seconds=5),
            ack_deadline_at=now - dt.timedelta(minutes=5),
            conversation_id=pk,
        )
        for n, pk in enumerate(conversations)
    )
    return [e.pk for e in made]


def run_concurrently(copies: int, group: str) -> None:
    """Queue every pass `copies` times at once: the three clusters' workers take them together."""
    from django_q.tasks import async_task

    for _ in range(copies):
        for func in PASSES:
            async_task(func, group=group)


def wait_done(group: str, expected: int, timeout: float) -> int:
    """Until `expected` tasks of the group have a result (or the timeout); returns how many do."""
    from django_q.models import Task

    deadline = time.monotonic() + timeout
    while (done := Task.objects.filter(group=group).count()) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return done


def mail_files(directory: Path) -> set[Path]:
    return set(directory.glob("*.log"))


def mails(directory: Path, *, before: set[Path] = frozenset()) -> list[tuple[str, str, str]]:
    """(recipient, subject, digest of the content) of every message the file e-mail backend
    wrote in files that were not there `before`. Two sends of one mail have the same content;
    only their Message-ID and Date differ."""
    sent = []
    for path in sorted(mail_files(directory) - set(before)):
        for chunk in path.read_bytes().split(SEPARATOR):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk.strip())
            recipients, subject = message.get("To") or "", str(message.get("Subject"))
            for header in ("Message-ID", "Date", "To"):
                del message[header]
            content = hashlib.sha256(message.as_bytes()).hexdigest()[:16]
            sent.extend((to.strip(), subject, content) for to in recipients.split(","))
    return sent


def wait_quiet(directory: Path, seconds: float = 4, timeout: float = 90) -> None:
    """Until the queue is empty and no new e-mail arrived for `seconds` (the warning mails are a
    task the pass queues)."""
    from django_q.brokers import get_broker

    broker, deadline = get_broker(), time.monotonic() + timeout
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(mail_files(directory))
        if count != last or broker.queue_size():
            last, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since >= seconds:
            return
        time.sleep(0.5)


def check(
    due: Due, mail_dir: Path, mails_before: set[Path], hook_bodies: list[bytes]
) -> tuple[list[str], dict]:
    from django.db.models import Count

    from oncall.models import Page
    from support.models import SlaEvent

    problems = []
    events = SlaEvent.objects.filter(clock_id__in=due.warn + due.breach)
    twice = events.values("clock_id", "kind").annotate(n=Count("pk")).filter(n__gt=1).count()
    warned = set(events.filter(kind=SlaEvent.Kind.WARNING).values_list("clock_id", flat=True))
    breached = set(events.filter(kind=SlaEvent.Kind.BREACH).values_list("clock_id", flat=True))
    if twice:
        problems.append(f"{twice} SLA event(s) recorded twice")
    if missing := set(due.warn) - warned:
        problems.append(f"{len(missing)} SLA warning(s) not recorded")
    if missing := set(due.breach) - breached:
        problems.append(f"{len(missing)} SLA breach(es) not recorded")
    pages = Page.objects.filter(escalation_id__in=due.escalations)
    by_channel = dict(pages.values_list("channel").annotate(n=Count("pk")).order_by())
    unsent = pages.exclude(status=Page.Status.SENT).count()
    paged = set(pages.values_list("escalation_id", flat=True))
    if missing := set(due.escalations) - paged:
        problems.append(f"{len(missing)} escalation(s) due not paged")
    if unsent:
        problems.append(f"{unsent} page(s) not sent")
    posted = Counter(hook_bodies)
    if repeated := sum(n - 1 for n in posted.values() if n > 1):
        problems.append(f"{repeated} chat webhook post(s) sent twice")
    sent = Counter(mails(mail_dir, before=mails_before))
    if repeated := [m for m, n in sent.items() if n > 1]:
        problems.append(f"{len(repeated)} e-mail(s) sent twice, e.g. {repeated[0]}")
    digests = [to for to, subject, _ in sent if "newly overdue" in subject]
    from portal.models import User

    owners = set(User.objects.filter(pk__in=due.overdue_owners).values_list("email", flat=True))
    if missing := owners - set(digests):
        problems.append(f"no overdue digest to {sorted(missing)}")
    if twice := [to for to, n in Counter(digests).items() if n > 1]:
        problems.append(f"more than one overdue digest to {twice}")
    figures = {
        "SLA warnings / breaches recorded": f"{len(warned)} / {len(breached)} (of {len(due.warn)} / {len(due.breach)} due)",
        "escalations paged": f"{len(paged)} of {len(due.escalations)}; pages {by_channel}",
        "chat webhook posts": sum(posted.values()),
        "e-mails": sum(sent.values()),
        "overdue digests": f"{len(digests)} to {len(owners)} owner(s)",
    }
    return problems, figures
