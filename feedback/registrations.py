"""How the feedback log plugs in: navigation, header search, follow-ups and untriaged items on My day,
and the "feedback" source of template previews."""

from urllib.parse import urlencode

from django.urls import reverse

from feedback import selectors
from feedback.models import FeedbackItem
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role
from portal.search import SearchResult, register_search_provider

register_nav_item(
    NavItem(
        label="Feedback",
        url_name="feedback:list",
        roles=selectors.FEEDBACK_READERS,
        order=40,
        primary_for=(Role.PRODUCT,),
    )
)


class FeedbackSearch:
    key = "feedback"
    label = "Feedback"
    hint = "title or #number"
    roles = selectors.FEEDBACK_READERS

    def search(self, *, user, query, limit):
        q = query.strip()
        if len(q) < 3 and not q.lstrip("#").isdigit():
            return []
        return [
            SearchResult(
                title=f"#{item.pk} {item.title}",
                url=reverse("feedback:detail", args=[item.pk]),
                detail=f"{item.get_status_display()} · {item.impact_accounts} accounts",
                exact=q.lstrip("#") == str(item.pk),
            )
            for item in selectors.item_list(query=q).order_by("-impact_score")[:limit]
        ]


register_search_provider(FeedbackSearch())


def waiting_follow_ups(user):
    """The person's 25 oldest follow-ups not done (the partial index feedback_follow_up_waiting_idx)."""
    from feedback.models import FollowUp

    return (
        FollowUp.objects.filter(owner=user, done_at__isnull=True)
        .select_related("item", "account")
        .order_by("created_at")[:25]
    )


def follow_ups_panel(*, user):
    from playbooks.drafts import offered_templates

    waiting = list(waiting_follow_ups(user))
    if not waiting:
        return None
    templates = offered_templates("feedback_follow_up")
    return {"follow_ups": waiting, "template": templates[0] if templates else None}


register_panel(
    Panel(
        key="feedback-follow-ups",
        title="Tell users about their feedback",
        template="feedback/myday/_follow_ups.html",
        roles=(Role.SPECIALIST, Role.ADMIN),
        build=follow_ups_panel,
        order=8,
    )
)


def untriaged_panel(*, user):
    count, oldest = selectors.untriaged()
    if not count:
        return None
    query = urlencode({"status": FeedbackItem.Status.NEW, "sort": "created_at"})
    return {"count": count, "items": oldest, "log_url": f"{reverse('feedback:list')}?{query}"}


register_panel(
    Panel(
        key="feedback-untriaged",
        title="Feedback waiting for triage",
        template="feedback/myday/_untriaged.html",
        roles=(Role.PRODUCT,),
        build=untriaged_panel,
        order=10,
    )
)

from feedback import template_context  # noqa: E402, F401 - the "feedback" source for template previews
