from django import template
from django.utils import timezone

from accounts.tables import due_badge, health_badge
from accounts.wallets import to_checksum_address

register = template.Library()


@register.simple_tag
def due(value):
    return due_badge(value, timezone.now())


@register.simple_tag
def health(score):
    return health_badge(score)


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
