"""A year of Intercom conversations, stored as the import stores them (`conversations_insert`:
accounts and teammates looked up, last contact moved, SLA clocks started and stopped by the real
evaluation). Each conversation is created, answered (minutes to hours, slower at night and on
weekends for the office-hours tier, some past the SLA target), perhaps answered again, and closed;
the last days' ones are still open. One in twenty closed ones was reopened later: it is stored
first as it was at its first close, then its newer state is evaluated again over the clocks the
first one left (as a webhook would), so its resolution clock has two cycles. About a third of the
closed ones are rated (mostly 4-5, worse when the first reply was late), after closing."""

import datetime as dt
import math
import random
from collections import defaultdict

from accounts.models import Account
from portal.db import bulk_update_rows
from reports.demo.moments import Window, after, off_hours
from reports.demo.writing import insert
from support.demo import FIRST_ID, REMARKS, TOPICS, _demo_teammates, conversation_object
from support.importing import PageLookups
from support.models import Conversation, SlaClock, SlaEvent
from support.services import contact_moment, parse_conversation
from support.sla.bulk import sla_evaluate_conversations
from support.sla.clocks import plan_conversation, sla_setup

CHUNK = 2000
FIRST_HISTORY_ID = FIRST_ID + 100_000_000  # after the ids of support.demo's seeders
# By tier rank: the first-response target (minutes, as the default SLA policies set it), the median
# first reply and the median time to close (hours).
FIRST_TARGET = {1: 60, 2: 240}
DEFAULT_TARGET = 480
FIRST_MEDIAN = {1: 14, 2: 45}
DEFAULT_FIRST_MEDIAN = 95
CLOSE_MEDIAN_HOURS = {1: 2.5, 2: 6}
DEFAULT_CLOSE_MEDIAN_HOURS = 16
RATED_SHARE = 0.35
REOPENED_SHARE = 0.05
SCORES = [1, 2, 3, 4, 5]
SCORE_WEIGHTS = {"on_time": [3, 3, 7, 25, 62], "late": [12, 12, 22, 28, 26]}


def seed_history_conversations(
    *, rng: random.Random, window: Window, count: int, specialists: list, progress
):
    """`count` conversations created over the window, a chunk at a time (none without accounts)."""
    result = {"conversations": 0, "closed": 0, "rated": 0, "reopened": 0}
    accounts = _accounts(rng)
    if count <= 0 or not accounts[0]:
        return result
    teammates = dict(zip((s.pk for s in specialists), _demo_teammates(specialists), strict=True))
    setup = sla_setup()
    moments = iter(window.moments(rng, count, until=window.now - dt.timedelta(minutes=10)))
    for start in range(0, count, CHUNK):
        items, reopened = [], {}
        for number in range(start, min(count, start + CHUNK)):
            account = rng.choices(accounts[0], cum_weights=accounts[1])[0]
            first_state, final_state = _conversation(
                rng, window.now, FIRST_HISTORY_ID + number, next(moments), account, teammates
            )
            items.append(first_state)
            if final_state is not None:
                reopened[first_state["id"]] = final_state
        _insert(items, window.now, setup)
        if reopened:
            _reopen(reopened, window.now, setup)
        result["conversations"] += len(items)
        for item in items:
            final = reopened.get(item["id"], item)
            result["closed"] += final["state"] == "closed"
            result["rated"] += final["conversation_rating"] is not None
        result["reopened"] += len(reopened)
        progress(f"{result['conversations']}/{count}")
    return result


def _accounts(rng: random.Random) -> tuple[list, list[float]]:
    """The accounts as (external id, e-mail, owner id, tier rank), with cumulative weights: a few
    busy traders write most, the top tiers more than the rest."""
    rows, cumulative, total = [], [], 0.0
    for row in Account.objects.order_by("pk").values_list("external_id", "email", "owner_id", "tier__rank"):
        rows.append(row)
        total += rng.lognormvariate(0, 0.8) * {1: 2.5, 2: 1.5}.get(row[3], 1.0)
        cumulative.append(total)
    return rows, cumulative


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _conversation(rng, now, number: int, created: dt.datetime, account, teammates: dict):
    """The conversation as the import first sees it and, when it was reopened later, as it is now."""
    external_id, email, owner_id, rank = account
    target = FIRST_TARGET.get(rank, DEFAULT_TARGET)
    median = FIRST_MEDIAN.get(rank, DEFAULT_FIRST_MEDIAN)
    if off_hours(created):
        median *= 1.4 if rank in FIRST_MEDIAN else 3.0  # the office-hours tier waits for the morning
    first_minutes = min(max(1.0, _lognormal(rng, median, 0.95)), 4 * 24 * 60)
    first = after(created, first_minutes)
    answered = rng.random() > 0.02  # a few close without a reply (solved by the user, spam)
    close_hours = _lognormal(rng, CLOSE_MEDIAN_HOURS.get(rank, DEFAULT_CLOSE_MEDIAN_HOURS), 1.1)
    closed = max(after(first, rng.uniform(3, 30)), created + dt.timedelta(hours=min(close_hours, 21 * 24)))
    rounds = 1 + (rng.random() < 0.55) + (rng.random() < 0.25)
    last_admin = first if rounds == 1 else first + (closed - first) * rng.uniform(0.3, 0.9)
    last_contact = created if rounds == 1 else first + (last_admin - first) * rng.uniform(0.1, 0.9)
    owner_teammate = teammates.get(owner_id)
    teammate = (
        owner_teammate if owner_teammate and rng.random() < 0.85 else rng.choice(list(teammates.values()))
    )
    common = {
        "intercom_id": str(number),
        "contact_id": f"6762f0ae{number % 10**16:016x}",
        "external_id": external_id,
        "email": email,
        "title": rng.choice(TOPICS),
        "created_at": created,
        "admin_assignee_id": teammate,
        "priority": "priority" if rng.random() < {1: 0.3, 2: 0.15}.get(rank, 0.08) else "none",
    }
    late = answered and first_minutes > target
    if closed > now:  # still open
        return _open(rng, now, common, created, first if answered else None), None
    reply = {"first": first, "last": last_admin} if answered else None
    reopen = after(closed, max(10.0, _lognormal(rng, 600, 1.0)))
    if rng.random() < REOPENED_SHARE and reopen < now - dt.timedelta(hours=1):
        first_state = _closed(rng, now, common, reply, last_contact, closed, rounds, late, rated=False)
        reply2 = after(reopen, max(2.0, _lognormal(rng, median, 0.9)))
        closed2 = after(reply2, max(5.0, _lognormal(rng, 180, 1.0)))
        stats = {"first": first if answered else reply2, "last": reply2}
        if closed2 <= now:
            final = _closed(rng, now, common, stats, reopen, closed2, rounds + 1, late, reopens=1)
        else:
            final = _open(rng, now, common, created, reply["first"] if reply else None, reopen=reopen)
        return first_state, final
    return _closed(rng, now, common, reply, last_contact, closed, rounds, late), None


def _ts(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _closed(rng, now, common, reply, last_contact, closed, rounds, late, *, rated=True, reopens=0) -> dict:
    rating, rated_at = None, None
    if rated and rng.random() < RATED_SHARE:
        rated_at = after(closed, min(rng.expovariate(1 / 90), 3 * 24 * 60))
        if rated_at <= now:
            rating = rng.choices(SCORES, weights=SCORE_WEIGHTS["late" if late else "on_time"])[0]
        else:
            rated_at = None
    return conversation_object(
        **common,
        state="closed",
        updated_at=max(closed, rated_at or closed),
        rating=rating,
        rating_remark=rng.choice(REMARKS[rating]) if rating else "",
        rated_at=rated_at,
        statistics={
            "first_admin_reply_at": _ts(reply and reply["first"]),
            "last_admin_reply_at": _ts(reply and reply["last"]),
            "last_contact_reply_at": _ts(last_contact),
            "last_close_at": _ts(closed),
            "count_reopens": reopens,
            "count_conversation_parts": 2 * rounds + 1,
        },
    )


def _open(rng, now, common, created, first, *, reopen=None) -> dict:
    """Open now: unanswered yet, waiting on our next reply, or with the last word ours (paused);
    a few snoozed."""
    if first is not None and first > now:
        first = None
    waiting = last_contact = reopen or created
    last_admin = first
    if first is not None and reopen is None:
        if rng.random() < 0.5:  # the user wrote again: waiting on our next reply
            waiting = last_contact = first + (now - first) * rng.uniform(0.1, 0.9)
        else:  # the last word is ours
            waiting = None
    state = "snoozed" if waiting is None and rng.random() < 0.1 else "open"
    updated = max(m for m in (created, first, last_contact) if m is not None)
    return conversation_object(
        **common,
        state=state,
        updated_at=updated,
        waiting_since=waiting,
        statistics={
            "first_admin_reply_at": _ts(first),
            "last_admin_reply_at": _ts(last_admin),
            "last_contact_reply_at": _ts(last_contact),
            "last_close_at": None,
            "count_reopens": 1 if reopen else 0,
        },
    )


def _reopen(final_states: dict[str, dict], now: dt.datetime, setup) -> None:
    """Store the newer state of conversations reopened since their first close, and evaluate
    their clocks again (the ones the first close stopped stay as they are): what storing a
    webhook's newer state does, a chunk at a time."""
    rows = list(
        Conversation.objects.filter(intercom_id__in=list(final_states))
        .select_related("account")
        .order_by("pk")
    )
    changed = set()
    moments: dict[int, dt.datetime] = defaultdict(lambda: dt.datetime.min.replace(tzinfo=dt.UTC))
    for row in rows:
        fields = parse_conversation(final_states[row.intercom_id])
        for name, value in fields.items():
            setattr(row, name, value)
        changed.update(fields)
        if row.account_id is not None:
            moments[row.account_id] = max(moments[row.account_id], contact_moment(fields))
    names = sorted(changed)
    bulk_update_rows(Conversation, names, [[getattr(row, name) for name in names] + [row.pk] for row in rows])
    sla_evaluate_conversations(rows, now, setup=setup)
    _move_last_contact(moments)


def _insert(items: list[dict], now: dt.datetime, setup) -> None:
    """Store new conversations as `support.importing.conversations_insert` does (the same parsing,
    account and teammate lookups, last contact, and clocks planned by the real evaluation), written
    with COPY: the clocks of history are all new, so nothing is read back or locked, and the breaches
    they record are history (not announced)."""
    entries = [(str(item["id"])[:40], parse_conversation(item)) for item in items]
    lookups = PageLookups([fields for _, fields in entries])
    rows = [
        Conversation(
            intercom_id=intercom_id,
            **fields,
            account=lookups.account_for(fields),
            assignee=lookups.assignee_for(fields["admin_assignee_id"]),
            last_source="import",
        )
        for intercom_id, fields in entries
    ]
    insert(Conversation, rows)
    plans = [plan_conversation(row, [], setup, now) for row in rows]
    insert(SlaClock, [clock for plan in plans for clock in plan.new])
    insert(
        SlaEvent,
        [
            SlaEvent(clock=clock, kind=kind, at=at, recorded_at=now)
            for plan in plans
            for clock, kind, at in plan.owed
        ],
    )
    moments: dict[int, dt.datetime] = {}
    for row in rows:
        if row.account_id is not None:
            moment = contact_moment(row)
            moments[row.account_id] = max(moments.get(row.account_id, moment), moment)
    _move_last_contact(moments)


def _move_last_contact(moments: dict[int, dt.datetime]) -> None:
    """Each account's last contact moves forward to its moment, never back."""
    current = Account.objects.filter(pk__in=list(moments)).order_by("pk").values_list("pk", "last_contact_at")
    bulk_update_rows(
        Account,
        ["last_contact_at"],
        [(moments[pk], pk) for pk, last in current if last is None or last < moments[pk]],
    )
