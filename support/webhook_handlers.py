"""The Intercom webhook topics that update the conversation mirror, registered with integrations
(which knows Intercom's topics but not the mirror). Each handler runs inside the notification's
transaction in integrations/intercom/processing.py and returns a note for the stored event."""

from django.db import IntegrityError

from integrations.intercom.topics import CONVERSATION_DELETED, CONVERSATION_TOPICS, register_topic_handler
from support.services import conversation_delete, conversation_sync


def conversation_changed(item: dict) -> str:
    """The item is a whole conversation: the mirror takes it unless it holds a newer one."""
    try:
        stored = conversation_sync(data=item, source="webhook")  # atomic: a savepoint of its own
    except IntegrityError:
        # Two events of a conversation the mirror does not hold yet, processed at once: both
        # found no row to lock and both inserted. The other insert is committed now; again,
        # the row is found, locked and the newer state wins.
        stored = conversation_sync(data=item, source="webhook")
    if stored is None:
        return "older than the stored state; kept the newer one"
    return ""


def conversation_deleted(item: dict) -> str:
    intercom_id = item.get("id")
    if not intercom_id:
        raise ValueError("The deleted conversation has no id.")
    conversation_delete(intercom_id=str(intercom_id)[:40])
    return ""


register_topic_handler(CONVERSATION_TOPICS, conversation_changed)
register_topic_handler(CONVERSATION_DELETED, conversation_deleted)
