"""The daily rollups give the figures the clocks give: whole UTC days from the rollups, the
hours around them from the clocks, recounted when a clock changes."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Q

from reports.aggregates import subset_percentiles
from reports.models import CaseDay, ClockDay, ConversationDay
from reports.periods import period_of_days
from reports.rollups import band_counts, banded_percentiles, clock_counts, rollups_rebuild, rollups_refresh
from reports.tests.factories import clock_row, conversation_row
from support.models import SlaClock, SlaPolicy
from support.tests.factories import only_policy

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
START = dt.datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def policy():
    return SlaPolicy.objects.first() or only_policy()


@pytest.fixture
def clocks(policy):
    """200 clocks stopped at pseudo-random instants over 40 days, hit or missed, timed."""
    chance = random.Random(7)
    made = []
    for _ in range(200):
        stopped = START + dt.timedelta(seconds=chance.randrange(40 * 86400))
        conversation = conversation_row(closed=stopped)
        made.append(
            clock_row(
                policy=policy,
                conversation=conversation,
                metric=chance.choice(list(SlaClock.Metric.values)),
                achieved=stopped,
                wall=chance.choice([45, 300, 301, 900, 3600, 7200, 86400, 400000]) + chance.randrange(5),
                status=chance.choice(["hit", "missed"]),
            )
        )
    return made


def raw_counts(period) -> dict:
    rows = (
        SlaClock.objects.filter(stopped_at__gte=period.start, stopped_at__lt=period.end)
        .values("metric", "status")
        .annotate(n=Count("pk"))
    )
    return {(row["metric"], row["status"]): row["n"] for row in rows}


def rolled_counts(period) -> dict:
    counts: dict = {}
    for row in clock_counts(period):
        key = (row["metric"], row["status"])
        counts[key] = counts.get(key, 0) + row["clocks"]
    return counts


@pytest.mark.parametrize("tz", [UTC, NEW_YORK, ZoneInfo("Asia/Kolkata")])
def test_a_period_in_any_zone_counts_what_the_clocks_count(clocks, tz):
    rollups_refresh()
    for first, last in (
        (dt.date(2026, 10, 3), dt.date(2026, 10, 20)),
        (dt.date(2026, 10, 5), dt.date(2026, 10, 5)),
    ):
        period = period_of_days(first, last, tz, label="", params=[])
        assert rolled_counts(period) == raw_counts(period)


def test_a_clock_that_changes_after_its_day_was_counted_is_counted_again(clocks, policy):
    rollups_refresh()
    period = period_of_days(dt.date(2026, 10, 2), dt.date(2026, 10, 30), UTC, label="", params=[])
    before = rolled_counts(period)
    late = conversation_row(closed=dt.datetime(2026, 10, 10, 12, tzinfo=UTC))
    clock_row(policy=policy, conversation=late, achieved=late.closed_at, status="missed")  # imported late
    changed = clocks[0]
    changed.status = "missed" if changed.status == "hit" else "hit"
    changed.save()

    assert rollups_refresh() >= 1
    after = rolled_counts(period)
    assert after == raw_counts(period) and after != before


def test_a_refresh_with_nothing_changed_reads_two_rows_and_writes_nothing(clocks, django_assert_num_queries):
    rollups_refresh()
    rows = ClockDay.objects.count()
    with django_assert_num_queries(12):  # per rollup (6): its watermark, whether anything changed
        assert rollups_refresh() == 0
    assert ClockDay.objects.count() == rows


def test_a_rebuild_counts_every_day_again(clocks):
    rollups_refresh()
    ClockDay.objects.all().delete()
    assert rollups_rebuild() > 0
    period = period_of_days(dt.date(2026, 9, 1), dt.date(2026, 11, 30), UTC, label="", params=[])
    assert rolled_counts(period) == raw_counts(period)


@pytest.mark.parametrize("tz", [UTC, NEW_YORK])
def test_banded_percentiles_equal_percentile_cont(clocks, tz):
    rollups_refresh()
    period = period_of_days(dt.date(2026, 10, 4), dt.date(2026, 10, 31), tz, label="", params=[])
    bands = band_counts(period)
    for metric in SlaClock.Metric.values:
        subset = Q(
            metric=metric,
            conversation__isnull=False,
            wall_seconds__isnull=False,
            stopped_at__gte=period.start,
            stopped_at__lt=period.end,
        )
        wanted = subset_percentiles(
            SlaClock.objects.all(), "wall_seconds", {"x": subset}, (0.5, 0.9, 0.0, 1.0)
        )["x"]
        banded = banded_percentiles(
            bands.get((metric, "conversation", "wall_seconds"), {}),
            lambda subset=subset: SlaClock.objects.filter(subset),
            "wall_seconds",
            (0.5, 0.9, 0.0, 1.0),
        )
        assert banded.count == wanted.count > 0
        assert banded.values == pytest.approx(wanted.values)


def test_many_subsets_percentiles_at_once_equal_each_alone(clocks, django_assert_max_num_queries):
    """Every metric's wall and working time, with an empty subset among them: the same figures
    as one subset at a time; on PostgreSQL every read is one query (two when a rank closes its
    band and the next band's first value is needed)."""
    from django.db import connection

    from reports.rollups import banded_percentiles_of

    rollups_refresh()
    period = period_of_days(dt.date(2026, 10, 4), dt.date(2026, 10, 31), UTC, label="", params=[])
    bands = band_counts(period)
    fractions = (0.5, 0.9, 0.0, 1.0)
    subsets = {
        (metric, measure): (
            bands.get((metric, "conversation", measure), {}),
            lambda metric=metric, measure=measure: SlaClock.objects.filter(
                metric=metric,
                conversation__isnull=False,
                stopped_at__gte=period.start,
                stopped_at__lt=period.end,
                **{f"{measure}__isnull": False},
            ),
            measure,
        )
        for metric in SlaClock.Metric.values
        for measure in ("wall_seconds", "working_seconds")
    }
    subsets["none"] = ({}, SlaClock.objects.none, "wall_seconds")
    alone = {key: banded_percentiles(*subset, fractions) for key, subset in subsets.items()}
    at_most = 2 if connection.vendor == "postgresql" else 2 * len(fractions) * (len(subsets) - 1)
    with django_assert_max_num_queries(at_most):
        together = banded_percentiles_of(subsets, fractions)

    assert together["none"] == (0, (None,) * len(fractions))
    assert sum(p.count for p in together.values()) > 0
    for key, figures in alone.items():
        assert together[key].count == figures.count
        assert together[key].values == pytest.approx(figures.values)


@pytest.mark.parametrize("tz", [UTC, NEW_YORK])
def test_band_counts_of_two_periods_at_once_equal_each_alone(clocks, tz):
    from reports.rollups import band_counts_by_span

    rollups_refresh()
    period = period_of_days(dt.date(2026, 10, 18), dt.date(2026, 11, 8), tz, label="", params=[])
    previous = period.previous()
    together = band_counts_by_span({1: (period.start, period.end), 0: (previous.start, previous.end)})

    assert together[1] == band_counts(period) != {}
    assert together[0] == band_counts(previous) != {}


def test_counting_changed_days_is_a_fixed_number_of_queries(clocks, policy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_count_again(changed):
        for clock in changed:
            clock.save()
        with CaptureQueriesContext(connection) as captured:
            assert rollups_refresh() >= 1
        return len(captured)

    rollups_refresh()
    few_days = queries_to_count_again(clocks[:2])
    many_days = queries_to_count_again(clocks[:80])  # spread over most of the 40 days
    assert many_days == few_days


def test_the_scheduled_tasks_refresh_and_rebuild(clocks):
    from reports.tasks import reports_rollups_rebuild, reports_rollups_refresh

    assert reports_rollups_refresh()["days"] > 0  # the first refresh counts every day
    assert reports_rollups_refresh() == {"days": 0}
    days = [
        rollup.objects.filter(days=1).values("day").distinct().count()
        for rollup in (ClockDay, ConversationDay, CaseDay)
    ]
    assert reports_rollups_rebuild()["days"] == sum(days)


def test_a_percentile_between_two_bands_reads_the_next_band(policy):
    """p90 of 45, 45, 45 and 400,000 s lies between the last value of one band and the first of
    a band far above: the interpolation needs both."""
    for wall in (45, 46, 47, 400000):
        stopped = START + dt.timedelta(days=3, hours=wall % 7)
        clock_row(policy=policy, conversation=conversation_row(closed=stopped), achieved=stopped, wall=wall)
    rollups_refresh()
    period = period_of_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31), UTC, label="", params=[])
    bands = band_counts(period)[(SlaClock.Metric.FIRST_RESPONSE, "conversation", "wall_seconds")]
    banded = banded_percentiles(
        bands,
        lambda: SlaClock.objects.filter(metric=SlaClock.Metric.FIRST_RESPONSE, wall_seconds__isnull=False),
        "wall_seconds",
        (0.5, 0.9, 1.0),
    )
    assert banded.values == pytest.approx((46.5, 47 + 0.7 * (400000 - 47), 400000))


def test_a_report_catches_the_rollups_up_once_for_all_its_families(clocks, django_assert_num_queries):
    from reports.rollups import rollups_caught_up

    with rollups_caught_up():
        assert ClockDay.objects.exists()  # caught up on the way in
        clocks[0].save()
        with django_assert_num_queries(0):
            assert rollups_refresh() == 0  # a family's own refresh: already done for this report
    assert rollups_refresh() >= 1  # outside, the change is counted


def test_a_rebuild_leaves_the_database_statistics_of_the_new_rows(clocks):
    from django.db import connection

    rollups_rebuild()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'reports_clockday'")
        else:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'reports_clockday'")
        assert cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_outside_a_transaction_leaves_the_rollups_ready_to_read(clocks):
    """The scheduled rebuild runs with no transaction open. PostgreSQL vacuums the rollups too,
    clearing the deleted rows (whether it can also mark pages all-visible depends on other open
    transactions, so the test reads the vacuum count). SQLite has its statistics."""
    from django.db import connection

    def vacuums() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'reports_clockday'")
            return cursor.fetchone()[0]

    if connection.vendor == "postgresql":
        before = vacuums()
        rollups_rebuild()
        assert vacuums() == before + 1
    else:
        rollups_rebuild()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'reports_clockday'")
            assert cursor.fetchone()[0] > 0


def test_a_day_goes_whole_to_the_span_holding_most_of_it_and_only_the_odd_hours_are_read():
    """Weeks from Monday in London's summer time start at 23:00 UTC: each UTC day is read from
    the rollups for the week holding 23 of its hours, and one hour per boundary from the rows."""
    from reports.metrics.base import ReportContext, week_spans
    from reports.rollups.days import span_keys

    london = ZoneInfo("Europe/London")
    period = period_of_days(dt.date(2026, 9, 7), dt.date(2026, 10, 4), london, label="", params=[])
    previous = period_of_days(dt.date(2026, 8, 10), dt.date(2026, 9, 6), london, label="", params=[])
    spans = week_spans(ReportContext(period=period, previous=previous))
    _days, _case, corrections = span_keys(spans)
    boundaries = len(spans) - 1 + 2  # between the spans, and the two ends
    assert len(corrections) == boundaries
    assert {c.end - c.start for c in corrections} == {dt.timedelta(hours=1)}
    inner = [c for c in corrections if c.add is not None and c.sub is not None]
    assert [(c.sub, c.add) for c in inner] == [(-1, 0), (0, 1), (1, 2), (2, 3)]


def test_the_days_of_spans_with_a_gap_between_them_are_read_in_one_range_each():
    """Touching spans are one range of days; a day between two spans is read for neither, and a
    day goes to the span whose run it falls in."""
    from django.db.models import Sum

    from reports.rollups.days import span_keys

    first = dt.date(2026, 10, 1)
    for offset in range(12):  # day `offset` counts offset + 1
        ConversationDay.objects.create(
            day=first + dt.timedelta(days=offset), event="closed", conversations=offset + 1
        )

    def midnight(day):
        return dt.datetime.combine(first + dt.timedelta(days=day), dt.time(0), tzinfo=UTC)

    spans = {0: (midnight(1), midnight(3)), 1: (midnight(3), midnight(5)), 2: (midnight(8), midnight(10))}
    days, case, corrections = span_keys(spans)

    assert corrections == ()
    assert str(days).count("day__gte") == 2  # days 1–4 and 8–9
    counted = dict(
        ConversationDay.objects.filter(days)
        .annotate(span=case)
        .values_list("span")
        .annotate(n=Sum("conversations"))
        .values_list("span", "n")
    )
    assert counted == {0: 2 + 3, 1: 4 + 5, 2: 9 + 10}
