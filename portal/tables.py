import django_tables2 as tables
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class PortalTable(tables.Table):
    """Base for every list: the portal's look, `sort` for ordering, 25 rows a page."""

    class Meta:
        attrs = {"class": "data"}
        order_by_field = "sort"
        per_page = 25
        template_name = "django_tables2/portal.html"


MAX_PER_PAGE = 200
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts a list's rows up to COUNT_CAP: counting a history of hundreds of thousands of rows
    costs more than the page of 25 it shows. Past the cap the footer says "more than 10,000" and
    the pages end there; filters and sorting reach the rest (nobody pages through 400 pages)."""

    @cached_property
    def _rows_up_to_cap(self) -> int:
        queryset = getattr(getattr(self.object_list, "data", None), "data", None)  # BoundRows → TableData
        if isinstance(queryset, QuerySet):
            return queryset[: COUNT_CAP + 1].count()
        return len(self.object_list)

    @cached_property
    def count(self) -> int:
        return min(self._rows_up_to_cap, COUNT_CAP)

    @property
    def capped(self) -> bool:
        return self._rows_up_to_cap > COUNT_CAP

    @property
    def cap_label(self) -> str:
        return f"{COUNT_CAP:,}"


DEFAULT_PER_PAGE = 25


def _positive_int(raw, default: int) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError, OverflowError):
        return default


def configure_table(request, table: tables.Table) -> tables.Table:
    """Sort and paginate a table from `sort`, `page` and `per_page`, forgivingly: per_page is
    kept within 1–200, a page that is not a number opens the first page and one past the end
    the last, so no query string can make a list answer 404 or 500."""
    tables.RequestConfig(request, paginate=False).configure(table)
    per_page = min(MAX_PER_PAGE, _positive_int(request.GET.get("per_page"), DEFAULT_PER_PAGE))
    page = _positive_int(request.GET.get("page"), 1)
    try:
        table.paginate(paginator_class=CappedPaginator, page=page, per_page=per_page)
    except EmptyPage:
        table.paginate(
            paginator_class=CappedPaginator,
            page=table.paginator.num_pages if hasattr(table, "paginator") else 1,
            per_page=per_page,
        )
    return table
