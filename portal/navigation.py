"""Top navigation: each app registers its sections in its AppConfig.ready()."""

from dataclasses import dataclass

from django.urls import reverse

from portal.roles import has_role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...]
    order: int = 100


_items: dict[str, NavItem] = {}


def register_nav_item(item: NavItem) -> None:
    _items[item.url_name] = item


def nav_links_for(user, current_path: str) -> list[dict]:
    """The sections this user may open, in order, with the current one marked."""
    links = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.label)):
        if not has_role(user, *item.roles):
            continue
        url = reverse(item.url_name)
        current = current_path == url if url == "/" else current_path.startswith(url)
        links.append({"label": item.label, "url": url, "current": current})
    return links
