"""A mistyped conversation id would send a case's replies to another user: when the mirror knows
the conversation, it must be with the case's account (or with no known account)."""

from accounts.models import Account
from disputes.hooks import register_conversation_check
from support.models import Conversation


def conversation_with_another_account(conversation_id: str, account: Account) -> str | None:
    other = (
        Conversation.objects.filter(intercom_id=conversation_id)
        .exclude(account=None)
        .exclude(account=account)
        .values_list("account__display_name", flat=True)
        .first()
    )
    if other is None:
        return None
    return f"Conversation {conversation_id} is with {other}, not with {account.display_name}."


register_conversation_check(conversation_with_another_account)
