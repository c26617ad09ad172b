"""Throttling of failed sign-ins: django-axes' database handler with a limit per kind of count.

Axes counts failures for each group in AXES_LOCKOUT_PARAMETERS — here one username from one
address, and one address whatever the usernames — and compares the largest count with a single
AXES_FAILURE_LIMIT. One limit cannot fit both: five wrong passwords is plenty for one username,
but an office behind one address makes more than five typos a quarter of an hour between them.
So each group is measured against its own limit (AXES_FAILURE_LIMIT for a username from an
address, AXES_ADDRESS_FAILURE_LIMIT for an address) and reported to Axes scaled to
AXES_FAILURE_LIMIT: a group is locked exactly when its own count reaches its own limit.

The client's address is Axes' (django-ipware, configured by AXES_IPWARE_* in settings from
TRUSTED_PROXY_COUNT).
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class SignInThrottle(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The worst group's failures in units of AXES_FAILURE_LIMIT: `failures × limit ÷ own
        limit`, rounded down, reaches AXES_FAILURE_LIMIT exactly when failures reach the group's
        own limit."""
        limit = settings.AXES_FAILURE_LIMIT
        groups = get_client_parameters(
            get_client_username(request, credentials),
            request.axes_ip_address,
            request.axes_user_agent,
            request,
            credentials,
        )
        worst = 0
        for group, attempts in zip(groups, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            own_limit = settings.AXES_ADDRESS_FAILURE_LIMIT if set(group) == {"ip_address"} else limit
            worst = max(worst, failures * limit // own_limit)
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """On a successful sign-in forget that person's own failures from this address only. Axes
        would delete every group, the whole address's failures included, so anyone with a working
        password could wipe the count of someone guessing other usernames from the same address."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials), ip_address=request.axes_ip_address
        ).delete()
        return count
