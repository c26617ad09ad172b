"""*Told them*: the owner says they warned the accounts of a heads-up; each gets a proactive
check-in (which counts for its cadence)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Channel, CheckIn
from accounts.services.check_ins import check_in_log
from disputes.models import HeadsUp
from portal.models import User
from portal.roles import Role, has_role


@transaction.atomic
def heads_up_told(*, heads_up: HeadsUp, by: User, channel: str) -> int:
    """Log a proactive check-in on each account of the heads-up that still exists, once: a second
    *Told them* changes nothing. Only its owner (or an Admin) may. Returns check-ins logged."""
    if by.pk != heads_up.owner_id and not has_role(by, Role.ADMIN):
        raise PermissionDenied("Only the owner of these accounts can say they were told.")
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick how you told them."})
    heads_up = HeadsUp.objects.select_for_update().select_related("signal__market").get(pk=heads_up.pk)
    if heads_up.told_at is not None:
        return 0
    now = timezone.now()
    signal = heads_up.signal
    summary = f"Heads-up: “{signal.market.question[:200]}” was just {signal.summary}."
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
        logged += 1
    heads_up.told_at = now
    heads_up.save(update_fields=["told_at"])
    return logged
