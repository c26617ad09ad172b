"""Reads for playbooks and templates: who may see what, search, staleness."""

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import Http404

from playbooks.models import Playbook, PlaybookRevision, ResponseTemplate, TemplateRevision
from portal.models import User
from portal.roles import Role, has_role
from portal.selectors import object_get_for_user

PLAYBOOK_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.PRODUCT, Role.ADMIN)
PLAYBOOK_EDITORS = (Role.SPECIALIST, Role.ADMIN)


def can_edit(user: User) -> bool:
    return has_role(user, *PLAYBOOK_EDITORS)


def visible_playbooks(user: User) -> QuerySet[Playbook]:
    """Editors see every playbook; Product and Leadership read published ones only."""
    playbooks = Playbook.objects.select_related("owner")
    if can_edit(user):
        return playbooks
    if has_role(user, *PLAYBOOK_READERS):
        return playbooks.filter(status=Playbook.Status.PUBLISHED)
    return playbooks.none()


def playbook_search(playbooks: QuerySet[Playbook], query: str) -> QuerySet[Playbook]:
    """Title and current text. PostgreSQL: full-text search over the stored vector, best match
    first; SQLite: a case-insensitive match of every word, in title order."""
    query = (query or "").strip()
    if not query:
        return playbooks
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        search = SearchQuery(query, search_type="websearch", config="english")
        return (
            playbooks.filter(search_vector=search)
            .annotate(rank=SearchRank(F("search_vector"), search))
            .order_by("-rank", "title")
        )
    for word in query.split()[:8]:
        playbooks = playbooks.filter(Q(title__icontains=word) | Q(current_body__icontains=word))
    return playbooks


def playbook_get_for_user(*, user: User, slug: str, to_change: bool = False) -> Playbook:
    return object_get_for_user(
        visible_playbooks(user).select_related("current_revision__author"),
        user=user,
        roles=PLAYBOOK_EDITORS if to_change else PLAYBOOK_READERS,
        denied="Your role does not include editing playbooks.",
        missing="No such playbook.",
        slug=slug,
    )


def revisions(playbook: Playbook) -> list[PlaybookRevision]:
    return list(playbook.revisions.select_related("author").defer("body").order_by("-number"))


def revision_get(playbook: Playbook, number) -> PlaybookRevision:
    try:
        return playbook.revisions.select_related("author").get(number=int(number))
    except (PlaybookRevision.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such revision.") from None


def stale_for_owner(user: User, *, limit: int = 20) -> list[Playbook]:
    return list(Playbook.objects.stale().filter(owner=user).order_by("next_review_on")[:limit])


def templates_visible(user: User) -> QuerySet[ResponseTemplate]:
    templates = ResponseTemplate.objects.select_related("playbook", "current_revision")
    if can_edit(user):
        return templates
    return templates.filter(playbook__status=Playbook.Status.PUBLISHED)


def template_get_for_user(*, user: User, pk, to_change: bool = False) -> ResponseTemplate:
    return object_get_for_user(
        templates_visible(user).select_related("current_revision__author"),
        user=user,
        roles=PLAYBOOK_EDITORS if to_change else PLAYBOOK_READERS,
        denied="Your role does not include editing templates.",
        missing="No such template.",
        pk=pk,
    )


def template_revision_get(template: ResponseTemplate, number) -> TemplateRevision:
    try:
        return template.revisions.select_related("author").get(number=int(number))
    except (TemplateRevision.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such revision.") from None


def templates_serving(serves: str) -> list[ResponseTemplate]:
    """Active templates for a purpose, from playbooks that are not archived."""
    return list(
        ResponseTemplate.objects.filter(serves=serves, is_active=True, current_revision__isnull=False)
        .exclude(playbook__status=Playbook.Status.ARCHIVED)
        .select_related("current_revision")
        .order_by("name")
    )
