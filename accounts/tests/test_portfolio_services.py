import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account, AccountEvent, CheckIn
from accounts.services import (
    account_snooze,
    account_update,
    accounts_reassign,
    check_in_delete,
    check_in_update,
    follow_up_complete,
    portfolio_reassign,
)
from accounts.tests.factories import make_account, make_check_in, specialist_user, tier
from integrations.models import SyncJob
from portal.roles import Role
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def refreshed(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


def test_new_account_is_due_at_once_and_queued_for_intercom():
    account = make_account()
    assert account.next_check_in_due <= timezone.now() + DAY * 7
    job = SyncJob.objects.get(kind=SyncJob.Kind.CONTACT_UPSERT, key=f"account:{account.pk}")
    assert job.payload["custom_attributes"]["advanced_tier"] == "Tier 1"


def test_logging_a_check_in_updates_last_check_in_last_contact_and_next_due():
    account = make_account()  # Tier 1: every 7 days
    check_in = make_check_in(account, days_ago=2)
    account = refreshed(account)
    assert account.last_check_in_at == check_in.occurred_at
    assert account.last_contact_at == check_in.occurred_at
    assert account.next_check_in_due == check_in.occurred_at + 7 * DAY


def test_a_back_dated_check_in_does_not_move_the_dates_backwards():
    account = make_account()
    recent = make_check_in(account, days_ago=1)
    make_check_in(account, days_ago=20)
    account = refreshed(account)
    assert account.last_check_in_at == recent.occurred_at
    assert account.next_check_in_due == recent.occurred_at + 7 * DAY


def test_a_check_in_in_the_future_is_refused_and_nothing_changes():
    account = make_account()
    with pytest.raises(ValidationError) as caught:
        make_check_in(account, occurred_at=timezone.now() + dt.timedelta(hours=1))
    assert "future" in str(caught.value.message_dict["occurred_at"])
    assert CheckIn.objects.count() == 0
    assert refreshed(account).last_check_in_at is None


def test_an_empty_summary_is_refused():
    with pytest.raises(ValidationError, match="summary"):
        make_check_in(make_account(), summary="   ")


def test_deleting_or_editing_a_check_in_recomputes_the_dates():
    account = make_account()
    older = make_check_in(account, days_ago=10)
    newer = make_check_in(account, days_ago=1)

    check_in_delete(check_in=newer, by=account.owner)
    account = refreshed(account)
    assert account.last_check_in_at == older.occurred_at
    assert account.next_check_in_due == older.occurred_at + 7 * DAY

    moved = timezone.now() - 3 * DAY
    check_in_update(check_in=older, by=account.owner, changes={"occurred_at": moved})
    account = refreshed(account)
    assert account.last_check_in_at == moved
    assert account.next_check_in_due == moved + 7 * DAY
    kinds = set(account.events.values_list("kind", flat=True))
    assert {AccountEvent.Kind.CHECK_IN_DELETED, AccountEvent.Kind.CHECK_IN_EDITED} <= kinds


def test_changing_tier_or_override_recomputes_next_due():
    account = make_account()
    check_in = make_check_in(account, days_ago=1)
    account_update(account=account, by=account.owner, changes={"tier": tier(3)})
    assert refreshed(account).next_check_in_due == check_in.occurred_at + 30 * DAY
    account_update(account=account, by=account.owner, changes={"cadence_override_days": 3})
    assert refreshed(account).next_check_in_due == check_in.occurred_at + 3 * DAY


@pytest.mark.parametrize("days", [0, 366])
def test_cadence_override_outside_1_to_365_is_refused(days):
    account = make_account()
    with pytest.raises(ValidationError) as caught:
        account_update(account=account, by=account.owner, changes={"cadence_override_days": days})
    assert "cadence_override_days" in caught.value.message_dict
    assert refreshed(account).cadence_override_days is None


@pytest.mark.parametrize("status", [Account.Status.PAUSED, Account.Status.OFFBOARDED])
def test_paused_and_offboarded_accounts_have_no_due_date_until_reactivated(status):
    account = make_account()
    check_in = make_check_in(account, days_ago=1)
    account_update(account=account, by=account.owner, changes={"status": status})
    assert refreshed(account).next_check_in_due is None
    with pytest.raises(ValidationError):
        account_snooze(account=account, by=account.owner, days=3, reason="travelling")
    account_update(account=account, by=account.owner, changes={"status": Account.Status.ACTIVE})
    assert refreshed(account).next_check_in_due == check_in.occurred_at + 7 * DAY


def test_snooze_pushes_the_due_date_and_is_kept_in_the_timeline():
    account = make_account()
    make_check_in(account, days_ago=10)  # overdue by 3 days
    before = timezone.now()
    account = account_snooze(account=account, by=account.owner, days=5, reason="User travelling")
    assert before + 5 * DAY <= account.next_check_in_due <= timezone.now() + 5 * DAY
    event = account.events.get(kind=AccountEvent.Kind.SNOOZED)
    assert "User travelling" in event.summary


@pytest.mark.parametrize(
    ("days", "reason", "field"), [(15, "x", "days"), (0, "x", "days"), (3, " ", "reason")]
)
def test_snooze_limits(days, reason, field):
    account = make_account()
    with pytest.raises(ValidationError) as caught:
        account_snooze(account=account, by=account.owner, days=days, reason=reason)
    assert field in caught.value.message_dict


def test_a_new_check_in_ends_the_snooze():
    account = make_account()
    account_snooze(account=account, by=account.owner, days=14, reason="Holiday")
    check_in = make_check_in(account)
    account = refreshed(account)
    assert account.snoozed_until is None
    assert account.next_check_in_due == check_in.occurred_at + 7 * DAY


def test_reassigning_selected_accounts_records_each_change():
    alice, bob = specialist_user(), specialist_user()
    mine = [make_account(owner=alice) for _ in range(3)]
    moved = accounts_reassign(accounts=mine[:2], to=bob, by=alice, reason="Rebalancing")
    assert moved == 2
    assert Account.objects.filter(owner=bob).count() == 2
    assert (
        AccountEvent.objects.filter(kind=AccountEvent.Kind.REASSIGNED, details__to=bob.username).count() == 2
    )
    job = SyncJob.objects.get(key=f"account:{mine[0].pk}", status="pending")
    assert job.payload["owner_id"] == bob.pk
    assert job.payload["custom_attributes"]["advanced_owner"] == (bob.get_full_name() or bob.username)


def test_reassigning_a_whole_portfolio_moves_everything_in_one_step():
    leaving, taking_over = specialist_user(), specialist_user()
    for _ in range(4):
        make_account(owner=leaving)
    assert portfolio_reassign(from_owner=leaving, to=taking_over, by=leaving, reason="Leaving") == 4
    assert not Account.objects.filter(owner=leaving).exists()


def test_only_an_active_specialist_can_own_accounts():
    leader = UserFactory(roles=[Role.LEADERSHIP])
    gone = specialist_user(is_active=False)
    account = make_account()
    for person in (leader, gone):
        with pytest.raises(ValidationError) as caught:
            account_update(account=account, by=account.owner, changes={"owner": person})
        assert "owner" in caught.value.message_dict
        with pytest.raises(ValidationError):
            accounts_reassign(accounts=[account], to=person, by=account.owner)
    assert refreshed(account).owner == account.owner


def test_duplicate_email_or_external_id_is_refused_case_insensitively():
    make_account(email="whale@example.com", external_id="u-1")
    with pytest.raises(ValidationError, match="e-mail"):
        make_account(email="Whale@Example.com")
    with pytest.raises(ValidationError, match="external user id"):
        make_account(external_id="u-1")
    assert Account.objects.count() == 1


def test_follow_up_done_is_idempotent():
    account = make_account()
    check_in = make_check_in(account, follow_up="Send fee schedule", follow_up_due=timezone.now().date())
    follow_up_complete(check_in=check_in, by=account.owner)
    follow_up_complete(check_in=check_in, by=account.owner)
    check_in.refresh_from_db()
    assert check_in.follow_up_done and check_in.follow_up_done_at is not None
    with pytest.raises(ValidationError):
        follow_up_complete(check_in=make_check_in(account), by=account.owner)


def test_edits_are_recorded_with_old_and_new_values():
    account = make_account(display_name="Old name")
    account_update(account=account, by=account.owner, changes={"display_name": "New name", "notes": "VIP"})
    event = account.events.get(kind=AccountEvent.Kind.UPDATED)
    assert event.details["changes"]["display_name"] == ["Old name", "New name"]
    # Saving the same values again records nothing.
    account_update(account=account, by=account.owner, changes={"display_name": "New name"})
    assert account.events.filter(kind=AccountEvent.Kind.UPDATED).count() == 1


def test_an_edited_or_deleted_check_ins_time_in_the_timeline_names_its_zone():
    """The summary is written in the editor's zone and read by people in others."""
    account = make_account()
    check_in = make_check_in(account, by=account.owner, days_ago=2)
    with timezone.override("America/New_York"):
        check_in_update(check_in=check_in, by=account.owner, changes={"summary": "Edited."})
        check_in_delete(check_in=CheckIn.objects.get(pk=check_in.pk), by=account.owner)
    edited, deleted = account.events.filter(summary__contains="the check-in of").order_by("pk")
    assert edited.summary.split(": ")[0].endswith((" EST", " EDT")), edited.summary
    assert deleted.summary.endswith((" EST", " EDT")), deleted.summary
