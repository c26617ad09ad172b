"""Factories for the portfolio. Accounts are created through the real service, so every
derived field (next due, health, outbox job) is what production would hold."""

from importlib import import_module
from pathlib import Path

import factory
from django.utils import timezone

from accounts.models import Account, Tier
from accounts.services import AccountInput, WalletInput, account_create, check_in_log
from portal.roles import Role
from portal.tests.factories import UserFactory

DEFAULT_TIERS = import_module("accounts.migrations.0002_default_tiers").DEFAULT_TIERS


def specialist_user(**kwargs):
    return UserFactory(roles=[Role.SPECIALIST], **kwargs)


def tier(rank: int = 1) -> Tier:
    """A default tier. A transactional test empties every table when it ends, the tiers the
    migration created included, so they are made again when missing."""
    found = Tier.objects.filter(rank=rank).first()
    if found is not None:
        return found
    for name, tier_rank, cadence, weight, tag, description in DEFAULT_TIERS:
        Tier.objects.get_or_create(
            rank=tier_rank,
            defaults={
                "name": name,
                "default_cadence_days": cadence,
                "weight": weight,
                "intercom_tag": tag,
                "description": description,
            },
        )
    return Tier.objects.get(rank=rank)


_counter = iter(range(1, 10**9))


def make_account(*, owner=None, tier_rank: int = 1, wallets: list[str] = (), by=None, **fields) -> Account:
    n = next(_counter)
    owner = owner or specialist_user()
    data = AccountInput(
        display_name=fields.pop("display_name", f"Trader {n}"),
        # Unique e-mail and external id in a namespace no test writes by hand ("trader1@…" and
        # "user-1" are the CSV rows and Intercom contacts of the tests): the counter is global, so
        # a hand-written value would clash with it only when the test runs early or alone.
        email=fields.pop("email", f"account{n}@example.com"),
        external_id=fields.pop("external_id", f"account-{n}"),
        tier=fields.pop("tier", None) or tier(tier_rank),
        owner=owner,
        wallets=[WalletInput(address=a) for a in wallets],
        **fields,
    )
    return account_create(by=by or owner, data=data)


def make_check_in(account: Account, *, by=None, days_ago: float = 0, **fields):
    return check_in_log(
        account=account,
        by=by or account.owner,
        occurred_at=fields.pop("occurred_at", timezone.now() - timezone.timedelta(days=days_ago)),
        summary=fields.pop("summary", "Talked through their open positions."),
        **fields,
    )


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    name = factory.Sequence(lambda n: f"Test tier {n}")
    rank = factory.Sequence(lambda n: 100 + n)
    default_cadence_days = 10


# Polymarket's Data API in tests: a host that never resolves, answered by `responses` with the
# recorded payloads of integrations/tests/fixtures/polymarket (the `polymarket` fixture).
DATA_API = "https://data-api.polymarket.test"
RECORDED_POLYMARKET = (
    Path(__file__).resolve().parents[2] / "integrations" / "tests" / "fixtures" / "polymarket"
)
WHALE_WALLET = "0x7c3db723f1d4d8cb9c550095203b686cb11e5c6b"  # the recorded positions' wallet
OTHER_WALLET = "0x2005d16a84ceefa912d4e380cd32e7ff827875ea"


def recorded_data_api_page(name: str) -> str:
    """A recorded v2 payload in its `{data, pagination}` envelope, the last page."""
    return f'{{"data": {(RECORDED_POLYMARKET / name).read_text()}, "pagination": {{"next_cursor": null}}}}'


def make_exposure(
    account,
    condition_id: str,
    *,
    outcome: str = "No",
    size="1000",
    value="600",
    fetched_at=None,
    with_portfolio: bool = True,
):
    """One position of the account's first wallet in a market, as an exposure refresh stores it;
    `with_portfolio` also writes the wallet's portfolio row fetched then (so the position reads as
    current, or stale when `fetched_at` is old). Returns the Exposure."""
    from decimal import Decimal

    from accounts.models import Exposure, WalletPortfolio

    wallet = account.wallets.order_by("pk").first()
    fetched_at = fetched_at or timezone.now()
    if with_portfolio:
        WalletPortfolio.objects.create(wallet=wallet, fetched_at=fetched_at, attempted_at=fetched_at)
    return Exposure.objects.create(
        account=account,
        wallet=wallet,
        condition_id=condition_id,
        outcome=outcome,
        size=Decimal(size),
        current_value=Decimal(value),
        fetched_at=fetched_at,
    )
