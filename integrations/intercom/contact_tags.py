"""Which tags the portal puts on Intercom contacts, so `manage.py intercom_setup` can create them
before the sender applies them. Integrations knows no domain app: an app that tags contacts
registers a provider (a callable returning tag names, read when the command runs) from its
`AppConfig.ready()` (accounts does so for the tier tags in accounts/registrations.py)."""

from collections.abc import Callable

ContactTagProvider = Callable[[], list[str]]

_providers: dict[str, ContactTagProvider] = {}


def register_contact_tag_provider(provider: ContactTagProvider, *, key: str) -> None:
    """Add (or, under the same key, replace) a provider of contact tag names."""
    _providers[key] = provider


def contact_tag_names() -> list[str]:
    """Every provider's tags, in the order the providers were registered and each returns them."""
    return [name for provider in _providers.values() for name in provider()]
