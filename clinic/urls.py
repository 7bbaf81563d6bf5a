from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from clinic import views
from clinic.api import PatientViewSet
from inbox import webchat, webhooks, widget_views
from inbox.api import ConversationViewSet
from inbox.urls import channel_urls
from scheduling import api as scheduling_api
from scheduling import import_views

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("doctors", scheduling_api.DoctorViewSet, basename="doctor")
router.register("services", scheduling_api.ServiceViewSet, basename="service")
router.register("schedule-exceptions", scheduling_api.ScheduleExceptionViewSet,
                basename="schedule-exception")
router.register("slots", scheduling_api.SlotViewSet, basename="slot")
router.register("appointments", scheduling_api.AppointmentViewSet, basename="appointment")

settings_urls = (
    [
        path("", views.settings_profile, name="settings"),
        path("hours/", views.settings_hours, name="settings-hours"),
        path("hours/days/", views.settings_day_add, name="settings-day-add"),
        path("hours/days/<int:exception_id>/delete/", views.settings_day_delete,
             name="settings-day-delete"),
        path("standards/", views.settings_standards, name="settings-standards"),
        path("history/", views.settings_history, name="settings-history"),
        path("import/", import_views.import_page, name="settings-import"),
        path("import/confirm/", import_views.import_confirm, name="settings-import-confirm"),
        path("import/sample/<str:kind>.csv", import_views.import_sample,
             name="settings-import-sample"),
        path("api/", views.settings_api, name="settings-api"),
        path("api/<int:token_id>/revoke/", views.settings_api_revoke,
             name="settings-api-revoke"),
    ],
    "clinic",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("hooks/telegram/<str:key>/", webhooks.telegram, name="hook-telegram"),
    path("hooks/whatsapp/<str:key>/", webhooks.whatsapp, name="hook-whatsapp"),
    path("hooks/webchat/<str:key>/<str:action>/", webchat.api, name="hook-webchat"),
    path("widget/demo/", widget_views.demo, name="widget-demo"),
    path("widget/demo/<slug:page>/", widget_views.demo, name="widget-demo-page"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("clinic/switch/", views.clinic_switch, name="clinic-switch"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("settings/channels/", include(channel_urls)),
    path("settings/", include(settings_urls)),
    path("inbox/", include("inbox.urls")),
    path("calendar/", include("scheduling.urls")),
    path("quality/", include("qa.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("api/v1/", include((router.urls, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="api/swagger_ui.html"), name="api-docs"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
