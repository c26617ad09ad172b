"""The database-side percentiles and durations give the figures of the Python reference on
SQLite and on PostgreSQL alike (run both with scripts/test.sh)."""

import datetime as dt
import math
import statistics
from itertools import count

import pytest
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Now, TruncDate
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import make_account
from reports.aggregates import Percentiles, duration_seconds, percentiles, seconds_between, subset_percentiles
from support.models import Conversation, SlaClock
from support.tests.factories import make_conversation, make_policy

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
RESOLUTION = seconds_between("created_at_intercom", "closed_at")
_ids = count(1)


def reference(values, fraction: float) -> float | None:
    """percentile_cont in Python: interpolation between the ranks around p × (n − 1)."""
    data = sorted(value for value in values if value is not None)
    if not data:
        return None
    position = fraction * (len(data) - 1)
    low, high = math.floor(position), math.ceil(position)
    return data[low] + (position - low) * (data[high] - data[low])


def expected(values, fractions=(0.5, 0.9)) -> Percentiles:
    return Percentiles(
        sum(value is not None for value in values), tuple(reference(values, p) for p in fractions)
    )


def close(actual: Percentiles, wanted: Percentiles) -> bool:
    """Equal counts and equal percentiles, to the last few bits of a float."""
    return actual.count == wanted.count and all(
        got == want if want is None else got == pytest.approx(want, rel=1e-12, abs=1e-9)
        for got, want in zip(actual.values, wanted.values, strict=True)
    )


def resolved(seconds: list[float | None], *, priority: str = "", account=None) -> list[Conversation]:
    """One conversation per value, closed that many seconds after it was opened (open when None)."""
    return Conversation.objects.bulk_create(
        Conversation(
            intercom_id=f"aggregates-{next(_ids)}",
            account=account,
            priority=priority,
            created_at_intercom=T0,
            updated_at_intercom=T0,
            closed_at=None if value is None else T0 + dt.timedelta(seconds=value),
        )
        for value in seconds
    )


def resolution_percentiles(fractions=(0.5, 0.9), **kwargs) -> dict:
    return percentiles(
        Conversation.objects.filter(intercom_id__startswith="aggregates-"), RESOLUTION, fractions, **kwargs
    )


def test_reference_agrees_with_the_statistics_module():
    data = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    deciles = statistics.quantiles(data, n=10, method="inclusive")
    assert [reference(data, i / 10) for i in range(1, 10)] == pytest.approx(deciles)
    assert reference(data, 0.5) == statistics.median(data)
    assert (reference(data, 0), reference(data, 1)) == (min(data), max(data))


@pytest.mark.django_db
def test_an_empty_queryset_has_a_count_of_zero_and_no_percentiles():
    assert resolution_percentiles() == {(): Percentiles(0, (None, None))}
    assert resolution_percentiles(group_by="priority") == {}
    assert percentiles(Conversation.objects.none(), RESOLUTION) == {(): Percentiles(0, (None, None))}
    assert percentiles(Conversation.objects.none(), RESOLUTION, group_by="priority") == {}


@pytest.mark.django_db
def test_one_row_is_every_percentile():
    resolved([420])
    assert resolution_percentiles((0, 0.5, 0.9, 1)) == {(): Percentiles(1, (420.0, 420.0, 420.0, 420.0))}


@pytest.mark.django_db
def test_two_rows_interpolate_between_them():
    resolved([20, 10])
    assert resolution_percentiles((0, 0.5, 0.9, 1)) == {(): Percentiles(2, (10.0, 15.0, 19.0, 20.0))}


@pytest.mark.django_db
def test_ties_count_once_each():
    values = [5, 5, 5, 7, 7, 100]
    resolved(values)
    result = resolution_percentiles((0.25, 0.5, 0.9))
    assert result == {(): Percentiles(6, (5.0, 6.0, 53.5))}
    assert close(result[()], expected(values, (0.25, 0.5, 0.9)))


@pytest.mark.django_db
def test_p90_of_ten_values_lies_a_tenth_of_the_way_from_the_ninth_to_the_tenth():
    values = [100, 10, 90, 20, 80, 30, 70, 40, 60, 50]
    resolved(values)
    # Position 0.9 × 9 = 8.1: 90 + 0.1 × (100 − 90).
    assert resolution_percentiles() == {(): Percentiles(10, (55.0, pytest.approx(91.0, rel=1e-12)))}
    assert close(resolution_percentiles()[()], expected(values))


@pytest.mark.django_db
def test_nulls_are_left_out_of_the_count_and_the_percentiles():
    values = [None, 30, None, 10, 20, None]
    resolved(values)
    assert resolution_percentiles() == {(): Percentiles(3, (20.0, 28.0))}
    assert close(resolution_percentiles()[()], expected(values))


@pytest.mark.django_db
def test_a_group_of_nulls_only_is_present_with_no_percentiles():
    resolved([None, None], priority="low")
    resolved([1, 2], priority="high")
    assert resolution_percentiles(group_by="priority") == {
        ("low",): Percentiles(0, (None, None)),
        ("high",): Percentiles(2, (1.5, 1.9)),
    }


@pytest.mark.django_db
def test_many_groups_in_one_query(django_assert_num_queries):
    groups = {f"g{n}": [(n * 7 + k * 13) % 50 for k in range(n + 1)] + [None] for n in range(12)}
    for priority, values in groups.items():
        resolved(values, priority=priority)
    fractions = (0.1, 0.5, 0.9, 0.99)
    with django_assert_num_queries(1):
        result = resolution_percentiles(fractions, group_by="priority")
    assert set(result) == {(priority,) for priority in groups}
    for priority, values in groups.items():
        assert close(result[(priority,)], expected(values, fractions)), priority


@pytest.mark.django_db
def test_group_by_the_accounts_tier_across_the_foreign_key():
    first, second = make_account(tier_rank=1), make_account(tier_rank=2)
    resolved([60, 120, 600], account=first)
    resolved([30], account=second)
    resolved([5, 15])  # no account: the tier is NULL
    result = resolution_percentiles(group_by="account__tier")
    assert result == {
        (first.tier_id,): expected([60, 120, 600]),
        (second.tier_id,): Percentiles(1, (30.0, 30.0)),
        (None,): Percentiles(2, (10.0, 14.0)),
    }


@pytest.mark.django_db
def test_group_by_several_keys_and_an_annotation_gives_the_same_key_types_everywhere():
    resolved([10, 20], priority="high")
    later = resolved([30], priority="high")
    Conversation.objects.filter(pk=later[0].pk).update(created_at_intercom=T0 + dt.timedelta(days=1))
    queryset = Conversation.objects.filter(intercom_id__startswith="aggregates-").annotate(
        opened_on=TruncDate("created_at_intercom")
    )
    result = percentiles(queryset, "reopened_count", (0.5,), group_by=["priority", "opened_on"])
    assert result == {
        ("high", T0.date()): Percentiles(2, (0.0,)),
        ("high", T0.date() + dt.timedelta(days=1)): Percentiles(1, (0.0,)),
    }


@pytest.mark.django_db
def test_the_queryset_filters_and_any_numeric_expression_are_honoured():
    resolved([1, 2, 3, 4], priority="kept")
    resolved([1000], priority="dropped")
    queryset = Conversation.objects.filter(priority="kept")
    assert percentiles(queryset, RESOLUTION * 2, (0.5,)) == {(): Percentiles(4, (5.0,))}
    assert percentiles(queryset, F("reopened_count"), (0.5,)) == {(): Percentiles(4, (0.0,))}


@pytest.mark.django_db
def test_sub_second_values_keep_their_microseconds():
    values = [0.25, 1.000001, 0.5, 2.75, 0.000001]
    resolved(values)
    result = resolution_percentiles((0.5, 0.9, 1))
    assert close(result[()], expected(values, (0.5, 0.9, 1)))
    assert result[()].values[-1] == 2.75


def test_a_fraction_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentiles(Conversation.objects.all(), RESOLUTION, (0.5, 90))


def test_a_sliced_or_distinct_queryset_is_refused():
    with pytest.raises(TypeError, match="slicing"):
        percentiles(Conversation.objects.all()[:10], RESOLUTION)
    with pytest.raises(TypeError, match="distinct"):
        percentiles(Conversation.objects.distinct(), RESOLUTION)


@pytest.mark.django_db
def test_seconds_between_the_datetimes_of_conversations_stored_through_the_sync():
    conversation = make_conversation(created_at=T0, state="open")
    row = Conversation.objects.annotate(
        first_response=seconds_between("created_at_intercom", "first_admin_reply_at"),
        resolution=RESOLUTION,
    ).get(pk=conversation.pk)
    # The factory's teammate replies five minutes after the conversation opens.
    assert (row.first_response, row.resolution) == (300.0, None)


@pytest.mark.django_db
def test_seconds_between_is_exact_to_the_microsecond_and_signed():
    pairs = [
        (T0, T0 + dt.timedelta(seconds=90)),
        (T0 + dt.timedelta(microseconds=250_000), T0 + dt.timedelta(seconds=3, microseconds=1)),
        (T0 + dt.timedelta(microseconds=999_999), T0 + dt.timedelta(seconds=1)),
        (T0 + dt.timedelta(days=40, microseconds=500_000), T0),
        (T0, T0 + dt.timedelta(days=400, hours=5, microseconds=123_456)),
    ]
    created = Conversation.objects.bulk_create(
        Conversation(
            intercom_id=f"aggregates-{next(_ids)}",
            created_at_intercom=start,
            updated_at_intercom=start,
            closed_at=end,
        )
        for start, end in pairs
    )
    seconds = dict(
        Conversation.objects.filter(pk__in=[c.pk for c in created])
        .annotate(resolution=RESOLUTION)
        .values_list("pk", "resolution")
    )
    assert [seconds[c.pk] for c in created] == [(end - start).total_seconds() for start, end in pairs]


@pytest.mark.django_db
def test_seconds_between_an_instant_given_as_a_value_or_the_databases_now_and_a_field():
    resolved([30])
    row = Conversation.objects.annotate(
        since=seconds_between(Value(T0 - dt.timedelta(seconds=1.5)), "closed_at"),
        age=seconds_between("closed_at", Now()),
        no_time=seconds_between(Now(), Now()),
    ).get(intercom_id__startswith="aggregates-")
    assert (row.since, row.no_time) == (31.5, 0.0)
    assert row.age == pytest.approx((timezone.now() - T0).total_seconds() - 30, abs=60)


@pytest.mark.django_db
def test_duration_seconds_of_the_sla_clocks_paused_time():
    conversation = make_conversation(created_at=T0)
    policy = make_policy("Urgent conversations", priorities=["urgent"])
    paused = [
        dt.timedelta(0),
        dt.timedelta(minutes=90),
        dt.timedelta(seconds=1, microseconds=500_000),
        dt.timedelta(days=2, hours=3),
    ]
    clocks = SlaClock.objects.bulk_create(
        SlaClock(
            conversation=conversation,
            policy=policy,
            metric=SlaClock.Metric.NEXT_RESPONSE,
            cycle=100 + n,
            target_minutes=60,
            started_at=T0,
            paused_total=total,
        )
        for n, total in enumerate(paused)
    )
    mine = SlaClock.objects.filter(pk__in=[clock.pk for clock in clocks])
    seconds = dict(mine.annotate(paused=duration_seconds("paused_total")).values_list("pk", "paused"))
    assert [seconds[clock.pk] for clock in clocks] == [total.total_seconds() for total in paused]
    wanted = [total.total_seconds() for total in paused]
    assert close(percentiles(mine, duration_seconds("paused_total"))[()], expected(wanted))
    # A duration made by subtracting instants reads the same way.
    assert percentiles(mine, duration_seconds(F("started_at") - F("started_at")), (0.5,)) == {
        (): Percentiles(4, (0.0,))
    }


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.none() | st.integers(-(10**7), 10**7)), max_size=25
    ),
    fractions=st.lists(st.floats(0, 1), min_size=1, max_size=3).map(tuple),
)
def test_sql_percentiles_equal_the_python_reference(rows, fractions):
    with transaction.atomic():
        for priority in {priority for priority, _ in rows}:
            resolved([value for group, value in rows if group == priority], priority=priority)
        by_group = resolution_percentiles(fractions, group_by="priority")
        overall = resolution_percentiles(fractions)
        transaction.set_rollback(True)
    groups = {priority for priority, _ in rows}
    assert set(by_group) == {(priority,) for priority in groups}
    for priority in groups:
        values = [value for group, value in rows if group == priority]
        assert close(by_group[(priority,)], expected(values, fractions))
    assert close(overall[()], expected([value for _, value in rows], fractions))


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 50)), max_size=25),
    ranked=st.booleans(),
)
def test_subset_percentiles_equal_the_python_reference_on_each_subset(rows, ranked):
    """One field over named subsets: ties, empty subsets and one row included; on SQLite both
    ways of reading (value order with known counts, and the window functions)."""
    with transaction.atomic():
        Conversation.objects.bulk_create(
            Conversation(
                intercom_id=f"subsets-{next(_ids)}",
                priority=priority,
                reopened_count=value,
                created_at_intercom=T0,
                updated_at_intercom=T0,
            )
            for priority, value in rows
        )
        subsets = {name: Q(priority=name) for name in ("a", "b", "c", "none")}
        result = subset_percentiles(
            Conversation.objects.all(), "reopened_count", subsets, sqlite_ranked=ranked
        )
        transaction.set_rollback(True)
    for name in subsets:
        assert close(result[name], expected([value for group, value in rows if group == name]))


@pytest.mark.django_db
def test_subset_percentiles_is_one_query_on_postgresql(django_assert_max_num_queries):
    from django.db import connection

    resolved([1, 2, 3])
    subsets = {"all": Q(), "open": Q(closed_at__isnull=True)}
    # PostgreSQL: one query; SQLite: the counts, then two reads per subset (one per fraction).
    most = 1 if connection.vendor == "postgresql" else 1 + 2 * len(subsets)
    with django_assert_max_num_queries(most):
        subset_percentiles(Conversation.objects.all(), "reopened_count", subsets)
