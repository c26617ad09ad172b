"""The reports page and the rows behind it, as each role sees them: links followed from the
page, CSV exports, bad input answered with a message, and queries that stay flat."""

import csv
import datetime as dt
import html
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account
from reports.tests.factories import clock_row, conversation_row
from support.models import SlaPolicy
from support.tests.factories import only_policy

pytestmark = pytest.mark.django_db
REPORT = reverse("reports:report")


def links(response, pattern=r"/reports/rows/"):
    body = response.content.decode()
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', body) if re.search(pattern, href)]


def streamed(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def history(specialist):
    """A week of rated, timed conversations for the specialist and one for someone else."""
    policy = SlaPolicy.objects.first() or only_policy()
    now = timezone.now()
    account = make_account(owner=specialist)
    for day in range(1, 6):
        when = now - dt.timedelta(days=day)
        conversation = conversation_row(
            account=account, assignee=specialist, closed=when, rating=1 + day % 5, rated=when
        )
        clock_row(policy=policy, conversation=conversation, achieved=when, wall=600 * day)
    other = conversation_row(
        account=account, closed=now - dt.timedelta(days=2), rating=1, rated=now - dt.timedelta(days=2)
    )
    clock_row(
        policy=policy, conversation=other, achieved=now - dt.timedelta(days=2), wall=60, status="missed"
    )
    return account


def test_leadership_reads_every_figure_and_follows_each_link_to_its_rows(client, leader, history):
    client.force_login(leader)
    response = client.get(REPORT)
    assert response.status_code == 200
    body = response.content.decode()
    for title in ("Customer satisfaction", "Response and resolution times", "SLA attainment"):
        assert title in body
    assert "<svg" in body and "How these are counted" in body
    rows_links = links(response)
    assert rows_links, "the page links its numbers to their rows"
    for href in set(rows_links):
        page = client.get(href)
        assert page.status_code == 200, href
        export = links(page, r"format=csv")
        assert export, f"{href} has no CSV link"
        csv_response = client.get(export[0])
        assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")


def test_the_rated_conversations_behind_csat_are_the_ones_it_counts(client, leader, history):
    client.force_login(leader)
    response = client.get(REPORT)
    rated = next(h for h in links(response) if "rated-conversations" in h and "tier" not in h)
    rows = streamed(client.get(next(h for h in links(client.get(rated), r"format=csv"))))
    assert rows[0][:3] == ["conversation", "title", "account"]
    assert len(rows) - 1 == 6


def test_a_specialist_sees_their_own_figures_beside_the_team(client, specialist, history):
    client.force_login(specialist)
    response = client.get(REPORT)
    body = response.content.decode()
    assert "Figures are yours" in body and "Team:" in body
    rated = next(h for h in links(response) if "rated-conversations" in h)
    rows = streamed(client.get(next(h for h in links(client.get(rated), r"format=csv"))))
    assert len(rows) - 1 == 5  # not the other person's conversation


def test_product_reads_the_feedback_loop_only(client, product_person, history):
    client.force_login(product_person)
    response = client.get(REPORT)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Customer satisfaction" not in body and "SLA attainment" not in body
    assert client.get(reverse("reports:rows", args=["rated-conversations"])).status_code == 403


@pytest.mark.parametrize(
    "query, message",
    [
        ({"range": "month", "month": "2026-13"}, "YYYY-MM"),
        ({"range": "month"}, "Pick the month"),
        ({"range": "custom", "start": "2026-11-10", "end": "2026-11-01"}, "comes before the first"),
        ({"range": "custom", "start": "2024-01-01", "end": "2026-11-01"}, "at most 366 days"),
        ({"range": "custom", "start": "yesterday"}, "Enter a valid date"),
        ({"range": "fortnight"}, "Select a valid choice"),
    ],
)
def test_a_period_that_cannot_be_read_is_explained_on_the_page(client, leader, query, message):
    client.force_login(leader)
    response = client.get(REPORT, query)
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize("path", [REPORT, reverse("reports:rows", args=["rated-conversations"])])
def test_a_csv_of_a_period_that_cannot_be_read_is_a_400_not_the_default_period(client, leader, path):
    client.force_login(leader)
    response = client.get(
        path, {"range": "custom", "start": "2026-11-10", "end": "2026-11-01", "format": "csv"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "The period could not be read."
    assert "comes before the first" in response.json()["fields"]["end"][0]
    # the same period read correctly still downloads
    good = client.get(path, {"range": "custom", "start": "2026-11-01", "end": "2026-11-10", "format": "csv"})
    assert good.status_code == 200 and good["Content-Type"].startswith("text/csv")


def test_a_month_and_a_custom_range_report_their_own_days(client, leader):
    client.force_login(leader)
    month = client.get(REPORT, {"range": "month", "month": "2026-10"})
    assert "October 2026" in month.content.decode()
    custom = client.get(REPORT, {"range": "custom", "start": "2026-10-01", "end": "2026-10-07"})
    assert "compared with the 7 days before" in custom.content.decode()


def test_a_bad_filter_is_a_400_with_the_reason_and_an_unknown_list_a_404(client, leader):
    client.force_login(leader)
    bad = client.get(reverse("reports:rows", args=["rated-conversations"]), {"rating": "11"})
    assert bad.status_code == 400 and "Rating is good, poor or 1–5" in bad.content.decode()
    assert client.get(reverse("reports:rows", args=["no-such-list"])).status_code == 404


def test_the_figures_csv_carries_each_definition(client, leader, history):
    client.force_login(leader)
    response = client.get(REPORT)
    export = next(h for h in links(response, r"format=csv"))
    rows = streamed(client.get(export))
    assert rows[0] == [
        "section",
        "metric",
        "period",
        "value",
        "previous period",
        "change",
        "count",
        "definition",
    ]
    csat = next(row for row in rows if row[1] == "CSAT")
    assert csat[7].startswith("CSAT % = conversations rated 4 or 5")


def test_leadership_my_day_opens_with_the_week(client, leader, history):
    client.force_login(leader)
    body = client.get(reverse("home")).content.decode()
    assert "The program this week" in body and "CSAT" in body


def test_the_page_runs_a_fixed_number_of_queries(client, leader, specialist, django_assert_max_num_queries):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    policy = SlaPolicy.objects.first() or only_policy()
    account = make_account(owner=specialist)
    now = timezone.now()

    def conversations(days):
        for day in days:  # this period and the one before (the last 30 days and the 30 before)
            when = now - dt.timedelta(days=day, hours=1)
            conversation = conversation_row(
                account=account, assignee=specialist, closed=when, rating=5, rated=when
            )
            clock_row(policy=policy, conversation=conversation, achieved=when, wall=60 * day)
            clock_row(
                policy=policy, conversation=conversation, metric="resolution", achieved=when, wall=90 * day
            )

    conversations([1, 40])
    client.force_login(leader)
    client.get(REPORT)  # the session, and the rollups count the days
    reset_queries()  # a full log of earlier queries would count nothing
    with CaptureQueriesContext(connection) as few:
        assert client.get(REPORT).status_code == 200
    few_rows = len(few)  # read now: the log is cleared below
    conversations([*range(2, 25), *range(41, 55)])
    client.get(REPORT)  # the rollups count the changed days again
    reset_queries()
    with django_assert_max_num_queries(few_rows):
        client.get(REPORT)


def test_every_list_a_figure_links_to_is_known_when_the_app_starts():
    from reports.rows import row_list

    for key in (
        "rated-conversations", "closed-conversations", "sla-clocks", "escalations", "pages", "check-ins",
        "decided-cases", "case-replies", "overdue-accounts", "coverage-accounts", "cases-opened",
        "cases-decided-by-outcome", "amended-decisions", "approvals", "feedback-items", "feedback-follow-ups",
    ):  # fmt: skip
        assert row_list(key) is not None, key


@pytest.mark.parametrize(
    "key", ["rated-conversations", "sla-clocks", "check-ins", "escalations", "cases-opened"]
)
def test_a_page_of_rows_is_a_fixed_number_of_queries(
    client, leader, history, key, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(leader)
    url = reverse("reports:rows", args=[key])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, {"per_page": 2}).status_code == 200
    few_queries = len(few)
    with django_assert_max_num_queries(few_queries):
        assert client.get(url, {"per_page": 25}).status_code == 200
