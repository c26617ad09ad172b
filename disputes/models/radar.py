"""The resolution radar: a change to a market that starts disputes (a signal), and the heads-up
each owner of accounts holding that market gets about it."""

from django.conf import settings
from django.db import models


class MarketSignal(models.Model):
    """A change to a market that traders dispute, detected once (`key` tells repeats apart)."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", "UMA proposal"
        DISPUTED = "disputed", "UMA dispute"
        CLARIFIED = "clarified", "Clarification"
        RULES_CHANGED = "rules_changed", "Rules changed"
        FIFTY_FIFTY = "fifty_fifty", "Resolved 50-50"
        CLOSED_EARLY = "closed_early", "Closed early"

    market = models.ForeignKey("disputes.Market", on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=80, help_text="What makes this change itself: a repeat is not stored.")
    summary = models.CharField(max_length=300, help_text='Completes "… which was just …".')
    detected_at = models.DateTimeField()
    version = models.ForeignKey(
        "disputes.MarketRuleVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_version = models.ForeignKey(
        "disputes.MarketRuleVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["market", "kind", "key"], name="market_signal_once")]
        indexes = [models.Index(fields=["-detected_at"], name="market_signal_recent_idx")]

    def __str__(self):
        return f"{self.market_id}: {self.summary}"


class HeadsUp(models.Model):
    """One owner's heads-up about one signal: their accounts holding the market then, with their
    positions (kept as they were, so the heads-up reads the same later)."""

    signal = models.ForeignKey(MarketSignal, on_delete=models.CASCADE, related_name="heads_ups")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="heads_ups")
    holdings = models.JSONField(help_text='[{"account_id", "name", "outcome", "size", "value"}]')
    accounts = models.PositiveIntegerField()
    total_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField()
    mailed_at = models.DateTimeField(null=True, blank=True)
    told_at = models.DateTimeField(null=True, blank=True, help_text="When the owner said they told them.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["signal", "owner"], name="heads_up_once_per_owner")]
        indexes = [models.Index(fields=["owner", "told_at"], name="heads_up_owner_idx")]

    def __str__(self):
        return f"Heads-up to {self.owner_id} about signal {self.signal_id}"

    @property
    def synthetic(self) -> bool:
        """Some of its positions are the demo's (synthetic files), not Polymarket's."""
        return any(holding.get("synthetic") for holding in self.holdings)
