from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.rule_new, name="rule-new"),
    path("new/<str:kind>/", views.rule_new, name="rule-new-kind"),
    path("preview/<str:kind>/", views.preview, name="preview"),
    path("audience/<str:kind>/", views.audience, name="audience"),
    path("log/", views.log, name="log"),
    path("settings/", views.settings_view, name="settings"),
    path("<int:rule_id>/", views.rule_detail, name="rule"),
    path("<int:rule_id>/switch/", views.switch, name="switch"),
    path("<int:rule_id>/dry-run/", views.dry_run, name="dry-run"),
    path("<int:rule_id>/results/", views.results, name="results"),
]
