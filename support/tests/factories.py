"""Conversations for tests, stored the way production stores them: an Intercom conversation
object (API 2.16 shape) handed to `conversation_sync`."""

import datetime as dt
from itertools import count

from django.utils import timezone

from support.models import Conversation
from support.services import conversation_sync

_ids = count(215470000000001)


def _ts(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def intercom_admin_for(user, *, intercom_id: str | None = None):
    """The Intercom teammate a portal user is (made when missing), so assignments map to them."""
    from integrations.models import IntercomAdmin

    admin = IntercomAdmin.objects.filter(portal_user=user).first()
    if admin is None:
        admin = IntercomAdmin.objects.create(
            intercom_id=intercom_id or f"99{user.pk:06d}",
            name=user.username,
            email=user.email,
            portal_user=user,
            synced_at=timezone.now(),
        )
    return admin


def conversation_object(
    *,
    intercom_id: str | None = None,
    external_id: str = "",
    email: str = "",
    title: str | None = None,
    state: str = "open",
    created_at: dt.datetime | None = None,
    updated_at: dt.datetime | None = None,
    waiting_since: dt.datetime | None = None,
    admin_assignee_id: int = 0,
    team_assignee_id: int = 0,
    rating: int | None = None,
    rating_remark: str = "",
    rated_at: dt.datetime | None = None,
    priority: str = "none",
    tags: list[str] = (),
    statistics: dict | None = None,
    **extra,
) -> dict:
    """A hand-built 2.16 conversation object (admin/team assignee 0 when unassigned)."""
    now = timezone.now()
    created_at = created_at or now - dt.timedelta(hours=2)
    updated_at = updated_at or max(created_at, rated_at or created_at) + dt.timedelta(minutes=1)
    conversation_id = str(intercom_id or next(_ids))
    contact_id = f"6762f0ad{next(_ids):016x}"
    stats = {
        "type": "conversation_statistics",
        "first_contact_reply_at": _ts(created_at),
        "first_admin_reply_at": _ts(created_at + dt.timedelta(minutes=5)),
        "last_contact_reply_at": _ts(waiting_since or created_at),
        "last_admin_reply_at": _ts(created_at + dt.timedelta(minutes=5)),
        "last_close_at": _ts(updated_at) if state == "closed" else None,
        "count_reopens": 0,
        "count_assignments": 1 if admin_assignee_id else 0,
        "count_conversation_parts": 3,
        **(statistics or {}),
    }
    data = {
        "type": "conversation",
        "id": conversation_id,
        "title": title,
        "created_at": _ts(created_at),
        "updated_at": _ts(updated_at),
        "waiting_since": _ts(waiting_since),
        "snoozed_until": None,
        "state": state,
        "open": state == "open",
        "read": True,
        "priority": priority,
        "admin_assignee_id": admin_assignee_id,
        "team_assignee_id": team_assignee_id,
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": contact_id, "external_id": external_id or None}],
        },
        "tags": {
            "type": "tag.list",
            "tags": [{"type": "tag", "id": str(n), "name": name} for n, name in enumerate(tags, 1)],
        },
        "conversation_rating": (
            {
                "rating": rating,
                "remark": rating_remark,
                "created_at": _ts(rated_at or updated_at),
                "updated_at": _ts(rated_at or updated_at),
                "contact": {"type": "contact", "id": contact_id, "external_id": external_id or None},
                "teammate": {"type": "admin", "id": str(admin_assignee_id)} if admin_assignee_id else None,
            }
            if rating is not None
            else None
        ),
        "sla_applied": None,
        "statistics": stats,
        "source": {
            "type": "conversation",
            "id": f"src-{conversation_id}",
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": "<p>Hello, I have a question.</p>",
            "author": {"type": "user", "id": contact_id, "name": "", "email": email},
        },
    }
    data.update(extra)
    return data


def make_conversation(account=None, *, assignee=None, source: str = "import", **fields) -> Conversation:
    """A mirrored conversation, stored through `conversation_sync`. With `account`, the contact
    carries the account's external id and e-mail, so it is matched to the account; with
    `assignee` (a portal user), it is assigned to that user's Intercom teammate."""
    if account is not None:
        fields.setdefault("external_id", account.external_id)
        fields.setdefault("email", account.email)
    else:
        fields.setdefault("email", f"nobody{next(_ids)}@example.com")
    if assignee is not None:
        fields["admin_assignee_id"] = int(intercom_admin_for(assignee).intercom_id)
    return conversation_sync(data=conversation_object(**fields), source=source)
