"""The account timeline's one write. Other apps (disputes today) record what happened to an
account through `account_event_record`, never by creating `AccountEvent` rows themselves."""

import datetime as dt

from django.utils import timezone

from accounts.models import AccountEvent
from portal.models import User


def account_event_record(
    *,
    account_id: int,
    kind: str,
    actor: User | None,
    summary: str,
    details: dict | None = None,
    at: dt.datetime | None = None,
) -> AccountEvent:
    return AccountEvent.objects.create(
        account_id=account_id,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        summary=summary[: AccountEvent._meta.get_field("summary").max_length],
        details=details or {},
    )
