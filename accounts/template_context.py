"""An account as the plain dictionary response templates read (see playbooks.rendering)."""

from accounts import selectors
from accounts.models import Account
from playbooks.contexts import ContextSource, register_context_source
from portal.roles import has_role


def account_template_context(account: Account) -> dict:
    owner = account.owner
    return {
        "display_name": account.display_name,
        "first_name": account.display_name.split()[0] if account.display_name.split() else "",
        "email": account.email,
        "tier": account.tier.name,
        "owner_name": owner.get_full_name() or owner.username,
        "venue": account.get_venue_display(),
    }


def _lookup(user, reference: str) -> dict | None:
    if not has_role(user, *selectors.ACCOUNT_READERS):
        return None
    matches = list(selectors.account_list(query=reference)[:2])
    if len(matches) != 1:
        return None
    return {"account": account_template_context(matches[0])}


register_context_source(
    ContextSource(
        key="account",
        label="Account",
        lookup=_lookup,
        provides=("account",),
        help_text="E-mail, external id or wallet address of an account.",
    )
)
