"""The rehearsal's steps, in order: 1–3 on a healthy topology, 4 the same work with faults, 5 the
deploy check and the health endpoint with PostgreSQL and Redis down."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.prodcheck import outbox, passes, webhooks
from bench.prodcheck.topology import PYTHON, ROOT, ChatHook, Topology

LOAD_SECONDS = int(os.environ.get("PRODCHECK_LOAD_SECONDS", "15"))
WAVES = int(os.environ.get("PRODCHECK_WAVES", "5"))
DUE = {"clocks": 200, "escalations": 100, "overdue": 100}
COPIES = 4  # each pass queued this many times at once


class Run:
    def __init__(self, report, topology: Topology, fake, env: dict, work: Path, account_ids, hook_url: str):
        self.report, self.topology, self.fake, self.env = report, topology, fake, env
        self.acks, self.mail = work / "acks", work / "mail"
        self.account_ids, self.hook_url = account_ids, hook_url
        self.loads: list[webhooks.Load] = []
        self.version = 0

    def send_load(self, tag: str, number: int) -> None:
        load = webhooks.send(
            self.topology.web,
            run_tag=tag,
            run_no=number,
            secret=self.env["INTERCOM_CLIENT_SECRET"],
            ack_dir=self.acks,
            seconds=LOAD_SECONDS,
        )
        self.loads.append(load)

    def change_waves(self, waves: int, pause: float) -> None:
        for _ in range(waves):
            self.version += 1
            outbox.change_wave(self.account_ids, self.version)
            outbox.request_drains(6)
            time.sleep(pause)

    def webhooks_check(self, timeout: float) -> tuple[list[str], dict]:
        waited = webhooks.wait_processed(timeout)
        problems, figures = until_passing(lambda: webhooks.check(self.loads, self.acks), timeout)
        figures["every stored notification processed"] = f"{waited:.0f} s after the load"
        return problems, figures

    def outbox_check(self, timeout: float, nudge_every: float | None) -> tuple[list[str], dict]:
        waited = outbox.wait_delivered(timeout, nudge_every=nudge_every)
        problems, figures = outbox.check(
            self.fake, self.account_ids, self.version, len(self.account_ids) * self.version
        )
        figures["every change delivered"] = f"{waited:.0f} s after the last change"
        return problems, figures


def until_passing(check: Callable[[], tuple[list[str], dict]], timeout: float):
    """The check's answer once it passes, or its last answer at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        problems, figures = check()
        if not problems or time.monotonic() > deadline:
            return problems, figures
        time.sleep(2)


def run_all(report, topology, fake, env, work, account_ids, hook_url) -> None:
    run = Run(report, topology, fake, env, work, account_ids, hook_url)
    step_webhooks(run)
    step_outbox(run)
    step_passes(run)
    step_faults(run)
    step_health(run)


def step_webhooks(run: Run) -> None:
    run.report.step(
        f"1. Webhook load: wrk on both web nodes at once for {LOAD_SECONDS} s (the same signed "
        "notifications to each, one request in four a repeat)"
    )
    run.send_load("load", 1)
    problems, figures = run.webhooks_check(timeout=180)
    run.report.figures(figures)
    run.report.verdict("step 1", problems)


def step_outbox(run: Run) -> None:
    report, fake = run.report, run.fake
    report.step(
        f"2. Contacts of {len(run.account_ids)} accounts created in Intercom, then {WAVES} waves of changes"
    )
    outbox.request_drains(6)
    calls, started = fake.call_count, time.monotonic()
    outbox.wait_delivered(600)
    first = time.monotonic() - started
    report.figures(
        {
            "contacts in Intercom": f"{len(fake.contacts())} ({fake.call_count - calls} calls in {first:.0f} s; "
            "the minute drain had begun during step 1)"
        }
    )
    calls, limited, started = fake.call_count, fake.rate_limited_calls, time.monotonic()
    run.change_waves(WAVES, pause=4)
    problems, figures = run.outbox_check(timeout=600, nudge_every=20)
    seconds = time.monotonic() - started
    rate = (fake.call_count - calls) / seconds
    figures["calls, wall time"] = f"{fake.call_count - calls} calls in {seconds:.0f} s = {rate:.0f}/s"
    figures["share of the fake's limit"] = f"{rate / (fake.rate_limit / fake.rate_window_seconds):.0%}"
    figures["429s during the changes"] = fake.rate_limited_calls - limited
    if fake.rate_limited_calls:
        problems.append(
            f"the fake answered {fake.rate_limited_calls} call(s) with 429: the shared budget did not hold"
        )
    report.figures(figures)
    report.verdict("step 2", problems)


def step_passes(run: Run) -> None:
    report = run.report
    report.step(f"3. The minute passes, each queued {COPIES} times at once over the three clusters")
    mails_before, hooks_before = passes.mail_files(run.mail), len(ChatHook.received)
    due = passes.make_due(run.hook_url, **DUE)
    passes.run_concurrently(COPIES, "passes-1")
    done = passes.wait_done("passes-1", COPIES * len(passes.PASSES), 180)
    passes.wait_quiet(run.mail)
    problems, figures = passes.check(due, run.mail, mails_before, ChatHook.received[hooks_before:])
    figures["pass runs finished"] = f"{done} of {COPIES * len(passes.PASSES)}"
    report.figures(figures)
    report.verdict("step 3", problems)


def step_faults(run: Run) -> None:
    report, topology = run.report, run.topology
    report.step(
        "4. Faults during steps 1–3 again: kill -9 of qcluster3, a restart of web2, a restart of Redis "
        "(no persistence: queued tasks are lost)"
    )
    mails_before, hooks_before = passes.mail_files(run.mail), len(ChatHook.received)
    due = passes.make_due(run.hook_url, **DUE)
    load = threading.Thread(target=run.send_load, args=("faults", 2))
    changes = threading.Thread(target=run.change_waves, args=(2, 3))
    load.start()
    changes.start()
    passes.run_concurrently(COPIES, "passes-2")
    events = []

    def at(seconds: float, what: str, action: Callable[[], None]) -> None:
        time.sleep(seconds)
        action()
        events.append(f"{what} at {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    at(2, "qcluster3 killed (-9)", topology.clusters[2].kill)
    at(
        2,
        "web2 restarted",
        lambda: (topology.web[1].stop(), topology.web[1].start(), topology.web[1].wait_up()),
    )
    at(
        1,
        "Redis restarted",
        lambda: (topology.redis.stop(), topology.redis.start(), topology.redis.wait_up()),
    )
    at(3, "qcluster3 started again", topology.clusters[2].start)
    load.join()
    changes.join()
    report.figures({"faults": "; ".join(events)})
    recovered = time.monotonic()
    problems, figures = run.webhooks_check(timeout=240)
    report.figures(figures)
    report.verdict("step 4, webhooks", problems)
    # No drains queued by hand from here: the minute schedule and the lease bring the rest in.
    problems, figures = run.outbox_check(timeout=300, nudge_every=None)
    figures["outbox jobs claimed more than once (a dead worker's, taken over after the lease)"] = taken_over()
    report.figures(figures)
    report.verdict("step 4, account changes", problems)
    bring_forward(["accounts.cadence_daily_pass"])
    problems, figures = until_passing(
        lambda: passes.check(due, run.mail, mails_before, ChatHook.received[hooks_before:]), 180
    )
    report.figures(figures)
    report.figures(
        {"recovered": f"all checks hold {time.monotonic() - recovered:.0f} s after the last fault"}
    )
    report.verdict("step 4, minute passes", problems)


def taken_over() -> int:
    from integrations.models import SyncJob

    return SyncJob.objects.filter(kind=SyncJob.Kind.CONTACT_UPSERT, attempts__gt=1).count()


def bring_forward(names: list[str]) -> None:
    """A schedule whose period is longer than the rehearsal (the daily cadence pass) runs now:
    its copies queued before the Redis restart were lost, and its next run would be tomorrow."""
    from django.utils import timezone
    from django_q.models import Schedule

    Schedule.objects.filter(name__in=names).update(next_run=timezone.now())


def step_health(run: Run) -> None:
    report, topology = run.report, run.topology
    report.step("5. check --deploy, and /healthz over plain HTTP with PostgreSQL or Redis down")
    problems = []
    deploy = subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **run.env},
        capture_output=True,
        text=True,
    )
    answer = (deploy.stdout + deploy.stderr).strip()
    report.figures({"manage.py check --deploy": answer.splitlines()[-1] if answer else deploy.returncode})
    if deploy.returncode or "no issues" not in answer:
        problems.append(f"check --deploy: {answer[:500]}")
    node = topology.web[0]
    status, _ = node.get("/accounts/")
    figures = {"GET /accounts/ over plain HTTP": f"{status} (redirected to HTTPS)"}
    if status != 301:
        problems.append(f"/accounts/ over plain HTTP answered {status}, not a redirect to HTTPS")
    for name, stop, start in (
        ("Redis", topology.redis.stop, lambda: (topology.redis.start(), topology.redis.wait_up())),
        ("PostgreSQL", topology.postgres.stop, topology.postgres.start),
    ):
        up = [n.get("/healthz")[0] for n in topology.web]
        stop()
        down = [wait_for_status(n, 503, 15) for n in topology.web]
        start()
        back = [wait_for_status(n, 200, 30) for n in topology.web]
        figures[f"/healthz with {name} up / down / back"] = f"{up} / {down} / {back}"
        if up != [200, 200] or down != [503, 503] or back != [200, 200]:
            problems.append(f"/healthz with {name} up, down, back: {up}, {down}, {back}")
    report.figures(figures)
    report.verdict("step 5", problems)


def wait_for_status(node, wanted: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        status, _ = node.get("/healthz")
        if status == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.5)
