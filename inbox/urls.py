from django.urls import path

from inbox import views

app_name = "inbox"
urlpatterns = [path("", views.index, name="index")]

# Mounted under /settings/channels/ with the namespace "channels".
channel_urls = (
    [
        path("", views.channel_list, name="list"),
        path("new/<str:kind>/", views.channel_edit, name="add"),
        path("<int:channel_id>/", views.channel_edit, name="edit"),
        path("<int:channel_id>/telegram-webhook/", views.channel_register_webhook,
             name="telegram-webhook"),
    ],
    "channels",
)
