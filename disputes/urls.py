from django.urls import path

from disputes import views

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
]
