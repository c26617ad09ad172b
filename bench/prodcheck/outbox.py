"""Step 2: account changes drained to the fake Intercom by the three clusters together, and the
check that the shared rate budget held and that each contact was written once per change that
reached it, in the order the changes were made, ending at the account's last state."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

NAME = re.compile(r"^Prodcheck (\d+) v(\d+)$")


@dataclass
class Drain:
    waves: int
    accounts: int
    seconds: float = 0.0
    calls: int = 0
    limited: int = 0


def change_wave(account_ids: list[int], version: int) -> None:
    """Every account's name changes to its next version, recorded for Intercom the way bulk
    passes record (one outbox write per 1,000 accounts)."""
    from django.db import transaction
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from accounts.models import Account
    from accounts.services.contact_sync import contact_sync_record_for_ids

    with transaction.atomic():
        Account.objects.filter(pk__in=account_ids).update(
            display_name=Concat(Value("Prodcheck "), Cast("pk", CharField()), Value(f" v{version}"))
        )
        contact_sync_record_for_ids(account_ids)


def request_drains(count: int) -> None:
    """Queue drain tasks on the broker, as the minute schedule does, enough for every cluster's
    workers to drain at once."""
    from django_q.tasks import async_task

    for _ in range(count):
        async_task("integrations.tasks.intercom_drain_outbox", save=False)


def undelivered() -> int:
    from integrations.models import SyncJob

    return (
        SyncJob.objects.filter(kind=SyncJob.Kind.CONTACT_UPSERT).exclude(status=SyncJob.Status.DONE).count()
    )


def wait_delivered(timeout: float, *, nudge_every: float = 20) -> float:
    """Until every contact job is delivered; queues more drains while jobs wait (a drain stops
    after its time budget, the minute schedule would queue the next)."""
    started = last_nudge = time.monotonic()
    while undelivered():
        if time.monotonic() - started > timeout:
            break
        if nudge_every is not None and time.monotonic() - last_nudge > nudge_every:
            request_drains(6)
            last_nudge = time.monotonic()
        time.sleep(0.5)
    return time.monotonic() - started


def run(fake, account_ids: list[int], *, waves: int, pause: float, first_version: int) -> Drain:
    """`waves` rounds of changes to every account, `pause` seconds apart, drained meanwhile."""
    drain = Drain(waves=waves, accounts=len(account_ids))
    calls_before, limited_before = fake.call_count, fake.rate_limited_calls
    started = time.monotonic()
    for wave in range(waves):
        change_wave(account_ids, first_version + wave)
        request_drains(6)
        time.sleep(pause)
    wait_delivered(timeout=600)
    drain.seconds = time.monotonic() - started
    drain.calls = fake.call_count - calls_before
    drain.limited = fake.rate_limited_calls - limited_before
    return drain


def written_versions(fake) -> dict[int, list[int]]:
    """Per account, the versions of its name written to Intercom, in the order they arrived."""
    by_contact = {c["id"]: c.get("external_id") for c in fake.contacts()}
    versions: dict[int, list[int]] = {}
    with fake._lock:
        log = list(fake.requests_log)
    for request in log:
        if not isinstance(request.body, dict) or "name" not in request.body:
            continue
        if request.method == "POST" and request.path == "/contacts":
            pass
        elif request.method == "PUT" and request.path.startswith("/contacts/"):
            if by_contact.get(request.path.rsplit("/", 1)[1]) is None:
                continue
        else:
            continue
        match = NAME.match(request.body["name"] or "")
        if match:
            versions.setdefault(int(match[1]), []).append(int(match[2]))
    return versions


def check(fake, account_ids: list[int], last_version: int, changes: int) -> tuple[list[str], dict]:
    from integrations.models import SyncJob

    problems = []
    versions = written_versions(fake)
    twice = [pk for pk, seen in versions.items() if len(seen) != len(set(seen))]
    disordered = [pk for pk, seen in versions.items() if seen != sorted(seen)]
    behind = [pk for pk in account_ids if versions.get(pk, [0])[-1] != last_version]
    if twice:
        problems.append(
            f"{len(twice)} contact(s) written twice with the same change, e.g. accounts {twice[:3]}"
        )
    if disordered:
        problems.append(
            f"{len(disordered)} contact(s) written out of order, e.g. {disordered[0]}: {versions[disordered[0]]}"
        )
    if behind:
        problems.append(f"{len(behind)} contact(s) not at their last change, e.g. account {behind[0]}")
    bad = SyncJob.objects.filter(status__in=[SyncJob.Status.DEAD, SyncJob.Status.FAILED]).count()
    if bad:
        problems.append(f"{bad} outbox job(s) failed or dead")
    writes = sum(len(v) for v in versions.values())
    figures = {
        "changes made": changes,
        "contact writes carrying a change": f"{writes} ({changes - writes} changes folded into a later one while pending)",
        "429s answered by the fake": fake.rate_limited_calls,
    }
    return problems, figures
