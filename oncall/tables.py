"""The escalation list."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from oncall.models import Escalation
from oncall.selectors.escalations import escalation_item
from portal.tables import PortalTable

STATUS_BADGES = {"triggered": "badge--danger", "acknowledged": "badge--warn", "resolved": ""}


class EscalationTable(PortalTable):
    """Feed it `oncall.selectors.escalations.escalations_listed()`: no column runs a query."""

    reference = tables.Column(verbose_name="Escalation", accessor="pk")
    severity = tables.Column()
    status = tables.Column()
    item = tables.Column(verbose_name="About", empty_values=(), orderable=False)
    raised_at = tables.DateTimeColumn(verbose_name="Raised", format="d M H:i")
    acknowledged_by = tables.Column(verbose_name="Acknowledged by", accessor="acknowledged_by__display_name")

    class Meta(PortalTable.Meta):
        model = Escalation
        fields = []
        sequence = ("reference", "severity", "status", "item", "raised_at", "acknowledged_by")
        orderable = False

    def render_reference(self, record):
        url = reverse("oncall:escalation_detail", args=[record.pk])
        return format_html('<a href="{}">ESC-{}</a> {}', url, record.pk, record.summary)

    def render_status(self, record):
        badge = STATUS_BADGES.get(record.status, "")
        return format_html('<span class="badge {}">{}</span>', badge, record.get_status_display())

    def render_item(self, record):
        kind, item = escalation_item(record)
        if kind == "case":
            return format_html("Case {}", item.reference)
        if kind == "conversation":
            return format_html("Conversation “{}”", item.title or item.intercom_id)
        return format_html("Account {}", item.display_name)
