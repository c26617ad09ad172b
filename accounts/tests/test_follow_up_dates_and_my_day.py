"""A follow-up is never due in the past, and My day tells overdue check-ins from those due today,
both in the viewer's own time zone."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import CheckIn
from accounts.services import check_in_log, check_in_update
from accounts.tests.factories import make_account, make_check_in, specialist_user
from portal.tests.pages import form_on, submit

pytestmark = pytest.mark.django_db

# Far east and far west of UTC: at most hours their "today" is another day than UTC's.
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]


def _local_today(zone: str) -> dt.date:
    return timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(zone)).date()


def _check_in_form(client, account):
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    return form_on(page, has_field="summary", action_contains="check-ins")


@pytest.mark.parametrize("zone", ZONES)
def test_a_follow_up_due_before_today_is_refused_on_the_form(client, zone):
    person = specialist_user(username="viewer", time_zone=zone)
    account = make_account(owner=person)
    client.force_login(person)
    form = _check_in_form(client, account)
    yesterday = _local_today(zone) - dt.timedelta(days=1)

    response = submit(
        client, form, summary="Called.", follow_up="Send the fee table", follow_up_due=yesterday.isoformat()
    )

    assert response.status_code == 400
    assert "A follow-up can’t be due in the past. Choose today or a later day." in response.content.decode()
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("zone", ZONES)
def test_a_follow_up_due_today_on_a_back_dated_check_in_is_fine(client, zone):
    person = specialist_user(username="viewer", time_zone=zone)
    account = make_account(owner=person)
    client.force_login(person)
    form = _check_in_form(client, account)
    back_dated = timezone.localtime(timezone.now() - dt.timedelta(days=3), zoneinfo.ZoneInfo(zone))

    response = submit(
        client,
        form,
        occurred_at=back_dated.strftime("%Y-%m-%dT%H:%M"),
        summary="Called on Monday.",
        follow_up="Send the fee table",
        follow_up_due=_local_today(zone).isoformat(),
    )

    assert response.status_code == 302
    assert CheckIn.objects.get().follow_up_due == _local_today(zone)


def test_editing_a_check_in_keeps_an_old_follow_up_date_but_refuses_moving_it_into_the_past(client):
    person = specialist_user()
    account = make_account(owner=person)
    check_in = make_check_in(account, days_ago=20, follow_up="Send the fee table")
    long_ago = timezone.localdate() - dt.timedelta(days=10)
    CheckIn.objects.filter(pk=check_in.pk).update(follow_up_due=long_ago)  # set when it was still ahead
    client.force_login(person)
    edit_page = client.get(reverse("accounts:check_in_edit", args=[check_in.pk]))
    form = form_on(edit_page, has_field="summary")

    kept = submit(client, form, summary="Called; they asked for the fee table.")
    assert kept.status_code == 302
    moved = submit(client, form, follow_up_due=(long_ago + dt.timedelta(days=1)).isoformat())
    assert moved.status_code == 400 and "can’t be due in the past" in moved.content.decode()
    assert CheckIn.objects.get(pk=check_in.pk).follow_up_due == long_ago


def test_the_services_refuse_a_follow_up_due_in_the_past():
    account = make_account()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        check_in_log(
            account=account,
            by=account.owner,
            occurred_at=timezone.now(),
            summary="Called.",
            follow_up="Send it",
            follow_up_due=yesterday,
        )
    assert "follow_up_due" in caught.value.message_dict
    check_in = make_check_in(account, follow_up="Send it", follow_up_due=timezone.localdate())
    with pytest.raises(ValidationError):
        check_in_update(check_in=check_in, by=account.owner, changes={"follow_up_due": yesterday})


# --- My day ---------------------------------------------------------------------------------


def _panel(html: str, key: str) -> str:
    """The text of one My day panel (empty when the panel is not shown)."""
    match = re.search(rf'<section[^>]*aria-labelledby="panel-{key}"[^>]*>(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def _due_at(account, due: dt.datetime):
    """Log the check-in that makes the account due at `due` (Tier 1: every 7 days)."""
    make_check_in(account, occurred_at=due - dt.timedelta(days=7))


@pytest.mark.parametrize("zone", ZONES)
def test_my_day_lists_overdue_check_ins_apart_from_those_due_today(client, zone):
    person = specialist_user(username="viewer", time_zone=zone)
    tz = zoneinfo.ZoneInfo(zone)
    today = _local_today(zone)
    start_of_today = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    long_overdue, just_overdue, due_today, tomorrow = (
        make_account(owner=person, display_name=name)
        for name in ("Nine Days Late", "Late Last Night", "Due This Noon", "Due Tomorrow")
    )
    _due_at(long_overdue, start_of_today - dt.timedelta(days=9))
    _due_at(just_overdue, start_of_today - dt.timedelta(minutes=30))
    _due_at(due_today, start_of_today + dt.timedelta(hours=12))
    _due_at(tomorrow, start_of_today + dt.timedelta(days=1, hours=1))
    client.force_login(person)

    html = client.get(reverse("home")).content.decode()

    overdue, due = _panel(html, "accounts-overdue"), _panel(html, "accounts-due")
    assert "Overdue check-ins" in overdue and "Check-ins due today" in due
    assert overdue.index("Nine Days Late") < overdue.index("Late Last Night")
    assert "Due This Noon" not in overdue and "Due Tomorrow" not in overdue
    assert "Due This Noon" in due
    for name in ("Nine Days Late", "Late Last Night", "Due Tomorrow"):
        assert name not in due
    assert f"/accounts/{due_today.pk}/#log-check-in" in due


def test_my_day_shows_no_due_today_panel_when_only_overdue_ones_wait(client):
    person = specialist_user()
    _due_at(make_account(owner=person, display_name="Nine Days Late"), timezone.now() - dt.timedelta(days=9))
    client.force_login(person)
    html = client.get(reverse("home")).content.decode()
    assert "Nine Days Late" in _panel(html, "accounts-overdue")
    assert "Check-ins due today" not in html
