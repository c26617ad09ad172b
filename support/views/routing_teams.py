"""/support/routing/teams/: the teams routing rules may give work to (Admins)."""

from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from portal.roles import role_required
from support.forms.routing import TeamForm
from support.models import RoutingRule, RoutingTeam
from support.routing.services import routing_team_delete, routing_team_save
from support.views.deleting import delete_confirm_page, form_save_page
from support.views.routing import ROUTING_EDITORS


@role_required(*ROUTING_EDITORS)
def teams(request):
    listed = RoutingTeam.objects.prefetch_related("members").order_by("name")
    naming = dict(
        RoutingRule.objects.filter(team__isnull=False)
        .values_list("team_id")
        .annotate(n=Count("pk"))
        .values_list("team_id", "n")
    )
    rows = [{"team": team, "rules": naming.get(team.pk, 0)} for team in listed]
    return render(request, "support/routing_teams.html", {"rows": rows})


@role_required(*ROUTING_EDITORS)
def team_edit(request, pk=None):
    team = get_object_or_404(RoutingTeam, pk=pk) if pk else None
    return form_save_page(
        request,
        form=TeamForm(request.POST if request.method == "POST" else None, instance=team),
        save=lambda data: routing_team_save(team=team, data=data),
        done=lambda saved: f"Team “{saved.name}” saved.",
        back="support:routing_teams",
        template="support/routing_team_form.html",
        context={"team": team},
    )


@role_required(*ROUTING_EDITORS)
def team_delete_confirm(request, pk):
    team = get_object_or_404(RoutingTeam, pk=pk)
    return delete_confirm_page(
        request,
        delete=lambda: routing_team_delete(team=team),
        done=f"Team “{team.name}” deleted.",
        template="support/routing_team_delete.html",
        context={"team": team},
        back="support:routing_teams",
    )
