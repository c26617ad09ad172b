"""Reads of escalations: the permission-checked getter, the list, one escalation's page (its
history and pages), and the open escalations of an item for the case and account pages."""

from django.db.models import Prefetch, QuerySet

from oncall.models import Escalation, EscalationEvent, Page
from portal.roles import Role
from portal.selectors import object_get_for_user

# Specialists raise, acknowledge and resolve; Leadership and Admins read.
ESCALATION_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
ESCALATION_WORKERS = (Role.SPECIALIST,)

ITEM_RELATED = (
    "case__account",
    "conversation__account",
    "account__owner",
    "raised_by",
    "acknowledged_by",
    "resolved_by",
)


def escalations_listed() -> QuerySet[Escalation]:
    """Every escalation with what its row shows loaded (no column runs a query), open ones
    first, newest first."""
    return Escalation.objects.select_related("policy", *ITEM_RELATED).order_by(
        "resolved_at", "-raised_at", "-pk"
    )


def escalation_get_for_user(*, user, pk) -> Escalation:
    return object_get_for_user(
        Escalation.objects.select_related("policy__rota", *ITEM_RELATED).prefetch_related(
            Prefetch("events", queryset=EscalationEvent.objects.select_related("actor").order_by("at", "pk")),
            Prefetch("pages", queryset=Page.objects.select_related("recipient").order_by("round", "pk")),
        ),
        user=user,
        roles=ESCALATION_READERS,
        denied="Your role does not include escalations.",
        missing="No such escalation.",
        pk=pk,
    )


def item_escalations(**item) -> list[Escalation]:
    """The escalations of one item (`case=`, `conversation=` or `account=`), open first, with
    their history: two queries."""
    return list(
        Escalation.objects.filter(**item)
        .select_related("raised_by", "acknowledged_by", "resolved_by")
        .prefetch_related(Prefetch("events", queryset=EscalationEvent.objects.select_related("actor")))
        .order_by("resolved_at", "-raised_at")[:10]
    )


def escalation_item(escalation: Escalation) -> tuple[str, object]:
    """("case" | "conversation" | "account", the object)."""
    for name in ("case", "conversation", "account"):
        if getattr(escalation, f"{name}_id"):
            return name, getattr(escalation, name)
    raise ValueError("An escalation without an item.")
