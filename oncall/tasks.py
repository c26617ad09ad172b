"""Background tasks of the escalation pathway (django-q2)."""

import time

from oncall.services.delivery import pages_deliver
from oncall.services.paging import escalations_page_due

DELIVERY_BATCH = 500
DELIVERY_BUDGET_SECONDS = 45  # the next minute's run picks up the rest


def escalations_page() -> dict:
    """Every minute, and right after an escalation is raised: store the pages of every round
    whose time has come, then send every page due (new ones and retries), a batch at a time
    within the minute. Safe to run twice at once and to retry: a round is paged once, a page
    sent once."""
    paging = escalations_page_due()
    started, totals = time.monotonic(), {"sent": 0, "failed": 0, "dead": 0, "skipped": 0}
    while True:
        report = pages_deliver(limit=DELIVERY_BATCH).as_dict()
        for key, value in report.items():
            totals[key] += value
        if sum(report.values()) < DELIVERY_BATCH or time.monotonic() - started > DELIVERY_BUDGET_SECONDS:
            return {**paging.as_dict(), **totals}
