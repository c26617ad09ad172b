"""Reads of the conversation mirror for the account and case pages (one query each, however
many conversations an account has), and who may read or change the SLA settings."""

from urllib.parse import quote

from django.conf import settings

from portal.roles import Role
from portal.selectors import object_get_for_user
from support.models import BusinessCalendar, Conversation, SlaPolicy

# Intercom's web app, per hosting region (a workspace lives in exactly one).
APP_HOSTS = {
    "us": "https://app.intercom.com",
    "eu": "https://app.eu.intercom.com",
    "au": "https://app.au.intercom.com",
}


def conversation_url(intercom_id: str) -> str:
    """A deep link that opens the conversation in the Intercom inbox.

    With INTERCOM_APP_ID (the workspace's id_code: `GET /me` → `app.id_code`, also the part
    after /a/apps/ or /a/inbox/ in any Intercom URL) the link is the inbox's own
    `/a/inbox/<app_id>/inbox/conversation/<id>`. Without it, `/a/apps/_/conversations/<id>`:
    `_` stands for "the workspace the teammate is signed in to", the placeholder Intercom's own
    API description uses in its links (`/a/apps/_/developer-hub`); that it resolves for
    conversations is not verified, so set INTERCOM_APP_ID in production."""
    host = APP_HOSTS.get(getattr(settings, "INTERCOM_REGION", "us"), APP_HOSTS["us"])
    conversation = quote(str(intercom_id), safe="")
    app_id = (getattr(settings, "INTERCOM_APP_ID", "") or "").strip()
    if app_id:
        return f"{host}/a/inbox/{quote(app_id, safe='')}/inbox/conversation/{conversation}"
    return f"{host}/a/apps/_/conversations/{conversation}"


def account_conversations(account, *, limit: int) -> list[Conversation]:
    """The account's conversations, newest first, with their portal assignee (one query)."""
    return list(
        Conversation.objects.filter(account=account)
        .select_related("assignee")
        .defer("statistics")
        .order_by("-created_at_intercom", "-pk")[:limit]
    )


def conversation_timeline_entries(account, limit: int) -> list[dict]:
    """The account's conversations as timeline entries (kind "conversation"), placed at the
    moment each conversation started."""
    return [
        {
            "at": c.created_at_intercom,
            "kind": "conversation",
            "conversation": c,
            "url": conversation_url(c.intercom_id),
        }
        for c in account_conversations(account, limit=limit)
    ]


def linked_conversation(intercom_id: str) -> dict | None:
    """What a case page shows about its Intercom conversation: the mirrored row when there is
    one (None otherwise) and the deep link either way. None when the case has no id."""
    intercom_id = (intercom_id or "").strip()
    if not intercom_id:
        return None
    conversation = Conversation.objects.select_related("assignee").filter(intercom_id=intercom_id).first()
    return {"intercom_id": intercom_id, "url": conversation_url(intercom_id), "conversation": conversation}


# Admins configure SLA policies; Specialists and Leadership read them; Product does not see them.
SLA_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
SLA_EDITORS = (Role.ADMIN,)


def calendar_get_for_user(*, user, pk, to_change: bool = False) -> BusinessCalendar:
    return object_get_for_user(
        BusinessCalendar.objects.prefetch_related("windows", "holidays"),
        user=user,
        roles=SLA_EDITORS if to_change else SLA_READERS,
        denied="Only Admins change SLA calendars."
        if to_change
        else "Your role does not include SLA settings.",
        missing="No such calendar.",
        pk=pk,
    )


def policy_get_for_user(*, user, pk, to_change: bool = False) -> SlaPolicy:
    return object_get_for_user(
        SlaPolicy.objects.select_related("calendar").prefetch_related("tiers"),
        user=user,
        roles=SLA_EDITORS if to_change else SLA_READERS,
        denied="Only Admins change SLA policies."
        if to_change
        else "Your role does not include SLA settings.",
        missing="No such policy.",
        pk=pk,
    )
