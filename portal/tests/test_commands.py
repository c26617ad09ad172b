from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from portal.models import User
from portal.roles import Role
from portal.schedules import SCHEDULES
from portal.tasks import housekeeping
from portal.tests.seeding import seed


def snapshot():
    return sorted(
        (u.username, u.first_name, u.last_name, u.time_zone, tuple(u.groups.values_list("name", flat=True)))
        for u in User.objects.all()
    )


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_people_and_is_deterministic():
    output = seed("--seed", "7", "--specialists", "4")
    first = snapshot()
    assert "users: 7 (4 specialists)" in output
    by_name = {u.username: u for u in User.objects.all()}
    assert by_name["admin"].is_staff and not by_name["specialist"].is_staff
    assert by_name["product"].groups.get().name == Role.PRODUCT
    assert by_name["specialist4"].check_password("demo")

    seed("--seed", "7", "--specialists", "4", "--force")
    assert snapshot() == first
    seed("--seed", "8", "--specialists", "4", "--force")
    assert snapshot() != first


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_data():
    User.objects.create_user("someone")
    with pytest.raises(CommandError, match="already holds data"):
        seed()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_seed_demo_takes_a_password_and_validates_sizes():
    seed("--password", "s3cret-demo", "--specialists", "2")
    assert User.objects.get(username="leadership").check_password("s3cret-demo")
    with pytest.raises(CommandError, match="at least 2"):
        seed("--specialists", "1", "--force")


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off_unless_told_it_is_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--i-know-this-is-production"):
        call_command("seed_demo", "--accounts", "0", stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["demo", "short"])
def test_seed_demo_in_production_refuses_the_demo_password_and_weak_ones(settings, password):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--password"):
        call_command("seed_demo", "--i-know-this-is-production", "--password", password, stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_in_production_leaves_every_password_unusable(settings):
    settings.DEBUG = False
    out = StringIO()
    call_command(
        "seed_demo", "--i-know-this-is-production", "--specialists", "3", "--accounts", "5",
        "--markets", "2", "--disputes", "2", "--feedback", "2", stdout=out,
    )  # fmt: skip
    users = list(User.objects.all())
    assert len(users) == 6
    assert not any(user.has_usable_password() or user.check_password("demo") for user in users)
    assert "changepassword" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_in_production_takes_a_strong_password_without_printing_it(settings):
    settings.DEBUG = False
    out = StringIO()
    call_command(
        "seed_demo", "--i-know-this-is-production", "--password", "a-long-staging-passphrase",
        "--specialists", "2", "--accounts", "0", stdout=out,
    )  # fmt: skip
    assert User.objects.get(username="admin").check_password("a-long-staging-passphrase")
    assert "a-long-staging-passphrase" not in out.getvalue()


@pytest.mark.django_db
def test_setup_schedules_upserts_by_name_without_duplicates():
    call_command("setup_schedules", stdout=StringIO())
    first_run = {s.name: s.next_run for s in Schedule.objects.all()}
    Schedule.objects.filter(name=SCHEDULES[0].name).update(cron="0 0 1 1 *", func="wrong.path")

    out = StringIO()
    before = timezone.now()  # a cron tick (every 10 min) may pass between the command and the check
    call_command("setup_schedules", stdout=out)

    assert "updated" in out.getvalue()
    assert Schedule.objects.count() == len(SCHEDULES)
    schedule = Schedule.objects.get(name=SCHEDULES[0].name)
    assert (schedule.cron, schedule.func) == (SCHEDULES[0].cron, SCHEDULES[0].func)
    assert schedule.next_run > before
    call_command("setup_schedules", stdout=StringIO())
    assert Schedule.objects.get(name=SCHEDULES[0].name).next_run == schedule.next_run
    assert set(first_run) == {s.name for s in SCHEDULES}


@pytest.mark.django_db
def test_housekeeping_deletes_only_expired_sessions():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(days=1))
    assert housekeeping()["sessions"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert housekeeping()["sessions"] == 0
