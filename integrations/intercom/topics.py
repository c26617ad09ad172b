"""Who handles an Intercom webhook topic.

Integrations knows Intercom's topics, not what a domain app does with them: an app registers a
handler for the topics it cares about from its `AppConfig.ready()` (support does so in
support/webhook_handlers.py), and processing.py calls it with the notification's `data.item`.
A handler returns a note for the event's `error` field ("" when none), raises `Ignored` when the
notification is understood but there is nothing to do, and `ValueError` for junk in the item.
A topic without a handler is stored as "ignored" ("topic not handled").
"""

from collections.abc import Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

TopicHandler = Callable[[dict], str]

# Topics whose item is a whole conversation object.
CONVERSATION_TOPICS = frozenset(
    {
        "conversation.user.created",
        "conversation.user.replied",
        "conversation.admin.replied",
        "conversation.admin.single.created",
        "conversation.admin.assigned",
        "conversation.admin.open.assigned",
        "conversation.admin.noted",
        "conversation.admin.closed",
        "conversation.admin.opened",
        "conversation.admin.snoozed",
        "conversation.admin.unsnoozed",
        "conversation.operator.replied",
        "conversation.priority.updated",
        "conversation.rating.added",
        "conversation.read",
        "conversation.contact.attached",
        "conversation.contact.detached",
    }
)
# Its item is the deleted conversation's type and id only.
CONVERSATION_DELETED = "conversation.deleted"
# Topics whose item is a contact.
CONTACT_TOPICS = frozenset(
    {
        "contact.user.created",
        "contact.user.updated",
        "contact.lead.created",
        "contact.lead.updated",
        "contact.lead.signed_up",
        "contact.email.updated",
    }
)


class Ignored(Exception):
    """The notification is understood but there is nothing to do with it (stored as "ignored")."""


_handlers: dict[str, TopicHandler] = {}


def register_topic_handler(topics: str | Iterable[str], handler: TopicHandler) -> None:
    """Send notifications of `topics` (one topic or several, matched exactly) to `handler`.
    A topic has one handler: a second, different one is a configuration error."""
    topics = [topics] if isinstance(topics, str) else list(topics)
    for topic in topics:
        registered = _handlers.get(topic)
        if registered is not None and _name(registered) != _name(handler):
            raise ImproperlyConfigured(
                f"Intercom topic {topic!r} is handled by {_name(registered)} already, not {_name(handler)}."
            )
    _handlers.update(dict.fromkeys(topics, handler))


def topic_handler(topic: str) -> TopicHandler | None:
    return _handlers.get(topic)


def _name(handler: TopicHandler) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"
