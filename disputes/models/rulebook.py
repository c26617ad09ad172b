"""The platform rulebook: sections per venue and every version of their text."""

from django.conf import settings
from django.db import models

from accounts.models import Venue
from portal.models import TimeStampedModel
from portal.revisions import Revision


class RulebookSection(TimeStampedModel):
    """A numbered section of the platform rulebook (order execution, fees, deposits, ...)."""

    venue = models.CharField(max_length=16, choices=Venue.choices)
    number = models.CharField(max_length=20, help_text="Section number such as 4 or 4.2.")
    sort_key = models.CharField(max_length=80, help_text="The number zero-padded, for ordering.")
    title = models.CharField(max_length=200)
    current_version = models.ForeignKey(
        "RulebookSectionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["venue", "sort_key"]
        constraints = [models.UniqueConstraint(fields=["venue", "number"], name="rulebook_section_unique")]

    def __str__(self):
        return f"§{self.number} {self.title} ({self.get_venue_display()})"


class RulebookSectionVersion(Revision):
    parent_field = "section"
    current_field = "current_version"

    class Origin(models.TextChoices):
        IMPORT = "import", "Imported"
        EDIT = "edit", "Edited in the portal"

    section = models.ForeignKey(RulebookSection, on_delete=models.CASCADE, related_name="versions")
    title = models.CharField(max_length=200)
    body = models.TextField()
    effective_from = models.DateField()
    content_hash = models.CharField(max_length=64)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["section", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["section", "number"], name="rulebook_version_number_unique")
        ]
        indexes = [models.Index(fields=["section", "effective_from"], name="rulebook_version_effective_idx")]

    def __str__(self):
        return f"{self.section} v{self.number}"
