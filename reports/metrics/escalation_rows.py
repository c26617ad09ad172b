"""The escalations and pages behind the escalations family's figures (reports.rows)."""

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse

from oncall.models import Escalation, Page
from portal.columns import Column
from reports.metrics.base import (
    in_period,
)
from reports.metrics.dimensions import person_name
from reports.metrics.escalations import (
    ALL_ROLES,
    NIGHT_HOURS,
    PAGES_DEFINITION,
    RAISED_DEFINITION,
    TARGET,
    WITHIN_DEFINITION,
    _ack_seconds,
    _mine,
    night_hour,
    night_zones,
)
from reports.rows import RowList, RowQuery, one_of, positive_id, register_rows

# The rows behind the figures.


def _person(raw: str):
    return None if raw == "none" else positive_id("Person")(raw)


def escalation_rows(query: RowQuery):
    period, filters = query.period, query.filters
    counted_by = f"{filters.get('counted_by', 'raised')}_at"
    rows = _mine(Escalation.objects.all(), query.specialist).filter(in_period(counted_by, period))
    rows = rows.alias(ack=_ack_seconds())
    if "severity" in filters:
        rows = rows.filter(severity=filters["severity"])
    if "source" in filters:
        rows = rows.filter(source=filters["source"])
    if "acked_within" in filters:
        within = Q(ack__lte=TARGET)
        rows = rows.filter(
            within if filters["acked_within"] == "yes" else ~within | Q(acknowledged_at__isnull=True)
        )
    if "acknowledged" in filters:
        rows = rows.filter(acknowledged_at__isnull=filters["acknowledged"] == "no")
    if "person" in filters:
        rows = rows.filter(acknowledged_by_id=filters["person"])
    if "hours" in filters:
        rows = rows.alias(night_hour=night_hour(night_zones(), period.start, period.end))
        night = Q(night_hour__in=NIGHT_HOURS)
        rows = rows.filter(night if filters["hours"] == "night" else ~night)
    return rows.annotate(
        reference=Concat(Value("ESC-"), Cast("pk", output_field=CharField())),
        minutes_to_ack=_ack_seconds() / Value(60.0),
        acknowledged_by_name=person_name("acknowledged_by"),
    ).order_by("-raised_at", "-pk")


ESCALATION_COLUMNS = (
    Column("reference", "Escalation", "reference"),
    Column("summary", "Summary", "summary"),
    Column("severity", "Severity", "severity"),
    Column("source", "Source", "source"),
    Column("raised", "Raised", "raised_at"),
    Column("acknowledged", "Acknowledged", "acknowledged_at"),
    Column("minutes_to_ack", "Minutes to acknowledge", "minutes_to_ack", numeric=True),
    Column("acknowledged_by", "Acknowledged by", "acknowledged_by_name"),
    Column("status", "Status", "status"),
)


def _escalation_url(escalation) -> str:
    return reverse("oncall:escalation_detail", args=[escalation.pk])


register_rows(
    RowList(
        key="escalations",
        title="Escalations",
        definition=f"{RAISED_DEFINITION} {WITHIN_DEFINITION}",
        columns=ESCALATION_COLUMNS,
        rows=escalation_rows,
        roles=ALL_ROLES,
        filters={
            "severity": one_of("Severity", Escalation.Severity.values),
            "source": one_of("Source", Escalation.Source.values),
            "acked_within": one_of("Acknowledged within 30 minutes", ("yes", "no")),
            "acknowledged": one_of("Acknowledged", ("yes", "no")),
            "person": _person,
            "hours": one_of("Hours", ("night", "day")),
            "counted_by": one_of("Counted by", ("raised", "acknowledged")),
        },
        item_url=_escalation_url,
    )
)


def page_rows(query: RowQuery):
    rows = Page.objects.filter(status=Page.Status.SENT).filter(in_period("sent_at", query.period))
    if query.specialist is not None:
        rows = rows.filter(recipient=query.specialist)
    if "person" in query.filters:
        rows = rows.filter(recipient_id=query.filters["person"])
    return rows.annotate(
        reference=Concat(Value("ESC-"), Cast("escalation_id", output_field=CharField())),
        summary=F("escalation__summary"),
        severity=F("escalation__severity"),
        recipient_name=person_name("recipient"),
    ).order_by("-sent_at", "-pk")


register_rows(
    RowList(
        key="pages",
        title="Pages sent",
        definition=PAGES_DEFINITION,
        columns=(
            Column("reference", "Escalation", "reference"),
            Column("summary", "Summary", "summary"),
            Column("severity", "Severity", "severity"),
            Column("recipient", "Sent to", "recipient_name"),
            Column("channel", "Channel", "channel"),
            Column("round", "Round", "round", numeric=True),
            Column("sent", "Sent", "sent_at"),
        ),
        rows=page_rows,
        roles=ALL_ROLES,
        filters={"person": _person},
        item_url=lambda page: reverse("oncall:escalation_detail", args=[page.escalation_id]),
    )
)
