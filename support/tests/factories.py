"""Conversations for tests, stored the way production stores them: an Intercom conversation
object (API 2.16 shape) handed to `conversation_sync`."""

from itertools import count

from django.utils import timezone

from support import demo
from support.models import Conversation
from support.services import conversation_sync

_ids = count(215470000000001)


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


def conversation_object(*, intercom_id: str | None = None, **fields) -> dict:
    """A 2.16 conversation object with fresh ids (see support.demo.conversation_object)."""
    conversation_id = str(intercom_id or next(_ids))
    return demo.conversation_object(
        intercom_id=conversation_id, contact_id=f"6762f0ad{next(_ids):016x}", **fields
    )


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
