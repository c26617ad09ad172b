"""The conversation rollups give the counts the conversations give — in any time zone, for any
spans — and stay exact when a conversation closes again later, is rated again, moves to another
person, when its account changes tier or venue, and when it is deleted."""

import datetime as dt
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Account, Venue
from accounts.tests.factories import make_account, specialist_user, tier
from reports.metrics.base import ReportContext, week_spans
from reports.models import ConversationDay
from reports.periods import period_of_days
from reports.rollups import CLOSED, RATED, conversation_counts, rollups_refresh
from reports.tests.factories import conversation_row
from support.models import Conversation

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
START = dt.datetime(2026, 10, 1, tzinfo=UTC)
FIELDS = {CLOSED: "closed_at", RATED: "rated_at"}


@pytest.fixture
def people():
    return [specialist_user(username=f"rollup{i}") for i in range(3)]


@pytest.fixture
def accounts(people):
    return [
        make_account(
            owner=people[0], tier_rank=1 + i % 2, venue=Venue.US if i % 3 == 0 else Venue.INTERNATIONAL
        )
        for i in range(4)
    ]


@pytest.fixture
def conversations(people, accounts):
    """150 conversations over 40 days: most closed, some rated (1–5), some without account or
    assignee, at pseudo-random instants."""
    chance = random.Random(11)
    made = []
    for _ in range(150):
        created = START + dt.timedelta(seconds=chance.randrange(40 * 86400))
        closed = (
            created + dt.timedelta(seconds=chance.randrange(3 * 86400)) if chance.random() < 0.8 else None
        )
        rated = (
            closed + dt.timedelta(seconds=chance.randrange(86400))
            if closed and chance.random() < 0.5
            else None
        )
        made.append(
            conversation_row(
                account=chance.choice([*accounts, None]),
                assignee=chance.choice([*people, None]),
                created=created,
                closed=closed,
                rating=chance.randint(1, 5) if rated else None,
                rated=rated,
            )
        )
    return made


def spans_of(tz) -> dict:
    period = period_of_days(dt.date(2026, 10, 8), dt.date(2026, 11, 6), tz, label="", params=[])
    previous = period_of_days(dt.date(2026, 9, 8), dt.date(2026, 10, 7), tz, label="", params=[])
    return week_spans(ReportContext(period=period, previous=previous))


def rolled(spans, event) -> Counter:
    counts = Counter()
    for row in conversation_counts(spans, event):
        counts[(row["span"], row["assignee"], row["tier"], row["venue"], row["rating"])] += row["n"]
    return +counts


def raw(spans, event) -> Counter:
    """The same counts straight from the conversations, one span at a time."""
    field = FIELDS[event]
    counts = Counter()
    for key, (start, end) in spans.items():
        rows = Conversation.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        if event == RATED:
            rows = rows.filter(rating__isnull=False)
        for row in rows.select_related("account"):
            place = (row.account.tier_id, row.account.venue) if row.account else (None, None)
            counts[(key, row.assignee_id, *place, row.rating if event == RATED else None)] += 1
    return counts


def assert_exact(tz=UTC, now=None):
    rollups_refresh(now)
    spans = spans_of(tz)
    for event in (CLOSED, RATED):
        assert rolled(spans, event) == raw(spans, event)


@pytest.mark.parametrize("tz", [UTC, NEW_YORK], ids=["UTC", "New York"])
def test_weeks_in_any_zone_count_what_the_conversations_count(conversations, tz):
    assert_exact(tz)
    assert sum(rolled(spans_of(tz), RATED).values()) > 10
    assert ConversationDay.objects.exists()


def test_closed_again_later_and_rated_again_count_on_their_new_days_only(conversations):
    assert_exact()
    moved = [c for c in conversations if c.rated_at][:10]
    for conversation in moved:
        conversation.closed_at += dt.timedelta(days=9)
        conversation.rated_at += dt.timedelta(days=9, hours=5)
        conversation.rating = 6 - conversation.rating
        conversation.save()
    reopened = [c for c in conversations if c.closed_at and not c.rated_at][:5]
    for conversation in reopened:
        conversation.closed_at, conversation.state = None, Conversation.State.OPEN
        conversation.save()
    assert_exact(NEW_YORK)


def test_a_conversation_handed_to_someone_else_counts_for_them(conversations, people):
    assert_exact()
    for conversation in [c for c in conversations if c.closed_at][:20]:
        conversation.assignee = people[2] if conversation.assignee != people[2] else people[0]
        conversation.save()
    assert_exact()


def settled(conversations):
    """The conversations last changed an hour ago, and counted: a refresh from now on sees only
    what changes later (not the ten minutes it always counts again)."""
    Conversation.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    assert_exact()


def test_an_account_that_changes_tier_or_venue_recounts_its_conversations(conversations, accounts):
    settled(conversations)
    later = timezone.now() + dt.timedelta(minutes=2)
    # Neither change touches the conversations, and update() leaves every updated_at alone.
    Account.objects.filter(pk=accounts[0].pk).update(tier=tier(3))
    Account.objects.filter(pk=accounts[1].pk).update(venue=Venue.US)
    assert rollups_refresh(later) > 0
    assert_exact(now=later)


def test_with_no_account_moved_a_later_refresh_counts_nothing(conversations):
    settled(conversations)
    assert rollups_refresh(timezone.now() + dt.timedelta(minutes=2)) == 0


def test_a_deleted_conversation_leaves_its_days(conversations):
    settled(conversations)
    for conversation in [c for c in conversations if c.rated_at][:5]:
        conversation.delete()
    assert_exact(now=timezone.now() + dt.timedelta(minutes=2))


def test_a_new_account_and_its_conversations_are_counted(conversations, people):
    settled(conversations)
    newcomer = make_account(owner=people[1], tier_rank=2)
    day = START + dt.timedelta(days=20)
    conversation_row(account=newcomer, assignee=people[1], closed=day, rating=5, rated=day)
    assert_exact()
    Conversation.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    Account.objects.filter(pk=newcomer.pk).update(tier=tier(1))
    assert_exact(now=timezone.now() + dt.timedelta(minutes=2))


def test_a_specialist_reads_their_own(conversations, people):
    rollups_refresh()
    spans = spans_of(UTC)
    mine = conversation_counts(spans, CLOSED, specialist=people[1])
    assert mine and {row["assignee"] for row in mine} == {people[1].pk}
    assert sum(row["n"] for row in mine) == sum(
        n for key, n in raw(spans, CLOSED).items() if key[1] == people[1].pk
    )


def test_nothing_changed_counts_nothing_again(conversations):
    rollups_refresh()
    assert rollups_refresh() == 0  # within the minute: not even looked at
    rollups_refresh(timezone.now() + dt.timedelta(minutes=30))  # past the ten minutes' margin
    rows = list(ConversationDay.objects.values_list("day", "event", "conversations"))
    assert rollups_refresh(timezone.now() + dt.timedelta(minutes=60)) == 0
    assert list(ConversationDay.objects.values_list("day", "event", "conversations")) == rows


def test_a_reopened_conversation_alone_leaves_its_closing_day(conversations):
    """The only change is a closing that became nothing: its start still says where to count from."""
    settled(conversations)
    inside = dt.datetime(2026, 10, 20, tzinfo=UTC)  # in the spans counted
    reopened = next(c for c in conversations if c.closed_at and c.closed_at < inside and not c.rated_at)
    reopened.closed_at, reopened.state = None, Conversation.State.OPEN
    reopened.save()
    assert_exact(now=timezone.now() + dt.timedelta(minutes=2))
