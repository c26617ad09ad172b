import django_tables2 as tables
from django.utils import timezone

from disputes.models import Market
from portal.columns import Column, table_columns
from portal.roles import Role, user_roles
from portal.tables import PortalTable
from portal.templatetags.portal_tags import money, person


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


# The case list's columns: the table's and the CSV export's, in their order. The rows are written
# out in disputes/_case_table.html, cell for cell in this order (see its comment).
CASE_COLUMNS = [
    Column("reference", "Case", "reference"),
    Column("account", "Account", "account__display_name"),
    Column("category", "Category", "category"),
    Column("status", "Status", "status"),
    Column("venue", "Venue", "venue", table=False),
    Column("assignee", "Assignee", "assignee__username"),
    Column("resolution_due", "Resolution due", "resolution_due"),
    Column("amount_at_stake", "At stake", "amount_at_stake", numeric=True),
]


class CaseTable(PortalTable):
    class Meta(PortalTable.Meta):
        fields = []
        empty_text = "No cases match."
        order_by = ("-resolution_due",)
        template_name = "disputes/_case_table.html"

    def __init__(self, *args, **kwargs):
        self.now = timezone.now()
        self.selectable = getattr(self, "selectable", False)
        super().__init__(*args, extra_columns=table_columns(CASE_COLUMNS), **kwargs)


class MarketCaseTable(CaseTable):
    """The cases of one market, with a checkbox per row for bulk assign and status changes."""

    selected = tables.CheckBoxColumn(
        accessor="pk", orderable=False, attrs={"th__input": {"aria-label": "Select all on this page"}}
    )

    class Meta(CaseTable.Meta):
        sequence = ("selected", "...")
        order_by = ("-year", "-number")

    def __init__(self, *args, selectable: bool = True, **kwargs):
        self.selectable = selectable
        super().__init__(*args, **kwargs)
        if not selectable:
            self.columns.hide("selected")


class ApprovalTable(PortalTable):
    case = tables.Column(
        accessor="case__reference",
        verbose_name="Case",
        linkify=("disputes:case_detail", [tables.A("case__reference")]),
    )
    account = tables.Column(accessor="case__account__display_name", verbose_name="Account")
    amount = tables.Column(
        accessor="case__amount_at_stake", verbose_name="At stake", attrs={"td": {"class": "num nowrap"}}
    )
    outcome = tables.Column()
    proposed_by = tables.Column(
        accessor="proposed_by", verbose_name="Proposed by", order_by=("proposed_by__username",)
    )
    proposed_at = tables.DateTimeColumn(verbose_name="Waiting since", format="d M H:i")
    approve = tables.TemplateColumn(
        template_name="disputes/_approve_cell.html", verbose_name="", orderable=False
    )

    class Meta(PortalTable.Meta):
        fields = []
        sequence = ("case", "account", "amount", "outcome", "proposed_by", "proposed_at", "approve")
        empty_text = "Nothing waits for approval."
        order_by = ("proposed_at",)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        self.can_approve = Role.SPECIALIST in user_roles(user)
        super().__init__(*args, **kwargs)

    def render_amount(self, record):
        return money(record.case.amount_at_stake, record.case.currency)

    def render_proposed_by(self, value):
        return person(value)


class DecisionTable(PortalTable):
    case = tables.Column(
        accessor="case__reference",
        verbose_name="Case",
        linkify=("disputes:case_detail", [tables.A("case__reference")]),
    )
    market = tables.Column(accessor="case__market__question", verbose_name="Market", default="—")
    outcome = tables.Column()
    state = tables.Column()
    proposed_by = tables.Column(
        accessor="proposed_by", verbose_name="By", order_by=("proposed_by__username",)
    )
    proposed_at = tables.DateTimeColumn(verbose_name="Decided", format="d M Y")

    class Meta(PortalTable.Meta):
        fields = []
        sequence = ("case", "market", "outcome", "state", "proposed_by", "proposed_at")
        empty_text = "No decision cites that rule."
        order_by = ("-proposed_at",)

    def render_proposed_by(self, value):
        return person(value)
