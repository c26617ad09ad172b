"""*Told them*: the owner says they warned the accounts of a heads-up; each gets a proactive
check-in (which counts for its cadence) and, when the owner sends it from here, the message in a
new Intercom conversation with the account, through the outbox."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Account, Channel, CheckIn
from accounts.services.check_ins import check_in_log
from disputes.models import HeadsUp
from integrations.models import SyncJob
from integrations.outbox import outbox_record
from portal.models import User
from portal.roles import Role, has_role

MESSAGE_MAX_CHARS = 4000


def proactive_message(heads_up: HeadsUp) -> str:
    """The message the owner may send the accounts, as the heads-up's mail suggests it."""
    signal = heads_up.signal
    context = {"signal": signal, "market": signal.market}
    return render_to_string("disputes/radar/proactive_message.txt", context).strip()


def message_job_key(heads_up_id: int, account_id: int) -> str:
    return f"heads-up:{heads_up_id}:account:{account_id}"


@transaction.atomic
def heads_up_told(
    *, heads_up: HeadsUp, by: User, channel: str, send_message: bool = False, message: str = ""
) -> int:
    """Log a proactive check-in on each account of the heads-up that still exists, once: a second
    *Told them* changes nothing. Only its owner (or an Admin) may. With `send_message` (Intercom
    only), `message` also goes to each account in Intercom through the outbox, so a failure is
    retried and shown on the sync page, never lost. Returns check-ins logged."""
    if by.pk != heads_up.owner_id and not has_role(by, Role.ADMIN):
        raise PermissionDenied("Only the owner of these accounts can say they were told.")
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick how you told them."})
    message = message.strip()
    if send_message and channel != Channel.INTERCOM:
        raise ValidationError({"send_message": "Only a message by Intercom can be sent from here."})
    if send_message and not message:
        raise ValidationError({"message": "Write the message to send, or untick “Send it in Intercom”."})
    if len(message) > MESSAGE_MAX_CHARS:
        raise ValidationError({"message": f"Keep the message under {MESSAGE_MAX_CHARS} characters."})
    heads_up = HeadsUp.objects.select_for_update().select_related("signal__market").get(pk=heads_up.pk)
    if heads_up.told_at is not None:
        return 0
    now = timezone.now()
    signal = heads_up.signal
    summary = f"Heads-up: “{signal.market.question[:200]}” was just {signal.summary}."
    if send_message:
        summary += " Message sent in Intercom."
    ids = {holding["account_id"] for holding in heads_up.holdings}
    logged = 0
    for account in Account.objects.filter(pk__in=ids).order_by("pk"):
        check_in_log(
            account=account,
            by=by,
            occurred_at=now,
            kind=CheckIn.Kind.PROACTIVE,
            channel=channel,
            summary=summary,
        )
        if send_message:
            outbox_record(
                kind=SyncJob.Kind.CONTACT_MESSAGE,
                key=message_job_key(heads_up.pk, account.pk),
                payload={
                    "external_id": account.external_id,
                    "body": message,
                    "author_id": by.pk,
                    "author_email": by.email,
                },
            )
        logged += 1
    heads_up.told_at = now
    heads_up.save(update_fields=["told_at"])
    return logged
