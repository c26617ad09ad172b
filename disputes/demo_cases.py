"""Demo dispute cases for `manage.py seed_demo --disputes N`: deterministic for a seed, bulk-inserted.

Seeding bypasses the services for speed but leaves every invariant they keep:

* references are DSP-<year>-<5 digits>, numbered in filing order within each year, and each
  year's CaseCounter ends at the year's last number (numbering continues after any counter that
  already exists);
* due times follow the service's targets (first response by tier rank, resolution by category);
* a market-resolution case has its market and the market's rules in force when it was filed;
  the venue comes from the market, else the account;
* every status change is one the workflow allows, each recorded as an event with before/after,
  and the revision counts the changes as the services would;
* a decision cites an excerpt that really appears in the cited version's text (a sentence of it);
  a recorded decision has its approval time, and above the four-eyes threshold it was proposed
  by one specialist and approved by another; when the market's rules changed since filing it
  names the governing version and why; when earlier decisions on the same market or rulebook
  section reached another outcome it carries a consistency note;
* evidence identifiers are in their stored form (0x + 64 lowercase hex, UUIDs, the account's own
  wallets); wallet snapshot rows carry the collateral of their time;
* filings and decisions show on the account's timeline, each account with cases has its
  open-dispute count queued for Intercom, and health is rescored for accounts with open cases.

Decision notes to Intercom are not queued: for a demo history they would long have been sent.

Cases spread over about two years, busier lately; old cases are decided or closed, recent ones
mostly open, some past their SLA. A few popular markets draw many cases, and one case on the most
popular market has a long history (more than 100 events) — the benchmark looks for both.

`seed_open_cases` (`seed_demo --open-items`) adds tens of thousands of open cases for the SLA queue
benchmark, filed over the last two weeks, in batches and with the same invariants. Their first
response is a reply sent to the user's Intercom conversation (what the SLA engine reads), so
about half of those picked up still wait for one.
"""

import bisect
import datetime as dt
import heapq
import math
import random
import re
import uuid
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountEvent, Venue, Wallet
from accounts.services import health_refresh_soon
from disputes.models import (
    CaseCounter,
    CaseEvent,
    Decision,
    DisputeCase,
    EvidenceItem,
    Market,
    MarketRuleVersion,
    RulebookSection,
    RuleCitation,
    WalletActivityRow,
    WalletActivitySnapshot,
)
from disputes.services.cases import FIRST_RESPONSE_HOURS, RESOLUTION_HOURS, TRANSITIONS, normalise_text
from disputes.services.snapshots import SOURCE as SNAPSHOT_SOURCE
from disputes.services.snapshots import collateral_at
from integrations.models import SyncJob
from integrations.outbox import outbox_record_many
from portal.db import bulk_insert_rows

Category = DisputeCase.Category
Status = DisputeCase.Status
Kind = CaseEvent.Kind
Outcome = Decision.Outcome
State = Decision.State
Evidence = EvidenceItem.Kind

CATEGORY_WEIGHTS = [
    (Category.MARKET_RESOLUTION, 0.45),
    (Category.ORDER_EXECUTION, 0.35),
    (Category.PLATFORM_MECHANICS, 0.20),
]
HISTORY_DAYS = 730
LONG_HISTORY_EVENTS = 110
HOT_MARKETS = 10
HOT_SHARE = 0.25  # of market-resolution cases, on the popular markets
MIN_EXCERPT = 40
MAX_EXCERPT = 280

REASONS = [
    "the official source had not published anything by the end date",
    "the clarification that decided it was added after I had bought",
    "the event happened after the deadline written in the rules",
    "the resolution source named in the rules shows the opposite result",
    "the proposer used a news report instead of the source the rules name",
    "the result was announced before the event actually took place",
    "the rules say a postponed event resolves No, and it was postponed",
    "it was settled while the outcome was still being disputed on UMA",
]
RESOLVED_CLAIMS = [
    "I bought {side} at {price} on “{question}” and the market resolved {outcome} although {reason}.",
    "My {shares} {side} shares on “{question}” went to zero when it resolved {outcome}, but {reason}.",
    "The market “{question}” resolved {outcome}, but {reason}. I held {side} and lost {amount} {currency}.",
    "“{question}” was settled {outcome} on the first proposal even though {reason}. Please review it "
    "against the rules as they read when I traded.",
    "I hold {shares} {side} shares on “{question}”. It resolved {outcome} although {reason}; the rules "
    "in force when I bought at {price} should decide it.",
]
OPEN_MARKET_CLAIMS = [
    "The clarification published on “{question}” changes what the market means after I bought {side} "
    "at {price}; the rules in force when I traded should apply.",
    "A resolution of “{question}” was proposed early although {reason}. I hold {shares} {side} shares.",
    "“{question}” stopped accepting orders before the end date in its rules and my {side} position "
    "({amount} {currency}) is stuck.",
]
RESOLUTION_REMEDIES = [
    "Reverse the resolution, or refund my {side} position at my entry price.",
    "Refund the {amount} {currency} I paid for the {side} shares.",
    "Review the resolution against the rules in force when I traded.",
    "Compensate the loss on my {side} position ({amount} {currency}).",
    "",
]
EXECUTION_CLAIMS = [
    "My limit order to buy {shares} {side} at {price}{on_market} filled at {fill}, above my limit.",
    "A fill-or-kill order{on_market} was partly filled and the rest cancelled, and I was charged the "
    "taker fee on the full size.",
    "My resting orders{on_market} were cancelled when trading halted, but trades matched after the halt "
    "still went through.",
    "A trade{on_market} showed as filled in the app and disappeared an hour later; the {side} position "
    "was never credited.",
    "My order of {shares} shares{on_market} was rejected for minimum size, although it was above the "
    "minimum shown.",
    "My sell order{on_market} sat in “matched” for {hours} hours while the price moved {cents} cents "
    "against me.",
    "The API returned an error when I cancelled my order{on_market}, yet it filled {minutes} minutes later.",
]
EXECUTION_REMEDIES = [
    "Refund the difference between my limit price and the fill ({amount} {currency}).",
    "Refund the fees charged on the unfilled part.",
    "Credit the position I was shown, or refund {amount} {currency}.",
    "Explain what happened and compensate the slippage.",
    "Reverse the fill.",
]
MECHANICS_CLAIMS = {
    Venue.INTERNATIONAL: [
        "I sent a deposit of {amount} {currency} to my signing key instead of the profile wallet; it has "
        "not been credited after {days} days.",
        "My withdrawal of {amount} {currency} has been pending for {days} days and I can’t find the "
        "transaction on Polygon.",
        "I was charged a taker fee on a market whose fee schedule shows fees disabled.",
        "The app showed a position I did not have after a failed trade, and I sold against it.",
        "My market-making bot was rate-limited during the volatility and I lost {amount} {currency} of "
        "inventory.",
    ],
    Venue.US: [
        "A bank withdrawal of {amount} USD was returned by the exchange’s partner with no explanation.",
        "My ACH deposit of {amount} USD shows as completed at my bank but is not in my balance after "
        "{days} days.",
        "I was charged a fee on a contract whose fee schedule shows no fees.",
        "The app showed a filled order that the exchange later cancelled, and I hedged against it.",
    ],
}
PUSD_CLAIM = "After the pUSD migration my balance shows {amount} {currency} less than before."
MECHANICS_REMEDIES = [
    "Credit the deposit to my account.",
    "Complete the withdrawal or return the funds.",
    "Refund the fee.",
    "Restore the missing {amount} {currency}.",
    "Compensate the loss.",
]
NOTES = [
    "Asked the user for the order id and a screenshot of the order ticket.",
    "User called back; walked them through the rules text and the resolution source.",
    "Checked the transaction on Polygonscan: confirmed, and the amounts match what the user reports.",
    "Markets team confirms the clarification was published before the user’s first trade.",
    "Pulled the wallet’s activity for the week around the trade; nothing unusual apart from the "
    "disputed fill.",
    "Engineering confirms the matching engine was degraded for 11 minutes around the time of the order.",
    "User is upset and mentions going public; kept the tone factual and promised an answer within the SLA.",
    "Compared the rules in force at filing with the current version: only the clarification differs.",
    "Similar complaints from other accounts on the same market; keeping the answers consistent.",
    "Waiting on the treasury team to trace the funds.",
    "User sent a screen recording of the order screen; the limit price is visible.",
    "Checked the UMA history: proposed, disputed once, then resolved by the DVM vote.",
]
WAITING_NOTES = [
    "Asked the user for the transaction hash.",
    "Asked the user which wallet placed the order.",
    "Asked the user for the time of the order, with their time zone.",
    "Asked the user to confirm the amount they are claiming.",
]
CLOSE_REASONS = [
    "User withdrew the complaint after the explanation.",
    "Duplicate of an earlier case about the same trade.",
    "Funds arrived; nothing left to decide.",
    "No reply from the user in 14 days.",
]
REOPEN_REASONS = [
    "User sent new evidence: the resolution source page was changed after the end date.",
    "The markets team found a second clarification that was not in the file.",
]
AMENDMENT_REASONS = [
    "The refund was recalculated with the fee schedule in force at the time of the trade.",
    "New evidence from the resolution source changed the facts the decision rested on.",
]
GOVERNING_REASONS = {
    "filed": "The user traded before the clarification was published; the rules in force when the case "
    "was filed govern.",
    "current": "The clarification only made explicit what the original rules already said, so the "
    "current version governs.",
}
CONSISTENCY_NOTES = [
    "The earlier decisions concerned trades placed after the clarification; this user traded before it.",
    "Unlike the earlier cases, the order log shows our error, not the user’s.",
    "This case turns on a different fact: the funds reached the account’s own wallet.",
    "The earlier cases had no evidence of the halt time; here the order log shows the fill after it.",
]
OUTCOME_WEIGHTS = {
    Category.MARKET_RESOLUTION: [0.12, 0.62, 0.12, 0.14],
    Category.ORDER_EXECUTION: [0.30, 0.45, 0.20, 0.05],
    Category.PLATFORM_MECHANICS: [0.35, 0.35, 0.20, 0.10],
}
OUTCOMES = [Outcome.UPHELD, Outcome.DENIED, Outcome.PARTIALLY_UPHELD, Outcome.REFERRED]
RATIONALES = {
    Outcome.UPHELD: "The evidence supports the user: {fact}. Under the cited rule the user is entitled "
    "to the remedy below.",
    Outcome.DENIED: "The platform acted as its rules provide: {fact}.",
    Outcome.PARTIALLY_UPHELD: "Part of the claim holds ({fact}); the rest follows the rules as written.",
    Outcome.REFERRED: "This falls outside what support can decide ({fact}); referred with the case file.",
}
FACTS = {
    Category.MARKET_RESOLUTION: [
        "the market resolved by the source and the deadline its rules name",
        "the clarification was in force before the user traded",
        "the resolution source had published the result before the end date",
    ],
    Category.ORDER_EXECUTION: [
        "the order log shows the fill at the limit price or better",
        "the order was cancelled by the trading halt as the rulebook provides",
        "the matched trade failed on-chain and was never a fill",
        "fees were charged on the filled part only",
    ],
    Category.PLATFORM_MECHANICS: [
        "the deposit went to an address the platform does not control",
        "the withdrawal was confirmed on-chain before the complaint",
        "the market’s fee schedule enabled taker fees at the time of the trade",
        "the balance difference is the collateral conversion at par",
    ],
}
DECISION_REMEDIES = {
    Outcome.UPHELD: "Credit {amount} {currency} to the account.",
    Outcome.PARTIALLY_UPHELD: "Credit {amount} {currency} (the fees and the difference to the limit price).",
    Outcome.REFERRED: "Referred to the markets team; the user is told within five business days.",
    Outcome.DENIED: "",
}
EVIDENCE_DESCRIPTIONS = {
    Evidence.ORDER: ["Order the user disputes", "Order id from the user’s ticket", "Order from the API log"],
    Evidence.TRADE: ["Trade the user disputes", "Fill shown in the app", "Trade id from the user"],
    Evidence.TRANSACTION: ["Transaction the user sent", "Settlement transaction", "Deposit transaction"],
    Evidence.WALLET: ["Wallet that placed the order", "Profile wallet", "Wallet the funds came from"],
    Evidence.LINK: ["Market page", "Resolution source the user cites", "Screenshot the user shared"],
}
# Which evidence each category tends to carry, with the chance of each kind.
EVIDENCE_MIX = {
    Category.MARKET_RESOLUTION: [(Evidence.LINK, 0.7), (Evidence.TRANSACTION, 0.4), (Evidence.WALLET, 0.2)],
    Category.ORDER_EXECUTION: [
        (Evidence.ORDER, 0.7),
        (Evidence.TRADE, 0.45),
        (Evidence.TRANSACTION, 0.55),
        (Evidence.WALLET, 0.2),
    ],
    Category.PLATFORM_MECHANICS: [(Evidence.TRANSACTION, 0.8), (Evidence.WALLET, 0.5), (Evidence.LINK, 0.1)],
}
# Rulebook sections (by number prefix) a decision of each category cites.
RULEBOOK_TOPICS = {
    Category.MARKET_RESOLUTION: ("6",),
    Category.ORDER_EXECUTION: ("2", "3"),
    Category.PLATFORM_MECHANICS: ("3.1", "4", "5"),
}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
OPEN_DAYS = 14
CASE_CHUNK = 5000  # cases planned, numbered and written at a time by seed_cases
OPEN_CHUNK = 5000  # open cases planned and written at a time, so memory stays flat however many
# Where an open case stands once someone could have picked it up (the rest are still new).
OPEN_WEIGHTS = [
    (Status.NEW, 0.28),
    (Status.INVESTIGATING, 0.42),
    (Status.WAITING_ON_USER, 0.20),
    (Status.ESCALATED, 0.10),
]
REPLIES = [
    "Thanks for reporting this. We are looking into it and will come back to you here with what we find.",
    "We have your case and are checking it against the market’s rules as they read when you traded.",
    "Thanks for the details. We are tracing the order and the transaction and will update you here.",
    "We are reviewing your case with the team that runs the matching engine and will follow up shortly.",
]


@dataclass(slots=True)
class _Account:
    pk: int
    venue: str
    rank: int
    name: str
    external_id: str
    owner_id: int
    wallets: list[str]


@dataclass(slots=True)
class _Market:
    pk: int
    venue: str
    question: str
    url: str
    condition_id: str
    resolved_outcome: str
    outcome_names: list[str]
    closed_at: dt.datetime | None
    current_version_id: int
    versions: list  # MarketRuleVersion, oldest first
    effective: list  # their effective_at, for bisect


@dataclass(slots=True)
class _Event:
    kind: str
    actor: int | None
    at: dt.datetime
    summary: str
    before: dict
    after: dict
    note: str = ""
    link: object = None  # the decision, evidence or snapshot whose pk goes into `after`


@dataclass(slots=True)
class _Citation:
    excerpt: str
    market_rule_version: int | None = None
    rulebook_version: int | None = None
    section: int | None = None


@dataclass(slots=True)
class _Decision:
    outcome: str
    rationale: str
    remedy: str
    state: str
    proposed_by: int
    proposed_at: dt.datetime
    approved_by: int | None
    approved_at: dt.datetime | None
    citations: list
    governing_version: int | None = None
    governing_reason: str = ""
    amendment_reason: str = ""
    consistency_note: str = ""
    supersedes: "_Decision | None" = None
    pk: int | None = None


@dataclass(slots=True)
class _Evidence:
    kind: str
    value: str
    description: str
    added_by: int
    added_at: dt.datetime
    pk: int | None = None


@dataclass(slots=True)
class _Snapshot:
    wallet: str
    condition_id: str
    start: dt.datetime
    end: dt.datetime
    fetched_by: int
    fetched_at: dt.datetime
    rows: list
    pk: int | None = None


@dataclass(slots=True)
class _Case:
    created: dt.datetime
    account: _Account
    category: str
    market: _Market | None
    rule_version_id: int | None
    venue: str
    claim: str
    remedy: str
    amount: Decimal
    priority: str
    assignee: int | None
    intercom: str
    filed_by: int
    status: str = Status.NEW
    first_responded_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    revision: int = 1
    year: int = 0
    number: int = 0
    reference: str = ""
    pk: int | None = None
    events: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    snapshot: _Snapshot | None = None

    @property
    def currency(self) -> str:
        return "USD" if self.venue == Venue.US else "USDC"


class _World:
    """What the cases are about: accounts, markets and their rules, the rulebook, the team."""

    def __init__(self, rng: random.Random, specialists: list, now: dt.datetime):
        self.now = now
        self.recent_share = 0.02  # of cases filed in the last four days (set per run)
        self.specialists = [s.pk for s in specialists]
        self.usernames = {s.pk: s.username for s in specialists}
        self.four_eyes = len(self.specialists) >= 2
        self.threshold = settings.DISPUTE_FOUR_EYES_THRESHOLD
        wallets = defaultdict(list)
        for account_id, address in Wallet.objects.order_by("pk").values_list("account_id", "address"):
            wallets[account_id].append(address)
        self.accounts, weights = [], []
        for pk, venue, rank, name, external_id, owner_id, status in Account.objects.order_by(
            "pk"
        ).values_list("pk", "venue", "tier__rank", "display_name", "external_id", "owner_id", "status"):
            self.accounts.append(_Account(pk, venue, rank, name, external_id, owner_id, wallets[pk]))
            # A few heavy traders file most cases; the most important tiers trade (and dispute) most.
            weight = rng.lognormvariate(0, 1.0) * {1: 3.0, 2: 1.5}.get(rank, 1.0)
            weights.append(weight * (1.0 if status == Account.Status.ACTIVE else 0.3))
        self.account_pool = self._pool(self.accounts, weights)
        self.accounts_by_venue = {
            venue: self._pool(
                [a for a in self.accounts if a.venue == venue],
                [w for a, w in zip(self.accounts, weights, strict=True) if a.venue == venue],
            )
            for venue in Venue.values
        }
        self._load_markets(rng)
        self._load_rulebook()
        self._excerpts: dict[tuple[str, int], list[str]] = {}

    @staticmethod
    def _pool(items, weights):
        total, cumulative = 0.0, []
        for weight in weights:
            total += weight
            cumulative.append(total)
        return (items, cumulative)

    def _load_markets(self, rng: random.Random) -> None:
        versions = defaultdict(list)
        for version in MarketRuleVersion.objects.only(
            "id", "market", "number", "effective_at", "rules_text", "resolution_source", "clarifications"
        ).order_by("market_id", "effective_at", "number"):
            versions[version.market_id].append(version)
        self.markets = []
        for market in (
            Market.objects.filter(current_version__isnull=False)
            .only(
                "id",
                "venue",
                "source",
                "slug",
                "event_slug",
                "question",
                "condition_id",
                "resolved_outcome",
                "outcomes",
                "closed_at",
                "current_version",
            )
            .order_by("pk")
        ):
            names = [o.get("name", "") for o in market.outcomes if isinstance(o, dict) and o.get("name")]
            own = versions.get(market.pk) or []
            if not own:
                continue
            self.markets.append(
                _Market(
                    pk=market.pk,
                    venue=market.venue,
                    question=market.question,
                    url=market.polymarket_url,
                    condition_id=market.condition_id or "",
                    resolved_outcome=market.resolved_outcome,
                    outcome_names=names or ["Yes", "No"],
                    closed_at=market.closed_at,
                    current_version_id=market.current_version_id,
                    versions=own,
                    effective=[v.effective_at for v in own],
                )
            )
        self.versions_by_id = {v.pk: v for own in versions.values() for v in own}
        self.markets_by_venue = {v: [m for m in self.markets if m.venue == v] for v in Venue.values}
        # The popular markets: resolved international markets whose rules changed, when there are any.
        ranked = sorted(
            self.markets,
            key=lambda m: (m.venue != Venue.INTERNATIONAL, not m.resolved_outcome, len(m.versions) < 2, m.pk),
        )
        candidates = ranked[: max(HOT_MARKETS * 3, 1)]
        self.hot = rng.sample(candidates, min(HOT_MARKETS, len(candidates)))
        self.hot_pool = self._pool(self.hot, [1 / math.sqrt(k + 1) for k in range(len(self.hot))])

    def _load_rulebook(self) -> None:
        self.rulebook = defaultdict(list)  # venue -> [(number, section id, version)]
        for section in RulebookSection.objects.select_related("current_version").order_by(
            "venue", "sort_key"
        ):
            if section.current_version is not None:
                self.rulebook[section.venue].append((section.number, section.pk, section.current_version))

    def choose(self, rng: random.Random, pool):
        items, cumulative = pool
        return rng.choices(items, cum_weights=cumulative)[0] if items else None

    def rules_in_force(self, market: _Market, when: dt.datetime) -> int:
        index = bisect.bisect_right(market.effective, when)
        return market.versions[index - 1].pk if index else market.current_version_id

    def excerpts(self, kind: str, version) -> list[str]:
        """Sentences of the version's text (what a citation quotes), at least MIN_EXCERPT long."""
        key = (kind, version.pk)
        if key not in self._excerpts:
            text = normalise_text(version.full_text if kind == "market" else version.body)
            found = []
            for sentence in SENTENCE_END.split(text):
                sentence = sentence.strip()
                if len(sentence) < MIN_EXCERPT:
                    continue
                if len(sentence) > MAX_EXCERPT:  # a long sentence is quoted up to a word boundary
                    sentence = sentence[:MAX_EXCERPT].rsplit(" ", 1)[0]
                found.append(sentence)
            if not found and len(text) >= MIN_EXCERPT:
                found.append(text[:MAX_EXCERPT].rsplit(" ", 1)[0] if len(text) > MAX_EXCERPT else text)
            self._excerpts[key] = found
        return self._excerpts[key]

    def rulebook_citation(self, rng: random.Random, venue: str, category: str) -> _Citation | None:
        sections = self.rulebook.get(venue) or self.rulebook.get(Venue.INTERNATIONAL) or []
        topical = [s for s in sections if s[0].startswith(RULEBOOK_TOPICS[category])] or sections
        for _number, section_id, version in rng.sample(topical, len(topical)):
            options = self.excerpts("rulebook", version)
            if options:
                return _Citation(excerpt=rng.choice(options), rulebook_version=version.pk, section=section_id)
        return None

    def market_citation(self, rng: random.Random, version_id: int) -> _Citation | None:
        options = self.excerpts("market", self.versions_by_id[version_id])
        return _Citation(excerpt=rng.choice(options), market_rule_version=version_id) if options else None


def seed_cases(
    *, rng: random.Random, count: int, specialists: list, progress: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    """`count` cases filed over the last two years, with their histories. Each case draws from a
    random sequence of its own (seeded from `rng`), so it can be planned once to learn when it was
    filed, and planned again, the same, when its turn comes: the cases are then numbered, given
    their histories and written CASE_CHUNK at a time in filing order, and memory stays flat at any
    count."""
    result = dict.fromkeys(
        ("cases", "events", "decisions", "citations", "evidence", "snapshots", "activity_rows"), 0
    )
    if count <= 0 or not specialists or not Account.objects.exists():
        return result
    world = _World(rng, specialists, timezone.now())
    world.recent_share = min(0.2, max(0.02, 30 / count))
    seeds, long_history = _filing_order(rng, world, count)
    first_case, open_counts = None, defaultdict(int)
    for start in range(0, len(seeds), CASE_CHUNK):
        planned = []
        for seed in seeds[start : start + CASE_CHUNK]:
            case_rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
            planned.append((case_rng, _plan(case_rng, world), seed == long_history))
        cases = [case for _, case, _ in planned]
        _number(cases)
        for case_rng, case, long in planned:
            (_long_history if long else _history)(case_rng, world, case)
        _write_chunk(cases, result)
        first_case = first_case or cases[0].pk
        for case in cases:
            open_counts[case.account.pk] += case.status in DisputeCase.OPEN_STATUSES
        progress(f"{result['cases']}/{len(seeds)} cases")
    _consistency_notes(rng, first_case)
    progress(
        f"{result['events']} events, {result['decisions']} decisions, {result['evidence']} evidence items"
    )
    _open_counts_changed(open_counts, world)
    return result


def _filing_order(rng: random.Random, world: "_World", count: int) -> tuple[list[int], int | None]:
    """Each case's random seed, in filing order (the order of generation between cases filed at
    the same moment), and the seed of the case that gets the long history: the oldest on the most
    popular market, else the oldest. Only each case's filing time is kept meanwhile."""
    top = world.hot[0] if world.hot else None
    seeds, filed, long_history = array("Q"), array("d"), None
    for _ in range(count):
        seed = rng.getrandbits(64)
        case = _plan(random.Random(seed), world, claim=False)  # noqa: S311 - demo data, not secrets
        if case is None:
            continue
        at = case.created.timestamp()
        on_top = top is not None and case.market is top and case.category == Category.MARKET_RESOLUTION
        if on_top and (long_history is None or at < filed[long_history]):
            long_history = len(seeds)
        seeds.append(seed)
        filed.append(at)
    order = sorted(range(len(seeds)), key=filed.__getitem__)
    if long_history is None and order:
        long_history = order[0]
    return [seeds[i] for i in order], seeds[long_history] if long_history is not None else None


def _write_chunk(cases: list["_Case"], result: dict[str, int]) -> None:
    _insert_cases(cases)
    result["cases"] += len(cases)
    result["evidence"] += _insert_evidence(cases)
    decisions, citations = _insert_decisions(cases)
    result["decisions"] += decisions
    result["citations"] += citations
    snapshots, rows = _insert_snapshots(cases)
    result["snapshots"] += snapshots
    result["activity_rows"] += rows
    result["events"] += _insert_events(cases)
    _account_timelines(cases)
    _counters(cases)  # before the next chunk is numbered


def seed_open_cases(
    *, rng: random.Random, count: int, specialists: list, progress: Callable[[str], None] = lambda _: None
) -> int:
    """`count` open cases filed over the last OPEN_DAYS days (`seed_demo --open-items`): a queue as
    large as the SLA benchmark needs, on top of whatever is seeded already (numbers continue each
    year's counter). Planned and written OPEN_CHUNK at a time. Returns how many were written."""
    if count <= 0 or not specialists or not Account.objects.exists():
        return 0
    world = _World(rng, specialists, timezone.now())
    written, accounts = 0, set()
    for start in range(0, count, OPEN_CHUNK):
        cases = _plan_open(rng, world, range(start, min(start + OPEN_CHUNK, count)), count)
        if not cases:
            continue
        _insert_cases(cases)
        _insert_evidence(cases)
        _insert_events(cases)
        _account_timelines(cases)
        _counters(cases)  # before the next batch is numbered
        written += len(cases)
        accounts.update(c.account.pk for c in cases)
        progress(f"{written} open cases")
    # Counted in the database: the accounts may have open cases from earlier seeding too.
    counts = DisputeCase.objects.filter(status__in=DisputeCase.OPEN_STATUSES).values_list("account")
    _open_counts_changed(
        {pk: n for pk, n in counts.annotate(n=Count("pk")).order_by() if pk in accounts}, world
    )
    return written


# --- What each case is about -------------------------------------------------------------------


def _filed_at(rng: random.Random, world: "_World", earliest: dt.datetime | None = None) -> dt.datetime:
    """Busier lately: some cases in the last four days (a bigger share of a small demo, so its
    queue is alive), a seventh in the last three weeks, the rest thinning out over two years."""
    now, span = world.now, HISTORY_DAYS
    if earliest is not None:
        span = max(0.5, min(span, (now - earliest).total_seconds() / 86400))
    roll = rng.random()
    if roll < world.recent_share:
        age = rng.uniform(0, min(4, span))
    elif roll < world.recent_share + 0.14:
        age = rng.uniform(0, min(21, span))
    else:
        age = span * rng.random() ** 1.6
    return now - dt.timedelta(days=max(age, 0.002))


def _amount(rng: random.Random, rank: int) -> Decimal:
    value = rng.lognormvariate(6.0 + (3 - min(rank, 3)) * 0.45, 1.6)
    return Decimal(f"{min(value, 2_500_000):.2f}")


def _priority(rng: random.Random, amount: Decimal, rank: int, threshold: Decimal) -> str:
    roll = rng.random()
    if (amount > threshold and roll < 0.45) or (rank == 1 and amount > 2000 and roll < 0.1):
        return DisputeCase.Priority.URGENT
    if (rank == 1 and roll < 0.4) or (amount > 1000 and roll < 0.35):
        return DisputeCase.Priority.HIGH
    if amount < 50 and roll < 0.5:
        return DisputeCase.Priority.LOW
    return DisputeCase.Priority.NORMAL


def _plan(
    rng: random.Random, world: _World, filed: Callable = _filed_at, *, claim: bool = True
) -> _Case | None:
    """What a case is about; `filed(rng, world[, earliest])` says when it was filed. Without
    `claim`, not what the user wrote (drawn last: the rest is the same)."""
    now = world.now
    category = rng.choices([c for c, _ in CATEGORY_WEIGHTS], weights=[w for _, w in CATEGORY_WEIGHTS])[0]
    market, account, created = None, None, now
    if category == Category.MARKET_RESOLUTION:
        if not world.markets:
            category = Category.ORDER_EXECUTION  # no markets to dispute: about an order instead
        else:
            market = (
                world.choose(rng, world.hot_pool) if rng.random() < HOT_SHARE else rng.choice(world.markets)
            )
            account = world.choose(rng, world.accounts_by_venue[market.venue]) or world.choose(
                rng, world.account_pool
            )
            # Filed once the market had rules, and mostly after it closed when it has.
            earliest = market.versions[0].effective_at
            if market.closed_at and earliest < market.closed_at < now and rng.random() < 0.8:
                earliest = market.closed_at
            created = filed(rng, world, earliest)
    if category != Category.MARKET_RESOLUTION:
        account = world.choose(rng, world.account_pool)
        created = filed(rng, world)
        own_venue = world.markets_by_venue.get(account.venue) or []
        if category == Category.ORDER_EXECUTION and own_venue and rng.random() < 0.6:
            market = rng.choice(own_venue)
    if account is None:
        return None
    amount = _amount(rng, account.rank)
    if not world.four_eyes:
        amount = min(amount, world.threshold)  # nobody could approve a larger decision
    venue = market.venue if market else account.venue
    case = _Case(
        created=created,
        account=account,
        category=category,
        market=market,
        rule_version_id=world.rules_in_force(market, created) if market else None,
        venue=venue,
        claim="",
        remedy="",
        amount=amount,
        priority=_priority(rng, amount, account.rank, world.threshold),
        assignee=None,
        intercom=str(rng.randint(10**14, 10**15 - 1)) if rng.random() < 0.6 else "",
        filed_by=account.owner_id if account.owner_id in world.usernames and rng.random() < 0.6 else 0,
    )
    if not case.filed_by:
        case.filed_by = rng.choice(world.specialists)
    if claim:
        case.claim, case.remedy = _claim(rng, case)
    return case


def _claim(rng: random.Random, case: _Case) -> tuple[str, str]:
    market = case.market
    price = rng.choice([0.62, 0.7, 0.78, 0.85, 0.9, 0.93, 0.95, 0.97])
    amount = f"{case.amount:,.2f}"
    values = {
        "amount": amount,
        "currency": case.currency,
        "price": f"{price:.2f}",
        "fill": f"{min(price + rng.choice([0.02, 0.03, 0.05, 0.08]), 0.99):.2f}",
        "shares": f"{max(5, int(case.amount / Decimal(str(price)))):,}",
        "reason": rng.choice(REASONS),
        "days": rng.randint(2, 12),
        "hours": rng.randint(2, 9),
        "minutes": rng.randint(2, 40),
        "cents": rng.randint(3, 15),
        "question": market.question if market else "",
        "on_market": f" on “{market.question}”" if market else "",
    }
    names = market.outcome_names if market else ["Yes", "No"]
    resolved = market.resolved_outcome if market else ""
    side = rng.choice([n for n in names if n != resolved] or names)
    values["side"] = side.upper() if side in ("Yes", "No") else side
    values["outcome"] = resolved.upper() if resolved in ("Yes", "No") else resolved
    if case.category == Category.MARKET_RESOLUTION:
        templates = RESOLVED_CLAIMS if resolved else OPEN_MARKET_CLAIMS
        remedies = RESOLUTION_REMEDIES
    elif case.category == Category.ORDER_EXECUTION:
        templates, remedies = EXECUTION_CLAIMS, EXECUTION_REMEDIES
    else:
        templates = MECHANICS_CLAIMS.get(case.venue, MECHANICS_CLAIMS[Venue.INTERNATIONAL])
        if case.venue == Venue.INTERNATIONAL and collateral_at(case.created) == "pUSD":
            templates = [*templates, PUSD_CLAIM]
        remedies = MECHANICS_REMEDIES
    return rng.choice(templates).format(**values), rng.choice(remedies).format(**values)


def _number(cases: list[_Case]) -> None:
    """DSP-<year>-<number> in filing order, after the numbers each year already handed out."""
    cases.sort(key=lambda c: c.created)
    last = dict(CaseCounter.objects.values_list("year", "last_number"))
    for case in cases:
        case.year = case.created.year
        last[case.year] = case.number = last.get(case.year, 0) + 1
        case.reference = f"DSP-{case.year}-{case.number:05d}"


# --- How each case went --------------------------------------------------------------------------


def _hours(value: float) -> dt.timedelta:
    return dt.timedelta(hours=value)


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    return start + (end - start) * rng.uniform(0.05, 0.95)


def _event(
    case: _Case, kind, actor, at, summary, *, before=None, after=None, note="", link=None, change=True
):
    case.events.append(_Event(kind, actor, at, summary[:300], before or {}, after or {}, note, link))
    if change:  # the services bump the revision (and updated_at) on every change to the case
        case.revision += 1
        case.updated_at = max(case.updated_at or at, at)


def _move(case: _Case, to: str, actor: int, at: dt.datetime, note: str = "") -> None:
    if to not in TRANSITIONS[case.status]:
        raise ValueError(f"{case.reference}: {case.status} → {to} is not a legal move")
    reopening = case.status not in DisputeCase.OPEN_STATUSES and to == Status.INVESTIGATING
    label = "Reopened" if reopening else "Status"
    summary = f"{label}: {Status(case.status).label} → {Status(to).label}"
    _event(
        case, Kind.STATUS, actor, at, summary, before={"status": case.status}, after={"status": to}, note=note
    )
    case.status = to
    case.closed_at = at if to == Status.CLOSED else None
    if case.first_responded_at is None:
        case.first_responded_at = at


def _assign(case: _Case, world: _World, to: int, by: int, at: dt.datetime) -> None:
    before = world.usernames.get(case.assignee) if case.assignee else None
    _event(
        case,
        Kind.ASSIGNED,
        by,
        at,
        f"Assigned to {world.usernames[to]}",
        before={"assignee": before},
        after={"assignee": world.usernames[to]},
    )
    case.assignee = to


def _note(rng: random.Random, case: _Case, world: _World, by: int, at: dt.datetime, text: str = "") -> None:
    _event(
        case,
        Kind.NOTE,
        by,
        at,
        f"Note by {world.usernames[by]}",
        note=text or rng.choice(NOTES),
        change=False,
    )


def _hex(rng: random.Random, bits: int = 256) -> str:
    return f"0x{rng.getrandbits(bits):0{bits // 4}x}"


def _add_evidence(rng: random.Random, case: _Case, kind: str, by: int, at: dt.datetime) -> bool:
    if kind in (Evidence.ORDER, Evidence.TRANSACTION):
        value = _hex(rng)
    elif kind == Evidence.TRADE:
        value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    elif kind == Evidence.WALLET:
        if not case.account.wallets:
            return False
        value = rng.choice(case.account.wallets)
    elif case.market is not None and case.market.url and rng.random() < 0.6:
        value = case.market.url
    elif case.account.wallets:
        value = f"https://polygonscan.com/address/{rng.choice(case.account.wallets)}"
    else:
        return False
    item = _Evidence(kind, value, rng.choice(EVIDENCE_DESCRIPTIONS[kind]), by, at)
    case.evidence.append(item)
    label = Evidence(kind).label
    _event(
        case,
        Kind.EVIDENCE,
        by,
        at,
        f"Evidence added: {label} {value}",
        note=item.description,
        link=item,
        change=False,
    )
    return True


def _add_snapshot(rng: random.Random, case: _Case, by: int, at: dt.datetime) -> None:
    wallet = rng.choice(case.account.wallets)
    start, end = case.created - dt.timedelta(days=30), min(case.created + _hours(rng.uniform(1, 48)), at)
    market = case.market
    condition_id = market.condition_id if market else ""
    disputed = next((e.value for e in case.evidence if e.kind == Evidence.TRANSACTION), None)
    rows = []
    for index in range(rng.randint(3, 8)):
        when = start + (end - start) * rng.random()
        kind = rng.choices(["TRADE", "DEPOSIT", "WITHDRAWAL", "REDEEM"], weights=[0.7, 0.12, 0.08, 0.1])[0]
        tx_hash = disputed if index == 0 and disputed else _hex(rng)
        if index == 0 and disputed:
            kind, when = "TRADE", min(case.created - _hours(rng.uniform(0.1, 6)), end)
        if kind in ("DEPOSIT", "WITHDRAWAL"):
            money = Decimal(rng.randint(250, 20_000))
            rows.append((when, kind, "", "", "", "", money, money, None, tx_hash, collateral_at(when)))
            continue
        price = Decimal(rng.randint(3, 97)) / 100 if kind == "TRADE" else Decimal(1)
        size = Decimal(rng.randint(10, 3000))
        outcome = rng.choice(market.outcome_names) if market else rng.choice(["Yes", "No"])
        side = rng.choice(["BUY", "SELL"]) if kind == "TRADE" else ""
        title = market.question if market else "Demo market"
        rows.append(
            (
                when,
                kind,
                condition_id,
                title,
                outcome,
                side,
                size,
                size * price,
                price,
                tx_hash,
                collateral_at(when),
            )
        )
    rows.sort(key=lambda r: r[0])
    case.snapshot = _Snapshot(wallet, condition_id, start, end, by, at, rows)
    count = len(rows)
    _event(
        case,
        Kind.EVIDENCE,
        by,
        at,
        f"Wallet activity snapshot: {count} row{'' if count == 1 else 's'} for {wallet[:6]}…{wallet[-4:]}",
        after={
            "wallet_address": wallet,
            "condition_id": condition_id,
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "row_count": count,
            "truncated": False,
        },
        link=case.snapshot,
    )


def _decide(
    rng: random.Random, world: _World, case: _Case, by: int, at: dt.datetime, *, amend: bool = False
) -> _Decision | None:
    """Propose or record a decision at `at` (four eyes above the threshold: approved by another
    specialist a few hours later, when `approve`). Returns None when there is nothing to cite."""
    outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS[case.category])[0]
    citations, governing, reason = [], None, ""
    if case.market is not None:
        changed = case.rule_version_id != case.market.current_version_id
        governing = case.rule_version_id
        if changed:
            key = rng.choice(["filed", "current"])
            governing = case.market.current_version_id if key == "current" else case.rule_version_id
            reason = GOVERNING_REASONS[key]
        if case.category == Category.MARKET_RESOLUTION or rng.random() < 0.3:
            citations.append(world.market_citation(rng, governing))
        if not changed:
            governing = None  # named only when the rules changed since filing
    if not citations or rng.random() < 0.4:
        citations.append(world.rulebook_citation(rng, case.venue, case.category))
    citations = [c for c in citations if c is not None]
    if not citations:
        return None
    fact = rng.choice(FACTS[case.category])
    rationale = f"{RATIONALES[outcome].format(fact=fact)} The cited rule reads: “{citations[0].excerpt}”"
    share = case.amount if outcome == Outcome.UPHELD else (case.amount / 2).quantize(Decimal("0.01"))
    remedy = DECISION_REMEDIES[outcome].format(amount=f"{share:,.2f}", currency=case.currency)
    current = case.decisions[-1] if amend else None
    decision = _Decision(
        outcome=outcome,
        rationale=rationale,
        remedy=remedy,
        state=State.PROPOSED,
        proposed_by=by,
        proposed_at=at,
        approved_by=None,
        approved_at=None,
        citations=citations,
        governing_version=governing,
        governing_reason=reason,
        amendment_reason=rng.choice(AMENDMENT_REASONS) if amend else "",
        supersedes=current,
    )
    case.decisions.append(decision)
    if case.amount > world.threshold:
        _event(case, Kind.DECISION_PROPOSED, by, at, f"Decision proposed: {Outcome(outcome).label}")
    else:
        _record(case, decision, by, at)
    return decision


def _approve(rng: random.Random, world: _World, case: _Case, decision: _Decision, at: dt.datetime) -> None:
    approver = rng.choice([s for s in world.specialists if s != decision.proposed_by])
    _event(case, Kind.DECISION_APPROVED, approver, at, f"Decision approved by {world.usernames[approver]}")
    _record(case, decision, approver, at, bump=False)


def _record(case: _Case, decision: _Decision, by: int, at: dt.datetime, *, bump: bool = True) -> None:
    decision.state, decision.approved_by, decision.approved_at = State.RECORDED, by, at
    if decision.supersedes is not None:
        decision.supersedes.state = State.SUPERSEDED
    amended = decision.supersedes is not None
    label = Outcome(decision.outcome).label
    _event(
        case,
        Kind.DECISION_AMENDED if amended else Kind.DECISION_RECORDED,
        by,
        at,
        f"Decision {'amended' if amended else 'recorded'}: {label}",
        before={"status": case.status},
        after={"status": Status.DECIDED, "outcome": decision.outcome},
        note=decision.amendment_reason,
        link=decision,
        change=bump,
    )
    case.status, case.decided_at = Status.DECIDED, at
    case.updated_at = max(case.updated_at or at, at)


def _filing(rng: random.Random, world: _World, case: _Case) -> None:
    """Who the case is assigned to from the start (the account's owner, else anyone; a quarter
    wait in the queue), and the filing in its history."""
    case.assignee = (
        (case.account.owner_id if case.account.owner_id in world.usernames else None)
        or rng.choice(world.specialists)
        if rng.random() < 0.75
        else None
    )
    _event(
        case,
        Kind.FILED,
        case.filed_by,
        case.created,
        f"Filed by {world.usernames[case.filed_by]}",
        after={"status": Status.NEW},
        change=False,
    )
    case.updated_at = case.created


def _gather_evidence(rng: random.Random, case: _Case, by: int, start: dt.datetime, end: dt.datetime) -> None:
    """Most cases collect a few identifiers of the kinds their category tends to carry."""
    if rng.random() < 0.6:
        kinds = [kind for kind, chance in EVIDENCE_MIX[case.category] if rng.random() < chance]
        for kind in kinds[: rng.choices([1, 2, 3], weights=[0.55, 0.3, 0.15])[0]] or [
            EVIDENCE_MIX[case.category][0][0]
        ]:
            _add_evidence(rng, case, kind, by, _between(rng, start, end))


def _history(rng: random.Random, world: _World, case: _Case) -> None:
    """Filing, first response, the work and the outcome, all between filing and now."""
    now, created = world.now, case.created
    age_h = (now - created).total_seconds() / 3600
    first_target = FIRST_RESPONSE_HOURS.get(case.account.rank, 8)
    resolution_target = RESOLUTION_HOURS[case.category]
    # How long it takes: mostly within the target, some late, a few stuck on a third party for
    # weeks. Still open when that time has not passed yet.
    if rng.random() < 0.8:
        duration = resolution_target * rng.uniform(0.15, 0.95)
    else:
        duration = resolution_target * rng.uniform(1.05, 3.5)
    if rng.random() < 0.015:
        duration = 24 * rng.uniform(5, 60)
    still_open = duration >= age_h
    end = now if still_open else created + _hours(duration)
    _filing(rng, world, case)

    # When someone first answered (not yet, for some open cases).
    span_h = (end - created).total_seconds() / 3600
    first = first_target * (rng.uniform(0.1, 0.9) if rng.random() < 0.85 else rng.uniform(1.1, 4.0))
    if not still_open:
        first = min(first, span_h * 0.4)
    responded = first < span_h and not (still_open and rng.random() < 0.05)
    responder = case.assignee or rng.choice(world.specialists)
    t = created + _hours(first)

    if not responded:
        if rng.random() < 0.3:
            _add_evidence(
                rng,
                case,
                rng.choice([k for k, _ in EVIDENCE_MIX[case.category]]),
                case.filed_by,
                _between(rng, created, now),
            )
        return
    if case.assignee is None:
        _assign(case, world, responder, responder, t)
    _move(case, Status.INVESTIGATING, responder, t)

    # The work: evidence, perhaps a question to the user, notes, an escalation.
    work_end = end - (end - t) * 0.1
    _gather_evidence(rng, case, responder, t, work_end)
    snapshot_chance = {Category.ORDER_EXECUTION: 0.1, Category.PLATFORM_MECHANICS: 0.04}.get(case.category, 0)
    if case.account.wallets and rng.random() < snapshot_chance:
        _add_snapshot(rng, case, responder, _between(rng, t, work_end))
    case.evidence.sort(key=lambda e: e.added_at)
    marks = sorted(_between(rng, t, work_end) for _ in range(3))
    if rng.random() < 0.25:
        _move(case, Status.WAITING_ON_USER, responder, marks[0], note=rng.choice(WAITING_NOTES))
        if not still_open or rng.random() < 0.5:
            _move(case, Status.INVESTIGATING, responder, marks[1])
    if rng.random() < 0.35:
        _note(rng, case, world, responder, marks[1])
    big = case.amount > world.threshold
    if rng.random() < (0.3 if big else 0.06):
        _move(case, Status.ESCALATED, responder, marks[2])

    if still_open:
        if (
            big
            and world.four_eyes
            and case.status in (Status.INVESTIGATING, Status.ESCALATED)
            and rng.random() < 0.5
        ):
            _decide(rng, world, case, responder, _between(rng, marks[2], now))
        if rng.random() < 0.05:
            _assign(case, world, rng.choice(world.specialists), responder, _between(rng, marks[2], now))
        case.events.sort(key=lambda e: e.at)
        return

    # The outcome.
    roll = rng.random()
    if roll < 0.12:
        _move(case, Status.CLOSED, responder, end, note=rng.choice(CLOSE_REASONS))
        case.events.sort(key=lambda e: e.at)
        return
    decision = _decide(rng, world, case, responder, _between(rng, work_end, end) if big else end)
    if decision is None:
        _move(case, Status.CLOSED, responder, end, note=rng.choice(CLOSE_REASONS))
    elif decision.state == State.PROPOSED:
        _approve(rng, world, case, decision, end)
    after_decision = (now - case.decided_at).total_seconds() / 3600 if case.decided_at else 0
    if decision is not None and not big and after_decision > 48 and rng.random() < 0.02:
        _decide(
            rng,
            world,
            case,
            responder,
            case.decided_at + _hours(rng.uniform(24, after_decision * 0.5)),
            amend=True,
        )
        after_decision = (now - case.decided_at).total_seconds() / 3600
    if decision is not None and roll > 0.8 and after_decision > 1:
        _move(
            case,
            Status.CLOSED,
            responder,
            case.decided_at + _hours(rng.uniform(0.5, min(after_decision, 240))),
        )
    case.events.sort(key=lambda e: e.at)


def _long_history_case(cases: list[_Case], world: _World) -> _Case | None:
    """The oldest case of the most popular market (else the oldest case): it gets a long history."""
    top = world.hot[0] if world.hot else None
    on_top = [
        c for c in cases if top is not None and c.market is top and c.category == Category.MARKET_RESOLUTION
    ]
    return (on_top or cases or [None])[0]


def _long_history(rng: random.Random, world: _World, case: _Case) -> None:
    """Weeks of back and forth, a decision, a reopening, an amendment, then closed."""
    now, created = world.now, case.created
    span = min(dt.timedelta(days=40), (now - created) * 0.9)
    step = span / (LONG_HISTORY_EVENTS + 10)
    case.amount = min(case.amount, world.threshold)  # decided by one specialist, amended once
    case.assignee = rng.choice(world.specialists)
    _event(
        case,
        Kind.FILED,
        case.filed_by,
        created,
        f"Filed by {world.usernames[case.filed_by]}",
        after={"status": Status.NEW},
        change=False,
    )
    t = created + step
    _move(case, Status.INVESTIGATING, case.assignee, t)
    kinds = [k for k, _ in EVIDENCE_MIX[case.category]]
    while len(case.events) < LONG_HISTORY_EVENTS:  # one event per step
        t += step
        roll = rng.random()
        if 0.5 <= roll < 0.8:
            to = Status.WAITING_ON_USER if case.status == Status.INVESTIGATING else Status.INVESTIGATING
            _move(
                case,
                to,
                case.assignee,
                t,
                note=rng.choice(WAITING_NOTES) if to == Status.WAITING_ON_USER else "",
            )
        elif roll >= 0.95 and case.status != Status.ESCALATED:
            _move(case, Status.ESCALATED, case.assignee, t)
        elif not (0.8 <= roll < 0.95 and _add_evidence(rng, case, rng.choice(kinds), case.assignee, t)):
            _note(rng, case, world, case.assignee, t)
    if _decide(rng, world, case, case.assignee, t + step) is None:
        _move(case, Status.CLOSED, case.assignee, t + step * 2)
        return
    _move(case, Status.INVESTIGATING, case.assignee, t + step * 2, note=rng.choice(REOPEN_REASONS))
    _note(rng, case, world, case.assignee, t + step * 3)
    _decide(rng, world, case, case.assignee, t + step * 4, amend=True)
    _move(case, Status.CLOSED, case.assignee, t + step * 5)


def _consistency_notes(rng: random.Random, first_case: int | None) -> None:
    """A decision whose outcome differs from a recorded one on the same market or rulebook section
    (another case's, recorded before it was proposed) says why, as the service requires. Read back
    from the database in time order, cases from `first_case` on: a case decided late may conflict
    with one filed long after it, so no chunk of cases can tell on its own."""
    if first_case is None:
        return
    sections = defaultdict(list)
    for decision, section in (
        RuleCitation.objects.filter(decision__case_id__gte=first_case, rulebook_version__isnull=False)
        .values_list("decision_id", "rulebook_version__section_id")
        .iterator(5000)
    ):
        sections[decision].append(section)
    # A referral is not a ruling: it never conflicts.
    rulings = Decision.objects.filter(case_id__gte=first_case).exclude(outcome=Outcome.REFERRED)
    fields = ("pk", "case_id", "case__market_id", "outcome")
    recorded = rulings.filter(approved_at__isnull=False).order_by("approved_at", "pk")
    proposed = rulings.order_by("proposed_at", "pk")
    # (when, 0 for a recording or 1 for a proposal: a recording comes first at the same moment, …)
    moments = heapq.merge(
        ((at, 0, *rest) for at, *rest in recorded.values_list("approved_at", *fields).iterator(5000)),
        ((at, 1, *rest) for at, *rest in proposed.values_list("proposed_at", *fields).iterator(5000)),
        key=lambda moment: moment[:2],
    )
    seen: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    noted = defaultdict(list)
    for _, check, pk, case, market, outcome in moments:
        keys = [("section", section) for section in sections.get(pk, ())]
        if market is not None:
            keys.append(("market", market))
        if not check:
            for key in keys:
                seen[key][outcome].add(case)
        elif any(
            other != outcome and (len(cases) > 1 or case not in cases)
            for key in keys
            for other, cases in seen[key].items()
        ):
            noted[rng.choice(CONSISTENCY_NOTES)].append(pk)
    for note, pks in noted.items():
        for start in range(0, len(pks), 5000):
            Decision.objects.filter(pk__in=pks[start : start + 5000]).update(consistency_note=note)


# --- Open cases in bulk --------------------------------------------------------------------------


def _plan_open(rng: random.Random, world: _World, slots: range, count: int) -> list[_Case]:
    cases = []
    for index in slots:
        case = _plan(rng, world, _open_filing(_open_slot(rng, world, index, count)))
        if case is not None:
            _open_history(rng, world, case)
            cases.append(case)
    _number(cases)
    return cases


def _open_slot(rng: random.Random, world: _World, index: int, count: int) -> dt.datetime:
    """The filing time of the index-th of `count` open cases, oldest first: each is drawn within
    its own share of the window, so batches follow one another in time and references keep to
    filing order across them (but for a case on a market that closed after its slot). Busier
    lately: about one in twelve filed in the last six hours."""
    share = (index + rng.random()) / count
    return world.now - dt.timedelta(days=max(OPEN_DAYS * (1 - share) ** 1.6, 0.002))


def _open_filing(at: dt.datetime) -> Callable:
    """`_plan`'s filing time for an open case: its slot, unless the market got its rules (or
    closed) after that; then some time since."""

    def filed(rng: random.Random, world: _World, earliest: dt.datetime | None = None) -> dt.datetime:
        if earliest is None or earliest <= at:
            return at
        return _between(rng, min(earliest, world.now), world.now)

    return filed


def _open_history(rng: random.Random, world: _World, case: _Case) -> None:
    """Filed, and for most picked up since: investigating, perhaps after a round of waiting on
    the user, now waiting on them again or escalated. About half were answered in their Intercom
    conversation; the others' first response is still due (or overdue)."""
    now, created = world.now, case.created
    _filing(rng, world, case)
    first_target = FIRST_RESPONSE_HOURS.get(case.account.rank, 8)
    t = created + _hours(
        first_target * (rng.uniform(0.1, 0.9) if rng.random() < 0.85 else rng.uniform(1.1, 4.0))
    )
    to = rng.choices([s for s, _ in OPEN_WEIGHTS], weights=[w for _, w in OPEN_WEIGHTS])[0]
    if t >= now or to == Status.NEW:
        if rng.random() < 0.3:  # the user's own identifiers, sent with the filing
            kinds = [k for k, _ in EVIDENCE_MIX[case.category]]
            _add_evidence(rng, case, rng.choice(kinds), case.filed_by, _between(rng, created, now))
        case.events.sort(key=lambda e: e.at)
        return
    responder = case.assignee or rng.choice(world.specialists)
    if case.assignee is None:
        _assign(case, world, responder, responder, t)
    _move(case, Status.INVESTIGATING, responder, t)
    marks = sorted(_between(rng, t, now) for _ in range(4))
    _gather_evidence(rng, case, responder, t, marks[3])
    case.evidence.sort(key=lambda e: e.added_at)
    # The first response is the first reply the user saw (what the SLA reads), not the status
    # change `_move` takes for it: only a case with an Intercom conversation was answered there.
    replied = bool(case.intercom) and rng.random() < 0.8
    first_reply = _reply(rng, case, responder, _between(rng, t, marks[0])) if replied else None
    if rng.random() < 0.25:  # asked the user something, and they answered
        _move(case, Status.WAITING_ON_USER, responder, marks[0], note=rng.choice(WAITING_NOTES))
        _move(case, Status.INVESTIGATING, responder, marks[1])
        if replied and rng.random() < 0.5:
            _reply(rng, case, responder, _between(rng, marks[1], marks[2]))
    if rng.random() < 0.35:
        _note(rng, case, world, responder, marks[2])
    if to == Status.WAITING_ON_USER:
        _move(case, Status.WAITING_ON_USER, responder, marks[3], note=rng.choice(WAITING_NOTES))
    elif to == Status.ESCALATED:
        _move(case, Status.ESCALATED, responder, marks[3])
    case.first_responded_at = first_reply
    case.events.sort(key=lambda e: e.at)


def _reply(rng: random.Random, case: _Case, by: int, at: dt.datetime) -> dt.datetime:
    """A reply sent to the user's Intercom conversation, as `case_reply_record` keeps it (less the
    template use: the demo drafts none). It leaves the case's revision alone, as the service does."""
    _event(
        case,
        Kind.REPLY,
        by,
        at,
        f"Reply queued for Intercom conversation {case.intercom}",
        after={"sent": True},
        note=rng.choice(REPLIES),
        change=False,
    )
    return at


# --- Writing it all ------------------------------------------------------------------------------

CASE_COLUMNS = [
    "reference",
    "year",
    "number",
    "account",
    "category",
    "market",
    "rule_version",
    "venue",
    "claim",
    "requested_remedy",
    "amount_at_stake",
    "priority",
    "assignee",
    "intercom_conversation_id",
    "status",
    "first_response_due",
    "resolution_due",
    "first_responded_at",
    "decided_at",
    "closed_at",
    "filed_by",
    "revision",
    "created_at",
    "updated_at",
]


def _insert_cases(cases: list[_Case]) -> None:
    rows = (
        (
            c.reference,
            c.year,
            c.number,
            c.account.pk,
            c.category,
            c.market.pk if c.market else None,
            c.rule_version_id,
            c.venue,
            c.claim,
            c.remedy,
            c.amount,
            c.priority,
            c.assignee,
            c.intercom,
            c.status,
            c.created + _hours(FIRST_RESPONSE_HOURS.get(c.account.rank, 8)),
            c.created + _hours(RESOLUTION_HOURS[c.category]),
            c.first_responded_at,
            c.decided_at,
            c.closed_at,
            c.filed_by,
            c.revision,
            c.created,
            c.updated_at or c.created,
        )
        for c in cases
    )
    bulk_insert_rows(DisputeCase, CASE_COLUMNS, rows)
    # The new numbers are each year's highest, so a lookup from each year's first new number
    # finds these rows only, however many batches (or earlier seeding) came before.
    first = {}
    for case in cases:
        first[case.year] = min(first.get(case.year, case.number), case.number)
    ids = {}
    for year, number in sorted(first.items()):
        ids.update(
            DisputeCase.objects.filter(year=year, number__gte=number)
            .values_list("reference", "pk")
            .iterator(2000)
        )
    for case in cases:
        case.pk = ids[case.reference]


def _ids_by_case(model, cases: list[_Case]) -> dict[int, list[int]]:
    """The new rows' ids per case, in insertion order (ids grow with every insert)."""
    found = defaultdict(list)
    lowest = min(c.pk for c in cases)
    for case_id, pk in (
        model.objects.filter(case_id__gte=lowest)
        .order_by("case_id", "pk")
        .values_list("case_id", "pk")
        .iterator(5000)
    ):
        found[case_id].append(pk)
    return found


EVIDENCE_COLUMNS = [
    "case",
    "kind",
    "value",
    "description",
    "file",
    "file_name",
    "content_type",
    "size_bytes",
    "added_by",
    "added_at",
]


def _insert_evidence(cases: list[_Case]) -> int:
    rows = [
        (c.pk, e.kind, e.value, e.description, "", "", "", 0, e.added_by, e.added_at)
        for c in cases
        for e in c.evidence
    ]
    if not rows:
        return 0
    bulk_insert_rows(EvidenceItem, EVIDENCE_COLUMNS, rows)
    ids = _ids_by_case(EvidenceItem, cases)
    for case in cases:
        for item, pk in zip(case.evidence, ids.get(case.pk, []), strict=True):
            item.pk = pk
    return len(rows)


DECISION_COLUMNS = [
    "case",
    "outcome",
    "rationale",
    "remedy",
    "governing_version",
    "governing_reason",
    "state",
    "proposed_by",
    "proposed_at",
    "approved_by",
    "approved_at",
    "supersedes",
    "amendment_reason",
    "consistency_note",
]


def _insert_decisions(cases: list[_Case]) -> tuple[int, int]:
    """Decisions in rounds (an amendment needs the id of the decision it supersedes), then their
    citations."""
    decisions = 0
    rounds = max((len(c.decisions) for c in cases), default=0)
    for index in range(rounds):
        batch = [(c, c.decisions[index]) for c in cases if len(c.decisions) > index]
        bulk_insert_rows(
            Decision,
            DECISION_COLUMNS,
            (
                (
                    c.pk,
                    d.outcome,
                    d.rationale,
                    d.remedy,
                    d.governing_version,
                    d.governing_reason,
                    d.state,
                    d.proposed_by,
                    d.proposed_at,
                    d.approved_by,
                    d.approved_at,
                    d.supersedes.pk if d.supersedes else None,
                    d.amendment_reason,
                    d.consistency_note,
                )
                for c, d in batch
            ),
        )
        ids = _ids_by_case(Decision, [c for c, _ in batch])
        for case, decision in batch:
            decision.pk = ids[case.pk][index]
        decisions += len(batch)
    citations = [
        (d.pk, c.market_rule_version, c.rulebook_version, c.excerpt)
        for case in cases
        for d in case.decisions
        for c in d.citations
    ]
    bulk_insert_rows(
        RuleCitation, ["decision", "market_rule_version", "rulebook_version", "excerpt"], citations
    )
    return decisions, len(citations)


SNAPSHOT_COLUMNS = [
    "case",
    "wallet_address",
    "condition_id",
    "window_start",
    "window_end",
    "source",
    "truncated",
    "row_count",
    "fetched_by",
    "fetched_at",
]
ROW_COLUMNS = [
    "snapshot",
    "case",
    "at",
    "kind",
    "condition_id",
    "title",
    "outcome",
    "side",
    "size",
    "usdc_size",
    "price",
    "transaction_hash",
    "collateral",
]


def _insert_snapshots(cases: list[_Case]) -> tuple[int, int]:
    taken = [c for c in cases if c.snapshot is not None]
    if not taken:
        return 0, 0
    bulk_insert_rows(
        WalletActivitySnapshot,
        SNAPSHOT_COLUMNS,
        (
            (
                c.pk,
                s.wallet,
                s.condition_id,
                s.start,
                s.end,
                SNAPSHOT_SOURCE,
                False,
                len(s.rows),
                s.fetched_by,
                s.fetched_at,
            )
            for c in taken
            for s in (c.snapshot,)
        ),
    )
    ids = _ids_by_case(WalletActivitySnapshot, taken)
    rows = []
    for case in taken:
        case.snapshot.pk = ids[case.pk][-1]
        rows.extend((case.snapshot.pk, case.pk, *row) for row in case.snapshot.rows)
    bulk_insert_rows(WalletActivityRow, ROW_COLUMNS, rows)
    return len(taken), len(rows)


def _after(event: _Event) -> dict:
    link = event.link
    if isinstance(link, _Decision):
        return {"status": Status.DECIDED, "decision": link.pk, "outcome": link.outcome}
    if isinstance(link, _Evidence):
        return {"evidence": link.pk, "kind": link.kind, "value": link.value, "file": ""}
    if isinstance(link, _Snapshot):
        return {"snapshot": link.pk, **event.after}
    return event.after


def _insert_events(cases: list[_Case]) -> int:
    rows = [
        (c.pk, e.kind, e.actor, e.at, e.summary, e.before, _after(e), e.note) for c in cases for e in c.events
    ]
    bulk_insert_rows(CaseEvent, ["case", "kind", "actor", "at", "summary", "before", "after", "note"], rows)
    return len(rows)


def _account_timelines(cases: list[_Case]) -> None:
    """Filings and decisions on the account's timeline, linked to the case file, as the services
    write them."""
    url = reverse("disputes:case_detail", args=["DSP-2000-00000"])
    rows = []
    for case in cases:
        details = {"case": case.reference, "url": url.replace("DSP-2000-00000", case.reference)}
        label = Category(case.category).label.lower()
        rows.append(
            (
                case.account.pk,
                AccountEvent.Kind.DISPUTE,
                case.filed_by,
                case.created,
                f"Dispute {case.reference} filed: {label}",
                details,
            )
        )
        for decision in case.decisions:
            if decision.approved_at is None:
                continue
            verb = "amended" if decision.supersedes is not None else "decided"
            summary = f"Dispute {case.reference} {verb}: {Outcome(decision.outcome).label}"
            rows.append(
                (
                    case.account.pk,
                    AccountEvent.Kind.DISPUTE,
                    decision.approved_by,
                    decision.approved_at,
                    summary,
                    details,
                )
            )
    bulk_insert_rows(AccountEvent, ["account", "kind", "actor", "at", "summary", "details"], rows)


def _counters(cases: list[_Case]) -> None:
    last = {}
    for case in cases:
        last[case.year] = max(last.get(case.year, 0), case.number)
    for year, number in sorted(last.items()):
        CaseCounter.objects.update_or_create(year=year, defaults={"last_number": number})


def _open_counts_changed(open_counts: dict[int, int], world: _World) -> None:
    by_pk = {a.pk: a for a in world.accounts}
    outbox_record_many(
        kind=SyncJob.Kind.CONTACT_ATTRIBUTES,
        payloads={
            f"account:{pk}:disputes": {
                "external_id": by_pk[pk].external_id,
                "custom_attributes": {"advanced_open_disputes": n},
            }
            for pk, n in sorted(open_counts.items())
        },
    )
    with_open = sorted(pk for pk, n in open_counts.items() if n)
    if with_open:
        health_refresh_soon(account_ids=with_open, now=world.now)
