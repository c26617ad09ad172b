"""Demo feedback log for `manage.py seed_demo --feedback N`: deterministic for a seed, bulk-inserted.

Seeding bypasses the services for speed but leaves what they would have left:

* ten product areas (the list Product manages at /feedback/areas/);
* items written from templates per category — what prediction-market advanced traders really raise:
  fees shown before confirming, resolution sources, API rate limits, withdrawal speed, the pUSD
  migration, neg-risk markets, order-book depth, CSV exports of fills — spread over twelve months
  (busier lately), with a mix of statuses, owner teams and severities;
* about five linked accounts per item (each account once per item, `said_at` after the item was
  logged and before it was closed or merged), each with its "linked" history event, as
  `source_link` writes it;
* a "created" event per item and one event per triage change (status, owner team, tracker link),
  in the services' words, with `status_changed_at` at the last status change;
* a few duplicates, merged into an earlier item that is not itself a duplicate: their accounts
  moved to the survivor with `merged_from` set (so an Admin could undo the merge), the ones the
  survivor already had left behind, and "merged"/"merged_in" events on both;
* comments, and for shipped or declined items one follow-up per account linked at closing time,
  owned by the account's owner; older ones are mostly done (without a check-in: a demo history);
* stored impact from one `impact_refresh` over every item at the end.

One old, planned item — "Show the total fee before confirming an order" — has 200
linked accounts (every account when there are fewer): the item with the most sources, which the
benchmark opens. Without accounts no items are seeded (the areas are).
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import timezone

from accounts.models import Account
from feedback.models import (
    FeedbackComment,
    FeedbackEvent,
    FeedbackItem,
    FeedbackSource,
    FollowUp,
    ProductArea,
)
from feedback.services import impact_refresh
from portal.db import bulk_insert_rows, bulk_update_rows

Status = FeedbackItem.Status
Category = FeedbackItem.Category
Team = FeedbackItem.Team

AREAS = [
    "Trading UI",
    "Order book",
    "Fees",
    "Deposits & withdrawals",
    "Market rules",
    "API",
    "Mobile app",
    "Portfolio",
    "Notifications",
    "Onboarding",
]
HISTORY_DAYS = 365
FEEDBACK_CHUNK = 5000  # items planned and written at a time
BIG_ITEM_SOURCES = 200
MARKETS = [
    "the Fed rate decision markets",
    "the NBA playoff markets",
    "the US election markets",
    "the 15-minute BTC up/down markets",
    "the CPI print markets",
    "the Champions League markets",
    "the Oscars markets",
    "the ETH daily close markets",
    "the Super Bowl markets",
    "the UK general election markets",
    "the hurricane landfall markets",
    "the box office opening-weekend markets",
]

# (category, area, title, description). {market} is filled in per item.
TEMPLATES = [
    (
        Category.BUG,
        "Trading UI",
        "Order ticket shows a stale fee on {market}",
        "The fee in the order ticket is the one from before the last fee change; the fill is charged "
        "the new rate. Traders notice only in their fills export.",
    ),
    (
        Category.BUG,
        "Deposits & withdrawals",
        "Withdrawal stuck in “processing” after it confirmed on Polygon",
        "The transaction is confirmed on-chain (we shared the Polygonscan link) but the portfolio "
        "keeps the withdrawal as processing for hours, and the balance looks short meanwhile.",
    ),
    (
        Category.BUG,
        "Order book",
        "Order book depth jumps when switching outcomes on {market}",
        "Switching from Yes to No briefly shows the other outcome's levels; two traders sent "
        "orders at the wrong price because of it.",
    ),
    (
        Category.BUG,
        "Portfolio",
        "CSV export of fills drops partial fills",
        "An order filled in several parts appears once in the export, with the first part's size. "
        "Desks reconcile against the API and find the gap.",
    ),
    (
        Category.BUG,
        "Notifications",
        "Fill notification arrives twice for one limit order",
        "Push and e-mail both fire twice when a resting order fills in two matches within a second.",
    ),
    (
        Category.BUG,
        "Trading UI",
        "Neg-risk market shows the wrong implied price for the No basket",
        "On {market} the No basket price does not add up with the Yes prices of the other "
        "outcomes; the converted position is valued differently in the portfolio.",
    ),
    (
        Category.BUG,
        "API",
        "API answers 429 well below the documented rate limit",
        "Bursts of order placements get 429 at about half the documented limit, from a single key "
        "and IP. Market makers pull quotes when it happens.",
    ),
    (
        Category.BUG,
        "Mobile app",
        "Mobile app signs out after switching wallets",
        "Switching from the profile wallet to a connected EOA signs the user out and loses the "
        "open order ticket.",
    ),
    (
        Category.BUG,
        "Deposits & withdrawals",
        "pUSD balance shows zero after the migration until a reload",
        "After migrating USDC.e to pUSD the balance reads 0.00 until the page is reloaded; users "
        "think the migration lost their funds and write in.",
    ),
    (
        Category.FEATURE,
        "Fees",
        "Show the total fee before confirming an order",
        "Advanced traders want the fee in dollars (and the effective price after fees) in the "
        "ticket before they confirm, not only in the fill afterwards.",
    ),
    (
        Category.FEATURE,
        "Portfolio",
        "CSV export of fills with fee and maker/taker columns",
        "Desks need fee, maker/taker side and the order id per fill to reconcile; today they "
        "rebuild it from the API.",
    ),
    (
        Category.FEATURE,
        "API",
        "Higher API rate limits for market makers",
        "Quoting {market} on both venues needs more order updates per second than the default "
        "tier allows; they ask for a documented market-maker tier.",
    ),
    (
        Category.FEATURE,
        "Order book",
        "Cumulative depth view in the order book",
        "Show cumulative size per level (and the price to fill a given size) so large orders can "
        "be sized without the API.",
    ),
    (
        Category.FEATURE,
        "Notifications",
        "Price alerts on {market}",
        "Alert when a market crosses a probability the user sets, by push or e-mail.",
    ),
    (
        Category.FEATURE,
        "Trading UI",
        "Cancel all open orders in one market",
        "One button to cancel every resting order in a market, for when news breaks.",
    ),
    (
        Category.FEATURE,
        "API",
        "Webhook or websocket event for order fills",
        "Polling the fills endpoint is slow and burns rate limit; they want a push when an order fills.",
    ),
    (
        Category.FEATURE,
        "Portfolio",
        "Yearly P&L statement download",
        "A statement of realised P&L per market for the tax year, in CSV and PDF.",
    ),
    (
        Category.USABILITY,
        "Trading UI",
        "Explain neg-risk conversion before the user converts",
        "Users convert No shares into Yes on the other outcomes without understanding what they "
        "get; the confirmation should say it in one sentence with the amounts.",
    ),
    (
        Category.USABILITY,
        "Deposits & withdrawals",
        "pUSD migration: unclear which balance can be traded",
        "During the pUSD migration the portfolio shows USDC.e and pUSD side by side and users "
        "cannot tell which one orders use.",
    ),
    (
        Category.USABILITY,
        "Order book",
        "Order book hides size at levels under $1",
        "Small levels are rounded away, so the book looks thinner than it is on {market}.",
    ),
    (
        Category.USABILITY,
        "Onboarding",
        "Wallet signature asked for without an explanation",
        "New users are asked to sign a message right after sign-up with no word on why; several "
        "stopped there and wrote in asking if it was a scam.",
    ),
    (
        Category.USABILITY,
        "Market rules",
        "Resolution source below the fold on {market}",
        "The resolution source is the first thing advanced traders check and it sits at the very "
        "end of the rules.",
    ),
    (
        Category.USABILITY,
        "Trading UI",
        "Slippage warning shows after the order is sent",
        "The warning for a market order that walks the book appears on the fill, not in the ticket.",
    ),
    (
        Category.MARKET_RULES,
        "Market rules",
        "Resolution source unclear for {market}",
        "The rules name “official sources” without saying which one wins when they disagree; "
        "traders price the ambiguity and ask us to fix the wording before the next market.",
    ),
    (
        Category.MARKET_RULES,
        "Notifications",
        "Clarifications posted without telling position holders",
        "A clarification changed how {market} resolve and holders found out on social media; they "
        "want a notification when a market they hold is clarified.",
    ),
    (
        Category.MARKET_RULES,
        "Market rules",
        "Rules silent on postponement for {market}",
        "What happens if the event is postponed past the end date is not in the rules; it decides "
        "a lot of money when it happens.",
    ),
    (
        Category.MARKET_RULES,
        "Market rules",
        "US and international rule wording differ for {market}",
        "The same market on both venues has rules worded differently; traders on both ask which "
        "one governs the resolution.",
    ),
    (
        Category.MARKET_RULES,
        "Market rules",
        "Early-close conditions missing from the rules",
        "Markets that close early when the outcome is known do not say so in the rules.",
    ),
    (
        Category.FEES,
        "Fees",
        "Taker fee on 15-minute crypto markets not in the order ticket",
        "The taker fee on short crypto markets is charged but not shown before confirming; fast "
        "traders find it in their fills.",
    ),
    (
        Category.FEES,
        "Fees",
        "Fee schedule page out of date",
        "The public fee schedule lists the old rates for {market}; support quotes the page and the "
        "fills disagree.",
    ),
    (
        Category.FEES,
        "Deposits & withdrawals",
        "Withdrawal network fee not shown before confirming",
        "The amount received is lower than the amount withdrawn and the difference is not "
        "explained in the withdrawal form.",
    ),
    (
        Category.FEES,
        "Portfolio",
        "Maker rebates missing from the fills export",
        "Rebates appear in the balance but not per fill in the export, so desks cannot reconcile them.",
    ),
    (
        Category.PERFORMANCE,
        "Deposits & withdrawals",
        "Withdrawals take hours at peak times",
        "At US market open withdrawals wait for hours; users with time-sensitive transfers escalate.",
    ),
    (
        Category.PERFORMANCE,
        "Order book",
        "Order book lags the API during spikes on {market}",
        "The web book is a few seconds behind the websocket feed when volume spikes.",
    ),
    (
        Category.PERFORMANCE,
        "Portfolio",
        "Portfolio page slow with 500+ positions",
        "Accounts with many resolved positions wait 10+ seconds for the portfolio to load.",
    ),
    (
        Category.PERFORMANCE,
        "API",
        "Websocket drops during high volume on {market}",
        "Market-data websocket disconnects every few minutes at peak; reconnecting loses updates.",
    ),
    (
        Category.PERFORMANCE,
        "Mobile app",
        "Mobile chart freezes when the market moves fast",
        "The price chart stops updating on {market} when it moves several points a minute.",
    ),
    (
        Category.OTHER,
        "Onboarding",
        "A named contact for market-maker onboarding",
        "New market makers ask for one person to talk to while they integrate, instead of the inbox.",
    ),
    (
        Category.OTHER,
        "API",
        "A status page for API incidents",
        "When the API degrades there is nowhere to check; desks write to support to ask.",
    ),
    (
        Category.OTHER,
        "Notifications",
        "Weekly e-mail of positions resolving soon",
        "A digest of held positions whose markets resolve in the next seven days.",
    ),
    (
        Category.OTHER,
        "Portfolio",
        "Referral credit not visible in the account",
        "Referral rewards are paid but do not appear anywhere in the portfolio history.",
    ),
]
WHY_IT_MATTERS = [
    "Several desks raised it on their check-ins this month.",
    "It costs them fills when markets move fast.",
    "They say they would trade more size once it is fixed.",
    "One whale compared us unfavourably with another venue over it.",
    "It generates repeat Intercom conversations.",
    "Market makers widen their quotes because of it.",
    "",
]
NOTES = [
    "Raised on the monthly call.",
    "Mentioned in Intercom after a large order.",
    "Said it cost them a fill during a fast market.",
    "Would trade more size if this were fixed.",
    "Asked again; second time this month.",
    "Brought it up in the quarterly review.",
    "Compared us with another venue on this point.",
    "Their desk lead escalated it by e-mail.",
    "Noticed it while reconciling fills.",
    "",
    "",
]
COMMENTS_PRODUCT = [
    "Reproduced on staging; engineering is sizing it this sprint.",
    "Linked the tracker issue; this is on the roadmap for next quarter.",
    "Needs a legal review for the US venue before we change what the ticket shows.",
    "Design has a mock-up; sharing it with two of the desks for a reaction.",
    "Not this quarter: the matching-engine work comes first.",
    "Fixed behind a flag; rolling out to 10% of users this week.",
]
COMMENTS_SPECIALIST = [
    "Two more desks asked about this on calls this week.",
    "Shared the workaround (export from the API) with the user; they're fine for now.",
    "This came up again in an escalation; the user was frustrated but understood.",
    "The user sent screenshots; attached them to the Intercom conversation.",
    "A market maker says this is why they quote less size on us.",
]
DECLINE_REASONS = [
    "Declined: the rules are the rules; we're improving the clarification process instead.",
    "Declined: the API limits protect the matching engine; the market-maker program covers this.",
    "Declined for now: too few users affected compared with the roadmap.",
]
TEAM_BY_CATEGORY = {
    Category.BUG: ([Team.ENGINEERING, Team.PRODUCT, Team.SUPPORT], [0.7, 0.25, 0.05]),
    Category.PERFORMANCE: ([Team.ENGINEERING, Team.PRODUCT], [0.85, 0.15]),
    Category.FEATURE: ([Team.PRODUCT, Team.ENGINEERING, Team.LEADERSHIP], [0.65, 0.25, 0.1]),
    Category.USABILITY: ([Team.PRODUCT, Team.ENGINEERING], [0.8, 0.2]),
    Category.MARKET_RULES: ([Team.PRODUCT, Team.SUPPORT, Team.LEADERSHIP], [0.5, 0.35, 0.15]),
    Category.FEES: ([Team.PRODUCT, Team.LEADERSHIP], [0.6, 0.4]),
    Category.OTHER: ([Team.PRODUCT, Team.SUPPORT, Team.LEADERSHIP], [0.5, 0.35, 0.15]),
}
SEVERITY_BY_CATEGORY = {
    Category.BUG: [0.15, 0.5, 0.35],
    Category.PERFORMANCE: [0.1, 0.5, 0.4],
}
SEVERITIES = [FeedbackItem.Severity.BLOCKER, FeedbackItem.Severity.MAJOR, FeedbackItem.Severity.MINOR]
# Final status by age: recent items are mostly new, older ones mostly moved on.
STATUS_BY_AGE = [
    (7, {Status.NEW: 0.72, Status.TRIAGED: 0.18, Status.PLANNED: 0.04, Status.DUPLICATE: 0.06}),
    (
        30,
        {
            Status.NEW: 0.3,
            Status.TRIAGED: 0.25,
            Status.PLANNED: 0.15,
            Status.IN_PROGRESS: 0.1,
            Status.SHIPPED: 0.04,
            Status.DECLINED: 0.08,
            Status.DUPLICATE: 0.08,
        },
    ),
    (
        HISTORY_DAYS + 1,
        {
            Status.NEW: 0.08,
            Status.TRIAGED: 0.14,
            Status.PLANNED: 0.14,
            Status.IN_PROGRESS: 0.1,
            Status.SHIPPED: 0.3,
            Status.DECLINED: 0.17,
            Status.DUPLICATE: 0.07,
        },
    ),
]
# The statuses an item passes through on its way to its final one.
PATHS = {
    Status.NEW: [],
    Status.TRIAGED: [Status.TRIAGED],
    Status.PLANNED: [Status.TRIAGED, Status.PLANNED],
    Status.IN_PROGRESS: [Status.TRIAGED, Status.PLANNED, Status.IN_PROGRESS],
    Status.SHIPPED: [Status.TRIAGED, Status.PLANNED, Status.IN_PROGRESS, Status.SHIPPED],
    Status.DECLINED: [Status.TRIAGED, Status.DECLINED],
}
CLOSING = {Status.SHIPPED, Status.DECLINED}
BIG_ITEM = next(t for t in TEMPLATES if t[2] == "Show the total fee before confirming an order")


@dataclass
class _Account:
    pk: int
    owner: int
    name: str


@dataclass
class _Source:
    account: _Account
    note: str
    said_at: dt.datetime
    added_by: int
    merged_from: int | None = None  # index of the duplicate it came from
    joined_at: dt.datetime | None = None  # when it reached this item (a merge moves it later)


@dataclass
class _Item:
    index: int  # in its chunk
    number: int  # in the whole seed
    title: str
    description: str
    category: str
    area: int | None
    severity: str
    status: str
    owner_team: str
    created_by: int
    created_at: dt.datetime
    intercom: str = ""
    tracker_url: str = ""
    status_changed_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    triaged_at: dt.datetime | None = None  # first left New
    shipped_at: dt.datetime | None = None  # first became Shipped
    duplicate_of: int | None = None  # index of the survivor
    merged_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    pk: int = 0
    sources: list[_Source] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # (kind, actor, at, summary, before, after)
    comments: list[tuple] = field(default_factory=list)  # (author, body, at, merged_from index)


def areas_ensure() -> dict[str, int]:
    """The demo's product areas (existing ones are kept); name → id."""
    existing = dict(ProductArea.objects.values_list("name", "pk"))
    missing = [ProductArea(name=name) for name in AREAS if name not in existing]
    if missing:
        ProductArea.objects.bulk_create(missing)
        existing = dict(ProductArea.objects.values_list("name", "pk"))
    return existing


def seed_feedback(
    *,
    rng: random.Random,
    count: int,
    specialists: list,
    product_users: list,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    result = dict.fromkeys(("items", "sources", "events", "comments", "follow_ups", "duplicates", "areas"), 0)
    areas = areas_ensure()
    result["areas"] = len(areas)
    accounts = [
        _Account(pk, owner, name)
        for pk, owner, name in Account.objects.order_by("pk").values_list("pk", "owner_id", "display_name")
    ]
    if count <= 0 or not accounts or not specialists:
        return result
    now = timezone.now()
    specialist_ids = [s.pk for s in specialists]
    triagers = [u.pk for u in product_users] or specialist_ids[:1]
    logged = _logged_times(rng, count, now)
    big = count // 4  # three in four items are younger
    for start in range(0, count, FEEDBACK_CHUNK):
        items = _plan(
            rng,
            logged[start : start + FEEDBACK_CHUNK],
            start,
            big,
            now,
            areas,
            accounts,
            specialist_ids,
            triagers,
        )
        _insert_items(items)
        result["items"] += len(items)
        result["duplicates"] += sum(1 for i in items if i.duplicate_of is not None)
        result["sources"] += _insert_sources(items)
        result["events"] += _insert_events(items)
        result["comments"] += _insert_comments(items)
        result["follow_ups"] += _insert_follow_ups(rng, items, now)
        impact_refresh([i.pk for i in items])
        progress(f"{result['items']}/{count} items")
    progress(f"{result['sources']} linked accounts, {result['events']} events")
    return result


# --- planning -----------------------------------------------------------------------------------


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime, skew: float = 1.0) -> dt.datetime:
    """A time in [start, end]; skew > 1 leans towards start."""
    if end <= start:
        return start
    return start + (end - start) * (rng.random() ** skew)


def _status_for(rng: random.Random, age_days: float) -> str:
    for limit, weights in STATUS_BY_AGE:
        if age_days < limit:
            return rng.choices(list(weights), weights=list(weights.values()))[0]
    return Status.NEW


def _logged_times(rng, count: int, now: dt.datetime) -> list[dt.datetime]:
    """When each item was logged, over the last year, busier lately; in order."""
    return sorted(
        now - dt.timedelta(days=HISTORY_DAYS * rng.random() ** 1.5, minutes=rng.uniform(5, 60))
        for _ in range(count)
    )


def _plan(rng, logged, start, big, now, areas, accounts, specialists, triagers) -> list[_Item]:
    """The items logged at `logged` (the start-th item on), in order. A duplicate is merged into
    an item logged before it in the same chunk (FEEDBACK_CHUNK items: weeks, at any size), so each
    chunk is written whole and memory stays flat."""
    items: list[_Item] = []
    survivors: list[int] = []  # indexes of items a later duplicate may be merged into
    big -= start  # the item with the most accounts, if it is in this chunk
    for index, created in enumerate(logged):
        age = (now - created).total_seconds() / 86400
        category, area_name, title, description = rng.choice(TEMPLATES)
        market = rng.choice(MARKETS)
        why = rng.choice(WHY_IT_MATTERS)
        status = str(_status_for(rng, age))
        if status == Status.DUPLICATE and not survivors:
            status = str(Status.NEW)
        if index == big:
            # The item with the most accounts: an old, planned one that everyone asks for.
            status = str(Status.PLANNED)
            category, area_name, title, description = BIG_ITEM
        team_choices, team_weights = TEAM_BY_CATEGORY[category]
        item = _Item(
            index=index,
            number=start + index,
            title=title.format(market=market)[:200],
            description=(description.format(market=market) + (" " + why if why else "")).strip(),
            category=str(category),
            area=areas.get(area_name) if (status != Status.NEW or rng.random() < 0.7) else None,
            severity=str(
                rng.choices(SEVERITIES, weights=SEVERITY_BY_CATEGORY.get(category, [0.03, 0.3, 0.67]))[0]
            ),
            status=status,
            owner_team=str(Team.PRODUCT),
            created_by=rng.choice(specialists) if rng.random() < 0.9 else rng.choice(triagers),
            created_at=created,
            intercom=str(rng.randint(10**11, 10**12 - 1)) if rng.random() < 0.4 else "",
        )
        # The summary ("Logged by <username>") is written in _insert_events.
        item.events.append(("created", item.created_by, created, "", {}, {"status": str(Status.NEW)}))
        _triage_history(rng, item, now, team_choices, team_weights, triagers)
        own = rng.choice([2, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8])
        if status == Status.DUPLICATE:
            own = rng.choice([1, 2, 2, 3])
        if index == big:
            own = BIG_ITEM_SOURCES
        _link_accounts(rng, item, accounts, min(own, len(accounts)), now)
        if status == Status.DUPLICATE:
            _merge(rng, item, items[rng.choice(survivors)], now, triagers + specialists)
        else:
            if index != big:
                survivors.append(index)
            _comment(rng, item, now, specialists, triagers)
        items.append(item)
    for item in items:
        item.updated_at = max(
            [item.created_at, item.status_changed_at or item.created_at]
            + [s.joined_at for s in item.sources]
            + [e[2] for e in item.events]
        )
    return items


def _triage_history(rng, item: _Item, now, team_choices, team_weights, triagers) -> None:
    status = item.status
    path = PATHS.get(status if status != Status.DUPLICATE else Status.NEW, [])
    if status == Status.DECLINED and rng.random() < 0.3:
        path = [Status.DECLINED]  # declined straight from new
    item.status_changed_at = item.created_at
    if not path:
        return
    end = now - dt.timedelta(minutes=5)
    times = sorted(_between(rng, item.created_at, end, skew=1.6) for _ in path)
    previous = str(Status.NEW)
    triager = rng.choice(triagers)
    for step, (to, at) in enumerate(zip(map(str, path), times, strict=True)):
        item.events.append(
            ("status", triager, at, f"Status: {previous} → {to}", {"status": previous}, {"status": to})
        )
        if step == 0:
            team = str(rng.choices(team_choices, weights=team_weights)[0])
            if team != Team.PRODUCT:
                item.events.append(
                    (
                        "owner_team",
                        triager,
                        at,
                        f"Owner team: {Team.PRODUCT} → {team}",
                        {"owner_team": str(Team.PRODUCT)},
                        {"owner_team": str(team)},
                    )
                )
                item.owner_team = team
        if to == Status.PLANNED:
            item.tracker_url = f"https://tracker.example.com/PROD-{1000 + item.number}"
            item.events.append(
                (
                    "tracker_url",
                    triager,
                    at,
                    f"Tracker url: — → {item.tracker_url}",
                    {"tracker_url": ""},
                    {"tracker_url": item.tracker_url},
                )
            )
        if previous == Status.NEW and item.triaged_at is None:
            item.triaged_at = at
        if to == Status.SHIPPED and item.shipped_at is None:
            item.shipped_at = at
        previous = to
    item.status_changed_at = times[-1]
    if status in CLOSING:
        item.closed_at = times[-1]


def _link_accounts(rng, item: _Item, accounts: list[_Account], k: int, now) -> None:
    """`k` distinct accounts, the first said when the item was logged, the rest until it closed."""
    end = item.closed_at or now - dt.timedelta(minutes=1)
    chosen = rng.sample(accounts, k)
    for n, account in enumerate(chosen):
        if n == 0:
            said = item.created_at + dt.timedelta(seconds=rng.uniform(1, 600))
        else:
            said = _between(rng, item.created_at, end, skew=2.0)
        said = min(said, end)
        item.sources.append(
            _Source(
                account=account,
                note=rng.choice(NOTES),
                said_at=said,
                added_by=account.owner,
                joined_at=said,
            )
        )


def _merge(rng, dup: _Item, survivor: _Item, now, people) -> None:
    """As item_merge: accounts the survivor lacks move there; the rest stay on the duplicate."""
    latest = max(s.said_at for s in dup.sources) if dup.sources else dup.created_at
    merged_at = _between(rng, latest, now - dt.timedelta(minutes=1), skew=2.0)
    by = rng.choice(people)
    already = {s.account.pk for s in survivor.sources}
    stay, moved = [], 0
    for source in dup.sources:
        if source.account.pk in already:
            stay.append(source)
            continue
        source.merged_from, source.joined_at = dup.index, merged_at
        survivor.sources.append(source)
        already.add(source.account.pk)
        moved += 1
    dup.sources = stay
    dup.duplicate_of, dup.merged_at = survivor.index, merged_at
    dup.status_changed_at = merged_at
    dup.events.append(
        (
            "merged",
            by,
            merged_at,
            f"Merged into #{{into}} “{survivor.title}”",
            {"status": str(Status.NEW)},
            {"status": str(Status.DUPLICATE), "into": survivor.index},
        )
    )
    survivor.events.append(
        (
            "merged_in",
            by,
            merged_at,
            f"#{{from}} “{dup.title}” merged in ({moved} accounts moved)",
            {},
            {"from": dup.index},
        )
    )


def _comment(rng, item: _Item, now, specialists, triagers) -> None:
    end = item.closed_at or now - dt.timedelta(minutes=1)
    if rng.random() < 0.35:
        for _ in range(rng.choice([1, 1, 2, 3])):
            if item.status != Status.NEW and rng.random() < 0.5:
                author, body = rng.choice(triagers), rng.choice(COMMENTS_PRODUCT)
            else:
                author, body = rng.choice(specialists), rng.choice(COMMENTS_SPECIALIST)
            item.comments.append((author, body, _between(rng, item.created_at, end)))
    if item.status == Status.DECLINED:
        item.comments.append((rng.choice(triagers), rng.choice(DECLINE_REASONS), item.closed_at))


# --- inserting ----------------------------------------------------------------------------------

ITEM_COLUMNS = [
    "title",
    "description",
    "category",
    "area",
    "severity",
    "tracker_url",
    "status",
    "owner_team",
    "created_by",
    "dispute_case",
    "intercom_conversation_id",
    "duplicate_of",
    "status_changed_at",
    "triaged_at",
    "shipped_at",
    "impact_accounts",
    "impact_volume_usd",
    "impact_score",
    "created_at",
    "updated_at",
]


def _insert_items(items: list[_Item]) -> None:
    before = FeedbackItem.objects.aggregate(last=Max("pk"))["last"] or 0
    bulk_insert_rows(
        FeedbackItem,
        ITEM_COLUMNS,
        (
            (
                i.title,
                i.description,
                i.category,
                i.area,
                i.severity,
                i.tracker_url,
                i.status,
                i.owner_team,
                i.created_by,
                None,
                i.intercom,
                None,  # set below, once every item has its id
                i.status_changed_at,
                i.triaged_at,
                i.shipped_at,
                0,
                0,
                0,
                i.created_at,
                i.updated_at,
            )
            for i in items
        ),
    )
    # Ids grow in insertion order (one COPY or multi-row INSERT, nobody else writing).
    pks = list(FeedbackItem.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))
    for item, pk in zip(items, pks, strict=True):
        item.pk = pk
    bulk_update_rows(
        FeedbackItem,
        ["duplicate_of"],
        ((items[i.duplicate_of].pk, i.pk) for i in items if i.duplicate_of is not None),
    )


def _insert_sources(items: list[_Item]) -> int:
    rows = [
        (
            item.pk,
            s.account.pk,
            s.note,
            s.said_at,
            s.added_by,
            items[s.merged_from].pk if s.merged_from is not None else None,
        )
        for item in items
        for s in item.sources
    ]
    bulk_insert_rows(FeedbackSource, ["item", "account", "note", "said_at", "added_by", "merged_from"], rows)
    return len(rows)


def _insert_events(items: list[_Item]) -> int:
    from portal.models import User

    names = dict(User.objects.values_list("pk", "username"))

    def rows():
        for item in items:
            for kind, actor, at, summary, before, after in item.events:
                if kind == "created":
                    summary = f"Logged by {names.get(actor, '?')}"
                elif kind == "merged":
                    after = {**after, "into": items[after["into"]].pk}
                    summary = summary.replace("{into}", str(after["into"]))
                elif kind == "merged_in":
                    after = {"from": items[after["from"]].pk}
                    summary = summary.replace("{from}", str(after["from"]))
                yield (item.pk, kind, actor, at, summary[:300], before, after)
            for s in item.sources:
                # source_link's event, on the item the account was first linked to.
                linked_to = items[s.merged_from] if s.merged_from is not None else item
                yield (
                    linked_to.pk,
                    "linked",
                    s.added_by,
                    s.said_at,
                    f"{s.account.name} linked"[:300],
                    {},
                    {"account": s.account.pk},
                )

    counted = 0

    def counting():
        nonlocal counted
        for row in rows():
            counted += 1
            yield row

    bulk_insert_rows(FeedbackEvent, ["item", "kind", "actor", "at", "summary", "before", "after"], counting())
    return counted


def _insert_comments(items: list[_Item]) -> int:
    rows = [(item.pk, author, body, at, None) for item in items for author, body, at in item.comments]
    bulk_insert_rows(FeedbackComment, ["item", "author", "body", "created_at", "merged_from"], rows)
    return len(rows)


def _insert_follow_ups(rng: random.Random, items: list[_Item], now: dt.datetime) -> int:
    """As item_triage closing an item: one follow-up per account linked at that moment. Owners
    take a few days to tell the user (exponentially, four days on average) and forget one in fifty,
    so the open ones are mostly the last weeks' closings."""
    rows = []
    for item in items:
        if item.status not in CLOSING:
            continue
        for s in item.sources:
            if s.joined_at > item.closed_at:
                continue
            done = item.closed_at + dt.timedelta(days=rng.expovariate(1 / 4))
            if done > now or rng.random() < 0.02:
                done = None
            changed = done or item.closed_at
            rows.append((item.pk, s.account.pk, s.account.owner, item.status, item.closed_at, done, changed))
    columns = ["item", "account", "owner", "outcome", "created_at", "done_at", "updated_at"]
    bulk_insert_rows(FollowUp, columns, rows)
    return len(rows)
