import django_tables2 as tables


class PortalTable(tables.Table):
    """Base for every list: the portal's look, `sort` for ordering, 25 rows a page."""

    class Meta:
        attrs = {"class": "data"}
        order_by_field = "sort"
        per_page = 25
        template_name = "django_tables2/portal.html"
