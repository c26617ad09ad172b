"""The book: tiers, accounts and their wallets."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.wallets import explorer_url, to_checksum_address
from portal.models import TimeStampedModel, validate_time_zone


class Tier(models.Model):
    """A service tier: how often its accounts are contacted and how much they weigh."""

    name = models.CharField(max_length=40, unique=True)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the most important tier.")
    default_cadence_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days between proactive check-ins unless an account overrides it.",
    )
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), help_text="Multiplier used by impact scores."
    )
    description = models.TextField(blank=True)
    intercom_tag = models.CharField(
        max_length=80, blank=True, help_text="Tag applied to the contact in Intercom."
    )

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_cadence_days__gte=1, default_cadence_days__lte=365),
                name="tier_cadence_1_365",
            )
        ]

    def __str__(self):
        return self.name


class Venue(models.TextChoices):
    INTERNATIONAL = "international", "International"
    US = "us", "US (regulated)"


def venue_currency(venue: str) -> str:
    """What money is counted in on a venue: dollars on the regulated US exchange, USDC elsewhere."""
    return "USD" if venue == Venue.US else "USDC"


class Channel(models.TextChoices):
    CALL = "call", "Call"
    INTERCOM = "intercom", "Intercom"
    EMAIL = "email", "E-mail"
    TELEGRAM = "telegram", "Telegram"
    OTHER = "other", "Other"


class Account(TimeStampedModel):
    """An advanced user (whale, market maker, pro trader) in a specialist's portfolio."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        OFFBOARDED = "offboarded", "Offboarded"

    display_name = models.CharField(max_length=120)
    email = models.EmailField(max_length=254)
    external_id = models.CharField(max_length=80, help_text="The user's id on the platform.")
    intercom_contact_id = models.CharField(max_length=40, blank=True)
    venue = models.CharField(max_length=16, choices=Venue.choices, default=Venue.INTERNATIONAL)
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="accounts")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accounts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    cadence_override_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Leave empty to follow the tier's cadence.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    preferred_channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.INTERCOM)
    volume_30d_usd = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    volume_prior_30d_usd = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text="Volume of the 30 days before.",
    )
    notes = models.TextField(blank=True)

    # Kept by the services; never edited by hand.
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    next_check_in_due = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    overdue_notified_for = models.DateTimeField(
        null=True, blank=True, help_text="The due time the owner's overdue digest last covered."
    )
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    health_components = models.JSONField(default=dict, blank=True)
    health_updated_at = models.DateTimeField(null=True, blank=True)
    wallets_refresh_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the account page queued the wallet refresh still waiting for a worker "
        "(cleared when it has run): one queued refresh per account at most.",
    )

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="account_email_unique_ci",
                violation_error_message="Another account already uses this e-mail address.",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                name="account_external_id_unique",
                violation_error_message="Another account already has this external user id.",
            ),
            models.UniqueConstraint(
                fields=["intercom_contact_id"],
                condition=~Q(intercom_contact_id=""),
                name="account_intercom_contact_unique",
                violation_error_message="Another account is already linked to this Intercom contact.",
            ),
            models.CheckConstraint(
                condition=Q(cadence_override_days__isnull=True)
                | Q(cadence_override_days__gte=1, cadence_override_days__lte=365),
                name="account_cadence_override_1_365",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(next_check_in_due__isnull=True),
                name="account_inactive_has_no_due",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "next_check_in_due"], name="account_owner_due_idx"),
            models.Index(fields=["next_check_in_due"], name="account_due_idx"),
            models.Index(fields=["last_contact_at"], name="account_last_contact_idx"),
            models.Index(fields=["health_score"], name="account_health_idx"),
            models.Index(fields=["volume_30d_usd"], name="account_volume_idx"),
            models.Index(fields=["tier", "display_name"], name="account_tier_name_idx"),
            # The reports' coverage: the few cadences accounts override their tier's with.
            models.Index(
                fields=["cadence_override_days"],
                condition=Q(cadence_override_days__isnull=False),
                name="account_cadence_override_idx",
            ),
            models.Index(Lower("display_name"), name="account_name_ci_idx"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def cadence_days(self) -> int:
        return self.cadence_override_days or self.tier.default_cadence_days

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def due_state(self, now: dt.datetime) -> str:
        if self.next_check_in_due is None:
            return "none"
        if self.next_check_in_due < now:
            return "overdue"
        if self.next_check_in_due < now + dt.timedelta(days=7):
            return "due_soon"
        return "on_track"


class Wallet(TimeStampedModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="wallets")
    address = models.CharField(max_length=42, help_text="Stored lowercase; shown with its EIP-55 checksum.")
    label = models.CharField(max_length=60, blank=True)
    is_proxy = models.BooleanField(
        default=True,
        help_text="The Polymarket profile (proxy or Safe) wallet that holds funds and positions.",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["address"],
                name="wallet_address_unique",
                violation_error_message="This wallet address already belongs to an account.",
            ),
            models.CheckConstraint(
                condition=Q(address__regex=r"^0x[0-9a-f]{40}$"), name="wallet_address_lowercase"
            ),
        ]

    def __str__(self):
        return self.checksum_address

    @property
    def checksum_address(self) -> str:
        return to_checksum_address(self.address)

    @property
    def explorer_url(self) -> str:
        return explorer_url(self.address)
