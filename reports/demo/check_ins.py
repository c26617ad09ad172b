"""Check-ins back to the start of the history window: the portfolio seeds about twenty per
account (months for a monthly account, weeks for a weekly one); each account's history is carried
back from its oldest one at its cadence, by its owner, so every month of the window shows the
check-ins each tier is due. Only older check-ins are added: each account's newest check-in, and
so its last check-in, last contact and next due date, stay as the portfolio set them."""

import datetime as dt
import random

from django.db.models import Min

from accounts.demo import CHECK_IN_COLUMNS, FOLLOW_UPS, SUMMARIES
from accounts.models import Account, Channel, CheckIn
from portal.db import bulk_insert_rows
from reports.demo.moments import Window

CHUNK = 5000
KIND_WEIGHTS = {
    CheckIn.Kind.SCHEDULED: 70,
    CheckIn.Kind.AD_HOC: 12,
    CheckIn.Kind.INBOUND: 12,
    CheckIn.Kind.FOLLOW_UP: 6,
}
SENTIMENT_WEIGHTS = {
    CheckIn.Sentiment.POSITIVE: 45,
    CheckIn.Sentiment.NEUTRAL: 40,
    CheckIn.Sentiment.NEGATIVE: 15,
}


def seed_history_check_ins(*, rng: random.Random, window: Window, progress) -> int:
    oldest = dict(CheckIn.objects.values_list("account").annotate(first=Min("occurred_at")).order_by())
    rows, written = [], 0
    for pk, owner_id, override, cadence in Account.objects.order_by("pk").values_list(
        "pk", "owner_id", "cadence_override_days", "tier__default_cadence_days"
    ):
        if owner_id is None:
            continue
        days = override or cadence
        when = oldest.get(pk, window.now)
        while True:
            when -= dt.timedelta(days=days * rng.uniform(0.6, 1.3))
            if when < window.start:
                break
            rows.append(_row(rng, pk, owner_id, when))
        if len(rows) >= CHUNK:
            bulk_insert_rows(CheckIn, CHECK_IN_COLUMNS, rows)
            written += len(rows)
            rows = []
    bulk_insert_rows(CheckIn, CHECK_IN_COLUMNS, rows)
    written += len(rows)
    progress(f"{written} earlier check-ins")
    return written


def _row(rng: random.Random, account_id: int, owner_id: int, when: dt.datetime) -> tuple:
    follow_up = rng.choice(FOLLOW_UPS) if rng.random() < 0.05 else ""
    return (
        account_id,
        owner_id,
        when,
        rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0],
        rng.choice(list(Channel)),
        rng.choice(SUMMARIES),
        rng.choices(list(SENTIMENT_WEIGHTS), weights=list(SENTIMENT_WEIGHTS.values()))[0],
        follow_up,
        (when + dt.timedelta(days=rng.randint(2, 10))).date() if follow_up else None,
        bool(follow_up),
        when + dt.timedelta(days=rng.uniform(1, 6)) if follow_up else None,
        when,
        when,
    )
