import django_tables2 as tables
from django.utils import timezone

from feedback.models import FeedbackItem
from portal.tables import PortalTable


class FeedbackTable(PortalTable):
    id = tables.Column(verbose_name="#")
    title = tables.Column(linkify=("feedback:detail", [tables.A("pk")]))
    category = tables.Column()
    status = tables.Column()
    owner_team = tables.Column(verbose_name="Team")
    impact_accounts = tables.Column(
        verbose_name="Accounts", attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    impact_score = tables.Column(
        verbose_name="Impact", attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    created_at = tables.Column(verbose_name="Age")

    class Meta(PortalTable.Meta):
        model = FeedbackItem
        fields = []
        sequence = (
            "id",
            "title",
            "category",
            "status",
            "owner_team",
            "impact_accounts",
            "impact_score",
            "created_at",
        )
        empty_text = "No feedback matches."
        order_by = ("-impact_score",)
        template_name = "feedback/_feedback_table.html"

    def __init__(self, *args, **kwargs):
        self.now = timezone.now()
        super().__init__(*args, **kwargs)
