"""CSAT, response and resolution times, SLA attainment: each figure against a hand-counted data
set, the rows behind it, a Specialist's own view, and queries that do not grow with rows."""

import pytest

from accounts.tests.factories import make_account, specialist_user
from reports.metrics import csat, sla, times
from reports.metrics.base import ReportContext
from reports.rollups import rollups_refresh
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.tests.factories import NOVEMBER, at, clock_row, conversation_row
from support.models import SlaClock, SlaPolicy
from support.tests.factories import only_policy

pytestmark = pytest.mark.django_db
FIRST, RESOLUTION = SlaClock.Metric.FIRST_RESPONSE, SlaClock.Metric.RESOLUTION


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=NOVEMBER.previous())


@pytest.fixture
def policy():
    return SlaPolicy.objects.first() or only_policy()


def figure(section_or_figures, key):
    figures = section_or_figures.figures if hasattr(section_or_figures, "figures") else section_or_figures
    return next(f for f in figures if f.key == key)


def rows_of(key, period=NOVEMBER, specialist=None, **filters):
    listing = row_list(key)
    return listing.rows(
        RowQuery(period=period, filters=parse_filters(listing, filters), specialist=specialist)
    )


def test_the_previous_period_is_as_long_and_ends_where_this_one_starts():
    previous = NOVEMBER.previous()
    assert (previous.start, previous.end, previous.days) == (at(2, 0, month=10), NOVEMBER.start, 30)


class TestCsat:
    def test_csat_counts_ratings_given_in_the_period(self, ctx):
        for rating, rated in ((5, at(1, 0)), (4, at(10)), (2, at(20)), (1, at(30, 23, 59))):
            conversation_row(closed=rated, rating=rating, rated=rated)
        conversation_row(closed=at(30), rating=5, rated=NOVEMBER.end)  # the next period's
        conversation_row(closed=at(15))  # closed, not rated
        conversation_row(closed=at(20, month=10), rating=5, rated=at(20, month=10))  # the period before

        figures = csat.headline(ctx)

        score, response = figure(figures, "csat"), figure(figures, "response_rate")
        assert (score.value, score.sample, score.previous) == (50.0, 4, 100.0)
        assert (response.value, response.sample) == (pytest.approx(100 * 4 / 6), 6)
        assert rows_of("rated-conversations").count() == score.sample
        assert rows_of("rated-conversations", rating="good").count() == 2

    def test_no_ratings_is_no_figure_not_zero(self, ctx):
        score = figure(csat.headline(ctx), "csat")
        assert (score.value, score.previous, score.sample) == (None, None, 0)

    def test_a_specialist_sees_their_own_conversations_and_the_breakdowns_follow(self, ctx):
        me, other = specialist_user(username="me"), specialist_user(username="other")
        gold = make_account(owner=me, tier_rank=1)
        conversation_row(account=gold, assignee=me, closed=at(3), rating=5, rated=at(3))
        conversation_row(account=gold, assignee=other, closed=at(4), rating=1, rated=at(4))

        mine = csat.build(ReportContext(period=NOVEMBER, previous=NOVEMBER.previous(), specialist=me))
        team = csat.build(ctx)

        assert figure(mine, "csat").value == 100.0 and figure(team, "csat").value == 50.0
        by_specialist = next(b for b in team.breakdowns if b.key == "csat-specialist")
        expected = sorted([(me.get_full_name(), 1), (other.get_full_name(), 1)])
        assert [(label, cells[0].value) for label, cells in by_specialist.rows] == expected
        assert not any(b.key == "csat-specialist" for b in mine.breakdowns)
        assert list(rows_of("rated-conversations", specialist=me).values_list("rating", flat=True)) == [5]
        by_tier = next(b for b in team.breakdowns if b.key == "csat-tier")
        tier_drill = by_tier.rows[0][1][0].drill
        assert rows_of("rated-conversations", **dict(tier_drill.filters)).count() == 2

    def test_the_build_runs_the_same_queries_for_many_rows(self, ctx, django_assert_max_num_queries):
        owner = specialist_user(username="owner")
        for day in range(1, 29):
            account = make_account(owner=owner, tier_rank=1 + day % 2)
            conversation_row(
                account=account, assignee=owner, closed=at(day), rating=1 + day % 5, rated=at(day)
            )
        rollups_refresh()  # caught up, as the schedule keeps them: the build reads
        # The rollups' watermarks (6 × 2), ratings and closed counts (whole days, the hours
        # around them: 2 × 2), the tiers' and people's names.
        with django_assert_max_num_queries(18):
            section = csat.build(ctx)
        assert figure(section, "csat").sample == 28

    def test_bad_filters_are_refused_with_a_reason(self):
        listing = row_list("rated-conversations")
        for bad in ({"rating": "7"}, {"tier": "gold"}, {"venue": "moon"}, {"person": "-1"}):
            with pytest.raises(BadFilter):
                parse_filters(listing, bad)


class TestTimes:
    WALL = [60, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600]

    def test_median_and_p90_interpolate_as_percentile_cont(self, ctx, policy):
        for i, seconds in enumerate(self.WALL):
            conversation = conversation_row(closed=at(5 + i))
            clock_row(
                policy=policy,
                conversation=conversation,
                achieved=at(5 + i),
                wall=seconds,
                working=seconds // 2,
            )
        outside = conversation_row(closed=at(1, month=12))
        clock_row(policy=policy, conversation=outside, achieved=NOVEMBER.end, wall=99999)

        section = times.build(ctx)

        median, p90 = (
            figure(section, "first_response_conversation_median"),
            figure(section, "first_response_conversation_p90"),
        )
        assert (median.value, p90.value, median.sample) == (450.0, pytest.approx(1980.0), 10)
        table = section.breakdowns[0]
        conversations_first = table.rows[0][1]
        assert [cell.value for cell in conversations_first[:4]] == pytest.approx(
            [450.0, 1980.0, 225.0, 990.0]
        )
        assert median.previous is None
        assert rows_of("sla-clocks", **dict(median.drill.filters)).count() == 10

    def test_one_value_is_its_own_median_and_cases_are_apart(self, ctx, policy):
        conversation = conversation_row(closed=at(5))
        clock_row(policy=policy, conversation=conversation, metric=RESOLUTION, achieved=at(5), wall=7200)
        section = times.build(ctx)
        assert figure(section, "resolution_conversation_median").value == 7200.0
        assert figure(section, "resolution_conversation_p90").value == 7200.0
        assert figure(section, "resolution_case_median").value is None

    def test_the_distribution_counts_both_periods(self, ctx, policy):
        for wall, day, month in ((300, 3, 11), (5000, 4, 11), (300, 20, 10)):
            conversation = conversation_row(closed=at(day, month=month))
            clock_row(policy=policy, conversation=conversation, achieved=at(day, month=month), wall=wall)
        chart = times.build(ctx).charts[0]
        assert chart.series["This period"] == [1, 0, 1, 0, 0, 0]
        assert chart.series["Previous period"] == [1, 0, 0, 0, 0, 0]


class TestSla:
    def test_attainment_is_hit_over_hit_and_missed(self, ctx, policy):
        statuses = ["hit", "hit", "hit", "missed", "cancelled"]
        for i, status in enumerate(statuses):
            conversation = conversation_row(closed=at(2 + i))
            achieved = at(2 + i) if status != "cancelled" else None
            clock_row(
                policy=policy, conversation=conversation, achieved=achieved, stopped=at(2 + i), status=status
            )
        breached = conversation_row()
        clock_row(policy=policy, conversation=breached, started=at(1), status="breached")

        section = sla.build(ctx)

        first = figure(section, "attainment_first_response")
        assert (first.value, first.sample) == (75.0, 4)
        assert figure(section, "attainment_resolution").value is None
        assert figure(section, "breached_open").value == 1
        assert rows_of("sla-clocks", **dict(first.drill.filters)).count() == 4
        assert rows_of("sla-clocks", metric="first_response", outcome="missed").count() == 1
        by_kind = next(b for b in section.breakdowns if b.key == "sla-kind")
        assert by_kind.rows[0][0] == "Conversations" and by_kind.rows[0][1][0].value == 75.0

    def test_the_build_runs_the_same_queries_for_many_rows(self, ctx, policy, django_assert_max_num_queries):
        for day in range(1, 25):
            conversation = conversation_row(closed=at(day))
            clock_row(
                policy=policy,
                conversation=conversation,
                achieved=at(day),
                status="hit" if day % 3 else "missed",
            )
        sla.build(ctx)  # the first build counts the days into the rollups
        # The rollups' freshness (6 × 2), each period's whole days and leftover hours (2 × 2),
        # the past-due count, the tiers' and the people's names.
        with django_assert_max_num_queries(19):
            sla.build(ctx)
