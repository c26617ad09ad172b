"""Demo portfolio for `manage.py seed_demo --accounts N`: deterministic for a seed, bulk-inserted.

Seeding bypasses the services for speed but leaves every invariant they keep: each account's
last check-in, last contact and next due follow from its check-ins; health and today's snapshot
come from the real health computation; every account has its Intercom outbox job.

`seed_exposure` then fetches the wallets' positions as the resolution radar's sweep does, through
the real Data API client and `portfolio_store`, answered by the synthetic demo fixtures (never the
network), so the radar has holders to tell about.
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import (
    Account,
    AccountEvent,
    Channel,
    CheckIn,
    Exposure,
    HealthSnapshot,
    Tier,
    Venue,
    Wallet,
)
from accounts.services import health_refresh, tiers_ensure_defaults
from accounts.services.exposure import FOUR_PLACES, portfolio_store
from integrations.polymarket.data_api import DataApiClient
from integrations.polymarket.demo import DemoDataAdapter
from portal.db import bulk_insert_rows

FIRMS = [
    "Capital",
    "Trading",
    "Partners",
    "Research",
    "Markets",
    "Quant",
    "Labs",
    "Holdings",
    "Fund",
    "Desk",
]
PREFIXES = [
    "Northwind",
    "Blue Heron",
    "Kestrel",
    "Meridian",
    "Halcyon",
    "Juniper",
    "Obsidian",
    "Granite",
    "Aurora",
    "Tidewater",
    "Lighthouse",
    "Copperline",
    "Stillwater",
    "Redwood",
    "Polaris",
    "Saffron",
    "Ironbark",
    "Vela",
]
HANDLES = [
    "whale",
    "mm",
    "degen",
    "oracle",
    "alpha",
    "delta",
    "gamma",
    "sigma",
    "theta",
    "kappa",
    "zen",
    "nova",
]
SUMMARIES = [
    "Walked through the new fee schedule on 15-minute crypto markets; no concerns.",
    "Asked about the resolution source for an election market; pointed to the rules and the clarification.",
    "Reported a delayed withdrawal; confirmed it settled on Polygon and shared the transaction.",
    "Market maker asked for tick-size change notice; promised to relay to product.",
    "Frustrated about a disputed resolution; explained the UMA process and the timeline.",
    "Quarterly review of volume and open positions; happy with the service.",
    "Questions about pUSD migration and allowances; resolved on the call.",
    "Order rejected for minimum size; explained orderMinSize for that market.",
    "Wants API rate-limit increase for the CLOB; logged as feedback.",
    "Inbound: deposit sent to the EOA instead of the profile wallet; walked through recovery.",
]
FOLLOW_UPS = [
    "Send the fee schedule summary",
    "Confirm the clarification text with the markets team",
    "Share the withdrawal transaction link",
    "Check back after the market resolves",
    "Introduce to the API team",
]
TIME_ZONES = [
    "America/New_York",
    "Europe/London",
    "Asia/Singapore",
    "America/Chicago",
    "Europe/Zurich",
    "Asia/Dubai",
]
# Tier mix of a real book: few whales, many rising users.
TIER_WEIGHTS = [0.15, 0.35, 0.5]
BATCH = 5000


@dataclass
class SeededPortfolio:
    accounts: int = 0
    wallets: int = 0
    check_ins: int = 0
    snapshots: int = 0


def _name(rng: random.Random, n: int) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(PREFIXES)} {rng.choice(FIRMS)}"
    return f"{rng.choice(HANDLES)}{n % 997}.eth"


def _check_in_times(rng: random.Random, cadence: int, now: dt.datetime, count: int) -> list[dt.datetime]:
    """`count` check-in times, newest first, about one cadence apart; about one book in six is
    overdue, as in real life."""
    newest = now - dt.timedelta(days=rng.uniform(0.1, cadence * (1.6 if rng.random() < 0.18 else 0.95)))
    times = [newest]
    for _ in range(count - 1):
        times.append(times[-1] - dt.timedelta(days=cadence * rng.uniform(0.6, 1.3)))
    return times


def seed_portfolio(
    *, rng: random.Random, specialists: list, count: int, progress: Callable[[str], None] = lambda _: None
) -> SeededPortfolio:
    tiers_ensure_defaults()
    now = timezone.now()
    tiers = list(Tier.objects.order_by("rank")[:3])
    result = SeededPortfolio()
    accounts, plans = [], []
    for n in range(count):
        tier = rng.choices(tiers, weights=TIER_WEIGHTS[: len(tiers)])[0]
        override = rng.choice([3, 5, 10, 21]) if rng.random() < 0.1 else None
        cadence = override or tier.default_cadence_days
        status = rng.choices(list(Account.Status), weights=[0.92, 0.05, 0.03])[0]
        volume = Decimal(round(rng.lognormvariate(13 - tier.rank, 1.0), 2))
        times = _check_in_times(rng, cadence, now, max(1, round(rng.gauss(20, 6))))
        account = Account(
            display_name=_name(rng, n),
            email=f"trader{n + 1}@example.net",
            external_id=f"pm-{100000 + n}",
            venue=Venue.US if rng.random() < 0.15 else Venue.INTERNATIONAL,
            tier=tier,
            owner=specialists[n % len(specialists)],
            status=status,
            cadence_override_days=override,
            time_zone=rng.choice(TIME_ZONES),
            preferred_channel=rng.choice(list(Channel)),
            volume_30d_usd=volume,
            volume_prior_30d_usd=(volume * Decimal(rng.uniform(0.5, 1.6))).quantize(Decimal("0.01")),
            last_check_in_at=times[0],
            last_contact_at=times[0],
            next_check_in_due=times[0] + dt.timedelta(days=cadence)
            if status == Account.Status.ACTIVE
            else None,
        )
        accounts.append(account)
        plans.append(times)
    Account.objects.bulk_create(accounts, batch_size=2000)
    result.accounts = len(accounts)
    progress(f"{result.accounts} accounts")

    result.wallets = _seed_wallets(rng, accounts)
    progress(f"{result.wallets} wallets")
    result.check_ins = _seed_check_ins(rng, accounts, plans, now, progress)
    AccountEvent.objects.bulk_create(
        [
            AccountEvent(account=a, kind=AccountEvent.Kind.IMPORTED, at=now, summary="Demo account seeded")
            for a in accounts
        ],
        batch_size=BATCH,
    )
    health_refresh(now=now)
    result.snapshots = _seed_health_history(rng, now, progress)
    # health_refresh queued an Intercom contact update for every account it scored (all of them:
    # recency always has something to say), so each account has its outbox job.
    return result


def _seed_wallets(rng: random.Random, accounts: list[Account]) -> int:
    wallets, seen = [], set()
    for account in accounts:
        for index in range(rng.choice([1, 2, 3, 3, 4, 5])):
            address = f"0x{rng.getrandbits(160):040x}"
            if address in seen:
                continue
            seen.add(address)
            wallets.append(
                Wallet(account=account, address=address, label="" if index == 0 else f"Wallet {index + 1}")
            )
    Wallet.objects.bulk_create(wallets, batch_size=BATCH)
    return len(wallets)


CHECK_IN_COLUMNS = [
    "account",
    "specialist",
    "occurred_at",
    "kind",
    "channel",
    "summary",
    "sentiment",
    "follow_up",
    "follow_up_due",
    "follow_up_done",
    "follow_up_done_at",
    "created_at",
    "updated_at",
]


def _seed_check_ins(rng, accounts, plans, now, progress) -> int:
    kinds, channels = [k.value for k in CheckIn.Kind], [c.value for c in Channel]
    sentiments, weights = [s.value for s in CheckIn.Sentiment], [0.45, 0.4, 0.15]
    rows = []
    for account, times in zip(accounts, plans, strict=True):
        for when in times:
            follow_up = rng.choice(FOLLOW_UPS) if rng.random() < 0.05 else ""
            done = bool(follow_up) and (now - when).days > 7
            rows.append(
                (
                    account.pk,
                    account.owner_id,
                    when,
                    rng.choice(kinds),
                    rng.choice(channels),
                    rng.choice(SUMMARIES),
                    rng.choices(sentiments, weights=weights)[0],
                    follow_up,
                    (when + dt.timedelta(days=rng.randint(2, 10))).date() if follow_up else None,
                    done,
                    when + dt.timedelta(days=3) if done else None,
                    now,
                    now,
                )
            )
    progress(f"{len(rows)} check-ins…")
    bulk_insert_rows(CheckIn, CHECK_IN_COLUMNS, rows)
    return len(rows)


def _seed_health_history(rng: random.Random, now: dt.datetime, progress, days: int = 90) -> int:
    """89 earlier days of scores per account: a random walk that ends at today's real score."""
    today = now.date()
    earlier = [today - dt.timedelta(days=back) for back in range(1, days)]
    rows = []
    for account_id, score in (
        Account.objects.exclude(health_score=None).values_list("id", "health_score").iterator()
    ):
        value = score
        for day in earlier:
            value = max(0, min(100, value + rng.randint(-4, 4)))
            rows.append((account_id, day, value))
    bulk_insert_rows(HealthSnapshot, ["account", "day", "score"], rows)
    progress(f"{len(rows)} health history rows")
    return len(rows)


# The wallets of this many accounts (the first, each specialist's share of them) get their
# positions while seeding, which keeps it fast; the worker's exposure sweep fetches the others'
# within minutes of `make run` starting (never-fetched wallets first, as after an import).
EXPOSURE_ACCOUNTS = 100


def seed_exposure(*, progress: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Every wallet of the first EXPOSURE_ACCOUNTS accounts fetched and stored as a refresh does
    (`portfolio_store`: positions, value and exposure rows), marked synthetic: the Data API client
    answers from the synthetic fixtures whatever POLYMARKET_DEMO_FIXTURES says, so seeding never
    calls Polymarket."""
    accounts = Account.objects.order_by("pk").values_list("pk", flat=True)[:EXPOSURE_ACCOUNTS]
    wallets = list(Wallet.objects.filter(account_id__in=list(accounts)).order_by("pk"))
    now = timezone.now()
    with DataApiClient() as client:
        client.session.mount(f"{client.base_url}/", DemoDataAdapter())
        client.session.trust_env = False  # no proxies to look up for answers that never leave here
        for wallet in wallets:
            value = client.value(wallet.address)
            portfolio_store(
                wallet,
                positions=client.positions(wallet.address),
                fetched_at=now,
                attempted_at=now,
                value_usd=value.quantize(FOUR_PLACES) if value is not None else None,
                last_error="",
                synthetic=True,
            )
    exposures = Exposure.objects.count()
    progress(f"{len(wallets)} wallets, {exposures} positions (synthetic)")
    return {"wallets": len(wallets), "exposures": exposures}
