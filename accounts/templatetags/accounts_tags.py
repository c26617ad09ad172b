from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from accounts.models import Account, AccountEvent, CheckIn
from accounts.selectors import check_in_editable_by
from accounts.tables import due_badge, health_badge
from accounts.wallets import to_checksum_address

register = template.Library()


@register.simple_tag
def due(value):
    return due_badge(value, timezone.now())


@register.simple_tag
def health(score):
    return health_badge(score)


@register.simple_tag
def check_in_editable(check_in, user, account) -> bool:
    """Whether `user` may edit or delete `check_in` (on the page of `account`); no query."""
    return check_in_editable_by(check_in, user, account=account)


@register.inclusion_tag("accounts/_event_changes.html")
def event_changes(event):
    """What an edit changed, field by field, before and after, as recorded by the service."""
    details = getattr(event, "details", None)  # another app's timeline entry may be no event
    if not isinstance(details, dict):
        return {"rows": [], "deleted_summary": ""}
    model = CheckIn if getattr(event, "kind", "") == AccountEvent.Kind.CHECK_IN_EDITED else Account
    rows = []
    for name, values in (details.get("changes") or {}).items():
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # a field since renamed: show the recorded name
            label = name.replace("_", " ")
        before, after = [*values, "", ""][:2]
        rows.append({"label": label[:1].upper() + label[1:], "before": before, "after": after})
    return {"rows": rows, "deleted_summary": details.get("deleted_summary", "")}


@register.filter
def checksummed(address: str) -> str:
    return to_checksum_address(address)


@register.inclusion_tag("accounts/_health_trend.html")
def health_trend(snapshots, width: int = 300, height: int = 48):
    """A small line chart of daily scores (0–100) and the change over the last 7 days."""
    scores = [s.score for s in snapshots]
    points = ""
    if len(scores) >= 2:
        step = width / (len(scores) - 1)
        points = " ".join(f"{i * step:.1f},{height - s / 100 * height:.1f}" for i, s in enumerate(scores))
    change = None
    if len(scores) >= 2:
        change = scores[-1] - scores[max(0, len(scores) - 8)]
    return {
        "points": points,
        "width": width,
        "height": height,
        "change": change,
        "days": len(scores),
        "first": snapshots[0] if snapshots else None,
    }
