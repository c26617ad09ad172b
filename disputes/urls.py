from django.urls import path, re_path

from disputes.views import case_list, cases, decisions, evidence, markets, radar, replies, rulebook

CASE = r"^(?P<reference>DSP-\d{4}-\d{1,9})/"

app_name = "disputes"
urlpatterns = [
    path("heads-ups/<int:pk>/told/", radar.heads_up_told_view, name="heads_up_told"),
    path("markets/<int:pk>/holders/refresh/", radar.market_holders_refresh, name="market_holders_refresh"),
    path("markets/", markets.market_list, name="market_list"),
    path("markets/import/", markets.market_import, name="market_import"),
    path("markets/new/", markets.market_new, name="market_new"),
    path("markets/<int:pk>/", markets.market_detail, name="market_detail"),
    path("markets/<int:pk>/clarifications/", markets.market_clarify, name="market_clarify"),
    path("markets/<int:pk>/diff/", markets.market_diff, name="market_diff"),
    path("markets/<int:pk>/rules/", markets.market_rules_edit, name="market_rules_edit"),
    path("markets/<int:pk>/cases/", markets.market_cases_bulk, name="market_cases_bulk"),
    path("rulebook/", rulebook.rulebook, name="rulebook"),
    path("rulebook/new/", rulebook.rulebook_section_edit, name="rulebook_section_new"),
    path("rulebook/<int:pk>/", rulebook.rulebook_section, name="rulebook_section"),
    path("rulebook/<int:pk>/edit/", rulebook.rulebook_section_edit, name="rulebook_section_edit"),
    path("", case_list.case_list, name="case_list"),
    path("new/", case_list.case_new, name="case_new"),
    path("approvals/", decisions.approvals, name="approvals"),
    path("decisions/", decisions.decision_search, name="decision_search"),
    re_path(CASE + r"$", cases.case_detail, name="case_detail"),
    re_path(CASE + r"status/$", cases.case_transition, name="case_transition"),
    re_path(CASE + r"notes/$", cases.case_note, name="case_note"),
    re_path(CASE + r"print/$", cases.case_print, name="case_print"),
    re_path(CASE + r"conversation/$", cases.case_conversation, name="case_conversation"),
    re_path(CASE + r"decide/$", decisions.case_decide, name="case_decide"),
    re_path(
        CASE + r"decisions/(?P<decision_pk>\d{1,18})/approve/$", decisions.case_approve, name="case_approve"
    ),
    re_path(CASE + r"reply/$", replies.case_reply, name="case_reply"),
    re_path(CASE + r"evidence/$", evidence.case_evidence, name="case_evidence"),
    re_path(CASE + r"evidence/(?P<pk>\d{1,18})/file/$", evidence.evidence_file, name="evidence_file"),
    re_path(CASE + r"wallet-activity/$", evidence.case_snapshot, name="case_snapshot"),
]
