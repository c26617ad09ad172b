"""Writes to the conversation mirror. Webhooks and the reconciliation import both call
`conversation_sync` with an Intercom conversation object (API version 2.16 shape); whichever
arrives, in whatever order, the newest `updated_at` wins, so the mirror ends up the same."""

import datetime as dt
import html
import re

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower

from support.models import Conversation


def _when(value) -> dt.datetime | None:
    if value in (None, "", 0):
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _id(value) -> str:
    # 2.16 sends 0 for "unassigned"; older versions sent null.
    return "" if value in (None, "", 0, "0") else str(value)[:40]


def _contact(data: dict) -> dict:
    contacts = ((data.get("contacts") or {}).get("contacts")) or []
    first = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
    author = ((data.get("source") or {}).get("author")) or {}
    email = first.get("email") or (
        author.get("email") if author.get("type") in ("user", "lead", "contact") else ""
    )
    return {
        "id": str(first.get("id") or ""),
        "external_id": str(first.get("external_id") or ""),
        "email": email or "",
    }


def parse_conversation(data: dict) -> dict:
    """The mirror's fields from an Intercom conversation object. Raises ValueError when the
    object lacks an id or its times."""
    if not isinstance(data, dict) or data.get("type") not in (None, "conversation") or not data.get("id"):
        raise ValueError("Not an Intercom conversation object.")
    created, updated = _when(data.get("created_at")), _when(data.get("updated_at"))
    if created is None or updated is None:
        raise ValueError("The conversation has no created_at/updated_at.")
    stats = data.get("statistics") or {}
    rating = data.get("conversation_rating") or {}
    sla = data.get("sla_applied") or {}
    contact = _contact(data)
    tags = ((data.get("tags") or {}).get("tags")) or []
    state = (
        data.get("state")
        if data.get("state") in Conversation.State.values
        else ("open" if data.get("open") else "closed")
    )
    score = rating.get("rating")
    return {
        "contact_intercom_id": contact["id"][:40],
        "contact_external_id": contact["external_id"][:120],
        "contact_email": contact["email"][:254],
        "title": (data.get("title") or (data.get("source") or {}).get("subject") or "")[:500],
        "state": state,
        "priority": str(data.get("priority") or "")[:10],
        "created_at_intercom": created,
        "updated_at_intercom": updated,
        "waiting_since": _when(data.get("waiting_since")),
        "snoozed_until": _when(data.get("snoozed_until")),
        "first_admin_reply_at": _when(stats.get("first_admin_reply_at")),
        "last_admin_reply_at": _when(stats.get("last_admin_reply_at")),
        "last_contact_reply_at": _when(stats.get("last_contact_reply_at")),
        "closed_at": _when(stats.get("last_close_at")) if state == "closed" else None,
        "reopened_count": int(stats.get("count_reopens") or 0),
        "admin_assignee_id": _id(data.get("admin_assignee_id")),
        "team_assignee_id": _id(data.get("team_assignee_id")),
        "tags": sorted({str(t.get("name")) for t in tags if isinstance(t, dict) and t.get("name")}),
        "rating": int(score) if isinstance(score, int) and 1 <= score <= 5 else None,
        "rating_remark": str(rating.get("remark") or "") if score else "",
        "rated_at": _when(rating.get("updated_at") or rating.get("created_at")) if score else None,
        "sla_name": str(sla.get("sla_name") or "")[:200],
        "sla_status": str(sla.get("sla_status") or "")[:20],
        "statistics": {k: v for k, v in stats.items() if isinstance(v, int | float | str) or v is None},
    }


def _account_for(fields: dict):
    """The account by the contact's external id, else by its e-mail (compared in lower case, as
    the unique index on lower(email) is, so the lookup uses it), in one query. Only the key is
    loaded: the mirror links to the account and moves its last contact, nothing more."""
    from accounts.models import Account

    external_id, email = fields["contact_external_id"], fields["contact_email"]
    match = Q(external_id=external_id) if external_id else Q()
    if email:
        match = match | Q(email_lower=email.lower()) if external_id else Q(email_lower=email.lower())
    if not match:
        return None
    return (
        Account.objects.annotate(email_lower=Lower("email"))
        .filter(match)
        .only("pk", "tier", "venue")  # and what SLA policies are matched on
        # Both columns are unique: at most two rows, the external id's first.
        .order_by(Case(When(external_id=external_id, then=Value(0)), default=Value(1)))
        .first()
    )


def _assignee_for(admin_id: str):
    if not admin_id:
        return None
    from integrations.models import IntercomAdmin

    admin = IntercomAdmin.objects.filter(intercom_id=admin_id).select_related("portal_user").first()
    return admin.portal_user if admin else None


@transaction.atomic
def conversation_sync(*, data: dict, source: str, lookups=None) -> Conversation | None:
    """Store an Intercom conversation unless the mirror already holds a newer state of it.
    Returns the stored row, or None when the given state was older (nothing changed).

    `lookups` (optional, for batches such as the import) answers the account and assignee
    questions from maps loaded once per batch: an object with `account_for(fields)` and
    `assignee_for(admin_id)` that answer as `_account_for` and `_assignee_for` do."""
    fields = parse_conversation(data)
    intercom_id = str(data["id"])[:40]
    # Only what the comparison needs (every other field is overwritten when the state is newer).
    existing = (
        Conversation.objects.select_for_update()
        .filter(intercom_id=intercom_id)
        .only("pk", "intercom_id", "updated_at", "updated_at_intercom", "rating", "rated_at")
        .order_by()
        .first()
    )
    if existing is not None and existing.updated_at_intercom > fields["updated_at_intercom"]:
        return None
    if existing is not None and existing.updated_at_intercom == fields["updated_at_intercom"]:
        # The same state again (a webhook retry, or import after webhook): nothing new.
        return existing
    account = lookups.account_for(fields) if lookups is not None else _account_for(fields)
    rating_changed = existing is None or (existing.rating, existing.rated_at) != (
        fields["rating"],
        fields["rated_at"],
    )
    assignee_for = lookups.assignee_for if lookups is not None else _assignee_for
    values = {
        **fields,
        "account": account,
        "assignee": assignee_for(fields["admin_assignee_id"]),
        "last_source": source,
    }
    if existing is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(intercom_id=intercom_id, **values)
        except IntegrityError:
            # Another worker stored this conversation a moment ago: compare with theirs instead.
            return conversation_sync(data=data, source=source, lookups=lookups)
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        conversation = existing
    if account is not None:
        _count_as_contact(account, conversation)
        if rating_changed and conversation.rating is not None:
            from accounts.services import health_refresh_soon

            health_refresh_soon(account_ids=[account.pk])  # ratings weigh on health
    if existing is None:  # first seen (webhook or import): routed once, by the rules
        from support.routing.services import conversation_route

        conversation_route(conversation, first_message=first_message(data))
    from support.sla.clocks import sla_evaluate_conversation

    sla_evaluate_conversation(conversation, setup=getattr(lookups, "sla_setup", None))
    return conversation


def first_message(data: dict) -> str:
    """The conversation's opening message as plain text (routing's words look in it)."""
    body = (data.get("source") or {}).get("body") or ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(body))).split())[:10_000]


def contact_moment(fields) -> dt.datetime:
    """When a conversation last counted as contact: its last reply either way, else its start.
    `fields` is a parsed conversation (a dict) or a Conversation row."""
    get = fields.get if isinstance(fields, dict) else lambda name: getattr(fields, name)
    moments = [m for m in (get("last_admin_reply_at"), get("last_contact_reply_at")) if m]
    return max(moments) if moments else get("created_at_intercom")


def _count_as_contact(account, conversation: Conversation) -> None:
    """A conversation is contact with the account: last contact moves forward, never back."""
    from accounts.models import Account

    latest = contact_moment(conversation)
    Account.objects.filter(pk=account.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=latest)
    ).update(last_contact_at=latest)


def conversation_delete(*, intercom_id: str) -> int:
    return Conversation.objects.filter(intercom_id=str(intercom_id)).delete()[0]
