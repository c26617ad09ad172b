"""/support/routing/: the ordered routing rules (Admins), moved, switched on and off, and tested
against a real or described conversation or case."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from disputes.models import DisputeCase
from portal.models import User
from portal.roles import Role, role_required
from support.forms.routing import RoutingTestForm, RuleActiveForm, RuleForm, RuleMoveForm
from support.models import Conversation, RoutingRule, RoutingTeam
from support.routing.engine import Item, People, broken_because, decide
from support.routing.facts import case_item, conversation_item, people_for, rule_specs
from support.routing.services import (
    routing_rule_delete,
    routing_rule_move,
    routing_rule_save,
    routing_rule_set_active,
)
from support.routing.words import rule_actions_in_words, rule_conditions_in_words
from support.views.deleting import delete_confirm_page, form_save_page

ROUTING_EDITORS = (Role.ADMIN,)


@role_required(*ROUTING_EDITORS)
def routing(request):
    rules = list(
        RoutingRule.objects.select_related("team", "person", "sla_policy")
        .prefetch_related("tiers")
        .order_by("position", "pk")
    )
    specs = rule_specs(rules)
    named = {spec.person_id for spec in specs if spec.person_id}
    standing = People(
        active=set(User.objects.filter(pk__in=named, is_active=True).values_list("pk", flat=True)),
        gone_teams=set(RoutingTeam.objects.filter(gone_at__isnull=False).values_list("pk", flat=True)),
    )
    rows = [
        {
            "rule": rule,
            "broken": broken_because(spec, standing),
            "conditions": rule_conditions_in_words(rule),
            "actions": rule_actions_in_words(rule),
            "edit_url": reverse("support:routing_rule_edit", args=[rule.pk]),
        }
        for rule, spec in zip(rules, specs, strict=True)
    ]
    form = RoutingTestForm(request.GET if request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        found = _test_item(form)
        if found is None:
            form.add_error("item", "No conversation has that Intercom id and no case that reference.")
        else:
            label, item = found
            result = {"label": label, "decision": decide(item, specs, people_for(specs, item))}
            result["assignee"] = User.objects.filter(pk=result["decision"].assignee_id).first()
            result["team"] = RoutingTeam.objects.filter(pk=result["decision"].team_id).first()
    context = {"rows": rows, "form": form, "result": result}
    return render(request, "support/routing.html", context, status=400 if form.errors else 200)


def _test_item(form) -> tuple[str, Item] | None:
    data = form.cleaned_data
    reference = data["item"].strip()
    if reference:
        case = DisputeCase.objects.select_related("account").filter(reference__iexact=reference).first()
        if case is not None:
            return f"Case {case.reference}", case_item(case)
        conversation = Conversation.objects.select_related("account").filter(intercom_id=reference).first()
        if conversation is not None:
            return f"Conversation {conversation.intercom_id}", conversation_item(conversation)
        return None
    item = Item(
        kind=data["kind"],
        tier_id=data["tier"].pk if data["tier"] else None,
        venue=data["venue"],
        case_category=data["case_category"] if data["kind"] == "case" else "",
        amount=data["amount"],
        text=data["text"],
        intercom_tags=frozenset(t.strip().lower() for t in data["intercom_tags"].split(",") if t.strip()),
    )
    return "The item described", item


@role_required(*ROUTING_EDITORS)
@require_POST
def routing_rule_move_view(request, pk):
    rule = get_object_or_404(RoutingRule, pk=pk)
    form = RuleMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the rule moves up or down.")
    else:
        position = routing_rule_move(rule=rule, direction=form.cleaned_data["move"])
        messages.success(request, f"“{rule.name}” is rule {position}.")
    return redirect("support:routing")


@role_required(*ROUTING_EDITORS)
@require_POST
def routing_rule_active_view(request, pk):
    rule = get_object_or_404(RoutingRule, pk=pk)
    form = RuleActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the rule is on or off.")
    else:
        routing_rule_set_active(rule=rule, active=form.cleaned_data["active"])
        messages.success(request, f"“{rule.name}” is {'on' if rule.is_active else 'off'}.")
    return redirect("support:routing")


@role_required(*ROUTING_EDITORS)
def routing_rule_edit(request, pk=None):
    rule = get_object_or_404(RoutingRule, pk=pk) if pk else None
    return form_save_page(
        request,
        form=RuleForm(request.POST if request.method == "POST" else None, instance=rule),
        save=lambda data: routing_rule_save(rule=rule, data=data),
        done=lambda saved: f"Rule “{saved.name}” saved as rule {saved.position}.",
        back="support:routing",
        template="support/routing_rule_form.html",
        context={"rule": rule},
    )


@role_required(*ROUTING_EDITORS)
def routing_rule_delete_confirm(request, pk):
    rule = get_object_or_404(RoutingRule, pk=pk)
    return delete_confirm_page(
        request,
        delete=lambda: routing_rule_delete(rule=rule),
        done=f"Rule “{rule.name}” deleted.",
        template="support/routing_rule_delete.html",
        context={"rule": rule},
        back="support:routing",
    )
