"""Step 1: signed webhook notifications from wrk over both web nodes, with repeats, and the check
that every notification a node acknowledged is stored once, processed, and that each conversation
in the mirror is the newest state that was sent for it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.prodcheck.topology import ROOT, WebNode

WRK_SCRIPT = ROOT / "bench" / "webhook_wrk.lua"
WEBHOOK_PATH = "/integrations/intercom/webhook/"


@dataclass
class Load:
    """What wrk sent: distinct notifications built per thread (the most either node's run built,
    as both runs send the same ones), and the answers counted."""

    run_tag: str
    built: dict[int, int] = field(default_factory=dict)
    requests: int = 0
    accepted: int = 0
    duplicate: int = 0
    other: int = 0
    repeats: int = 0
    p99_ms: list[float] = field(default_factory=list)


def send(
    nodes: list[WebNode], *, run_tag: str, run_no: int, secret: str, ack_dir: Path, seconds: int
) -> Load:
    """wrk against every node at once: the same notifications (same tag) to each, one in four a
    repeat of an earlier one, as a TLS-terminating proxy forwards them."""
    load = Load(run_tag)
    runs = []
    for node in nodes:
        env = {
            "WEBHOOK_SECRET": secret,
            "BENCH_RUN_TAG": run_tag,
            "RUN_NO": str(run_no),
            "REPEAT_EVERY": "4",
            "FORWARDED_PROTO": "https",
            "ACK_DIR": str(ack_dir),
            "ACK_TAG": node.name,
        }
        command = [
            "wrk",
            "-t2",
            "-c6",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(WRK_SCRIPT),
            node.url + WEBHOOK_PATH,
        ]
        runs.append(
            subprocess.Popen(
                command, env={**_base_env(), **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    for run in runs:
        out, _ = run.communicate(timeout=seconds + 60)
        _parse(out, load)
    return load


def _base_env() -> dict:
    return {"PATH": os.environ["PATH"]}


def _parse(output: str, load: Load) -> None:
    for tid, built, repeats in re.findall(r"webhook-thread: tid=(\d+) built=(\d+) repeats=(\d+)", output):
        load.built[int(tid)] = max(load.built.get(int(tid), 0), int(built))
        load.repeats += int(repeats)
    summary = re.search(
        r"generated=(\d+) accepted=(\d+) other=(\d+) duplicate=(\d+) p50_ms=\S+ p99_ms=(\S+)", output
    )
    if summary:
        generated, accepted, other, duplicate, p99 = summary.groups()
        load.requests += int(generated)
        load.accepted += int(accepted)
        load.other += int(other)
        load.duplicate += int(duplicate)
        load.p99_ms.append(float(p99))


def wait_processed(timeout: float) -> float:
    """Seconds until no stored notification waits (or the timeout)."""
    from integrations.models import WebhookEvent

    started = time.monotonic()
    while WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists():
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def acknowledged(ack_dir: Path) -> set[str]:
    ids = set()
    for path in ack_dir.glob("ack-*.txt"):
        for line in path.read_text().splitlines():
            notification_id, _, status = line.partition(" ")
            if status in ("accepted", "duplicate"):
                ids.add(notification_id)
    return ids


def check(loads: list[Load], ack_dir: Path) -> tuple[list[str], dict]:
    """Problems (empty when every check holds) and the figures."""
    from django.db.models import Count

    from integrations.models import WebhookEvent

    problems = []
    built = {
        f"notif_{load.run_tag}_{tid}_{n}"
        for load in loads
        for tid, count in load.built.items()
        for n in range(count)
    }
    events = WebhookEvent.objects.filter(notification_id__startswith="notif_")
    rows = events.count()
    stored = set(events.values_list("notification_id", flat=True))
    acked = acknowledged(ack_dir)
    statuses = dict(events.values_list("status").annotate(n=Count("pk")).order_by())
    if rows != len(stored):
        problems.append(f"{rows - len(stored)} notification(s) stored twice")
    if lost := acked - stored:
        problems.append(f"{len(lost)} acknowledged notification(s) not stored, e.g. {sorted(lost)[:3]}")
    if strange := stored - built:
        problems.append(
            f"{len(strange)} stored notification(s) that wrk did not build, e.g. {sorted(strange)[:3]}"
        )
    waiting = {k: v for k, v in statuses.items() if k != WebhookEvent.Status.PROCESSED}
    if waiting:
        problems.append(f"stored but not processed: {waiting}")
    mismatched, conversations = mirror_mismatches()
    if mismatched:
        problems.append(
            f"{len(mismatched)} conversation(s) in the mirror differ from the newest sent: {mismatched[:3]}"
        )
    figures = {
        "requests": sum(load.requests for load in loads),
        "repeats sent": sum(load.repeats for load in loads),
        "answered accepted / duplicate / other": (
            f"{sum(x.accepted for x in loads)} / {sum(x.duplicate for x in loads)} / {sum(x.other for x in loads)}"
        ),
        "distinct notifications built / acknowledged / stored": f"{len(built)} / {len(acked)} / {len(stored)}",
        "conversations compared with the mirror": conversations,
        "p99 per node (ms)": ", ".join(f"{p:.1f}" for load in loads for p in load.p99_ms),
    }
    return problems, figures


COMPARED = (
    "state",
    "updated_at_intercom",
    "waiting_since",
    "admin_assignee_id",
    "last_admin_reply_at",
    "last_contact_reply_at",
    "contact_external_id",
)


def mirror_mismatches() -> tuple[list[str], int]:
    """Each conversation the notifications carried against the mirror: the fields parsed from the
    newest stored state must be the row's."""
    from integrations.models import WebhookEvent
    from support.models import Conversation
    from support.services import parse_conversation

    newest: dict[str, dict] = {}
    payloads = WebhookEvent.objects.filter(
        notification_id__startswith="notif_", topic__startswith="conversation."
    ).values_list("payload", flat=True)
    for payload in payloads.iterator(chunk_size=2000):
        item = payload["data"]["item"]
        seen = newest.get(item["id"])
        if seen is None or item["updated_at"] > seen["updated_at"]:
            newest[item["id"]] = item
    rows = Conversation.objects.filter(intercom_id__in=list(newest)).values("intercom_id", *COMPARED)
    mirror = {row["intercom_id"]: row for row in rows}
    mismatched = []
    for intercom_id, item in newest.items():
        expected, row = parse_conversation(item), mirror.get(intercom_id)
        if row is None:
            mismatched.append(f"{intercom_id}: not in the mirror")
            continue
        differing = [name for name in COMPARED if row[name] != expected[name]]
        if differing:
            mismatched.append(f"{intercom_id}: {', '.join(differing)}")
    return mismatched, len(newest)
