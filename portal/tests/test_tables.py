import django_tables2 as tables
import pytest
from django.test import RequestFactory
from django_tables2 import RequestConfig

from portal.tables import PortalTable, configure_table


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


class UserTable(PortalTable):
    username = tables.Column()


@pytest.mark.django_db
def test_a_long_list_is_counted_up_to_the_cap_and_its_pages_end_there(monkeypatch, django_assert_num_queries):
    from portal.models import User

    User.objects.bulk_create(User(username=f"user{n}") for n in range(7))
    monkeypatch.setattr("portal.tables.COUNT_CAP", 4)

    def page(query: str) -> str:
        request = RequestFactory().get("/list/" + query)
        table = configure_table(request, UserTable(User.objects.order_by("username")))
        return table.as_html(request)

    with django_assert_num_queries(2):  # the count (of at most 5 rows) and the page
        html = page("?per_page=2")
    assert "1–2 of more than 4 (filter or sort to reach the rest)" in html
    assert "page=2" in html and "page=3" not in html  # 4 rows counted: two pages
    assert "3–4 of more than 4" in page("?per_page=2&page=9")  # past the end: the last page
    monkeypatch.setattr("portal.tables.COUNT_CAP", 7)
    html = page("?per_page=2")
    assert "1–2 of 7" in html and "more than" not in html
