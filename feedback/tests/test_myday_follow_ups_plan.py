"""My day's feedback follow-ups read the person's waiting ones, oldest first, through an index
that matches (issue 23: at 500,000 cases the panel sorted all of a person's waiting follow-ups,
2,992 of them, to show 25)."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from feedback.models import FollowUp
from feedback.registrations import waiting_follow_ups
from feedback.tests.factories import FeedbackItemFactory
from portal.tests.plans import query_plan

pytestmark = pytest.mark.django_db


def test_the_follow_ups_panel_reads_its_persons_waiting_follow_ups_by_the_matching_index():
    me, other = specialist_user(), specialist_user()
    item = FeedbackItemFactory(created_by=me)
    now = timezone.now()
    FollowUp.objects.bulk_create(
        FollowUp(
            item=item,
            account=make_account(owner=me),
            owner=me if n % 2 else other,
            outcome="shipped",
            created_at=now - dt.timedelta(hours=n),
            done_at=now if n % 3 == 0 else None,
        )
        for n in range(1, 61)
    )
    found = query_plan(waiting_follow_ups(me))
    assert "feedback_follow_up_waiting_idx" in found, found  # both databases: no bound value in it
    waiting = [n for n in range(59, 0, -2) if n % 3]  # mine, not done, oldest (largest n) first
    assert [round((now - f.created_at) / dt.timedelta(hours=1)) for f in waiting_follow_ups(me)] == waiting[
        :25
    ]
