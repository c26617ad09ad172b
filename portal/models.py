import functools
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


@functools.cache
def known_time_zones() -> frozenset[str]:
    """Read once: available_timezones() scans the disk on every call."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError("“%(value)s” is not a known time zone.", params={"value": value})


class TimeStampedModel(models.Model):
    """Abstract base giving every domain row its creation and last-change times."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person who works in the portal. Roles are Django groups (see portal.roles)."""

    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Times in the portal are shown in this zone.",
    )
    # When the person works, for routing (portal.availability): [weekday, start, end] rows, in
    # minutes after local midnight in `time_zone`; an end at or before the start runs past
    # midnight. Empty: no working hours given (only the on-call rota puts them on shift).
    working_hours = models.JSONField(default=list, blank=True)
    # Marked away (the header's toggle): nothing is routed to them until they come back, or
    # until `away_until` when they gave a return time.
    is_away = models.BooleanField(default=False)
    away_until = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # One person per address: password resets go to it, and it must never let one person
            # pass for another (Intercom authorship comes from the teammate map, not from it).
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_email_unique_ci",
                violation_error_message="That e-mail is already used by another person.",
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
