"""The MIS API: doctors, services, schedules, free slots and appointments of one clinic.

The clock is Tuesday 2026-11-24 11:00 in Moscow; the doctor works Mon–Fri 09:00–13:00 and
14:00–20:00; the service takes an hour; the earliest bookable start is an hour from now.
"""

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from clinic import services as clinic_services
from scheduling.models import Appointment, DoctorScheduleException
from tests.clinic.factories import PatientFactory
from tests.conftest import MOSCOW
from tests.scheduling.factories import (
    AppointmentFactory,
    DoctorFactory,
    DoctorScheduleExceptionFactory,
    ServiceFactory,
)


@pytest.fixture(autouse=True)
def frozen(now):
    with time_machine.travel(now, tick=False):
        yield


@pytest.fixture
def api(clinic, owner, now) -> APIClient:
    """The clinic's MIS, with a clinic API token."""
    _token, secret = clinic_services.api_token_create(clinic=clinic, name="МИС",
                                                      created_by=owner, now=now)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, name="Смирнова Елена")


@pytest.fixture
def service(clinic, doctor):
    return ServiceFactory(clinic=clinic, doctors=[doctor], preparation="Возьмите снимки.")


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MOSCOW)


def book(api, patient, doctor, service, start: str):
    return api.post(reverse("api:appointment-list"), {
        "patient": patient.pk, "doctor": doctor.pk, "service": service.pk, "start": start,
    }, format="json")


def test_slots_are_the_next_free_times_in_the_clinics_timezone(api, doctor, service):
    AppointmentFactory(doctor=doctor, service=service, start=at(14))
    response = api.get(reverse("api:slot-list"), {"service": service.pk, "limit": 3})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {"doctor": doctor.pk, "doctor_name": "Смирнова Елена",
         "start": "2026-11-24T12:00:00+03:00", "end": "2026-11-24T13:00:00+03:00"},
        {"doctor": doctor.pk, "doctor_name": "Смирнова Елена",
         "start": "2026-11-24T15:00:00+03:00", "end": "2026-11-24T16:00:00+03:00"},
        {"doctor": doctor.pk, "doctor_name": "Смирнова Елена",
         "start": "2026-11-24T15:15:00+03:00", "end": "2026-11-24T16:15:00+03:00"},
    ]


@pytest.mark.parametrize("params", [
    {},
    {"service": "abc"},
    {"service": "0"},
    {"service": "99999999999999999999999"},
    {"date_from": "2026-11-30", "date_to": "2026-11-24"},
    {"date_from": "2026-11-24", "date_to": "2027-11-24"},
    {"date_from": "0001-01-01"},
    {"date_to": "9999-12-31"},
    {"date_from": "24.11.2026"},
    {"limit": "0"},
    {"limit": "1000"},
    {"doctor": "x"},
])
def test_bad_slot_parameters_answer_400_with_the_field(api, service, params):
    query = {"service": service.pk, **params} if "service" not in params and params else params
    response = api.get(reverse("api:slot-list"), query)
    assert response.status_code == 400, (params, response.content)
    body = response.json()
    assert body["code"] == "invalid" and body["errors"], body


def test_another_clinics_service_or_doctor_is_not_a_slot_parameter(api, service, other_clinic):
    theirs = DoctorFactory(clinic=other_clinic)
    their_service = ServiceFactory(clinic=other_clinic, doctors=[theirs])
    for query in ({"service": their_service.pk}, {"service": service.pk, "doctor": theirs.pk}):
        response = api.get(reverse("api:slot-list"), query)
        assert response.status_code == 400 and response.json()["errors"], query


def test_booking_makes_an_appointment_at_the_clinics_local_time(api, patient, doctor, service):
    response = book(api, patient, doctor, service, "2026-11-24T12:00:00")  # no offset: Moscow
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["start"] == "2026-11-24T12:00:00+03:00"
    assert body["end"] == "2026-11-24T13:00:00+03:00"
    assert (body["status"], body["doctor_name"], body["patient"]) == (
        "booked", "Смирнова Елена", patient.pk)
    appointment = Appointment.objects.get()
    assert appointment.start == at(12) and appointment.created_by is None


def test_booking_a_taken_slot_answers_409_with_what_is_free(api, patient, doctor, service):
    AppointmentFactory(doctor=doctor, service=service, start=at(15))
    response = book(api, patient, doctor, service, "2026-11-24T15:30:00+03:00")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_taken" and body["detail"]
    assert [s["start"] for s in body["next_slots"]][:2] == [
        "2026-11-24T16:00:00+03:00", "2026-11-24T16:15:00+03:00"]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(("start", "code"), [
    ("2026-11-24T11:30:00+03:00", "lead_time"),
    ("2026-11-23T12:00:00+03:00", "in_past"),
    ("2026-11-24T13:30:00+03:00", "outside_schedule"),
])
def test_a_time_the_rules_refuse_answers_400_with_a_stable_code(api, patient, doctor, service,
                                                                start, code):
    response = book(api, patient, doctor, service, start)
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00",
                                   "2030-01-01T10:00:00+03:00", "tomorrow"])
def test_an_implausible_time_answers_400(api, patient, doctor, service, start):
    response = book(api, patient, doctor, service, start)
    assert response.status_code == 400 and "start" in response.json()["errors"], start


def test_a_token_of_clinic_a_sees_nothing_of_clinic_b(api, patient, doctor, service,
                                                       other_clinic):
    their_doctor = DoctorFactory(clinic=other_clinic, name="Чужой Доктор")
    their_service = ServiceFactory(clinic=other_clinic, name="Чужая услуга",
                                   doctors=[their_doctor])
    their_patient = PatientFactory(clinic=other_clinic, last_name="Чужая")
    theirs = AppointmentFactory(doctor=their_doctor, service=their_service,
                                patient=their_patient, start=at(12, day=25))
    their_day = DoctorScheduleExceptionFactory(doctor=their_doctor, date=at(0).date())

    for name in ("doctor-list", "service-list", "appointment-list", "schedule-exception-list",
                 "patient-list"):
        body = api.get(reverse(f"api:{name}")).content.decode()
        assert "Чуж" not in body, name
    for name, pk in (("doctor-detail", their_doctor.pk), ("doctor-schedule", their_doctor.pk),
                     ("service-detail", their_service.pk), ("appointment-detail", theirs.pk),
                     ("schedule-exception-detail", their_day.pk)):
        response = api.get(reverse(f"api:{name}", args=[pk]))
        assert response.status_code == 404, name
        assert response.json() == {"code": "not_found", "detail": response.json()["detail"]}
    for action in ("move", "cancel", "confirm"):
        response = api.post(reverse(f"api:appointment-{action}", args=[theirs.pk]),
                            {"start": "2026-11-25T15:00:00+03:00", "reason": "взлом"},
                            format="json")
        assert response.status_code == 404, action
    assert api.patch(reverse("api:doctor-detail", args=[their_doctor.pk]), {"name": "Взлом"},
                     format="json").status_code == 404
    assert api.delete(reverse("api:schedule-exception-detail",
                              args=[their_day.pk])).status_code == 404
    # Their ids in a body do not exist for us.
    response = book(api, their_patient, their_doctor, their_service, "2026-11-25T12:00:00")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"patient", "doctor", "service"}
    theirs.refresh_from_db()
    their_doctor.refresh_from_db()
    assert (theirs.status, their_doctor.name) == ("booked", "Чужой Доктор")
    assert DoctorScheduleException.objects.filter(pk=their_day.pk).exists()


def test_appointments_are_listed_with_filters(api, clinic, patient, doctor, service):
    other_doctor = DoctorFactory(clinic=clinic)
    other_patient = PatientFactory(clinic=clinic)
    a = AppointmentFactory(doctor=doctor, patient=patient, service=service, start=at(12, day=25))
    b = AppointmentFactory(doctor=other_doctor, patient=other_patient, service=service,
                           start=at(15, day=26), status="cancelled")
    c = AppointmentFactory(doctor=doctor, patient=other_patient, service=service,
                           start=at(10, day=27))
    url = reverse("api:appointment-list")

    def ids(**query):
        response = api.get(url, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [a.pk, b.pk, c.pk]
    assert ids(date_from="2026-11-26") == [b.pk, c.pk]
    assert ids(date_from="2026-11-25", date_to="2026-11-26") == [a.pk, b.pk]
    assert ids(doctor=doctor.pk) == [a.pk, c.pk]
    assert ids(patient=other_patient.pk) == [b.pk, c.pk]
    assert ids(status="cancelled") == [b.pk]
    assert api.get(url, {"status": "lost"}).status_code == 400
    assert api.get(url, {"cursor": "garbage"}).status_code == 404


def test_an_appointment_is_moved_confirmed_and_cancelled_with_a_reason(api, patient, doctor,
                                                                       service):
    appointment = AppointmentFactory(doctor=doctor, patient=patient, service=service,
                                     start=at(12, day=25))
    base = "api:appointment-"
    confirmed = api.post(reverse(base + "confirm", args=[appointment.pk]), {"via": "phone"},
                         format="json")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"

    moved = api.post(reverse(base + "move", args=[appointment.pk]),
                     {"start": "2026-11-25T16:00:00"}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["start"] == "2026-11-25T16:00:00+03:00"
    assert moved.json()["status"] == "booked"  # a moved visit needs confirming again

    assert api.post(reverse(base + "cancel", args=[appointment.pk]), {},
                    format="json").status_code == 400  # the reason is required
    cancelled = api.post(reverse(base + "cancel", args=[appointment.pk]),
                         {"reason": "Заболела"}, format="json")
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancellation_reason"]) == (
        "cancelled", "Заболела")
    again = api.post(reverse(base + "move", args=[appointment.pk]),
                     {"start": "2026-11-25T17:00:00"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "not_live"


def test_moving_onto_a_taken_time_answers_409_with_what_is_free(api, patient, doctor, service):
    appointment = AppointmentFactory(doctor=doctor, patient=patient, service=service,
                                     start=at(12, day=25))
    AppointmentFactory(doctor=doctor, service=service, start=at(16, day=25))
    response = api.post(reverse("api:appointment-move", args=[appointment.pk]),
                        {"start": "2026-11-25T16:00:00+03:00"}, format="json")
    assert response.status_code == 409 and response.json()["next_slots"]


def test_a_new_doctor_gets_the_default_schedule_and_can_be_changed(api):
    created = api.post(reverse("api:doctor-list"),
                       {"name": "Новиков Пётр", "specialties": ["хирург"]}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    schedule = api.get(reverse("api:doctor-schedule", args=[pk])).json()["weekly_hours"]
    assert schedule[0] == [["09:00", "13:00"], ["14:00", "18:00"]] and schedule[6] == []
    changed = api.patch(reverse("api:doctor-detail", args=[pk]), {"active": False},
                        format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert changed.json()["name"] == "Новиков Пётр"
    assert [d["id"] for d in api.get(reverse("api:doctor-list"),
                                      {"active": "false"}).json()["results"]] == [pk]


def test_a_weekly_schedule_is_replaced_and_validated(api, doctor, service):
    url = reverse("api:doctor-schedule", args=[doctor.pk])
    week = [[["10:00", "14:00"]]] + [[]] * 6
    assert api.put(url, {"weekly_hours": week}, format="json").status_code == 200
    doctor.schedule.refresh_from_db()
    assert doctor.schedule.weekly_hours == week
    for bad in ([[["10:00", "14:00"], ["13:00", "15:00"]]] + [[]] * 6,  # overlapping
                [[["25:00", "26:00"]]] + [[]] * 6,  # not a time
                [[]] * 6):  # six days
        response = api.put(url, {"weekly_hours": bad}, format="json")
        assert response.status_code == 400 and "weekly_hours" in response.json()["errors"], bad
    assert doctor.schedule.weekly_hours == week
    slots = api.get(reverse("api:slot-list"), {"service": service.pk, "limit": 1}).json()
    assert slots["results"][0]["start"] == "2026-11-30T10:00:00+03:00"  # next Monday


def test_a_dated_exception_replaces_an_earlier_one_for_that_day(api, doctor):
    url = reverse("api:schedule-exception-list")
    day_off = {"doctor": doctor.pk, "date": "2026-11-25", "kind": "vacation"}
    assert api.post(url, day_off, format="json").status_code == 201
    shift = {**day_off, "kind": "changed_hours", "intervals": [["15:00", "19:00"]]}
    replaced = api.post(url, shift, format="json")
    assert replaced.status_code == 200, replaced.content
    assert DoctorScheduleException.objects.get().intervals == [["15:00", "19:00"]]
    assert api.post(url, {**day_off, "intervals": [["15:00", "19:00"]]},
                    format="json").status_code == 400  # a day off has no hours
    assert api.post(url, {**shift, "intervals": []}, format="json").status_code == 400
    listed = api.get(url, {"doctor": doctor.pk, "date_from": "2026-11-25"}).json()["results"]
    assert [e["kind"] for e in listed] == ["changed_hours"]
    gone = api.delete(reverse("api:schedule-exception-detail", args=[listed[0]["id"]]))
    assert gone.status_code == 204 and not DoctorScheduleException.objects.exists()


def test_a_service_has_a_price_range_duration_doctors_and_preparation(api, doctor, service):
    body = api.get(reverse("api:service-detail", args=[service.pk])).json()
    assert body == {"id": service.pk, "name": "Лечение кариеса", "category": "Терапия",
                    "duration_minutes": 60, "price_min": "5000.00", "price_max": "8000.00",
                    "fixed_price": False, "doctors": [doctor.pk],
                    "preparation": "Возьмите снимки.", "active": True}
    created = api.post(reverse("api:service-list"), {
        "name": "Консультация", "duration_minutes": 30, "price_min": "1000",
        "price_max": "1000", "doctors": [doctor.pk]}, format="json")
    assert created.status_code == 201 and created.json()["fixed_price"] is True
    bad = api.patch(reverse("api:service-detail", args=[service.pk]), {"price_max": "10"},
                    format="json")
    assert bad.status_code == 400 and "price_max" in bad.json()["errors"]


def test_an_administrator_books_but_does_not_keep_the_catalogue(administrator, patient, doctor,
                                                                  service):
    api = APIClient()
    api.force_authenticate(administrator)
    assert book(api, patient, doctor, service, "2026-11-24T12:00:00").status_code == 201
    assert Appointment.objects.get().created_by == administrator
    assert api.get(reverse("api:doctor-list")).status_code == 200
    assert api.post(reverse("api:doctor-list"), {"name": "X"}, format="json").status_code == 403
    assert api.put(reverse("api:doctor-schedule", args=[doctor.pk]),
                   {"weekly_hours": [[]] * 7}, format="json").status_code == 403
    assert api.patch(reverse("api:service-detail", args=[service.pk]), {"active": False},
                     format="json").status_code == 403


def test_the_schema_documents_the_errors_and_the_docs_page_runs_under_our_csp(client, owner):
    client.force_login(owner)
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    booking = paths["/api/v1/appointments/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409"} <= set(booking)
    assert "clinicToken" in schema.json()["components"]["securitySchemes"]
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
