import datetime as dt

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Account
from portal.columns import Column, table_columns
from portal.tables import PortalTable


def _span(delta: dt.timedelta) -> str:
    """A short human duration: "3 days", "5 hours", "12 minutes"."""
    seconds = abs(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "moments"


def due_badge(due, now) -> str:
    if due is None:
        return format_html('<span class="muted">—</span>')
    local = timezone.localtime(due)
    if due < now:
        return format_html(
            '<span class="badge badge--danger">{} overdue</span><br><span class="muted">{}</span>',
            _span(now - due),
            f"{local:%d %b %H:%M}",
        )
    return format_html(
        '<span class="badge{}">in {}</span><br><span class="muted">{}</span>',
        " badge--warn" if (due - now).days < 7 else "",
        _span(due - now),
        f"{local:%d %b %H:%M}",
    )


def health_badge(score) -> str:
    if score is None:
        return format_html('<span class="muted">—</span>')
    tone = "ok" if score >= 70 else "warn" if score >= 40 else "danger"
    return format_html('<span class="badge badge--{}">{}</span>', tone, score)


# The portfolio list's columns: the table's and the CSV export's, in their order. The rows are
# written out in accounts/_account_table.html, cell for cell in this order (see its comment).
ACCOUNT_COLUMNS = [
    Column("display_name", "Account", "display_name"),
    Column("email", "E-mail", "email", table=False),
    Column("external_id", "External id", "external_id", table=False),
    Column("tier", "Tier", "tier__name", order_by=("tier__rank", "display_name")),
    Column("owner", "Owner", "owner__username"),
    Column("status", "Status", "status", table=False),
    Column("venue", "Venue", "venue", table=False),
    Column("next_check_in_due", "Next check-in", "next_check_in_due"),
    Column("last_contact_at", "Last contact", "last_contact_at"),
    Column("health_score", "Health", "health_score", numeric=True),
    Column("volume_30d_usd", "30-day volume", "volume_30d_usd", numeric=True),
]


class AccountTable(PortalTable):
    selected = tables.CheckBoxColumn(
        accessor="pk", orderable=False, attrs={"th__input": {"aria-label": "Select all on this page"}}
    )

    class Meta(PortalTable.Meta):
        model = Account
        fields = []
        sequence = ("selected", "...")
        empty_text = "No accounts match. Clear the filters to see more."
        template_name = "accounts/_account_table.html"

    def __init__(self, *args, selectable: bool = True, **kwargs):
        self.selectable = selectable
        super().__init__(*args, extra_columns=table_columns(ACCOUNT_COLUMNS), **kwargs)
        if not selectable:
            self.columns.hide("selected")
