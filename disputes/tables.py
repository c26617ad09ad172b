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
