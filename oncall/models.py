"""The escalation pathway: who is on call (rotas, their layers and members, overrides, hand-off
notes), escalations with their append-only history, and every page sent about them.

Times are instants (UTC in the database). A rota's hand-off is a wall-clock time in the rota's
own time zone, so it stays at 09:00 local across daylight-saving changes (oncall.rota resolves
who is on call at any instant)."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from portal.models import TimeStampedModel, validate_time_zone

MAX_ACK_MINUTES = 30  # the program's promise: a person acknowledges within 30 minutes


class Rota(TimeStampedModel):
    """A rotation of people in one time zone. Each layer (primary, secondary, ...) rotates its own
    members: the shift that starts at `starts_on` + `handoff_time` (local) is the first member's,
    the next `rotation_days` later the second's, and so on, round the list."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    starts_on = models.DateField(help_text="The local date of the first hand-off.")
    handoff_time = models.TimeField(default=dt.time(9, 0), help_text="Local time of each hand-off.")
    rotation_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="Length of a shift."
    )
    webhook_url = models.URLField(
        blank=True, help_text="A Slack-compatible incoming webhook that every page of this rota goes to."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rotation_days__gte=1, rotation_days__lte=90),
                name="rota_rotation_days_1_to_90",
                violation_error_message="A shift lasts between 1 and 90 days.",
            ),
        ]

    def __str__(self):
        return self.name


class RotaLayer(models.Model):
    """One line of people on the rota: position 1 is the primary, 2 the secondary, ..."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["rota", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rota", "position"], name="rota_layer_position_unique"),
            models.UniqueConstraint(fields=["rota", "name"], name="rota_layer_name_unique"),
        ]

    def __str__(self):
        return f"{self.rota}: {self.name}"


class RotaMember(models.Model):
    """A person in a layer's rotation, in order."""

    layer = models.ForeignKey(RotaLayer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="rota_member_position_unique"),
            models.UniqueConstraint(fields=["layer", "user"], name="rota_member_once_per_layer"),
        ]

    def __str__(self):
        return f"{self.layer} #{self.position}: {self.user}"


class RotaOverride(TimeStampedModel):
    """Someone covers a layer from `starts_at` to `ends_at` instead of whoever the rotation says
    (a holiday, a sick day, a swap). When overrides overlap, the latest made wins."""

    class Reason(models.TextChoices):
        HOLIDAY = "holiday", "Holiday"
        SICK = "sick", "Sick day"
        SWAP = "swap", "Swap"
        OTHER = "other", "Other"

    layer = models.ForeignKey(RotaLayer, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="rota_override_ends_after_start",
                violation_error_message="An override must end after it starts.",
            ),
        ]
        indexes = [models.Index(fields=["layer", "ends_at"], name="rota_override_layer_end_idx")]

    def __str__(self):
        return (
            f"{self.user} covers {self.layer} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
        )


class HandoffNote(TimeStampedModel):
    """What the person going off shift tells the next one."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="handoff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Hand-off note by {self.author} ({self.created_at:%Y-%m-%d})"


class EscalationPolicy(TimeStampedModel):
    """Who is paged, in order, until someone acknowledges: each step pages its people and waits
    its minutes; after the last step the last step's people are paged again every
    `repeat_minutes` until someone acknowledges. The first step's wait is the acknowledgement
    deadline: at most 30 minutes."""

    name = models.CharField(max_length=120, unique=True)
    rota = models.ForeignKey(Rota, on_delete=models.PROTECT, related_name="escalation_policies")
    repeat_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    is_default = models.BooleanField(default=False, help_text="Used when nothing chooses another policy.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="escalation_policy_one_default"
            ),
        ]

    def __str__(self):
        return self.name


class EscalationStep(models.Model):
    """One step: a layer of the policy's rota (whoever is on call in it at the moment of paging)
    or a named person, and how long to wait for an acknowledgement before the next step."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    layer_position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Page whoever is on call in this layer (1 = primary)."
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wait_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="escalation_step_position_unique"),
            models.CheckConstraint(
                condition=Q(layer_position__isnull=False, person__isnull=True)
                | Q(layer_position__isnull=True, person__isnull=False),
                name="escalation_step_one_recipient",
                violation_error_message="A step pages either a rota layer or a named person.",
            ),
            models.CheckConstraint(
                condition=Q(position__gt=1) | Q(wait_minutes__lte=MAX_ACK_MINUTES),
                name="escalation_first_wait_at_most_30",
                violation_error_message="The first acknowledgement deadline is at most 30 minutes.",
            ),
        ]

    def __str__(self):
        return f"{self.policy} step {self.position}"


class Escalation(TimeStampedModel):
    """An item that needs a person now: raised by a Specialist from a case, a conversation or an
    account, or by an SLA breach. Exactly one item. At most one open escalation per item (a
    second raise links to it). `next_page_at` is when the next step is paged, null once someone
    acknowledged or it was resolved: the minute pass reads only rows whose time has come."""

    class Severity(models.TextChoices):
        SEV1 = "sev1", "SEV1"
        SEV2 = "sev2", "SEV2"
        SEV3 = "sev3", "SEV3"

    class Status(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Source(models.TextChoices):
        MANUAL = "manual", "Raised by a person"
        SLA_BREACH = "sla_breach", "SLA breach"

    OPEN_STATUSES = (Status.TRIGGERED, Status.ACKNOWLEDGED)

    severity = models.CharField(max_length=4, choices=Severity.choices)
    summary = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TRIGGERED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    case = models.ForeignKey(
        "disputes.DisputeCase", null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    conversation = models.ForeignKey(
        "support.Conversation", null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    sla_clock = models.ForeignKey(
        "support.SlaClock", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.PROTECT, related_name="escalations")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()
    round = models.PositiveIntegerField(default=0, help_text="How many paging rounds went out.")
    next_page_at = models.DateTimeField(null=True, blank=True)
    ack_deadline_at = models.DateTimeField(help_text="The first step's deadline (at most 30 minutes).")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False, conversation__isnull=True, account__isnull=True)
                | Q(case__isnull=True, conversation__isnull=False, account__isnull=True)
                | Q(case__isnull=True, conversation__isnull=True, account__isnull=False),
                name="escalation_one_item",
            ),
            *(
                models.UniqueConstraint(
                    fields=[item],
                    condition=Q(**{f"{item}__isnull": False}, status__in=["triggered", "acknowledged"]),
                    name=f"escalation_one_open_per_{item}",
                    violation_error_message="This item already has an open escalation.",
                )
                for item in ("case", "conversation", "account")
            ),
        ]
        indexes = [
            models.Index(fields=["next_page_at"], name="escalation_next_page_idx"),
            models.Index(fields=["status", "raised_at"], name="escalation_status_raised_idx"),
        ]

    def __str__(self):
        return f"ESC-{self.pk} {self.get_severity_display()}: {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class EscalationEvent(models.Model):
    """The escalation's history, append-only: raised, paged, linked (a second raise), note,
    acknowledged, resolved; with who (null for the portal itself) and when."""

    class Kind(models.TextChoices):
        RAISED = "raised", "Raised"
        PAGED = "paged", "Paged"
        LINKED = "linked", "Raised again"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        NOTE = "note", "Note"

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["escalation", "at"], name="escalation_event_at_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class Page(models.Model):
    """One message to one person about one escalation through one channel, in one paging round
    (round 0 is the first step; each later step, and each repeat after the last, is the next
    round). Stored before it is sent, so nothing is lost when a channel is down: a failed page is
    retried until it is delivered or gives up. The unique constraint makes each round's page to
    each person go out once, however many workers run the pass."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Chat webhook"
        INTERCOM = "intercom", "Intercom note"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will retry"
        DEAD = "dead", "Gave up"

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="pages")
    round = models.PositiveIntegerField()
    step = models.PositiveSmallIntegerField(help_text="The policy step this round paged.")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="pages"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=500, blank=True, help_text="The e-mail address or webhook URL.")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "round", "recipient", "channel"], name="page_once_per_round"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending", "failed"]),
                name="page_undelivered_idx",
            ),
            models.Index(fields=["recipient", "created_at"], name="page_recipient_idx"),
        ]

    def __str__(self):
        return (
            f"{self.get_channel_display()} to {self.recipient or self.address} ({self.get_status_display()})"
        )


class OncallContact(models.Model):
    """How a person is paged besides e-mail: their own chat webhook."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_contact"
    )
    webhook_url = models.URLField(blank=True)

    def __str__(self):
        return f"Paging {self.user}"
