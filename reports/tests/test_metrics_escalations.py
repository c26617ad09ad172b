"""Escalations: each figure against a hand-counted set (boundaries, the previous period across a
daylight-saving change, never-acknowledged ones), the breakdowns and charts, a Specialist's own
view, the rows behind each number, and queries that do not grow with rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import make_account, specialist_user
from oncall.models import Escalation, Page
from oncall.tests.factories import make_escalation_policy, make_rota
from reports.metrics import escalations
from reports.metrics.base import ReportContext
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.tests.factories import NOVEMBER, at

pytestmark = pytest.mark.django_db
SEV1, SEV2, SEV3 = Escalation.Severity.values
MANUAL, BREACH = Escalation.Source.values
PREVIOUS = NOVEMBER.previous()


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=PREVIOUS)


@pytest.fixture
def people():
    return specialist_user(first_name="Ada", last_name="Ames"), specialist_user(
        first_name="Ben", last_name="Bell"
    )


@pytest.fixture
def policy(people):
    # London: British Summer Time (UTC+1) until 25 October 2026, in the previous period.
    return make_escalation_policy(make_rota(time_zone="Europe/London", layers={"Primary": list(people)}))


@pytest.fixture
def account():
    return make_account()


def escalation(policy, account, raised, *, ack_seconds=None, by=None, severity=SEV2, source=MANUAL):
    acknowledged = raised + dt.timedelta(seconds=ack_seconds) if ack_seconds is not None else None
    return Escalation.objects.create(
        policy=policy,
        account=account,
        severity=severity,
        source=source,
        summary="Trader cannot withdraw",
        status=Escalation.Status.RESOLVED,
        raised_at=raised,
        ack_deadline_at=raised + dt.timedelta(minutes=30),
        acknowledged_at=acknowledged,
        acknowledged_by=by,
    )


def page(escalation, person, sent, *, status=Page.Status.SENT, round=0):
    return Page.objects.create(
        escalation=escalation,
        round=round,
        step=1,
        recipient=person,
        channel=Page.Channel.EMAIL,
        created_at=sent,
        status=status,
        sent_at=sent if status == Page.Status.SENT else None,
    )


@pytest.fixture
def november(policy, account, people):
    """Six raised in November (five at night or the weekend in London, GMT), three in the period
    before (one at night by BST; two by UTC), one just after."""
    ada, ben = people
    made = {
        "sunday": escalation(
            policy, account, at(1, 0), ack_seconds=120, by=ada, severity=SEV3, source=BREACH
        ),
        "monday": escalation(policy, account, at(2, 10), ack_seconds=240, by=ada, severity=SEV1),
        "tuesday_night": escalation(policy, account, at(3, 21), ack_seconds=1200, by=ben, source=BREACH),
        "early": escalation(policy, account, at(4, 7, 59) + dt.timedelta(seconds=59), severity=SEV3),
        "saturday": escalation(policy, account, at(7, 12), ack_seconds=2700, by=ada),
        "last": escalation(policy, account, at(30, 23, 59), ack_seconds=1800, by=ben, severity=SEV1),
        "next": escalation(policy, account, NOVEMBER.end, ack_seconds=60, by=ada),
        "before_day": escalation(policy, account, at(20, 7, 30, month=10), ack_seconds=600, by=ada),
        "before_day_2": escalation(policy, account, at(21, 7, 40, month=10)),
        "before_night": escalation(policy, account, at(21, 19, 10, month=10)),
    }
    page(made["monday"], ada, at(2, 10, 1))
    page(made["monday"], ada, at(2, 10, 2), round=1)
    page(made["monday"], ben, at(2, 10, 3), status=Page.Status.DEAD, round=2)
    page(made["tuesday_night"], ben, at(3, 21, 1))
    page(made["before_day"], ada, at(20, 7, 31, month=10))
    page(made["next"], ada, NOVEMBER.end)
    return made


def figure(section, key):
    return next(f for f in section.figures if f.key == key)


def breakdown(section, key):
    return {
        label: [cell.value for cell in cells]
        for label, cells in next(b for b in section.breakdowns if b.key == key).rows
    }


def chart(section, key):
    return next(c for c in section.charts if c.key == key)


def rows_of(key, period=NOVEMBER, specialist=None, **filters):
    listing = row_list(key)
    return listing.rows(
        RowQuery(period=period, filters=parse_filters(listing, filters), specialist=specialist)
    )


def test_the_figures_count_the_period_and_the_one_before(ctx, november):
    section = escalations.build(ctx)

    raised, median, p90 = (figure(section, key) for key in ("escalations_raised", "ack_median", "ack_p90"))
    assert (raised.value, raised.previous, raised.sample) == (6, 3, 6)
    # Acknowledged in 120, 240, 1200, 1800, 2700 s: p90 lies at 3.6, 0.6 of the way from 1800 to 2700.
    assert (median.value, median.previous, median.sample, median.target) == (1200, 600, 5, 1800)
    assert (p90.value, p90.previous) == (pytest.approx(2340), 600)
    within = figure(section, "acked_within_target")
    assert (within.value, within.previous) == (pytest.approx(100 * 4 / 6), pytest.approx(100 / 3))
    night = figure(section, "night_weekend_share")
    assert (night.value, night.previous) == (pytest.approx(100 * 5 / 6), pytest.approx(100 / 3))
    assert "Europe/London" in night.definition
    pages = figure(section, "pages_sent")
    assert (pages.value, pages.previous) == (3, 1)


def test_an_empty_period_has_no_times_or_shares(ctx, policy):
    section = escalations.build(ctx)

    assert figure(section, "escalations_raised").value == 0
    for key in ("ack_median", "ack_p90", "acked_within_target", "night_weekend_share"):
        assert (figure(section, key).value, figure(section, key).previous) == (None, None)
    assert chart(section, "escalations-ack-bands").series["This period"] == [0] * 6


def test_one_acknowledged_escalation_is_its_own_median_and_p90(ctx, policy, account, people):
    escalation(policy, account, at(10), ack_seconds=90, by=people[0])

    section = escalations.build(ctx)

    assert (figure(section, "ack_median").value, figure(section, "ack_p90").value) == (90, 90)


def test_breakdowns_by_severity_source_and_person(ctx, november, people):
    section = escalations.build(ctx)

    assert breakdown(section, "escalations-severity") == {
        "SEV1": [2, 100.0, 1020],
        "SEV2": [2, 50.0, 1950],
        "SEV3": [2, 50.0, 120],
    }
    assert breakdown(section, "escalations-source") == {
        "Raised by a person": [4, 50.0, 1800],
        "SLA breach": [2, 100.0, 660],
    }
    assert breakdown(section, "escalations-people") == {"Ada Ames": [2, 3], "Ben Bell": [1, 2]}


def test_charts_trend_per_week_and_bands_of_time(ctx, november):
    section = escalations.build(ctx)

    trend = chart(section, "escalations-trend")
    assert trend.x[0] == dt.date(2026, 10, 26) and len(trend.x) == 6
    assert trend.series["Raised"] == [1, 4, 0, 0, 0, 1]
    assert trend.series["% within 30 min"] == [100.0, 50.0, None, None, None, 100.0]
    bands = chart(section, "escalations-ack-bands")
    assert bands.series == {"This period": [2, 0, 2, 1, 0, 1], "Previous period": [0, 1, 0, 0, 0, 2]}


def test_a_specialist_sees_what_they_acknowledged_and_their_pages(november, people):
    ada = people[0]
    section = escalations.build(ReportContext(period=NOVEMBER, previous=PREVIOUS, specialist=ada))

    assert figure(section, "escalations_raised").value == 3
    assert figure(section, "ack_median").value == 240
    assert figure(section, "acked_within_target").value == pytest.approx(100 * 2 / 3)
    assert figure(section, "pages_sent").value == 2
    assert not any(b.key == "escalations-people" for b in section.breakdowns)
    assert rows_of("escalations", specialist=ada).count() == 3
    assert rows_of("pages", specialist=ada).count() == 2


def test_the_rows_behind_each_number_are_the_ones_it_counts(ctx, november, people):
    section = escalations.build(ctx)
    ada = people[0]

    for key in ("escalations_raised", "ack_median", "acked_within_target"):
        shown = figure(section, key)
        drill = dict(shown.drill.filters)
        assert rows_of(shown.drill.rows, **drill).count() == shown.sample or key == "acked_within_target"
    assert rows_of("escalations", acked_within="yes").count() == 4
    assert rows_of("escalations", acked_within="no").count() == 2
    assert rows_of("escalations", hours="night").count() == 5
    assert rows_of("escalations", hours="day").count() == 1
    assert rows_of("escalations", period=PREVIOUS, hours="night").count() == 1
    assert rows_of("escalations", severity=SEV1).count() == 2
    assert rows_of("escalations", person=str(ada.pk)).count() == 3
    assert rows_of("escalations", person="none").count() == 1
    assert rows_of("pages").count() == figure(section, "pages_sent").value
    assert rows_of("pages", period=PREVIOUS).count() == 1
    first = rows_of("escalations", severity=SEV1).first()
    assert (first.minutes_to_ack, first.acknowledged_by_name, first.reference) == (
        30,
        "Ben Bell",
        f"ESC-{november['last'].pk}",
    )


@pytest.mark.parametrize(
    "name, raw",
    [
        ("severity", "sev9"),
        ("source", "email"),
        ("acked_within", "maybe"),
        ("person", "ada"),
        ("hours", "dusk"),
    ],
)
def test_bad_filter_values_are_refused(name, raw):
    with pytest.raises(BadFilter):
        parse_filters(row_list("escalations"), {name: raw})


def test_night_follows_each_policys_rota_zone(ctx, policy, account, people):
    tokyo = make_escalation_policy(make_rota("Tokyo", time_zone="Asia/Tokyo"), name="Tokyo")
    escalation(policy, account, at(10, 12))  # noon in London, 21:00 in Tokyo
    escalation(tokyo, account, at(10, 12))

    night = figure(escalations.build(ctx), "night_weekend_share")

    assert night.value == 50.0 and "Asia/Tokyo, Europe/London" in night.definition
    assert list(rows_of("escalations", hours="night").values_list("policy", flat=True)) == [tokyo.pk]


def test_queries_do_not_grow_with_rows(ctx, november, policy, account, people):
    with CaptureQueriesContext(connection) as few:
        escalations.build(ctx)
    for day in range(5, 25):
        made = escalation(policy, account, at(day, day % 24), ack_seconds=day * 60, by=people[day % 2])
        page(made, people[day % 2], at(day, day % 24, 5))

    with CaptureQueriesContext(connection) as many:
        escalations.build(ctx)

    assert len(many) == len(few) <= 8
