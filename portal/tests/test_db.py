import datetime as dt

import pytest
from django.utils import timezone

from accounts.demo import CHECK_IN_COLUMNS
from accounts.models import Account, CheckIn, HealthSnapshot
from accounts.tests.factories import make_account
from portal.db import bulk_create_with_ids, bulk_insert_rows, bulk_update_rows

pytestmark = pytest.mark.django_db


def test_bulk_insert_stores_dates_times_and_foreign_keys_as_the_orm_would():
    account = make_account()
    when = timezone.now().replace(microsecond=123000) - dt.timedelta(days=3)
    rows = [(account.pk, dt.date(2026, 1, day), 40 + day) for day in range(1, 29)]
    bulk_insert_rows(HealthSnapshot, ["account", "day", "score"], rows)
    bulk_insert_rows(
        CheckIn,
        CHECK_IN_COLUMNS,
        [
            (
                account.pk,
                account.owner_id,
                when,
                "scheduled",
                "call",
                "Hello",
                "neutral",
                "",
                None,
                False,
                None,
                when,
                when,
            )
        ],
    )
    assert HealthSnapshot.objects.filter(account=account, day__month=1).count() == 28
    assert HealthSnapshot.objects.get(account=account, day=dt.date(2026, 1, 5)).score == 45
    assert CheckIn.objects.get().occurred_at == when


def test_bulk_update_writes_json_and_numbers_per_row():
    first, second = make_account(), make_account()
    now = timezone.now()
    bulk_update_rows(
        Account,
        ["health_score", "health_components", "health_updated_at"],
        [(11, {"a": {"score": 1}}, now, first.pk), (None, {}, now, second.pk)],
    )
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.health_score, first.health_components, first.health_updated_at) == (
        11,
        {"a": {"score": 1}},
        now,
    )
    assert second.health_score is None and second.health_components == {}


def test_bulk_insert_passes_plain_values_on_and_prepares_the_rest_as_the_orm_would():
    """Plain values go straight to the database; the others (a naive date-time, a float for a
    decimal, a choice member, a JSON dict) are prepared by their field, as the ORM would."""
    from accounts.models import AccountEvent

    account = make_account()
    naive = dt.datetime(2026, 3, 1, 12, 30)  # the ORM makes it aware, with a warning
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        bulk_insert_rows(
            AccountEvent,
            ["account", "kind", "actor", "at", "summary", "details"],
            [(account.pk, AccountEvent.Kind.DISPUTE, None, naive, "Filed", {"case": "DSP-2026-00001"})],
        )
    event = AccountEvent.objects.get(account=account, summary="Filed")
    assert event.at == timezone.make_aware(naive)
    assert (event.kind, event.details) == ("dispute", {"case": "DSP-2026-00001"})
    # JSON as the ORM stores it: a dict or list as its text, queryable by key, nested and unicode.
    details = {"case": "DSP-2026-00002", "who": ["Zoë", 2], "nested": {"ok": True, "none": None}}
    bulk_insert_rows(
        AccountEvent,
        ["account", "kind", "actor", "at", "summary", "details"],
        [(account.pk, "dispute", None, timezone.now(), "Nested", details)],
    )
    assert AccountEvent.objects.get(details__case="DSP-2026-00002").details == details
    assert AccountEvent.objects.filter(details__nested__ok=True).count() == 1


def test_a_bulk_load_checks_every_foreign_key_at_the_end():
    """On PostgreSQL (as a superuser) the per-row checks are skipped while loading and a dangling
    key is caught at the end; elsewhere the database's own checks stand. Either way nothing
    dangling is kept."""
    from django.db import IntegrityError, connection, transaction

    from accounts.models import AccountEvent
    from portal.db import bulk_load, foreign_keys_check

    account = make_account()
    with pytest.raises(IntegrityError), transaction.atomic():
        with bulk_load():
            bulk_insert_rows(
                AccountEvent,
                ["account", "kind", "actor", "at", "summary", "details"],
                [(account.pk + 1000, "dispute", None, timezone.now(), "Nobody's", {})],
            )
        if connection.vendor == "sqlite":
            connection.check_constraints()  # what SQLite does at COMMIT
    assert not AccountEvent.objects.filter(summary="Nobody's").exists()
    foreign_keys_check()  # and the rest of the database is whole


def test_bulk_writes_are_not_kept_in_the_debug_query_log_and_errors_are_djangos(settings):
    """With DEBUG on Django keeps every statement with its values; a bulk load's would be most
    of a seed's memory. A violated constraint still arrives as Django's IntegrityError."""
    from django.db import IntegrityError, connection, reset_queries, transaction

    settings.DEBUG = True
    account = make_account()
    reset_queries()
    rows = [(account.pk, dt.date(2026, 2, day), 50) for day in range(1, 21)]
    bulk_insert_rows(HealthSnapshot, ["account", "day", "score"], rows)
    bulk_update_rows(Account, ["health_score"], [(7, account.pk)])
    assert connection.queries == []
    assert HealthSnapshot.objects.filter(account=account, day__month=2).count() == 20
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert_rows(HealthSnapshot, ["account", "day", "score"], rows[:1])  # one per account and day


def test_bulk_create_with_ids_gives_each_object_the_key_it_was_stored_under():
    from django.db import IntegrityError, transaction

    account = make_account()
    snapshots = [HealthSnapshot(account=account, day=dt.date(2026, 3, day), score=day) for day in range(1, 6)]
    bulk_create_with_ids(HealthSnapshot, snapshots)
    stored = dict(HealthSnapshot.objects.filter(account=account, day__month=3).values_list("pk", "score"))
    assert {snapshot.pk: snapshot.score for snapshot in snapshots} == stored
    assert not any(snapshot._state.adding for snapshot in snapshots)
    later = HealthSnapshot.objects.create(account=account, day=dt.date(2026, 4, 1), score=1)
    assert later.pk not in stored  # the keys were drawn from the table's own sequence
    repeated = [HealthSnapshot(account=account, day=dt.date(2026, 3, 1), score=9)]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_create_with_ids(HealthSnapshot, repeated)  # one per account and day
    assert repeated[0].pk is None
