import datetime as dt

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Account
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


class AccountTable(PortalTable):
    selected = tables.CheckBoxColumn(
        accessor="pk", orderable=False, attrs={"th__input": {"aria-label": "Select all on this page"}}
    )
    display_name = tables.Column(verbose_name="Account", linkify=("accounts:detail", [tables.A("pk")]))
    tier = tables.Column(order_by=("tier__rank", "display_name"))
    owner = tables.Column(verbose_name="Owner", order_by=("owner__username",), accessor="owner__username")
    next_check_in_due = tables.Column(verbose_name="Next check-in")
    last_contact_at = tables.DateTimeColumn(verbose_name="Last contact", format="d M Y", default="never")
    health_score = tables.Column(
        verbose_name="Health", attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    volume_30d_usd = tables.Column(
        verbose_name="30-day volume", attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )

    class Meta(PortalTable.Meta):
        model = Account
        fields = []
        sequence = (
            "selected",
            "display_name",
            "tier",
            "owner",
            "next_check_in_due",
            "last_contact_at",
            "health_score",
            "volume_30d_usd",
        )
        empty_text = "No accounts match. Clear the filters to see more."
        template_name = "accounts/_account_table.html"

    def __init__(self, *args, selectable: bool = True, **kwargs):
        self.now = timezone.now()
        self.selectable = selectable
        super().__init__(*args, **kwargs)
        if not selectable:
            self.columns.hide("selected")

    def render_next_check_in_due(self, value):
        return due_badge(value, self.now)

    def render_health_score(self, value):
        return health_badge(value)

    def render_volume_30d_usd(self, value):
        return f"${value:,.0f}"
