import django_tables2 as tables
from django.test import RequestFactory
from django_tables2 import RequestConfig

from portal.tables import PortalTable


class PeopleTable(PortalTable):
    name = tables.Column()
    volume = tables.Column(attrs={"td": {"class": "num"}})


ROWS = [{"name": f"Trader {n:02d}", "volume": n * 1000} for n in range(60)]


def render(query: str) -> str:
    request = RequestFactory().get("/list/" + query)
    table = PeopleTable(ROWS)
    RequestConfig(request).configure(table)
    return table.as_html(request)


def test_tables_use_the_portal_look_with_sort_and_pages():
    html = render("?sort=-volume&page=2")
    assert 'class="data"' in html
    assert "Trader 34" in html and "Trader 59" not in html  # page 2 of the descending sort
    assert "26–50 of 60" in html
    assert 'aria-current="page">2<' in html
    assert "sort=-volume&amp;page=3" in html or "page=3&amp;sort=-volume" in html


def test_per_page_is_taken_from_the_query_string():
    assert "1–10 of 60" in render("?per_page=10")
