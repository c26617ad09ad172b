"""What disputes adds to an account page: the markets the account holds positions in, with their
resolution state. Accounts sits below disputes and cannot read markets, so disputes fills the
account page's panel spot (accounts.selectors.ACCOUNT_PANELS)."""

from accounts.selectors import ACCOUNT_PANELS, account_holdings
from disputes.models import Market
from disputes.selectors import RULE_READERS
from portal.page_panels import register_page_panel
from portal.roles import has_role

MARKETS_SHOWN = 50


def account_exposure(*, obj, user) -> dict | None:
    """The account's holdings, each with the market the portal follows for it (or None). Two
    queries; None when it holds nothing or for a person who may not read markets."""
    if not has_role(user, *RULE_READERS):
        return None
    held = account_holdings(obj)
    if not held:
        return None
    shown = held[:MARKETS_SHOWN]  # the largest by value: a whale holds thousands
    markets = {
        m.condition_id: m for m in Market.objects.filter(condition_id__in={h.condition_id for h in shown})
    }
    return {
        "rows": [(h, markets.get(h.condition_id)) for h in shown],
        "total": len(held),
        "more": len(held) - len(shown),
    }


register_page_panel(
    page=ACCOUNT_PANELS,
    name="disputes.exposure",
    template="disputes/_account_exposure_panel.html",
    context=account_exposure,
)
