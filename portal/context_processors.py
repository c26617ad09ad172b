from django.conf import settings
from django.utils import timezone

from portal.availability import is_away
from portal.navigation import nav_links_for
from portal.roles import Role, has_role, user_roles
from portal.search import normalise_query


def chrome(request):
    """What the page chrome (navigation, search box, user menu) needs on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"portal_version": settings.PORTAL_VERSION}
    links = nav_links_for(user, request.path)
    more = [link for link in links if not link["primary"]]
    return {
        "portal_version": settings.PORTAL_VERSION,
        "nav_links": links,
        "nav_more": more,
        "nav_more_current": next((link for link in more if link["current"]), None),
        "header_query": normalise_query(request.GET.get("q")) if request.path == "/search/" else "",
        "user_role_names": sorted(user_roles(user)) or (["Superuser"] if user.is_superuser else []),
        "user_is_admin": has_role(user, Role.ADMIN),
        "user_away": is_away(user, timezone.now()),
        # Routing sends work to Specialists and Admins: only they have an away toggle and hours.
        "user_routable": has_role(user, Role.SPECIALIST) or has_role(user, Role.ADMIN),
    }
