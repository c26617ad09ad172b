"""Reads for the portfolio pages, My day, search and the CSV export: joins set up front."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, AccountEvent, CheckIn, Exposure, HealthSnapshot, Wallet
from accounts.timeline import timeline_sources
from accounts.wallets import ADDRESS_RE
from portal.models import User
from portal.roles import Role, has_role
from portal.selectors import object_get_for_user

# Who may see the portfolio. Product sees accounts only through the feedback log.
ACCOUNT_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
ACCOUNT_WRITERS = (Role.SPECIALIST, Role.ADMIN)

# Panels other apps add to the account page (portal.page_panels), shown at the top of its side
# column: each renders a card about the account.
ACCOUNT_PANELS = "accounts.account_detail"


def account_list(*, query: str = "") -> QuerySet[Account]:
    """Accounts with their tier and owner joined, optionally narrowed by a search over name,
    e-mail, external id and wallet address (a full address matches exactly, via its index)."""
    accounts = Account.objects.select_related("tier", "owner")
    query = (query or "").strip()
    if not query:
        return accounts
    if ADDRESS_RE.match(query):
        return accounts.filter(Exists(Wallet.objects.filter(account=OuterRef("pk"), address=query.lower())))
    condition = Q(display_name__icontains=query) | Q(email__icontains=query) | Q(external_id=query)
    if query.lower().startswith("0x") and len(query) >= 6:
        condition |= Exists(Wallet.objects.filter(account=OuterRef("pk"), address__startswith=query.lower()))
    return accounts.filter(condition)


def account_get_for_user(*, user: User, pk, to_change: bool = False) -> Account:
    """The one permission-checked way to fetch an account: 404 when missing, 403 when the
    person's role may not see (or, with to_change, change) accounts."""
    return object_get_for_user(
        Account.objects.select_related("tier", "owner"),
        user=user,
        roles=ACCOUNT_WRITERS if to_change else ACCOUNT_READERS,
        denied="Your role does not include the advanced-user portfolio.",
        missing="No such account.",
        pk=pk,
    )


def check_in_editable_by(check_in: CheckIn, user: User, *, account: Account | None = None) -> bool:
    """Who may change or delete a check-in: its author, the account's owner, and Admins. Runs
    no query when `account` (the check-in's) is given or already loaded."""
    if not has_role(user, *ACCOUNT_WRITERS):
        return False
    owner_id = (account or check_in.account).owner_id
    return user.pk in (check_in.specialist_id, owner_id) or has_role(user, Role.ADMIN)


def check_in_get_for_user(*, user: User, pk) -> CheckIn:
    """The one permission-checked way to fetch a check-in to edit or delete: 403 for a role that
    may not write the portfolio, 404 when missing, 403 for a colleague's check-in on an account
    they do not own."""
    check_in = object_get_for_user(
        CheckIn.objects.select_related("account"),
        user=user,
        roles=ACCOUNT_WRITERS,
        denied="Your role does not include the advanced-user portfolio.",
        missing="No such check-in.",
        pk=pk,
    )
    if not check_in_editable_by(check_in, user):
        raise PermissionDenied(
            "Only the person who logged a check-in, the account's owner or an Admin may change it."
        )
    return check_in


def due_state_filter(state: str, now: dt.datetime) -> Q:
    week = now + dt.timedelta(days=7)
    return {
        "overdue": Q(next_check_in_due__lt=now),
        "due_soon": Q(next_check_in_due__gte=now, next_check_in_due__lt=week),
        "on_track": Q(next_check_in_due__gte=week),
        "none": Q(next_check_in_due__isnull=True),
    }.get(state, Q())


def account_timeline(account: Account, *, limit: int = 300) -> list[dict]:
    """Check-ins, recorded changes and what other apps add through
    `accounts.timeline.register_timeline_source` (Intercom conversations), newest first, as
    one list of display entries."""
    check_ins = list(account.check_ins.select_related("specialist")[:limit])
    events = list(account.events.select_related("actor")[:limit])
    entries = [{"at": c.occurred_at, "kind": "check_in", "check_in": c} for c in check_ins]
    entries += [{"at": e.at, "kind": "event", "event": e} for e in events]
    for source in timeline_sources():
        entries += source(account, limit)
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


def open_follow_ups(account: Account) -> list[CheckIn]:
    return list(
        account.check_ins.filter(follow_up_done=False)
        .exclude(follow_up="")
        .order_by("follow_up_due", "occurred_at")
    )


def health_trend(account: Account, *, days: int = 90) -> list[HealthSnapshot]:
    since = timezone.now().date() - dt.timedelta(days=days)
    return list(account.health_history.filter(day__gte=since).order_by("day"))


def due_check_ins_for(
    user: User, *, until: dt.datetime, since: dt.datetime | None = None, limit: int = 50
) -> QuerySet[Account]:
    """The user's active accounts due before `until` (and from `since`, when given), most
    overdue first."""
    due = Q(next_check_in_due__lt=until)
    if since is not None:
        due &= Q(next_check_in_due__gte=since)
    return (
        Account.objects.filter(due, owner=user, status=Account.Status.ACTIVE)
        .select_related("tier")
        .order_by("next_check_in_due")[:limit]
    )


def open_follow_ups_for(user: User, *, limit: int = 50) -> QuerySet[CheckIn]:
    """Open follow-ups on the accounts the user owns, by due date (undated last)."""
    return (
        CheckIn.objects.filter(account__owner=user, follow_up_done=False)
        .exclude(follow_up="")
        .select_related("account")
        .order_by("follow_up_due", "occurred_at")[:limit]
    )


def recent_events(account: Account) -> QuerySet[AccountEvent]:
    return account.events.select_related("actor")


@dataclass
class Holding:
    """One account's position in one outcome of a market, summed over its wallets."""

    account: Account
    outcome: str
    size: Decimal
    value: Decimal | None
    fetched_at: dt.datetime  # the oldest fetch among its wallets
    current: bool  # every wallet's positions are current (exposure_is_current)
    condition_id: str = ""
    title: str = ""
    synthetic: bool = False  # some of its wallets' positions are the demo's, not Polymarket's


def holdings(exposures: QuerySet[Exposure], *, now: dt.datetime | None = None) -> list[Holding]:
    """`exposures` summed per account, market and outcome, largest value first (one query)."""
    from accounts.services.exposure import portfolio_is_current

    now = now or timezone.now()
    rows = (
        exposures.select_related("account__tier", "account__owner", "wallet__portfolio")
        # Each row would decode its wallet's whole positions list again (minutes for a whale).
        .defer("wallet__portfolio__positions")
        .order_by("pk")
    )
    found: dict[tuple, Holding] = {}
    for row in rows:
        portfolio = getattr(row.wallet, "portfolio", None)
        current = portfolio_is_current(
            portfolio, tier_rank=row.account.tier.rank, fetched_at=row.fetched_at, now=now
        )
        key = (row.account_id, row.condition_id, row.outcome)
        held = found.get(key)
        if held is None:
            found[key] = Holding(
                row.account,
                row.outcome,
                row.size,
                row.current_value,
                row.fetched_at,
                current,
                row.condition_id,
                row.title,
                portfolio is not None and portfolio.synthetic,
            )
            continue
        held.size += row.size
        held.value = (
            None
            if held.value is None and row.current_value is None
            else (held.value or 0) + (row.current_value or 0)
        )
        held.fetched_at = min(held.fetched_at, row.fetched_at)
        held.current = held.current and current
        held.synthetic = held.synthetic or (portfolio is not None and portfolio.synthetic)
    return sorted(found.values(), key=lambda h: (-(h.value or 0), h.account.display_name))


def market_holdings(condition_id: str) -> list[Holding]:
    """The portfolio's holders of one market (by its condition id)."""
    return holdings(Exposure.objects.filter(condition_id=(condition_id or "").lower()))


def account_holdings(account: Account) -> list[Holding]:
    """The markets one account is exposed to."""
    return holdings(Exposure.objects.filter(account=account))
