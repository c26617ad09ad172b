"""/reports/weeks/: Leadership and Admins read the frozen weeks and their trends, open a week as
it was sent with what changed since, download it; Admins recompute with a reason and choose who
else gets the e-mail. Links followed from the pages."""

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse

from portal.tests.pages import form_on, link_to, submit
from reports.models import MetricSnapshot, WeeklyMail, WeeklyMailRecipient
from reports.tests.test_weekly_freezing import MONDAY, THURSDAY_AFTER, rated
from reports.weekly.freezing import week_freeze

pytestmark = pytest.mark.django_db
UTC = dt.UTC
WEEK = MONDAY.isoformat()


@pytest.fixture
def frozen(settings):
    settings.TIME_ZONE = "UTC"
    for day, rating in ((23, 5), (24, 4), (25, 1), (26, 5)):
        rated(dt.datetime(2026, 11, day, 12, tzinfo=UTC), rating)
    week_freeze(MONDAY - dt.timedelta(days=7), now=THURSDAY_AFTER)
    snapshot, _ = week_freeze(MONDAY, now=THURSDAY_AFTER)
    return snapshot


def weeks_page(client):
    return client.get(link_to(client.get(reverse("reports:report")), "Frozen weeks"))


def test_leadership_reads_the_weeks_with_trends_and_opens_one_as_frozen(client, leader, frozen):
    client.force_login(leader)
    page = weeks_page(client)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "Customer satisfaction: CSAT" in body and "No data" in body
    week = client.get(link_to(page, "23 Nov 2026"))
    text = week.content.decode()
    assert week.status_code == 200 and "by the schedule" in text and "75.0%" in text
    assert "every figure reads as frozen" in text and "Recompute" not in text


def test_a_late_rating_shows_beside_the_frozen_figure_not_instead_of_it(client, leader, frozen):
    rated(dt.datetime(2026, 11, 27, 12, tzinfo=UTC), 1)
    client.force_login(leader)
    week = client.get(reverse("reports:week", args=[WEEK]))
    differences = {d.label: d for d in week.context["differences"]}
    assert differences["CSAT"].frozen == "75.0%" and differences["CSAT"].live == "60.0%"
    assert "1 more" in differences["CSAT"].what_changed and "arrived late" in differences["CSAT"].what_changed
    assert "75.0%" in week.content.decode()


def test_older_definitions_are_labelled(client, leader, frozen):
    MetricSnapshot.objects.filter(pk=frozen.pk).update(definitions_version="0123456789ab")
    client.force_login(leader)
    assert "Counted by older definitions" in client.get(reverse("reports:week", args=[WEEK])).content.decode()


def test_downloads_from_the_weeks_page_read_the_frozen_figures(client, leader, frozen):
    rated(dt.datetime(2026, 11, 27, 12, tzinfo=UTC), 1)  # late: not in the download
    client.force_login(leader)
    week = client.get(reverse("reports:week", args=[WEEK]))
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get(link_to(week, "Download (CSV)")).streaming_content).decode("utf-8-sig")
            )
        )
    )
    assert rows[0][:4] == ["section", "metric", "period", "value"]
    assert rows[1][:2] == ["Customer satisfaction", "CSAT"] and rows[1][3] == "75.0%" and rows[1][6] == "4"
    breakdown_cells = [row for row in rows if row[1].startswith("CSAT by ")]
    assert breakdown_cells and all(row[0] == "Customer satisfaction" for row in breakdown_cells)
    assert any(row[1].endswith(", Rated") and row[3] == "4" for row in breakdown_cells)
    data = json.loads(client.get(link_to(week, "Download (JSON)")).content)
    assert data["week"] == WEEK and data["frozen_by"] == "schedule" and data["items"] == frozen.items
    assert data["sections"][0]["figures"][0]["value"] == 75.0


def test_an_admin_recomputes_with_a_reason_and_the_old_snapshot_stays(client, portal_admin, frozen):
    rated(dt.datetime(2026, 11, 27, 12, tzinfo=UTC), 1)
    client.force_login(portal_admin)
    week = client.get(reverse("reports:week", args=[WEEK]))
    form = form_on(client.get(link_to(week, "Recompute")), has_field="reason")
    refused = submit(client, form, reason="")
    assert refused.status_code == 400 and MetricSnapshot.objects.filter(week=MONDAY).count() == 1
    done = submit(client, form, reason="A rating arrived late")
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "A rating arrived late" in page and "Earlier snapshots of this week" in page and "60.0%" in page
    assert MetricSnapshot.objects.filter(week=MONDAY).count() == 2
    assert not WeeklyMail.objects.exists()  # a recompute sends nothing


def test_an_admin_adds_and_removes_a_recipient_and_resends_a_failed_mail(client, portal_admin, frozen):
    client.force_login(portal_admin)
    page = weeks_page(client)
    bad = submit(client, form_on(page, has_field="email"), email="not an address")
    assert bad.status_code == 400 and not WeeklyMailRecipient.objects.exists()
    added = submit(client, form_on(page, has_field="email"), email="Board@Example.com")
    assert added.status_code == 302 and WeeklyMailRecipient.objects.get().email == "board@example.com"
    page = client.get(added["Location"])
    submit(client, form_on(page, action_contains="/remove/"))
    assert not WeeklyMailRecipient.objects.exists()
    failed = WeeklyMail.objects.create(
        week=MONDAY,
        email="cfo@example.com",
        status="dead",
        attempts=8,
        last_error="SMTPRecipientsRefused",
        next_attempt_at=THURSDAY_AFTER,
    )
    page = weeks_page(client)
    assert "SMTPRecipientsRefused" in page.content.decode()
    submit(client, form_on(page, action_contains="/retry/"))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_who_reads_the_weeks(client, specialist, product_person, leader, portal_admin, frozen):
    urls = [
        reverse("reports:weeks"),
        reverse("reports:week", args=[WEEK]),
        reverse("reports:week_csv", args=[WEEK]),
    ]
    for person, status in ((specialist, 403), (product_person, 403), (leader, 200), (portal_admin, 200)):
        client.force_login(person)
        assert {client.get(url).status_code for url in urls} == {status}
    client.force_login(leader)
    assert client.get(reverse("reports:week_recompute", args=[WEEK])).status_code == 403
    assert client.post(reverse("reports:week_recipient_add"), {"email": "x@example.com"}).status_code == 403
    for bad in ("2026-11-24", "last-week", "2026-02-30", "2020-01-06"):
        assert client.get(reverse("reports:week", args=[bad])).status_code == 404


def test_the_weeks_page_takes_the_same_queries_for_3_or_30_weeks(
    client, leader, settings, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.TIME_ZONE = "UTC"
    client.force_login(leader)
    counts = {}
    for size in (3, 30):
        for n in range(MetricSnapshot.objects.count(), size):
            week_freeze(MONDAY - dt.timedelta(weeks=n), now=THURSDAY_AFTER)
        with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("reports:weeks")).status_code == 200
        counts[size] = len(queries)
    assert counts[3] == counts[30], counts
