"""Every periodic job the README or a task's docstring promises is declared in portal/schedules.py,
at the promised cadence, and the declaration is the only way a schedule exists."""

import datetime as dt
import importlib
import inspect
import re
from io import StringIO
from pathlib import Path

import pytest
from croniter import croniter
from django.apps import apps
from django.core.management import call_command
from django_q.models import Schedule

from portal.schedules import SCHEDULES

README = Path(__file__).resolve().parents[2] / "README.md"

MINUTE, HOUR, DAY = 60, 3600, 86400
WEEK = 7 * DAY

# What the README promises, and the schedule that keeps each promise. A README line that names a
# cadence and matches none of these fails `test_every_cadence_in_the_readme_is_a_known_promise`:
# declare the job in portal/schedules.py, then add the promise here.
README_PROMISES = [
    (r"Every day at 05:00\*\* \(`accounts\.cadence_daily_pass`\)", "accounts.cadence_daily_pass", DAY),
    (r"Markets are re-fetched every hour", "disputes.markets_refresh", HOUR),
    (r"Every hour \(`support.routing_teams_sync`", "support.routing_teams_sync", HOUR),
    (r"every hour \(`reports.weekly_snapshots`", "reports.weekly_snapshots", HOUR),
    (r"the hourly market refresh", "disputes.markets_refresh", HOUR),
    (r"drains it every minute", "integrations.intercom_drain", MINUTE),
    (r"the outbox drain every minute", "integrations.intercom_drain", MINUTE),
    (r"a sweep every minute picks up", "integrations.webhooks_reprocess", MINUTE),
    (r"the webhook sweep every minute", "integrations.webhooks_reprocess", MINUTE),
    (r"every 15 minutes a task imports", "support.conversations_reconcile", 15 * MINUTE),
    (r"conversation reconciliation every 15 minutes", "support.conversations_reconcile", 15 * MINUTE),
    (r"daily housekeeping at 03:17", "portal.housekeeping", DAY),
    (r"the daily cadence pass at 05:00", "accounts.cadence_daily_pass", DAY),
    (r"weekly on Mondays at 07:00", "feedback.weekly_digest", WEEK),
    (r"The SLA minute pass runs every minute", "support.sla_tick", MINUTE),
    (r"The escalation pass runs every minute", "oncall.escalations_page", MINUTE),
    (r"every 5 minutes by the worker\)", "reports.rollups_refresh", 5 * MINUTE),
    (r"positions every 5 minutes for those", "accounts.exposure_sweep", 5 * MINUTE),
    (r"re-fetched every 5 minutes once 15 minutes old", "disputes.tier_one_markets_refresh", 5 * MINUTE),
    (r"imported every 15 minutes", "disputes.held_markets_follow", 15 * MINUTE),
    (r"and every day at 03:41", "reports.rollups_rebuild", DAY),
]
CADENCE_WORDS = re.compile(
    r"\bevery (minute|hour|day|week|\d+ (minutes|hours))\b|\bhourly\b|\bweekly\b|\bon mondays\b|\bdaily \w+ at\b",
    re.IGNORECASE,
)
# A task's docstring that starts with one of these says it runs on a schedule.
DOCSTRING_CADENCE = re.compile(r"^(Hourly|Daily|Weekly|Mondays|Every \w+)\b")


def readme_text() -> str:
    """The README with its line wrapping undone, so a promise may run over two lines."""
    return re.sub(r"\s+", " ", README.read_text())


def declared(name: str):
    return next(schedule for schedule in SCHEDULES if schedule.name == name)


def interval_seconds(cron: str) -> float:
    """The gap between two consecutive runs (from a Tuesday noon, clear of month and week ends)."""
    runs = croniter(cron, dt.datetime(2026, 3, 10, 12, 0, 30))
    first = runs.get_next(dt.datetime)
    return (runs.get_next(dt.datetime) - first).total_seconds()


@pytest.mark.parametrize(("promise", "name", "seconds"), README_PROMISES)
def test_each_readme_promise_is_scheduled_at_its_cadence(promise, name, seconds):
    assert re.search(promise, readme_text()), f"the README no longer says {promise!r}: update the table"
    assert interval_seconds(declared(name).cron) == seconds


def test_every_cadence_in_the_readme_is_a_known_promise():
    text = readme_text()
    kept = [match.span() for promise, _, _ in README_PROMISES for match in re.finditer(promise, text)]
    for cadence in CADENCE_WORDS.finditer(text):
        assert any(start <= cadence.start() < end for start, end in kept), (
            "the README promises a periodic job that no schedule is known to keep: "
            f"…{text[max(0, cadence.start() - 80) : cadence.end() + 40]}…"
        )


def task_functions():
    """Every function of every project app's tasks.py."""
    project = README.parent
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(project) or not (Path(config.path) / "tasks.py").exists():
            continue
        module = importlib.import_module(f"{config.module.__name__}.tasks")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", function


def test_every_task_whose_docstring_names_a_cadence_is_scheduled():
    scheduled = {schedule.func for schedule in SCHEDULES}
    periodic = [
        path for path, function in task_functions() if DOCSTRING_CADENCE.match(function.__doc__ or "")
    ]
    assert "disputes.tasks.markets_refresh" in periodic
    assert set(periodic) <= scheduled, f"periodic but not scheduled: {sorted(set(periodic) - scheduled)}"


def test_every_schedule_runs_a_task_function_that_exists():
    for schedule in SCHEDULES:
        module_path, function_name = schedule.func.rsplit(".", 1)
        assert module_path.endswith(".tasks"), schedule.func
        assert callable(getattr(importlib.import_module(module_path), function_name)), schedule.func
        assert croniter.is_valid(schedule.cron), schedule.cron


@pytest.mark.django_db
def test_setup_schedules_deletes_a_schedule_nobody_declared():
    call_command("setup_schedules", stdout=StringIO())
    Schedule.objects.create(
        name="sneaky", func="subprocess.getoutput", args="'id'", schedule_type=Schedule.MINUTES
    )
    Schedule.objects.create(func="os.system", schedule_type=Schedule.ONCE)

    out = StringIO()
    call_command("setup_schedules", stdout=out)

    assert "sneaky: removed" in out.getvalue()
    assert set(Schedule.objects.values_list("name", flat=True)) == {schedule.name for schedule in SCHEDULES}
    assert not Schedule.objects.filter(func__in=["subprocess.getoutput", "os.system"]).exists()
