"""My day's open cases read one person's open cases through an index that matches, never every
case (issue 23: at 500,000 cases the panel scanned the due-date index across all of them)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from disputes.models import DisputeCase
from disputes.registrations import open_cases_query
from portal.tests.plans import query_plan

pytestmark = pytest.mark.django_db


def test_the_open_cases_panel_reads_its_persons_open_cases_by_the_matching_index():
    me, other = specialist_user(), specialist_user()
    account = make_account(owner=me)
    now = timezone.now()
    DisputeCase.objects.bulk_create(
        DisputeCase(
            reference=f"DSP-2026-{n:05d}",
            year=2026,
            number=n,
            account=account,
            category="order_execution",
            venue=account.venue,
            claim="x",
            assignee=me if n % 2 else other,
            status="closed" if n % 3 else "new",
            first_response_due=now,
            resolution_due=now + dt.timedelta(hours=n),
            filed_by=me,
        )
        for n in range(1, 301)
    )
    found = query_plan(open_cases_query(me))
    expected = "case_open_assignee_due_idx" if connection.vendor == "postgresql" else "case_assignee_due_idx"
    assert expected in found, found
    assert "case_resolution_due_idx" not in found
    assert [c.number for c in open_cases_query(me)] == [
        3 + 6 * k for k in range(25)
    ]  # mine, open, most urgent
