from django.urls import path

from support.views import queue, routing, routing_teams, sla_calendars, sla_overview, sla_policies, sla_which

app_name = "support"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("sla/", sla_overview.sla_overview, name="sla"),
    path("routing/", routing.routing, name="routing"),
    path("routing/new/", routing.routing_rule_edit, name="routing_rule_new"),
    path("routing/teams/", routing_teams.teams, name="routing_teams"),
    path("routing/teams/new/", routing_teams.team_edit, name="routing_team_new"),
    path("routing/teams/<int:pk>/", routing_teams.team_edit, name="routing_team_edit"),
    path("routing/teams/<int:pk>/delete/", routing_teams.team_delete_confirm, name="routing_team_delete"),
    path("routing/<int:pk>/", routing.routing_rule_edit, name="routing_rule_edit"),
    path("routing/<int:pk>/delete/", routing.routing_rule_delete_confirm, name="routing_rule_delete"),
    path("routing/<int:pk>/move/", routing.routing_rule_move_view, name="routing_rule_move"),
    path("routing/<int:pk>/active/", routing.routing_rule_active_view, name="routing_rule_active"),
    path("sla/which/", sla_which.which_policy, name="sla_which"),
    path("sla/calendars/new/", sla_calendars.calendar_edit, name="sla_calendar_new"),
    path("sla/calendars/<int:pk>/", sla_calendars.calendar_edit, name="sla_calendar_edit"),
    path(
        "sla/calendars/<int:pk>/public-holidays/",
        sla_calendars.calendar_public_holidays,
        name="sla_calendar_public_holidays",
    ),
    path("sla/calendars/<int:pk>/ical/", sla_calendars.calendar_ical_import, name="sla_calendar_ical"),
    path("sla/calendars/<int:pk>/delete/", sla_calendars.calendar_delete_confirm, name="sla_calendar_delete"),
    path("sla/policies/new/", sla_policies.policy_edit, name="sla_policy_new"),
    path("sla/policies/<int:pk>/", sla_policies.policy_edit, name="sla_policy_edit"),
    path("sla/policies/<int:pk>/move/", sla_overview.policy_move, name="sla_policy_move"),
    path("sla/policies/<int:pk>/delete/", sla_policies.policy_delete_confirm, name="sla_policy_delete"),
]
