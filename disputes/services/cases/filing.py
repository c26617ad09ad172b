"""Filing a case with a safe reference, and linking it to the user's Intercom conversation."""

import datetime as dt
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from disputes.hooks import conversation_problems
from disputes.models import CaseCounter, CaseEvent, DisputeCase, Market
from disputes.services.cases.workflow import account_open_cases_changed, account_timeline_add, case_event_add
from disputes.signals import case_changed
from portal.models import User

# Default targets until the SLA issue owns them: first response by tier rank (hours),
# resolution by category (hours).
FIRST_RESPONSE_HOURS = {1: 1, 2: 4, 3: 8}
RESOLUTION_HOURS = {
    DisputeCase.Category.MARKET_RESOLUTION: 72,
    DisputeCase.Category.ORDER_EXECUTION: 48,
    DisputeCase.Category.PLATFORM_MECHANICS: 48,
}

CONVERSATION_ID = re.compile(r"[0-9]{1,40}")  # not \d: it also matches other scripts' digits


def _conversation_id(value: str) -> str:
    """An Intercom conversation id as typed (spaces and a leading # allowed), or a
    ValidationError: Intercom's ids are digits, and the id ends up in an API path."""
    value = (value or "").strip().removeprefix("#").strip()
    if value and not CONVERSATION_ID.fullmatch(value):
        raise ValidationError(
            {
                "intercom_conversation_id": "An Intercom conversation id is digits only, as in the inbox's address."
            }
        )
    return value


def _conversation_checked(conversation_id: str, account: Account) -> None:
    """The checks other apps registered (disputes.hooks), e.g. that the conversation is with
    this account: a ValidationError on the conversation field when any of them objects."""
    problems = conversation_problems(conversation_id, account)
    if problems:
        raise ValidationError({"intercom_conversation_id": problems})


def _next_reference(year: int) -> tuple[int, str]:
    """Take the next number of the year under a row lock (created on first use)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                CaseCounter.objects.get_or_create(year=year)
            break
        except IntegrityError:  # someone else created the year's counter first
            continue
    counter = CaseCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"DSP-{year}-{counter.last_number:05d}"


@transaction.atomic
def dispute_file(
    *,
    by: User,
    account: Account,
    category: str,
    claim: str,
    requested_remedy: str = "",
    amount_at_stake: Decimal = Decimal("0"),
    market: Market | None = None,
    priority: str = DisputeCase.Priority.NORMAL,
    assignee: User | None = None,
    intercom_conversation_id: str = "",
) -> DisputeCase:
    """File a case with reference DSP-<year>-<number>, pinned to the market's rules in force
    now. Raises ValidationError for a missing market on a resolution dispute, an empty claim,
    a negative amount or a conversation id that is malformed or refused by a registered check
    (disputes.hooks); writes nothing then."""
    errors = {}
    if category not in DisputeCase.Category.values:
        errors["category"] = "Choose what the dispute is about."
    if category == DisputeCase.Category.MARKET_RESOLUTION and market is None:
        errors["market"] = "A market-resolution dispute needs its market (import it first)."
    if market is not None and market.current_version_id is None:
        errors["market"] = "This market has no rules recorded yet."
    if not (claim or "").strip():
        errors["claim"] = "Write down what the user claims, in their words."
    if amount_at_stake is None or amount_at_stake < 0:
        errors["amount_at_stake"] = "The amount at stake can’t be negative."
    try:
        intercom_conversation_id = _conversation_id(intercom_conversation_id)
        if intercom_conversation_id:
            _conversation_checked(intercom_conversation_id, account)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    number, reference = _next_reference(now.year)
    from disputes.radar.links import heads_up_before

    case = DisputeCase.objects.create(
        reference=reference,
        year=now.year,
        number=number,
        account=account,
        category=category,
        market=market,
        rule_version=market.current_version if market else None,
        venue=market.venue if market else account.venue,
        claim=claim.strip(),
        requested_remedy=(requested_remedy or "").strip(),
        amount_at_stake=amount_at_stake,
        priority=priority,
        assignee=assignee,
        intercom_conversation_id=intercom_conversation_id,
        first_response_due=now + dt.timedelta(hours=FIRST_RESPONSE_HOURS.get(account.tier.rank, 8)),
        resolution_due=now + dt.timedelta(hours=RESOLUTION_HOURS[category]),
        filed_by=by,
        heads_up=heads_up_before(account=account, market=market, at=now),
    )
    case_event_add(
        case, CaseEvent.Kind.FILED, by, f"Filed by {by.display_name}", after={"status": case.status}
    )
    account_timeline_add(case, by, f"Dispute {reference} filed: {case.get_category_display().lower()}")
    account_open_cases_changed(case)
    case_changed.send(sender=DisputeCase, case=case, what="filed")
    return case


@transaction.atomic
def case_conversation_link(*, case: DisputeCase, by: User, conversation_id: str) -> bool:
    """Link the case to the user's Intercom conversation (or unlink it with an empty id), so
    its page shows the conversation and replies can be sent there. Returns whether it changed.
    A malformed id, or one a registered check refuses (disputes.hooks), raises ValidationError."""
    conversation_id = _conversation_id(conversation_id)
    _conversation_checked(conversation_id, case.account)
    case = DisputeCase.objects.select_for_update().get(pk=case.pk)
    before = case.intercom_conversation_id
    if conversation_id == before:
        return False
    case.intercom_conversation_id = conversation_id
    case.save(update_fields=["intercom_conversation_id", "updated_at"])
    summary = (
        f"Linked to Intercom conversation {conversation_id}"
        if conversation_id
        else f"Unlinked from Intercom conversation {before}"
    )
    case_event_add(
        case,
        CaseEvent.Kind.UPDATED,
        by,
        summary,
        before={"intercom_conversation_id": before},
        after={"intercom_conversation_id": conversation_id},
    )
    return True
