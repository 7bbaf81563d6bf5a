from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from clinic import views
from clinic.api import PatientViewSet
from inbox import webchat, webhooks
from inbox.api import ConversationViewSet
from inbox.urls import channel_urls

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("conversations", ConversationViewSet, basename="conversation")

settings_urls = (
    [
        path("", views.settings_profile, name="settings"),
        path("hours/", views.settings_hours, name="settings-hours"),
        path("hours/days/", views.settings_day_add, name="settings-day-add"),
        path("hours/days/<int:exception_id>/delete/", views.settings_day_delete,
             name="settings-day-delete"),
        path("standards/", views.settings_standards, name="settings-standards"),
        path("history/", views.settings_history, name="settings-history"),
    ],
    "clinic",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("hooks/telegram/<str:key>/", webhooks.telegram, name="hook-telegram"),
    path("hooks/whatsapp/<str:key>/", webhooks.whatsapp, name="hook-whatsapp"),
    path("hooks/webchat/<str:key>/<str:action>/", webchat.api, name="hook-webchat"),
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
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
