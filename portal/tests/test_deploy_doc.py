"""docs/deploy.md stays true to the code: every schedule is listed with its cron string."""

from pathlib import Path

from portal.schedules import SCHEDULES

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def test_every_schedule_is_in_the_deployment_guide_with_its_cron_string():
    text = GUIDE.read_text()
    for schedule in SCHEDULES:
        assert f"| `{schedule.name}` | `{schedule.cron}` |" in text, f"docs/deploy.md: add {schedule.name}"
