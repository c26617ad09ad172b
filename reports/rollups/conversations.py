"""The daily rollups of conversations (reports.models.ConversationDay): how many closed and how
many were rated (per rating) on each UTC day, per assignee and the tier and venue of the account.
A conversation closes again later when reopened and its rating can change: kept exact as
rollups.moving says. Its account can change tier or venue without the conversation changing:
RolledAccount remembers what was counted, and the conversations of an account that moved are
counted again."""

import datetime as dt

from django.db.models import Min, Q

from accounts.models import Account
from reports.models import ConversationDay, RolledAccount
from reports.rollups.moving import DayRollup, Event
from support.models import Conversation

CLOSED, RATED = "closed", "rated"
_PLACE = {"assignee": "assignee_id", "tier": "account__tier_id", "venue": "account__venue"}


def _accounts_to_snapshot(*, everything: bool) -> dict[int, tuple]:
    """{account: (tier, venue)} of the accounts not counted as they are now: new ones, and those
    whose tier or venue moved (every account when `everything`)."""
    now = {pk: (tier, venue) for pk, tier, venue in Account.objects.values_list("pk", "tier_id", "venue")}
    if everything:
        return now
    counted = {
        pk: (tier, venue)
        for pk, tier, venue in RolledAccount.objects.values_list("account_id", "tier_id", "venue")
    }
    return {pk: place for pk, place in now.items() if counted.get(pk) != place}


def _moved_from() -> dt.datetime | None:
    """The first start among the conversations of accounts that moved since they were counted."""
    moved = _accounts_to_snapshot(everything=False)
    if not moved:
        return None
    return Conversation.objects.filter(account_id__in=moved).aggregate(first=Min("created_at_intercom"))[
        "first"
    ]


def _snapshot(everything: bool) -> None:
    """Remember the accounts' tier and venue as counted. Taken before counting: an account that
    moves while the counts run is found moved on the next refresh."""
    accounts = _accounts_to_snapshot(everything=everything)
    stale = RolledAccount.objects.all() if everything else RolledAccount.objects.filter(pk__in=accounts)
    stale.delete()
    RolledAccount.objects.bulk_create(
        (RolledAccount(account_id=pk, tier_id=tier, venue=venue) for pk, (tier, venue) in accounts.items()),
        batch_size=2000,
    )


CONVERSATIONS = DayRollup(
    name="conversations",
    model=ConversationDay,
    rows=lambda: Conversation.objects.all(),
    origin="created_at_intercom",
    events={
        CLOSED: Event("closed_at", _PLACE),
        RATED: Event("rated_at", {**_PLACE, "rating": "rating"}, where=Q(rating__isnull=False)),
    },
    columns={"assignee": "assignee_id", "tier": "tier_id", "venue": "venue", "rating": "rating"},
    count="conversations",
    moved_from=_moved_from,
    before_count=_snapshot,
)


def conversation_counts(spans: dict, event: str, *, specialist=None, by: tuple | None = None) -> list[dict]:
    """Conversations closed (CLOSED) or rated (RATED) in each span {key: (start, end)} per the
    dimensions `by` (of assignee, tier, venue, rating; all when None): rows {span, *by, n}."""
    only = {} if specialist is None else {"assignee": specialist.pk}
    return CONVERSATIONS.counts(spans, event, by=by, **only)
