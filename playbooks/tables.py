import django_tables2 as tables

from playbooks.models import Playbook, ResponseTemplate
from portal.tables import PortalTable


class PlaybookTable(PortalTable):
    title = tables.Column(verbose_name="Playbook", linkify=("playbooks:detail", [tables.A("slug")]))
    category = tables.Column()
    status = tables.Column()
    owner = tables.Column(verbose_name="Owner", accessor="owner__username", order_by=("owner__username",))
    next_review_on = tables.Column(verbose_name="Next review")
    revision_count = tables.Column(verbose_name="Revisions", attrs={"td": {"class": "num"}})
    updated_at = tables.DateTimeColumn(verbose_name="Updated", format="d M Y")

    class Meta(PortalTable.Meta):
        model = Playbook
        fields = []
        sequence = ("title", "category", "status", "owner", "next_review_on", "revision_count", "updated_at")
        empty_text = "No playbooks match."
        template_name = "playbooks/_playbook_table.html"

    def __init__(self, *args, ranked: bool = False, **kwargs):
        if not ranked:
            kwargs.setdefault("order_by", ("title",))
        super().__init__(*args, **kwargs)


class TemplateTable(PortalTable):
    name = tables.Column(linkify=("playbooks:template_preview", [tables.A("pk")]))
    serves = tables.Column(verbose_name="Used for")
    playbook = tables.Column(accessor="playbook__title", order_by=("playbook__title",))
    revision_count = tables.Column(verbose_name="Revisions", attrs={"td": {"class": "num"}})
    is_active = tables.BooleanColumn(verbose_name="Offered")

    class Meta(PortalTable.Meta):
        model = ResponseTemplate
        fields = []
        sequence = ("name", "serves", "playbook", "revision_count", "is_active")
        empty_text = "No templates yet."
        order_by = ("name",)
