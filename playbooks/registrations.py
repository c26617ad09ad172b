"""How playbooks plug into the portal: navigation, header search and the stale-review panel."""

from django.urls import reverse

from playbooks import selectors
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role
from portal.search import SearchResult, register_search_provider

register_nav_item(
    NavItem(
        label="Playbooks",
        url_name="playbooks:list",
        roles=selectors.PLAYBOOK_READERS,
        order=30,
    )
)


class PlaybookSearch:
    key = "playbooks"
    label = "Playbooks"
    hint = "title or words in the text"
    roles = selectors.PLAYBOOK_READERS

    def search(self, *, user, query, limit):
        if len(query.strip()) < 3:
            return []
        found = selectors.playbook_search(selectors.visible_playbooks(user), query)
        if not found.query.order_by:
            found = found.order_by("title")
        return [
            SearchResult(
                title=p.title,
                url=reverse("playbooks:detail", args=[p.slug]),
                detail=f"{p.get_category_display()} · {p.get_status_display()}",
                exact=p.slug == query.strip().lower(),
            )
            for p in found[:limit]
        ]


register_search_provider(PlaybookSearch())


def stale_playbooks_panel(*, user):
    stale = selectors.stale_for_owner(user)
    return {"playbooks": stale} if stale else None


register_panel(
    Panel(
        key="playbooks-stale",
        title="Playbooks due for review",
        template="playbooks/myday/_stale.html",
        roles=(Role.SPECIALIST, Role.ADMIN),
        build=stale_playbooks_panel,
        order=40,
    )
)
