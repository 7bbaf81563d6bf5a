from django.urls import path

from scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("appointments/new/", views.appointment_new, name="appointment-new"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:appointment_id>/move/", views.appointment_move,
         name="appointment-move"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel_view,
         name="appointment-cancel"),
    path("appointments/<int:appointment_id>/confirm/", views.appointment_confirm_view,
         name="appointment-confirm"),
    path("appointments/<int:appointment_id>/outcome/", views.appointment_outcome,
         name="appointment-outcome"),
    path("patients/", views.patient_search, name="patient-search"),
    path("services/", views.service_reference, name="services"),
    path("services/prices/", views.price_search, name="price-search"),
]
