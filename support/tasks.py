"""Background tasks of the conversation mirror (django-q2)."""

import logging

from django.conf import settings

from integrations.intercom.client import IntercomClient
from support.importing import WATERMARK, conversations_import, watermark_since
from support.routing.teams import routing_teams_sync as routing_teams_sync_run
from support.sla import mail
from support.sla.bulk import sla_evaluate_open
from support.sla.tick import sla_tick as sla_tick_run

logger = logging.getLogger(__name__)


def conversations_reconcile() -> dict | str:
    """Import the conversations updated since the stored watermark (24 hours back on the first
    run): what webhooks missed or delivered out of order ends up in the mirror. Idempotent."""
    if not settings.INTERCOM_ENABLED:
        return "not connected"
    with IntercomClient() as client:
        report = conversations_import(
            client=client, since=watermark_since(WATERMARK), watermark_name=WATERMARK
        )
    if report.failed:
        logger.warning(
            "Conversation import: %s item(s) could not be stored; first: %s", report.failed, report.errors[0]
        )
    return report.as_dict()


def routing_teams_sync() -> dict | str:
    """Hourly: mark the routing teams Intercom no longer has as gone (their rules are then skipped
    as broken instead of failing in the outbox) and clear the mark of those it lists again. Reads
    Intercom before writing anything; an error from Intercom raises and changes nothing. Idempotent."""
    if not settings.INTERCOM_ENABLED:
        return "not connected"
    with IntercomClient() as client:
        return routing_teams_sync_run(client=client)


def sla_backfill() -> int:
    """Give the open conversations and cases without a running SLA clock their clocks (after
    deploying the clocks, or after rows were written in bulk). Safe to retry; run by hand."""
    return sla_evaluate_open()


def sla_tick() -> dict:
    """Every minute: record the SLA warnings and breaches whose time has come (only clocks whose
    indexed next deadline has passed are read). Safe to run twice at once and to retry: each
    warning and breach is recorded once."""
    return sla_tick_run().as_dict()


def sla_warning_mails(clock_ids: list[int]) -> int:
    """Queued after the SLA warnings of a pass (or an evaluation) are recorded: e-mail each
    item's assignee, or every active Specialist for an unassigned item. Returns messages sent."""
    return mail.sla_warning_mails(clock_ids)
