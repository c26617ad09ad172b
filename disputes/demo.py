"""Demo markets and rulebook for `manage.py seed_demo --markets N`: no network.

The first markets come from synthetic Gamma payloads shipped in the repo (imported through the
real import service); the rest are generated, each with rules of a few paragraphs and, for
about half, a clarification that makes a second version. The demo rulebook is written for this
project (disputes/demo/*.md)."""

import datetime as dt
import random
from pathlib import Path

from django.utils import timezone

from accounts.models import Venue
from disputes.models import Clarification, Market, MarketRuleVersion
from disputes.services import market_upsert_from_gamma, rulebook_import
from disputes.services.markets import content_hash
from integrations.polymarket.gamma import demo_markets
from portal.db import bulk_insert_rows, bulk_update_rows

DEMO_DIR = Path(__file__).resolve().parent / "demo"
TOPICS = [
    ("Will {team} win the {year} championship?", "sports"),
    ("Will the Fed cut rates at its {month} {year} meeting?", "economics"),
    ("Will {city} record a temperature above {t}°F on {month} 15?", "weather"),
    ("Will {coin} close above ${price}k on {month} 30?", "crypto"),
    ("Will the {film} gross over ${price}M worldwide by {month} {year}?", "culture"),
]
WORDS = {
    "team": ["the Harbor Hawks", "Granite City FC", "the Valley Comets", "Northside United"],
    "city": ["Denver", "Chicago", "Austin", "Seattle", "Boston"],
    "coin": ["BTC", "ETH", "SOL"],
    "film": ["demo sequel", "animated feature", "space drama"],
    "month": ["January", "March", "June", "September", "December"],
}
RULES = (
    'This market will resolve to "Yes" if {question_lower} Otherwise, it will resolve to "No".\n\n'
    "The resolution source for this market will be {source}. If the source is unavailable at "
    "resolution time, a consensus of credible reporting will be used.\n\n"
    "If the event is cancelled or postponed beyond the end date, this market will resolve to "
    '"No". Synthetic demo market, not from Polymarket.'
)


def seed_markets(*, rng: random.Random, count: int, progress=lambda _: None) -> dict[str, int]:
    now = timezone.now()
    imported = 0
    for data in demo_markets()[:count]:
        market_upsert_from_gamma(data=data, by=None, fetched_at=now)
        imported += 1
    generated = max(0, count - imported)
    markets = [_generated_market(rng, n, now) for n in range(generated)]
    Market.objects.bulk_create(markets, batch_size=2000)
    versions = _seed_versions(rng, markets, now)
    progress(f"{imported + generated} markets, {versions} rule versions")
    rulebook = sum(
        sum(
            rulebook_import(
                text=(DEMO_DIR / f"rulebook_{venue}.md").read_text(),
                venue=venue,
                effective_from=dt.date(2026, 1, 1),
                by=None,
            ).values()
        )
        for venue in (Venue.INTERNATIONAL, Venue.US)
    )
    return {"markets": imported + generated, "versions": versions, "rulebook_sections": rulebook}


def _generated_market(rng: random.Random, n: int, now: dt.datetime) -> Market:
    template, _ = rng.choice(TOPICS)
    values = {key: rng.choice(options) for key, options in WORDS.items()}
    values.update(year=rng.choice([2026, 2027]), t=rng.randint(80, 105), price=rng.randint(50, 250))
    question = template.format(**values)
    end = now + dt.timedelta(days=rng.randint(-200, 300))
    closed = end < now
    yes = rng.random() < 0.5
    venue = Venue.US if rng.random() < 0.15 else Venue.INTERNATIONAL
    manual = venue == Venue.US
    return Market(
        venue=venue,
        source=Market.Source.MANUAL if manual else Market.Source.GAMMA,
        gamma_id=None if manual else str(2_000_000 + n),
        condition_id=None if manual else f"0x{rng.getrandbits(256):064x}",
        slug=f"demo-market-{n}",
        question=question,
        end_date=end,
        closed_at=end if closed else None,
        is_closed=closed,
        is_resolved=closed,
        resolved_outcome=("Yes" if yes else "No") if closed else "",
        outcomes=[
            {
                "name": "Yes",
                "price": ("1" if yes else "0") if closed else f"0.{rng.randint(10, 90)}",
                "token_id": "",
            },
            {"name": "No", "price": ("0" if yes else "1") if closed else None, "token_id": ""},
        ],
        uma_status="resolved" if closed and not manual else "",
        uma_history=(
            ["proposed", "disputed", "proposed", "resolved"] if closed and rng.random() < 0.1 else []
        ),
        volume_usd=rng.randint(1_000, 5_000_000),
        last_fetched_at=now,
    )


VERSION_COLUMNS = [
    "market",
    "number",
    "rules_text",
    "resolution_source",
    "clarifications",
    "origin",
    "source_url",
    "effective_at",
    "content_hash",
    "recorded_at",
    "recorded_by",
]


def _seed_versions(rng: random.Random, markets: list[Market], now: dt.datetime) -> int:
    """Version 1 for every generated market; 80% get a clarification (a new version) and 20% a
    reworded description (another), so markets average two versions, as in real life."""
    rows, clarifications, current, counts = [], [], {}, {}
    for market in markets:
        text = RULES.format(question_lower=market.question[5:].rstrip("?") + ".", source="official reporting")
        at = now - dt.timedelta(days=rng.randint(30, 400))
        notes: list[dict] = []
        rows.append(
            (
                market.pk,
                1,
                text,
                "",
                [],
                MarketRuleVersion.Origin.GAMMA,
                "",
                at,
                content_hash(text, "", []),
                now,
                None,
            )
        )
        number = 1
        if rng.random() < 0.8:
            at += dt.timedelta(days=rng.randint(1, 25))
            notes = [
                {
                    "text": "Clarification: a result announced after the end date counts only if the event "
                    "itself happened before it.",
                    "source_url": "",
                    "published_at": at.isoformat(),
                }
            ]
            number += 1
            rows.append(
                (
                    market.pk,
                    number,
                    text,
                    "",
                    notes,
                    MarketRuleVersion.Origin.CLARIFICATION,
                    "",
                    at,
                    content_hash(text, "", notes),
                    now,
                    None,
                )
            )
            clarifications.append(
                Clarification(market=market, text=notes[0]["text"], published_at=at, recorded_at=now)
            )
        if rng.random() < 0.2:
            at += dt.timedelta(days=rng.randint(1, 10))
            text = text.replace("a consensus of credible reporting", "the next official publication")
            number += 1
            rows.append(
                (
                    market.pk,
                    number,
                    text,
                    "",
                    notes,
                    MarketRuleVersion.Origin.GAMMA,
                    "",
                    at,
                    content_hash(text, "", notes),
                    now,
                    None,
                )
            )
        current[market.pk] = number
        counts[market.pk] = len(notes)
    bulk_insert_rows(MarketRuleVersion, VERSION_COLUMNS, rows)
    Clarification.objects.bulk_create(clarifications, batch_size=2000)
    latest = {
        (market_id, number): pk
        for pk, market_id, number in MarketRuleVersion.objects.filter(
            market__slug__startswith="demo-market-"
        ).values_list("pk", "market_id", "number")
    }
    bulk_update_rows(
        Market,
        ["current_version", "clarification_count"],
        ((latest[(pk, number)], counts[pk], pk) for pk, number in current.items()),
    )
    return len(rows)
