"""Top navigation: each app registers its sections in its AppConfig.ready()."""

from dataclasses import dataclass

from django.urls import reverse

from portal.roles import has_role


@dataclass(frozen=True)
class NavItem:
    """A section of the top navigation. `primary_for`: the roles whose daily work it is; it sits
    in the bar for them, and under "More" for the others, so the header keeps to one line on a
    laptop (thirteen sections do not fit beside the search and the user menu)."""

    label: str
    url_name: str
    roles: tuple[str, ...]
    order: int = 100
    primary_for: tuple[str, ...] = ()


_items: dict[str, NavItem] = {}


def register_nav_item(item: NavItem) -> None:
    _items[item.url_name] = item


def nav_links_for(user, current_path: str) -> list[dict]:
    """The sections this user may open, in order, with the current one marked: the section
    whose address is the longest prefix of the page's (/disputes/markets/ is Markets, not
    Disputes)."""
    links = [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "current": False,
            "primary": bool(item.primary_for) and has_role(user, *item.primary_for),
        }
        for item in sorted(_items.values(), key=lambda i: (i.order, i.label))
        if has_role(user, *item.roles)
    ]
    matching = [
        link
        for link in links
        if current_path == link["url"] or (link["url"] != "/" and current_path.startswith(link["url"]))
    ]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["current"] = True
    return links
