"""/support/sla/: the ordered policy list and the calendars, and moving a policy up or down."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.roles import has_role, role_required
from support.forms import PolicyMoveForm, windows_text
from support.models import BusinessCalendar, OpeningWindow
from support.selectors import SLA_EDITORS, SLA_READERS, policy_get_for_user
from support.sla.matching import policies_in_order
from support.sla.policies import policies_reorder, policy_is_catch_all
from support.tables import PolicyTable


def calendars_overview() -> list[BusinessCalendar]:
    """Every calendar with its windows and holiday count: two queries however many there are."""
    calendars = BusinessCalendar.objects.annotate(
        holiday_count=Count("holidays", distinct=True), policy_count=Count("policies", distinct=True)
    ).prefetch_related(
        Prefetch("windows", queryset=OpeningWindow.objects.order_by("weekday", "start_minute"))
    )
    for calendar in calendars:
        days = {weekday: [] for weekday, _ in OpeningWindow.Weekday.choices}
        for window in calendar.windows.all():
            days[window.weekday].append(window)
        calendar.week = [
            (label, windows_text(days[weekday]) or "closed")
            for weekday, label in OpeningWindow.Weekday.choices
        ]
    return list(calendars)


@role_required(*SLA_READERS)
def sla_overview(request):
    can_edit = has_role(request.user, *SLA_EDITORS)
    policies = policies_in_order(active_only=False)
    table = PolicyTable(policies, exclude=() if can_edit else ("actions",))
    context = {
        "table": table,
        "calendars": calendars_overview(),
        "can_edit": can_edit,
        # Without an active catch-all, an item no policy matches gets no clock and no queue row.
        "uncovered": not any(p.is_active and policy_is_catch_all(p) for p in policies),
    }
    return render(request, "support/sla/overview.html", context)


@require_POST
@role_required(*SLA_EDITORS)
def policy_move(request, pk):
    """Move one policy a place up or down the list; what the list refuses (the catch-all before
    another policy) comes back as a message."""
    policy = policy_get_for_user(user=request.user, pk=pk, to_change=True)
    form = PolicyMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the policy moves up or down.")
        return redirect("support:sla")
    direction = form.cleaned_data["move"]
    ids = [p.pk for p in policies_in_order(active_only=False)]
    here = ids.index(policy.pk)
    there = here + (-1 if direction == "up" else 1)
    if not 0 <= there < len(ids):
        messages.info(request, f"“{policy.name}” is already {'first' if direction == 'up' else 'last'}.")
        return redirect("support:sla")
    ids[here], ids[there] = ids[there], ids[here]
    try:
        policies_reorder(order=ids)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{policy.name}” moved {direction} to position {there + 1}.")
    return redirect("support:sla")
