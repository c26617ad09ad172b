"""Productivity: each count against a hand-built month of work (boundaries, the period before, a
reply only prepared, a decision approved by someone else, work by a non-Specialist), the weeks in
the viewer's zone across a daylight-saving change, hours on shift from the rota, a Specialist's
own view, the rows behind each number, and queries that do not grow with rows."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import CheckIn
from accounts.tests.factories import make_account, make_check_in, specialist_user
from disputes.models import CaseEvent, Decision, DisputeCase
from disputes.tests.factories import make_decided_case
from oncall.models import Escalation
from oncall.tests.factories import make_escalation_policy, make_rota
from portal.roles import Role
from portal.tests.factories import UserFactory
from reports.metrics import productivity
from reports.metrics.base import ReportContext
from reports.periods import period_of_days
from reports.rollups import rollups_refresh
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.tests.factories import NOVEMBER, at, clock_row, conversation_row
from support.models import SlaClock, SlaPolicy
from support.tests.factories import only_policy

pytestmark = pytest.mark.django_db
PREVIOUS = NOVEMBER.previous()
KEYS = ("closed", "answered", "replies", "decided", "check_ins", "acknowledged")


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=PREVIOUS)


@pytest.fixture
def people():
    ada = specialist_user(first_name="Ada", last_name="Ames")
    ben = specialist_user(first_name="Ben", last_name="Bell")
    dee = specialist_user(first_name="Dee", last_name="Dunn")
    carl = UserFactory(first_name="Carl", last_name="Cole", roles=[Role.LEADERSHIP])
    return ada, ben, dee, carl


def answered(policy, person, when):
    clock = clock_row(policy=policy, conversation=conversation_row(assignee=person), achieved=when, wall=300)
    SlaClock.objects.filter(pk=clock.pk).update(item_assignee=person)


def decided(person, when, *, approver=None):
    case = make_decided_case(by=person, account=make_account(owner=person))
    DisputeCase.objects.filter(pk=case.pk).update(decided_at=when)
    if approver is not None:
        Decision.objects.filter(case=case).update(approved_by=approver)
    return case


def acknowledged(policy, account, person, raised, after_minutes=5):
    return Escalation.objects.create(
        policy=policy,
        account=account,
        severity=Escalation.Severity.SEV2,
        summary="Cannot withdraw",
        status=Escalation.Status.RESOLVED,
        raised_at=raised,
        ack_deadline_at=raised + dt.timedelta(minutes=30),
        acknowledged_at=raised + dt.timedelta(minutes=after_minutes),
        acknowledged_by=person,
    )


@pytest.fixture
def november(people):
    ada, ben, _dee, carl = people
    # Primary alternates weekly from Monday 26 October 09:00 UTC (Ada first); Ben is also the
    # secondary all along, so his overlapping hours count once.
    rota = make_rota(layers={"Primary": [ada, ben], "Secondary": [ben]}, starts_on=dt.date(2026, 10, 26))
    policy = make_escalation_policy(rota)
    conversation_row(assignee=ada, closed=at(1, 0))
    conversation_row(assignee=ada, closed=at(2, 9))
    conversation_row(assignee=ben, closed=at(10))
    conversation_row(closed=at(15))  # nobody's
    conversation_row(assignee=ada, closed=NOVEMBER.end)  # the next period's
    conversation_row(assignee=ada, closed=at(31, month=10))
    sla = SlaPolicy.objects.first() or only_policy()
    answered(sla, ada, at(3))
    answered(sla, ben, at(30, 23))
    answered(sla, ben, NOVEMBER.end)
    case = decided(ada, at(6), approver=ben)
    decided(ben, at(20, month=10))
    for sent, when in ((True, at(5)), (False, at(5, 13)), (True, at(28, month=10))):
        CaseEvent.objects.create(
            case=case, kind="reply", actor=ada, at=when, summary="Reply", after={"sent": sent}
        )
    account = make_account(owner=ada, tier_rank=2)
    make_check_in(account, by=ada, occurred_at=at(4))
    make_check_in(make_account(owner=ben), by=ben, occurred_at=at(12))
    make_check_in(account, by=ada, occurred_at=PREVIOUS.start)
    make_check_in(account, by=ada, occurred_at=PREVIOUS.start - dt.timedelta(seconds=1))  # before both
    acknowledged(policy, account, ada, at(8))
    acknowledged(policy, account, carl, at(9))
    acknowledged(
        policy, account, ben, at(31, 23, 58, month=10)
    )  # raised in October, acknowledged in November
    return rota


def figure(section, key):
    return next(f for f in section.figures if f.key == key)


def rows_of(key, period=NOVEMBER, specialist=None, **filters):
    listing = row_list(key)
    return listing.rows(
        RowQuery(period=period, filters=parse_filters(listing, filters), specialist=specialist)
    )


def test_each_count_for_the_period_and_the_one_before(ctx, november):
    section = productivity.build(ctx)

    values = {key: (figure(section, key).value, figure(section, key).previous) for key in KEYS}
    assert values == {
        "closed": (4, 1),
        "answered": (2, 0),
        "replies": (1, 1),
        "decided": (1, 1),
        "check_ins": (2, 1),
        "acknowledged": (3, 0),
    }


def test_an_empty_period_counts_zero(ctx):
    section = productivity.build(ctx)

    assert [figure(section, key).value for key in KEYS] == [0] * 6
    assert section.charts[0].series["Conversations closed"] == [0] * 6


def test_one_row_per_specialist_with_hours_on_shift(ctx, november, people):
    section = productivity.build(ctx)

    table = {label: [cell.value for cell in cells] for label, cells in section.breakdowns[0].rows}
    # Ada: primary 1 Nov 00:00–2 Nov 09:00, 9–16 and 23–30 Nov (33 + 168 + 168 hours); Ben: all 720.
    assert table == {
        "Ada Ames": [2, 1, 1, 1, 1, 1, pytest.approx(369)],
        "Ben Bell": [1, 1, 0, 0, 1, 1, pytest.approx(720)],
        "Dee Dunn": [0, 0, 0, 0, 0, 0, None],
        productivity.OTHERS: [1, 0, 0, 0, 0, 1, None],
    }


def test_the_weekly_trend_counts_the_teams_work(ctx, november):
    trend = productivity.build(ctx).charts[0]

    assert trend.x == [dt.date(2026, 10, 26) + dt.timedelta(weeks=n) for n in range(6)]
    assert trend.series["Conversations closed"] == [1, 1, 2, 0, 0, 0]
    assert trend.series["Conversations answered"] == [0, 1, 0, 0, 0, 1]
    assert trend.series["Escalations acknowledged"] == [1, 1, 1, 0, 0, 0]  # Sunday 8th, Monday 9th


def test_weeks_follow_the_viewers_zone_across_a_clock_change(people):
    new_york = ZoneInfo("America/New_York")  # clocks go back at 02:00 on Sunday 1 November 2026
    period = period_of_days(dt.date(2026, 11, 1), dt.date(2026, 11, 30), new_york, label="Nov", params=[])
    for local in ((1, 0, 30), (1, 23, 30), (2, 0, 30), (8, 23, 59), (9, 0, 0)):
        conversation_row(assignee=people[0], closed=dt.datetime(2026, 11, *local, tzinfo=new_york))

    trend = productivity.build(ReportContext(period=period, previous=period.previous())).charts[0]

    assert trend.series["Conversations closed"][:3] == [2, 2, 1]


def test_a_specialist_sees_their_own_work_only(november, people):
    ada = people[0]
    mine = productivity.build(ReportContext(period=NOVEMBER, previous=PREVIOUS, specialist=ada))

    assert [figure(mine, key).value for key in KEYS] == [2, 1, 1, 1, 1, 1]
    assert figure(mine, "closed").previous == 1
    assert [label for label, _cells in mine.breakdowns[0].rows] == ["Ada Ames"]
    assert rows_of("closed-conversations", specialist=ada).count() == 2
    assert rows_of("check-ins", specialist=ada).count() == 1


def test_the_rows_behind_each_count_are_the_ones_it_counts(ctx, november, people):
    ben = people[1]
    section = productivity.build(ctx)

    for key in KEYS:
        shown = figure(section, key)
        assert rows_of(shown.drill.rows, **dict(shown.drill.filters)).count() == shown.value, key
        before = rows_of(shown.drill.rows, period=PREVIOUS, **dict(shown.drill.filters))
        assert before.count() == shown.previous, key
    by_person = dict(section.breakdowns[0].rows)
    for cell in by_person["Ada Ames"][:6]:
        assert rows_of(cell.drill.rows, **dict(cell.drill.filters)).count() == cell.value
    tier_two = CheckIn.objects.filter(account__tier__rank=2).values_list("account__tier", flat=True).first()
    assert rows_of("check-ins", tier=str(tier_two)).count() == 1
    assert rows_of("decided-cases", person=str(ben.pk)).count() == 0  # he approved; Ada decided
    assert rows_of("closed-conversations", person="none").count() == 1


@pytest.mark.parametrize(
    "key, name, raw",
    [
        ("closed-conversations", "person", "ada"),
        ("check-ins", "person", "-3"),
        ("check-ins", "tier", "gold"),
        ("decided-cases", "person", "x"),
        ("case-replies", "person", "1.5"),
    ],
)
def test_bad_filter_values_are_refused(key, name, raw):
    with pytest.raises(BadFilter):
        parse_filters(row_list(key), {name: raw})


def test_queries_do_not_grow_with_rows(ctx, november, people):
    ada, ben = people[:2]
    rollups_refresh()  # the rollups caught up (as the schedule keeps them): the build only reads
    with CaptureQueriesContext(connection) as few:
        productivity.build(ctx)
    for day in range(3, 20):
        conversation_row(assignee=ben, closed=at(day))
        make_check_in(make_account(owner=ada), by=ada, occurred_at=at(day, 15))

    rollups_refresh()
    with CaptureQueriesContext(connection) as many:
        productivity.build(ctx)

    assert len(many) == len(few) <= 23
