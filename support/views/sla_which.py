"""/support/sla/which/: which SLA policy applies to a conversation or a case, and why each
other policy does not."""

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from disputes.selectors import CASE_REFERENCE, case_get_for_user
from portal.roles import role_required
from support.forms import WhichPolicyForm
from support.models import Conversation, SlaPolicy
from support.selectors import SLA_READERS, conversation_url
from support.sla.matching import (
    CONDITIONS,
    facts_for_case,
    facts_for_conversation,
    policy_explain,
    routed_sla,
    routing_choice,
)
from support.tables import condition_values, conditions_in_words, fact_in_words, targets_in_words


@dataclass(frozen=True)
class Verdict:
    policy: SlaPolicy
    applies: bool
    matched: bool
    reason: str
    conditions: list[tuple[str, str]]
    targets: list[tuple[str, str]]


def _found(item: str, user):
    """(label, link, facts, tier name) of the conversation or case `item` names; Http404 when none."""
    if CASE_REFERENCE.match(item) or item.upper().startswith("DSP-"):
        case = case_get_for_user(user=user, reference=item)
        tier = case.account.tier.name
        return (
            case.reference,
            reverse("disputes:case_detail", args=[case.reference]),
            facts_for_case(case, routed_sla("case", [case.pk]).get(case.pk)),
            tier,
        )
    if not item.isdigit():
        raise Http404
    conversation = Conversation.objects.select_related("account__tier").filter(intercom_id=item).first()
    if conversation is None:
        raise Http404
    tier = conversation.account.tier.name if conversation.account else None
    label = f"Conversation {conversation.intercom_id}" + (
        f" · {conversation.title}" if conversation.title else ""
    )
    facts = facts_for_conversation(
        conversation, routed_sla("conversation", [conversation.pk]).get(conversation.pk)
    )
    return label, conversation_url(conversation.intercom_id), facts, tier


def _verdicts(facts, tier_name) -> list[Verdict]:
    explained = policy_explain(facts)
    chosen = routing_choice(facts, [policy for policy, _, _ in explained])
    verdicts, applied = [], False
    for policy, matched, failed in explained:
        if chosen is not None:
            matched = policy == chosen
            reason = (
                "Applies: routing chose it for this item, over the policies' own matching."
                if matched
                else "Not used: routing chose another policy for this item."
            )
        elif failed == "is_active":
            reason = "Inactive: skipped."
        elif failed is not None:
            label = CONDITIONS[failed]
            reason = (
                f"{label.capitalize()} is {fact_in_words(facts, failed, tier_name=tier_name)}; "
                f"this policy needs {' or '.join(condition_values(policy, failed))}."
            )
        elif not applied:
            reason = "Applies: the first active policy whose conditions all hold."
        else:
            reason = "Matches too, but an earlier policy applies."
        verdicts.append(
            Verdict(
                policy,
                matched and not applied,
                matched,
                reason,
                conditions_in_words(policy),
                targets_in_words(policy),
            )
        )
        applied = applied or matched
    return verdicts


@role_required(*SLA_READERS)
def which_policy(request):
    form = WhichPolicyForm(request.GET if "item" in request.GET else None)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        item = form.cleaned_data["item"]
        try:
            label, link, facts, tier_name = _found(item, request.user)
        except Http404:
            form.add_error(
                "item",
                f"No conversation or case “{item}” is known here: give an Intercom conversation id "
                "(digits only) or a case reference such as DSP-2026-00042.",
            )
        else:
            verdicts = _verdicts(facts, tier_name)
            context.update(
                applied=next((v for v in verdicts if v.applies), None),
                verdicts=verdicts,
                label=label,
                link=link,
                facts=[
                    (words.capitalize(), fact_in_words(facts, condition, tier_name=tier_name))
                    for condition, words in CONDITIONS.items()
                ],
            )
    return render(request, "support/sla/which.html", context, status=400 if form.errors else 200)
