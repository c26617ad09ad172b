from django.urls import path

from feedback import area_views, views

app_name = "feedback"
urlpatterns = [
    path("", views.item_list, name="list"),
    path("board/", views.board, name="board"),
    path("new/", views.item_new, name="new"),
    path("<int:pk>/", views.item_detail, name="detail"),
    path("<int:pk>/triage/", views.item_triage, name="triage"),
    path("<int:pk>/comments/", views.item_comment, name="comment"),
    path("<int:pk>/accounts/", views.item_link, name="link"),
    path("<int:pk>/accounts/<int:source_pk>/unlink/", views.item_unlink, name="unlink"),
    path("<int:pk>/merge/", views.item_merge, name="merge"),
    path("<int:pk>/unmerge/", views.item_unmerge, name="unmerge"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path("areas/", area_views.area_list, name="areas"),
    path("areas/<int:pk>/", area_views.area_update, name="area_update"),
]
