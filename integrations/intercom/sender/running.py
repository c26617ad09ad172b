"""The drain loop and the teammates refresh."""

import time

from django.conf import settings
from django.utils import timezone

from integrations.intercom.client import IntercomClient
from integrations.intercom.sender.claiming import claim, renew
from integrations.intercom.sender.delivery import Sender
from integrations.intercom.sender.outcomes import DrainReport, deliver_group
from integrations.models import IntercomAdmin


def drain(
    *, client: IntercomClient | None = None, max_seconds: float = 50.0, max_contacts: int | None = None
) -> DrainReport:
    """Deliver due jobs until none is due, the time budget is spent or `max_contacts` were done."""
    report = DrainReport()
    if not settings.INTERCOM_ENABLED and client is None:
        report.errors.append("Intercom is not connected; jobs stay pending.")
        return report
    started = time.monotonic()
    own_client = client is None
    client = client or IntercomClient()
    sender = Sender(client)
    done_contacts = 0
    try:
        while time.monotonic() - started < max_seconds:
            groups = claim()
            if not groups:
                break
            for group in groups:
                if not renew(group):
                    report.lease_lost += 1
                    continue
                deliver_group(sender, group, report)
                done_contacts += 1
            if max_contacts is not None and done_contacts >= max_contacts:
                break
    finally:
        report.calls = client.calls
        report.seconds = round(time.monotonic() - started, 3)
        if own_client:
            client.session.close()
    return report


def admins_sync(client: IntercomClient) -> tuple[int, int]:
    """Refresh the teammates from `GET /admins`, matching unmapped ones to portal users by
    e-mail. The only place an e-mail picks a teammate: an existing mapping (made here or edited
    by hand) is never changed, and no user is mapped twice. Returns (added, matched)."""
    from portal.models import User

    now = timezone.now()
    added = matched = 0
    users = {u.email.lower(): u for u in User.objects.exclude(email="") if u.email}
    taken = set(IntercomAdmin.objects.exclude(portal_user=None).values_list("portal_user_id", flat=True))
    for admin in client.admins():
        record, created = IntercomAdmin.objects.get_or_create(
            intercom_id=str(admin["id"]),
            defaults={"name": admin.get("name") or "", "email": admin.get("email") or "", "synced_at": now},
        )
        added += created
        record.name, record.email, record.synced_at = admin.get("name") or "", admin.get("email") or "", now
        user = users.get(record.email.lower())
        if record.portal_user_id is None and user is not None and user.pk not in taken:
            record.portal_user = user
            taken.add(user.pk)
            matched += 1
        record.save()
    return added, matched
