from django.utils import timezone

from feedback.models import FeedbackItem
from portal.columns import Column, table_columns
from portal.tables import PortalTable

# The log's columns: the table's and the CSV export's, in their order. The rows are written out in
# feedback/_feedback_table.html, cell for cell in this order (see its comment). The export names
# two columns as it always has ("accounts", "impact"), not as the table's sort keys.
FEEDBACK_COLUMNS = [
    Column("id", "#", "id"),
    Column("title", "Title", "title"),
    Column("category", "Category", "category"),
    Column("status", "Status", "status"),
    Column("owner_team", "Team", "owner_team"),
    Column("severity", "Severity", "severity", table=False),
    Column("area", "Area", "area__name", table=False),
    Column("impact_accounts", "Accounts", "impact_accounts", csv_name="accounts", numeric=True),
    Column("volume_30d_usd", "30-day volume", "impact_volume_usd", table=False),
    Column("impact_score", "Impact", "impact_score", csv_name="impact", numeric=True),
    Column("created_at", "Age", "created_at"),
]


class FeedbackTable(PortalTable):
    class Meta(PortalTable.Meta):
        model = FeedbackItem
        fields = []
        empty_text = "No feedback matches."
        order_by = ("-impact_score",)
        template_name = "feedback/_feedback_table.html"

    def __init__(self, *args, **kwargs):
        self.now = timezone.now()
        super().__init__(*args, extra_columns=table_columns(FEEDBACK_COLUMNS), **kwargs)
