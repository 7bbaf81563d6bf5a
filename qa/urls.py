from django.urls import path

from qa import composer, views

app_name = "qa"
urlpatterns = [
    path("", views.index, name="index"),
    path("hints/<int:conversation_id>/", composer.draft_hints_view, name="draft-hints"),
]
