from django.conf import settings
from django.db import DatabaseError

from integrations.selectors import dead_job_count
from portal.roles import Role, has_role


def intercom_banner(request):
    """For Admins, on every page: how many Intercom changes gave up (one COUNT), or that
    Intercom is not connected (no query). Nothing, and no query, for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not has_role(user, Role.ADMIN):
        return {}
    if not settings.INTERCOM_ENABLED:
        return {"intercom_banner": {"enabled": False, "dead": 0}}
    try:
        dead = dead_job_count()
    except DatabaseError:
        return {}
    return {"intercom_banner": {"enabled": True, "dead": dead}} if dead else {}
