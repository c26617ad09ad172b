"""How the portfolio plugs into the portal: navigation, header search and My day panels."""

import datetime as dt
import zoneinfo

from django.urls import reverse
from django.utils import timezone

from accounts import selectors
from accounts.models import Account, Wallet
from accounts.wallets import ADDRESS_RE
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role
from portal.search import SearchResult, register_search_provider

DUE_PANEL_LIMIT = 25

register_nav_item(
    NavItem(
        label="Accounts",
        url_name="accounts:list",
        roles=selectors.ACCOUNT_READERS,
        order=10,
        primary_for=(Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN),
    )
)


class AccountSearch:
    key = "accounts"
    label = "Accounts"
    hint = "e-mail, wallet address, external id or name"
    roles = selectors.ACCOUNT_READERS

    def search(self, *, user, query, limit):
        q = query.strip()
        exact = None
        if ADDRESS_RE.match(q):
            wallet = Wallet.objects.select_related("account").filter(address=q.lower()).first()
            exact = wallet.account if wallet else None
        elif "@" in q:
            exact = Account.objects.filter(email__iexact=q).first()
        if exact is None:
            exact = Account.objects.filter(external_id=q).first()
        if exact is not None:
            return [self._result(exact, exact=True)]
        if len(q) < 2:
            return []
        matches = selectors.account_list(query=q).order_by("display_name")[:limit]
        return [self._result(a) for a in matches]

    @staticmethod
    def _result(account, exact=False):
        return SearchResult(
            title=account.display_name,
            url=reverse("accounts:detail", args=[account.pk]),
            detail=f"{account.tier.name} · {account.email} · owner {account.owner.username}",
            exact=exact,
        )


register_search_provider(AccountSearch())


def _today_in_zone_of(user) -> tuple[dt.datetime, dt.datetime]:
    """Start of today and of tomorrow in the person's own time zone."""
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_current_timezone()
    today = timezone.localtime(timezone.now(), zone).date()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def overdue_panel(*, user):
    """Accounts whose check-in was due before today (in the person's zone), most overdue first."""
    start_of_today, _ = _today_in_zone_of(user)
    accounts = list(selectors.due_check_ins_for(user, until=start_of_today, limit=DUE_PANEL_LIMIT + 1))
    if not accounts:
        return None
    return {
        "accounts": accounts[:DUE_PANEL_LIMIT],
        "more": len(accounts) > DUE_PANEL_LIMIT,
        "more_query": "due=overdue",
        "more_label": "All overdue accounts",
    }


def due_panel(*, user):
    """Accounts whose check-in falls due today in the person's zone (overdue ones are not here)."""
    start_of_today, start_of_tomorrow = _today_in_zone_of(user)
    accounts = list(
        selectors.due_check_ins_for(
            user, since=start_of_today, until=start_of_tomorrow, limit=DUE_PANEL_LIMIT + 1
        )
    )
    if not accounts:
        return None
    return {
        "accounts": accounts[:DUE_PANEL_LIMIT],
        "more": len(accounts) > DUE_PANEL_LIMIT,
        "more_query": "due=due_soon",
        "more_label": "All accounts due within 7 days",
    }


def follow_up_panel(*, user):
    follow_ups = list(selectors.open_follow_ups_for(user))
    return {"follow_ups": follow_ups} if follow_ups else None


register_panel(
    Panel(
        key="accounts-overdue",
        title="Overdue check-ins",
        template="accounts/myday/_due.html",
        roles=(Role.SPECIALIST,),
        build=overdue_panel,
        order=9,
    )
)
register_panel(
    Panel(
        key="accounts-due",
        title="Check-ins due today",
        template="accounts/myday/_due.html",
        roles=(Role.SPECIALIST,),
        build=due_panel,
        order=10,
    )
)
register_panel(
    Panel(
        key="accounts-follow-ups",
        title="Open follow-ups",
        template="accounts/myday/_follow_ups.html",
        roles=(Role.SPECIALIST,),
        build=follow_up_panel,
        order=20,
    )
)

from accounts import template_context  # noqa: E402, F401 - the "account" source for template previews

# The tier tags the sender puts on contacts, for `manage.py intercom_setup` to create up front.
from accounts.models import Tier  # noqa: E402
from integrations.intercom.contact_tags import register_contact_tag_provider  # noqa: E402


def tier_tag_names() -> list[str]:
    """The Intercom tag of each tier, by rank (its own, or "Advanced: <name>")."""
    return [t.intercom_tag or f"Advanced: {t.name}" for t in Tier.objects.order_by("rank")]


register_contact_tag_provider(tier_tag_names, key="accounts.tier-tags")
