import django_tables2 as tables

from disputes.models import Market
from portal.tables import PortalTable


class MarketTable(PortalTable):
    question = tables.Column(verbose_name="Market", linkify=("disputes:market_detail", [tables.A("pk")]))
    venue = tables.Column()
    end_date = tables.DateTimeColumn(verbose_name="Ends", format="d M Y")
    is_closed = tables.Column(verbose_name="State")
    uma_status = tables.Column(verbose_name="UMA")
    clarification_count = tables.Column(verbose_name="Clarifications", attrs={"td": {"class": "num"}})

    class Meta(PortalTable.Meta):
        model = Market
        fields = []
        sequence = ("question", "venue", "end_date", "is_closed", "uma_status", "clarification_count")
        empty_text = "No markets match. Import one with its Polymarket link."
        template_name = "disputes/_market_table.html"


class CaseTable(PortalTable):
    reference = tables.Column(verbose_name="Case", linkify=("disputes:case_detail", [tables.A("reference")]))
    account = tables.Column(accessor="account__display_name", order_by=("account__display_name",))
    category = tables.Column()
    status = tables.Column()
    assignee = tables.Column(accessor="assignee__username", default="—")
    resolution_due = tables.DateTimeColumn(verbose_name="Resolution due", format="d M H:i")
    amount_at_stake = tables.Column(verbose_name="At stake", attrs={"td": {"class": "num"}})

    class Meta(PortalTable.Meta):
        fields = []
        sequence = (
            "reference",
            "account",
            "category",
            "status",
            "assignee",
            "resolution_due",
            "amount_at_stake",
        )
        empty_text = "No cases match."
        order_by = ("-resolution_due",)
