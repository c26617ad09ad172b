"""Checks that apps above disputes add to case filing, without disputes importing them.

An app registers a conversation check from its AppConfig.ready() with
`register_conversation_check(fn)`: `fn(conversation_id, account)` is called inside the
transaction that files a case with an Intercom conversation or links (or unlinks) one later. The
id is already cleaned to digits (empty when unlinking). It returns a message for the person
filing when the conversation must not be linked to a case of that account, or None when it may;
the message is shown on the conversation field and nothing is saved.
"""

from collections.abc import Callable

from accounts.models import Account

ConversationCheck = Callable[[str, Account], str | None]

_conversation_checks: dict[str, ConversationCheck] = {}


def register_conversation_check(fn: ConversationCheck) -> None:
    """Add a check (registering the same function again replaces it, so a re-import is harmless)."""
    _conversation_checks[f"{fn.__module__}.{fn.__qualname__}"] = fn


def conversation_problems(conversation_id: str, account: Account) -> list[str]:
    """What the registered checks say against linking the conversation to the account's case."""
    return [
        message for check in _conversation_checks.values() if (message := check(conversation_id, account))
    ]
