"""Conversations for tests, stored the way production stores them: an Intercom conversation
object (API 2.16 shape) handed to `conversation_sync`."""

from itertools import count

from django.utils import timezone

from accounts.tests.factories import tier
from support import demo
from support.models import BusinessCalendar, Conversation
from support.services import conversation_sync
from support.sla.calendars import WindowInput, calendar_save
from support.sla.defaults import sla_defaults_ensure
from support.sla.policies import PolicyInput, policy_save

_ids = count(215470000000001)


def intercom_admin_for(user, *, intercom_id: str | None = None):
    """The Intercom teammate a portal user is (made when missing), so assignments map to them."""
    from integrations.models import IntercomAdmin

    admin = IntercomAdmin.objects.filter(portal_user=user).first()
    if admin is None:
        admin = IntercomAdmin.objects.create(
            intercom_id=intercom_id or f"99{user.pk:06d}",
            name=user.username,
            email=user.email,
            portal_user=user,
            synced_at=timezone.now(),
        )
    return admin


def conversation_object(*, intercom_id: str | None = None, **fields) -> dict:
    """A 2.16 conversation object with fresh ids (see support.demo.conversation_object)."""
    conversation_id = str(intercom_id or next(_ids))
    return demo.conversation_object(
        intercom_id=conversation_id, contact_id=f"6762f0ad{next(_ids):016x}", **fields
    )


def make_conversation(account=None, *, assignee=None, source: str = "import", **fields) -> Conversation:
    """A mirrored conversation, stored through `conversation_sync`. With `account`, the contact
    carries the account's external id and e-mail, so it is matched to the account; with
    `assignee` (a portal user), it is assigned to that user's Intercom teammate."""
    if account is not None:
        fields.setdefault("external_id", account.external_id)
        fields.setdefault("email", account.email)
    else:
        fields.setdefault("email", f"nobody{next(_ids)}@example.com")
    if assignee is not None:
        fields["admin_assignee_id"] = int(intercom_admin_for(assignee).intercom_id)
    return conversation_sync(data=conversation_object(**fields), source=source)


def week(start: str = "09:00", end: str = "17:00", days: range = range(5)) -> list:
    """Opening windows from `start` to `end` on `days` (0 is Monday): Monday to Friday by default."""

    def minute(text: str) -> int:
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)

    return [WindowInput(day, minute(start), minute(end)) for day in days]


def make_calendar(name: str = "Office", *, time_zone: str = "Europe/London", windows=None, holidays=()):
    """A calendar saved through calendar_save (Monday to Friday 09:00-17:00 by default)."""
    return calendar_save(
        name=name, time_zone=time_zone, windows=week() if windows is None else windows, holidays=holidays
    )


def make_policy(name: str, *, calendar=None, **fields):
    """A policy saved through policy_save: one hour to first response unless told, on a new
    or the given calendar, placed as policy_save places it."""
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(name="Office").first() or make_calendar()
    if not any(
        field in fields for field in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    ):
        fields["first_response_minutes"] = 60
    return policy_save(data=PolicyInput(name=name, calendar=calendar, **fields))


def sla_defaults():
    """The default tiers and SLA policies as the migrations leave them (made again after a
    transactional test emptied the tables)."""
    tier(1)
    sla_defaults_ensure()


class TimeMachine:
    """`timezone.now()` pinned to `at`, moved on by `advance(minutes=...)` (see `pinned_time`)."""

    def __init__(self, at):
        self.now = at

    def __call__(self):
        return self.now

    def advance(self, **delta):
        import datetime as dt

        self.now += dt.timedelta(**delta)
        return self.now


def pinned_time(monkeypatch, at) -> TimeMachine:
    """Pin `django.utils.timezone.now` (auto_now fields and services read it) to `at`."""
    machine = TimeMachine(at)
    monkeypatch.setattr(timezone, "now", machine)
    return machine


def only_policy(*, calendar=None, **fields):
    """Replace the policy list with one catch-all (on a 24/7 UTC calendar unless told):
    60 minutes to first response, 30 to each next response, 240 to resolution, warning 15
    minutes ahead, pausing while waiting on the user; `fields` change any of it."""
    from support.models import SlaPolicy

    SlaPolicy.objects.all().delete()
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(name="Always").first() or make_calendar(
            "Always", time_zone="UTC", windows=week("00:00", "24:00", range(7))
        )
    targets = {"first_response_minutes": 60, "next_response_minutes": 30, "resolution_minutes": 240}
    return make_policy("Everything", calendar=calendar, **{**targets, **fields})
