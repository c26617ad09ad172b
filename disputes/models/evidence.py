"""Evidence on a case: identifiers, links, files, and wallet-activity snapshots."""

from django.conf import settings
from django.db import models

from disputes.models.cases import DisputeCase


def evidence_upload_path(item: "EvidenceItem", filename: str) -> str:
    # The stored name never reuses the uploader's file name: it could carry a path or clash.
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"evidence/{item.case.reference}/{uuid.uuid4().hex}.{suffix}"


class EvidenceItem(models.Model):
    """One piece of evidence on a case: an identifier the user gave us, a link, or a file.
    Append-only like the rest of the case file."""

    class Kind(models.TextChoices):
        ORDER = "order", "Order id"
        TRADE = "trade", "Trade id"
        TRANSACTION = "transaction", "Transaction hash"
        WALLET = "wallet", "Wallet address"
        LINK = "link", "Link"
        FILE = "file", "File"

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The identifier itself (order id, trade id, hash, address or URL), normalised; empty for files.
    value = models.CharField(max_length=500, blank=True)
    description = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to=evidence_upload_path, blank=True, max_length=200)
    file_name = models.CharField(max_length=200, blank=True, help_text="The name it was uploaded with.")
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["added_at", "pk"]
        indexes = [models.Index(fields=["kind", "value"], name="evidence_kind_value_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value or self.file_name}"


class WalletActivitySnapshot(models.Model):
    """A wallet's on-chain activity for a market and time window, as the Data API reported it
    when fetched; frozen, so the case keeps what the specialist saw."""

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="wallet_snapshots")
    wallet_address = models.CharField(max_length=42)
    condition_id = models.CharField(max_length=66, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    source = models.CharField(max_length=80)
    truncated = models.BooleanField(default=False, help_text="More rows existed than the API would page to.")
    row_count = models.PositiveIntegerField(default=0)
    fetched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["fetched_at", "pk"]

    def __str__(self):
        return f"{self.case}: {self.wallet_address} {self.window_start:%Y-%m-%d}–{self.window_end:%Y-%m-%d}"


class WalletActivityRow(models.Model):
    """One activity row of a snapshot: a trade, deposit, withdrawal, redemption, …"""

    snapshot = models.ForeignKey(WalletActivitySnapshot, on_delete=models.CASCADE, related_name="rows")
    # Denormalised so a search by transaction hash finds the case without a join through snapshots.
    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20)
    condition_id = models.CharField(max_length=66, blank=True)
    title = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=100, blank=True)
    side = models.CharField(max_length=4, blank=True)
    size = models.DecimalField(max_digits=30, decimal_places=8, null=True, blank=True)
    usdc_size = models.DecimalField(max_digits=30, decimal_places=8, null=True, blank=True)
    price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    transaction_hash = models.CharField(max_length=66, blank=True)
    collateral = models.CharField(max_length=8, help_text="USDC.e before the 2026-04-28 cutover, pUSD after.")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["transaction_hash"], name="activity_tx_hash_idx")]

    def __str__(self):
        return f"{self.kind} {self.transaction_hash}"
