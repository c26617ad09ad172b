from django.urls import path, re_path

from disputes import case_views, views

app_name = "disputes"
urlpatterns = [
    path("markets/", views.market_list, name="market_list"),
    path("markets/import/", views.market_import, name="market_import"),
    path("markets/new/", views.market_new, name="market_new"),
    path("markets/<int:pk>/", views.market_detail, name="market_detail"),
    path("markets/<int:pk>/clarifications/", views.market_clarify, name="market_clarify"),
    path("markets/<int:pk>/diff/", views.market_diff, name="market_diff"),
    path("markets/<int:pk>/rules/", views.market_rules_edit, name="market_rules_edit"),
    path("rulebook/", views.rulebook, name="rulebook"),
    path("rulebook/new/", views.rulebook_section_edit, name="rulebook_section_new"),
    path("rulebook/<int:pk>/", views.rulebook_section, name="rulebook_section"),
    path("rulebook/<int:pk>/edit/", views.rulebook_section_edit, name="rulebook_section_edit"),
    path("markets/<int:pk>/cases/", case_views.market_cases_bulk, name="market_cases_bulk"),
    path("", case_views.case_list, name="case_list"),
    path("new/", case_views.case_new, name="case_new"),
    path("approvals/", case_views.approvals, name="approvals"),
    path("decisions/", case_views.decision_search, name="decision_search"),
    re_path(r"^(?P<reference>DSP-\d{4}-\d{1,9})/$", case_views.case_detail, name="case_detail"),
    re_path(
        r"^(?P<reference>DSP-\d{4}-\d{1,9})/status/$", case_views.case_transition, name="case_transition"
    ),
    re_path(r"^(?P<reference>DSP-\d{4}-\d{1,9})/decide/$", case_views.case_decide, name="case_decide"),
    re_path(r"^(?P<reference>DSP-\d{4}-\d{1,9})/notes/$", case_views.case_note, name="case_note"),
    re_path(r"^(?P<reference>DSP-\d{4}-\d{1,9})/print/$", case_views.case_print, name="case_print"),
    re_path(r"^(?P<reference>DSP-\d{4}-\d{1,9})/reply/$", case_views.case_reply, name="case_reply"),
    re_path(
        r"^(?P<reference>DSP-\d{4}-\d{1,9})/conversation/$",
        case_views.case_conversation,
        name="case_conversation",
    ),
    re_path(r"^(?P<reference>DSP-\d{4}-\d{1,9})/evidence/$", case_views.case_evidence, name="case_evidence"),
    re_path(
        r"^(?P<reference>DSP-\d{4}-\d{1,9})/evidence/(?P<pk>\d{1,18})/file/$",
        case_views.evidence_file,
        name="evidence_file",
    ),
    re_path(
        r"^(?P<reference>DSP-\d{4}-\d{1,9})/wallet-activity/$",
        case_views.case_snapshot,
        name="case_snapshot",
    ),
    re_path(
        r"^(?P<reference>DSP-\d{4}-\d{1,9})/decisions/(?P<decision_pk>\d{1,18})/approve/$",
        case_views.case_approve,
        name="case_approve",
    ),
]
