from django.urls import path

from qa import composer, editor, views

app_name = "qa"
urlpatterns = [
    path("", views.index, name="index"),
    path("hints/<int:conversation_id>/", composer.draft_hints_view, name="draft-hints"),
    path("export.csv", views.export, name="export"),
    path("me/", views.mine, name="me"),
    path("team/", views.team, name="team"),
    path("team/<int:user_id>/", views.team_member, name="team-member"),
    path("checklist/", editor.checklist, name="checklist"),
    path("checklist/settings/", editor.checklist_settings, name="checklist-settings"),
    path("checklist/<int:revision_id>/", editor.checklist_revision, name="checklist-revision"),
    path("<int:scorecard_id>/", views.scorecard, name="scorecard"),
    path("<int:scorecard_id>/items/<int:item_id>/override/", views.item_override,
         name="item-override"),
    path("<int:scorecard_id>/reviewed/", views.mark_reviewed, name="mark-reviewed"),
    path("<int:scorecard_id>/acknowledge/", views.feedback, {"action": "acknowledge"},
         name="acknowledge"),
    path("<int:scorecard_id>/dispute/", views.feedback, {"action": "dispute"}, name="dispute"),
    path("<int:scorecard_id>/answer/", views.feedback, {"action": "answer"}, name="answer"),
    path("<int:scorecard_id>/rescore/", editor.rescore, name="rescore"),
]
