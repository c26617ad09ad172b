"""`make prod-check`: the production rehearsal (scripts/prod_check.sh starts PostgreSQL, then runs
`python -m bench.prodcheck`). See bench/prodcheck/__init__.py for what it proves."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.prodcheck.topology import ROOT, Topology, free_port, serve_chat_hook

# Sizes (environment): PRODCHECK_ACCOUNTS here; PRODCHECK_WAVES of changes to every account and
# PRODCHECK_LOAD_SECONDS of webhook load in steps.py. The defaults make 10,000 changes.
ACCOUNTS = int(os.environ.get("PRODCHECK_ACCOUNTS", "2000"))


class Report:
    def __init__(self):
        self.started = time.monotonic()
        self.failures: list[str] = []

    def step(self, title: str) -> None:
        print(f"\n== {title}  (at {time.monotonic() - self.started:.0f} s)", flush=True)

    def figures(self, figures: dict) -> None:
        for name, value in figures.items():
            print(f"   {name}: {value}", flush=True)

    def verdict(self, what: str, problems: list[str]) -> None:
        if problems:
            self.failures.extend(f"{what}: {p}" for p in problems)
            for problem in problems:
                print(f"   FAILED: {problem}", flush=True)
        else:
            print(f"   {what}: passed", flush=True)


def environment(work: Path, fake_url: str, fake_token: str) -> dict[str, str]:
    """Production settings with secrets made for this run, the Redis broker and the fake Intercom."""
    return {
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TLS_TERMINATED_BY_PROXY": "true",
        "SECURE_SSL_REDIRECT": "true",
        "Q_WORKERS": "2",
        "INTERCOM_ENABLED": "true",
        "INTERCOM_ACCESS_TOKEN": fake_token,
        "INTERCOM_BASE_URL": fake_url,
        "INTERCOM_CLIENT_SECRET": secrets.token_urlsafe(24),
        "HEALTHZ_TOKEN": secrets.token_urlsafe(24),
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        # Four slashes: django-environ drops the first of an absolute path's.
        "EMAIL_URL": f"filemail:///{work / 'mail'}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "PORTAL_BASE_URL": "https://portal.example.com",
    }


def prepare(report: Report, fake) -> list[int]:
    """Schema, roles, schedules and demo data; the fake learns the demo's teammates."""
    from django.core.management import call_command

    from accounts.models import Account

    report.step("Preparing: migrate, seed, Intercom set-up")
    started = time.monotonic()
    with open(os.devnull, "w") as devnull:
        quiet = {"verbosity": 0, "stdout": devnull}
        call_command("migrate", interactive=False, **quiet)
        call_command("setup_roles", **quiet)
        call_command("setup_schedules", **quiet)
        call_command(
            "seed_demo",
            accounts=ACCOUNTS,
            markets=30,
            disputes=200,
            conversations=400,
            open_items=1200,
            feedback=0,
            history_months=1,
            i_know_this_is_production=True,
            password=secrets.token_hex(16),
            stdout=devnull,
        )
        from integrations.models import IntercomAdmin

        for intercom_id, name, email in IntercomAdmin.objects.exclude(portal_user=None).values_list(
            "intercom_id", "name", "email"
        ):
            if intercom_id not in fake.admin_ids:
                fake.add_admin(name, email, admin_id=intercom_id)
        call_command("intercom_setup", stdout=devnull)
    # wrk's notifications describe conversations the fake does not hold: assigning them there
    # would fail. Routing under load is proven by `make bench ARGS=routing`.
    from support.models import RoutingRule

    switched_off = RoutingRule.objects.filter(is_active=True).update(is_active=False)
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    report.figures(
        {
            "accounts": len(ids),
            "routing rules switched off": switched_off,
            "seconds": f"{time.monotonic() - started:.0f}",
        }
    )
    return ids


def main() -> int:
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="portal-prodcheck."))
    for name in ("logs", "mail", "acks"):
        (work / name).mkdir()
    from integrations.intercom.fake import FakeIntercom

    fake = FakeIntercom(port=free_port(), search_delay_seconds=0, token=secrets.token_urlsafe(24))
    fake.start()
    env = environment(work, fake.url, fake.token)
    os.environ.update(env)
    hook_server, hook_url = serve_chat_hook()
    topology = Topology(work / "logs")
    os.environ["Q_BROKER_URL"] = topology.redis.url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    print(f"Rehearsal in {work} (logs in {work / 'logs'})", flush=True)
    try:
        topology.redis.start().wait_up()
        account_ids = prepare(report, fake)
        topology.start()
        report.step(
            f"Topology: Redis {topology.redis.url}, web {', '.join(n.url for n in topology.web)} "
            f"(gunicorn, 2 workers each), 3 qclusters (2 workers each), fake Intercom {fake.url} "
            f"(limit {fake.rate_limit} per {fake.rate_window_seconds:g} s)"
        )
        from bench.prodcheck import steps

        steps.run_all(report, topology, fake, env, work, account_ids, hook_url)
    finally:
        topology.stop()
        fake.stop()
        hook_server.shutdown()
    errors = topology.errors_in_logs()
    if errors:
        print(f"\nError lines in the processes' logs ({len(errors)}; while Redis or PostgreSQL was")
        print("down the clusters cannot pull tasks or create them from schedules, which is expected):")
        for (process, message), count in Counter(_gist(line) for line in errors).most_common():
            print(f"   {count} × {process}: {message}")
        if deadlocks := [line for line in errors if "deadlock detected" in line]:
            report.failures.append(f"{len(deadlocks)} deadlock(s) in the logs, e.g. {deadlocks[0][:300]}")
    total = time.monotonic() - report.started
    print(f"\nRehearsal took {total:.0f} s (target ≤ 600 s on this machine).")
    if report.failures:
        print(f"FAILED: {len(report.failures)} check(s):")
        for failure in report.failures:
            print("  - " + failure)
        return 1
    shutil.rmtree(work, ignore_errors=True)  # kept, with the processes' logs, when a check fails
    print("Production rehearsal: every check passed.")
    return 0


def _gist(line: str) -> tuple[str, str]:
    process, _, record = line.partition(": ")
    try:
        message = json.loads(record)["message"]
    except (ValueError, KeyError):
        message = record
    return process.rstrip("0123456789"), message.splitlines()[0][:120]


if __name__ == "__main__":
    # Stopped from outside (Ctrl-C, SIGTERM): unwind, so that everything started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
