"""Routing teams kept in line with Intercom's teams, through the fake: a team Intercom deletes is
marked gone (once) and a rule naming it is skipped as broken, so the next rule decides; a team
Intercom lists again is no longer gone; a team without an Intercom id is the portal's own and is
left alone; an error from Intercom changes nothing; the hourly task and its schedule."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import specialist_user
from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import IntercomRejected, IntercomUnavailable
from integrations.intercom.fake import SUPPORT_TEAM_ID
from portal.schedules import SCHEDULES
from portal.services import user_set_working_hours
from support import tasks
from support.models import RoutingRule, RoutingTeam
from support.routing.engine import Item, decide
from support.routing.facts import people_for, rule_specs
from support.routing.teams import routing_teams_sync

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=3)


def client() -> IntercomClient:
    return IntercomClient(sleep=lambda seconds: None)  # retries without waiting


def sync() -> dict:
    with client() as intercom_client:
        return routing_teams_sync(client=intercom_client)


def gone_at() -> dict[str, dt.datetime | None]:
    return dict(RoutingTeam.objects.values_list("name", "gone_at"))


@pytest.fixture
def teams(intercom):
    """Support (in Intercom), Deleted (an id Intercom does not have), Old (an id Intercom does not
    have, gone long ago), and two without an Intercom id: Local (marked gone long ago) and
    Untouched."""
    return {
        "support": RoutingTeam.objects.create(name="Support", intercom_id=SUPPORT_TEAM_ID),
        "deleted": RoutingTeam.objects.create(name="Deleted", intercom_id="999000111"),
        "local": RoutingTeam.objects.create(name="Local", gone_at=LONG_AGO),
        "untouched": RoutingTeam.objects.create(name="Untouched"),
        "old": RoutingTeam.objects.create(name="Old", intercom_id="999000222", gone_at=LONG_AGO),
    }


def test_a_team_intercom_lists_stays_and_one_it_does_not_goes(teams):
    before = timezone.now()

    result = sync()

    assert result == {"listed": 1, "gone": 1, "back": 0}
    marks = gone_at()
    assert marks["Support"] is None
    assert marks["Deleted"] is not None and marks["Deleted"] >= before
    assert marks["Old"] == LONG_AGO  # already gone: keeps when it went


def test_teams_without_an_intercom_id_are_left_alone(teams, intercom):
    intercom.remove_team(SUPPORT_TEAM_ID)  # Intercom has no team at all now

    result = sync()

    assert result == {"listed": 0, "gone": 2, "back": 0}
    marks = gone_at()
    assert marks["Untouched"] is None
    assert marks["Local"] == LONG_AGO  # not cleared either, although no id of it is listed
    assert marks["Support"] is not None and marks["Deleted"] is not None


def test_a_rule_naming_a_team_intercom_deleted_is_skipped_and_the_next_rule_decides(intercom):
    ada, grace = specialist_user(email="ada@example.com"), specialist_user(email="grace@example.com")
    for person in (ada, grace):
        user_set_working_hours(user=person, days=["00:00-24:00"] * 7)
    team = RoutingTeam.objects.create(name="Support", intercom_id=SUPPORT_TEAM_ID)
    team.members.set([grace])
    RoutingRule.objects.create(position=1, name="To the team", assign=RoutingRule.Assign.TEAM, team=team)
    RoutingRule.objects.create(position=2, name="To Ada", assign=RoutingRule.Assign.PERSON, person=ada)
    item = Item(kind="conversation", text="My withdrawal is stuck")

    def decision():
        specs = rule_specs()
        return decide(item, specs, people_for(specs, item))

    assert sync()["gone"] == 0
    before = decision()
    assert (before.rule.name, before.assignee_id, before.team_id) == ("To the team", grace.pk, team.pk)

    intercom.remove_team(SUPPORT_TEAM_ID)
    assert sync() == {"listed": 0, "gone": 1, "back": 0}

    after = decision()
    assert (after.rule.name, after.assignee_id, after.team_id) == ("To Ada", ada.pk, None)
    skipped = after.verdicts[0]
    assert skipped.broken and skipped.outcome == "broken (Intercom no longer has its team): skipped"


def test_a_team_intercom_lists_again_is_no_longer_gone(teams, intercom):
    intercom.remove_team(SUPPORT_TEAM_ID)
    sync()
    assert RoutingTeam.objects.get(name="Support").gone_at is not None

    intercom.reset()  # the seeded team is back, with the same id
    result = sync()

    assert result == {"listed": 1, "gone": 0, "back": 1}
    marks = gone_at()
    assert marks["Support"] is None
    assert marks["Deleted"] is not None and marks["Old"] == LONG_AGO and marks["Local"] == LONG_AGO


def test_running_twice_changes_nothing(teams, intercom):
    intercom.remove_team(SUPPORT_TEAM_ID)
    first = sync()
    marks = gone_at()
    updated = dict(RoutingTeam.objects.values_list("name", "updated_at"))

    second = sync()

    assert first == {"listed": 0, "gone": 2, "back": 0}
    assert second == {"listed": 0, "gone": 0, "back": 0}
    assert gone_at() == marks  # the first sync's timestamps, not the second's
    assert dict(RoutingTeam.objects.values_list("name", "updated_at")) == updated


def test_an_error_from_intercom_changes_no_team(teams, intercom):
    intercom.remove_team(SUPPORT_TEAM_ID)  # a successful read would mark Support gone
    marks = gone_at()
    intercom.fail_next(5, status=500)  # more than the client's attempts

    with pytest.raises(IntercomUnavailable):
        sync()

    assert gone_at() == marks
    assert marks["Support"] is None and marks["Deleted"] is None


# --- the task and its schedule -----------------------------------------------------------------


def test_task_says_not_connected_when_intercom_is_off(settings, db):
    team = RoutingTeam.objects.create(name="Support", intercom_id="999000111")
    settings.INTERCOM_ENABLED = False

    assert tasks.routing_teams_sync() == "not connected"
    team.refresh_from_db()
    assert team.gone_at is None


def test_task_syncs_the_teams(teams, intercom):
    assert tasks.routing_teams_sync() == {"listed": 1, "gone": 1, "back": 0}
    assert RoutingTeam.objects.get(name="Deleted").gone_at is not None


def test_task_raises_an_error_from_intercom_and_changes_no_team(teams, intercom):
    intercom.remove_team(SUPPORT_TEAM_ID)
    marks = gone_at()
    intercom.fail_next(1, status=401)  # a refusal is not retried

    with pytest.raises(IntercomRejected):
        tasks.routing_teams_sync()

    assert gone_at() == marks
    assert len(intercom.requests_log) == 1


def test_the_sync_runs_hourly_off_the_quarter_hours():
    task = next(s for s in SCHEDULES if s.func == "support.tasks.routing_teams_sync")
    assert task.name == "support.routing_teams_sync"
    assert task.cron == "37 * * * *"
