from django.urls import path

from inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("availability/", views.availability, name="availability"),
    path("today/", views.today, name="today"),
    path("live/", views.live, name="live"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/bell/", views.bell, name="bell"),
    path("quick-replies/", views.quick_replies, name="quick-replies"),
    path("quick-replies/<int:reply_id>/", views.quick_replies, name="quick-reply-edit"),
    path("c/<int:conversation_id>/quick-replies/", views.quick_reply_search,
         name="quick-reply-search"),
    path("c/<int:conversation_id>/promise/", views.promise, name="promise"),
    path("c/<int:conversation_id>/booking/slots/", views.booking_slots, name="booking-slots"),
    path("c/<int:conversation_id>/booking/", views.booking_book, name="booking-book"),
    path("c/<int:conversation_id>/booking/cancel/", views.booking_cancel,
         name="booking-cancel"),
    path("c/<int:conversation_id>/", views.thread, name="thread"),
    path("c/<int:conversation_id>/messages/", views.thread_messages, name="thread-messages"),
    path("c/<int:conversation_id>/send/", views.send, name="send"),
    path("c/<int:conversation_id>/messages/<int:message_id>/retry/", views.retry,
         name="retry"),
    path("c/<int:conversation_id>/patient/consents/", views.patient_consents,
         name="patient-consents"),
    path("c/<int:conversation_id>/patient/<str:action>/", views.patient_link,
         name="patient-link"),
    path("c/<int:conversation_id>/<str:action>/", views.assignment, name="assignment"),
]

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
