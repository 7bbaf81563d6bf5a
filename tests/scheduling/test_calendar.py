"""The calendar: day and week views, an appointment's detail, booking, moving, cancelling,
confirming and outcomes from it. The clock stands at Tuesday 2026-11-24 11:00 Moscow."""

import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from scheduling.models import Appointment
from scheduling.selectors import free_slots
from scheduling.services import BookingError, appointment_outcome_set
from tests.clinic.factories import MembershipFactory, PatientFactory
from tests.conftest import MOSCOW
from tests.scheduling.factories import (
    AppointmentFactory,
    DoctorFactory,
    DoctorScheduleExceptionFactory,
    ServiceFactory,
)

TUESDAY = date(2026, 11, 24)
WEDNESDAY = date(2026, 11, 25)
CALENDAR = reverse("scheduling:calendar")
NEW = reverse("scheduling:appointment-new")
HTMX = {"HTTP_HX_REQUEST": "true"}


def at(hhmm: str, day: date = WEDNESDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=MOSCOW)


def htmx(target: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": target}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def frozen(now):
    with time_machine.travel(now, tick=False):
        yield


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, name="Петрова Анна Сергеевна")


@pytest.fixture
def colleague(clinic):
    return DoctorFactory(clinic=clinic, name="Сидоров Олег")


@pytest.fixture
def service(clinic, doctor, colleague):
    return ServiceFactory(clinic=clinic, name="Профессиональная гигиена", category="Гигиена",
                          duration_minutes=60, doctors=[doctor, colleague])


@pytest.fixture
def signed_in(client, administrator):
    client.force_login(administrator)
    return client


def appointment(doctor, service, patient, start, **fields):
    return AppointmentFactory(doctor=doctor, service=service, patient=patient, start=start,
                              **fields)


def starts(html: str) -> list[str]:
    """The free times offered in a page, as ISO starts."""
    return re.findall(r'data-start="([^"]+)"', html)


# --- Viewing -------------------------------------------------------------------------------------

def test_the_day_view_shows_every_doctors_appointments_in_the_clinic_timezone(
        signed_in, doctor, colleague, service, patient):
    appointment(doctor, service, patient, at("10:00"))
    other = PatientFactory(clinic=patient.clinic, last_name="Орлова", first_name="Вера",
                           patronymic="")
    appointment(colleague, service, other, at("15:30"), status="confirmed")
    html = signed_in.get(CALENDAR, {"date": "2026-11-25"}).content.decode()
    assert "Wednesday, 25 November 2026" in html
    assert "Петрова Анна Сергеевна" in html and "Сидоров Олег" in html
    assert "10:00–11:00" in html and "15:30–16:30" in html  # Moscow, not UTC
    assert "Иванова Мария Петровна" in html and "Орлова Вера" in html
    assert "status-booked" in html and "status-confirmed" in html


def test_the_day_view_shows_working_hours_and_a_day_off(signed_in, doctor, colleague):
    DoctorScheduleExceptionFactory(doctor=colleague, date=WEDNESDAY, kind="vacation")
    html = signed_in.get(CALENDAR, {"date": "2026-11-25"}).content.decode()
    assert "Working hours: 09:00–13:00, 14:00–20:00" in html  # the doctor's lunch is a gap
    assert "Working hours: day off" in html
    assert 'data-first="540"' in html and 'data-last="1200"' in html  # 09:00 to 20:00 shown


def test_the_week_view_of_one_doctor_shows_seven_days_of_only_their_appointments(
        signed_in, doctor, colleague, service, patient):
    appointment(doctor, service, patient, at("10:00"))
    appointment(doctor, service, patient, at("12:00", date(2026, 11, 29)), status="cancelled")
    appointment(colleague, service, patient, at("16:00"))
    html = signed_in.get(CALENDAR, {"view": "week", "date": "2026-11-25",
                                    "doctor": doctor.pk}).content.decode()
    assert "23 November – 29 November 2026" in html
    assert html.count('class="cal-col') == 7
    assert "10:00–11:00" in html and "12:00–13:00" in html
    assert "16:00–17:00" not in html
    assert "status-cancelled" in html


def test_the_week_view_of_the_clinic_is_a_table_of_doctors_by_day(
        signed_in, doctor, colleague, service, patient):
    appointment(doctor, service, patient, at("10:00"))
    appointment(colleague, service, patient, at("10:00"), status="no_show")
    DoctorScheduleExceptionFactory(doctor=colleague, date=date(2026, 11, 26), kind="vacation")
    html = signed_in.get(CALENDAR, {"view": "week", "date": "2026-11-25"}).content.decode()
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</tr>', html, re.S)
    assert len(rows) == 2 and "Петрова Анна Сергеевна" in rows[0] and "Сидоров Олег" in rows[1]
    assert rows[0].count('<td class="cal-cell') == 7
    assert 'class="cal-chip status-booked"' in rows[0] and "10:00</span>" in rows[0]
    assert 'class="cal-chip status-no_show"' in rows[1]
    assert rows[0].count("09:00–20:00") == 5  # the working days' hours; the weekend is off
    assert rows[1].count("09:00–20:00") == 4 and rows[1].count("day off") == 3


def test_cancelled_appointments_can_be_hidden(signed_in, doctor, service, patient):
    appointment(doctor, service, patient, at("10:00"), status="cancelled")
    shown = signed_in.get(CALENDAR, {"date": "2026-11-25"}).content.decode()
    hidden = signed_in.get(CALENDAR, {"date": "2026-11-25", "hide_cancelled": "1"})
    assert "10:00–11:00" in shown and "10:00–11:00" not in hidden.content.decode()


def test_today_is_the_default_and_prev_next_move_by_a_day_or_a_week(signed_in, doctor):
    html = signed_in.get(CALENDAR).content.decode()
    assert "Tuesday, 24 November 2026" in html
    assert "date=2026-11-23" in html and "date=2026-11-25" in html
    week = signed_in.get(CALENDAR, {"view": "week", "date": "2026-11-25"}).content.decode()
    assert "date=2026-11-18" in week and "date=2026-12-02" in week
    assert 'class="cal-now"' in html  # it is 11:00 now, inside the shown hours


def test_an_htmx_navigation_gets_only_the_calendar_body(signed_in, doctor):
    response = signed_in.get(CALENDAR, {"date": "2026-11-26"}, **htmx("calendar-body"))
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar-body"')
    assert "<html" not in html and "Thursday, 26 November 2026" in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_takes_the_same_number_of_queries_for_many_doctors_and_appointments(
        signed_in, clinic, view, django_assert_max_num_queries):
    def page() -> None:
        assert signed_in.get(CALENDAR, {"view": view, "date": "2026-11-25"}).status_code == 200

    def add(doctors: int, per_doctor: int) -> None:
        for _n in range(doctors):
            doctor = DoctorFactory(clinic=clinic)
            service = ServiceFactory(clinic=clinic, doctors=[doctor])
            DoctorScheduleExceptionFactory(doctor=doctor, date=date(2026, 11, 27),
                                           kind="changed_hours", intervals=[["10:00", "12:00"]])
            for k in range(per_doctor):
                appointment(doctor, service, PatientFactory(clinic=clinic),
                            at("09:00") + timedelta(hours=k))

    add(1, 1)
    with django_assert_max_num_queries(11) as few:  # the page layout takes a few of them
        page()
    add(8, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page()


def test_the_detail_and_the_booking_form_take_the_same_number_of_queries_for_a_busy_clinic(
        signed_in, clinic, doctor, service, patient, django_assert_max_num_queries):
    booked = appointment(doctor, service, patient, at("10:00"))
    detail = reverse("scheduling:appointment", args=[booked.pk])
    form = {"service": service.pk, "date": "2026-11-25"}
    with django_assert_max_num_queries(8) as detail_few:  # the fragments have no page layout
        signed_in.get(detail, **HTMX)
    with django_assert_max_num_queries(14) as form_few:
        signed_in.get(NEW, form, **HTMX)
    for k in range(1, 8):
        appointment(doctor, service, patient, at("10:00", WEDNESDAY + timedelta(days=k)))
        other = DoctorFactory(clinic=clinic)
        service.doctors.add(other)
        appointment(other, service, PatientFactory(clinic=clinic), at("09:00"))
    with django_assert_max_num_queries(len(detail_few.captured_queries)):
        signed_in.get(detail, **HTMX)
    with django_assert_max_num_queries(len(form_few.captured_queries)):
        signed_in.get(NEW, form, **HTMX)


def test_a_doctor_of_another_clinic_is_not_found(signed_in, other_clinic):
    foreign = DoctorFactory(clinic=other_clinic)
    assert signed_in.get(CALENDAR, {"doctor": foreign.pk}).status_code == 404


@pytest.mark.parametrize("role", ["administrator", "manager", "owner"])
def test_every_staff_role_sees_the_calendar_and_books(client, clinic, role, doctor, service,
                                                      patient):
    client.force_login(MembershipFactory(clinic=clinic, role=role).user)
    assert client.get(CALENDAR).status_code == 200
    client.post(NEW, {"patient": patient.pk, "service": service.pk, "doctor": doctor.pk,
                      "date": "2026-11-25", "time": "10:00"})
    assert Appointment.objects.filter(patient=patient, start=at("10:00")).exists()


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in(client, doctor, service, patient):
    booked = appointment(doctor, service, patient, at("10:00"))
    for url in (CALENDAR, reverse("scheduling:appointment", args=[booked.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- One appointment -----------------------------------------------------------------------------

def test_an_appointments_detail_shows_the_patient_and_links_the_source_conversation(
        signed_in, doctor, service, patient):
    booked = appointment(doctor, service, patient, at("10:00"), source_conversation_id=4321)
    later = appointment(doctor, service, patient, at("10:00", date(2026, 12, 2)))
    html = signed_in.get(reverse("scheduling:appointment", args=[booked.pk]),
                         **HTMX).content.decode()
    assert "Иванова Мария Петровна" in html and f'href="tel:{patient.phone}"' in html
    assert f'href="{reverse("inbox:thread", args=[4321])}"' in html
    assert "Профессиональная гигиена" in html and "5,000–8,000" in html
    assert reverse("scheduling:appointment", args=[later.pk]) in html  # the patient's next visit
    assert "<html" not in html


def test_without_htmx_the_detail_opens_in_the_calendar_of_its_day(signed_in, doctor, service,
                                                                  patient):
    booked = appointment(doctor, service, patient, at("10:00"))
    html = signed_in.get(reverse("scheduling:appointment", args=[booked.pk])).content.decode()
    assert "<html" in html and "Wednesday, 25 November 2026" in html
    assert f'data-appointment-detail="{booked.pk}"' in html


def test_a_patients_html_is_shown_as_text(signed_in, doctor, service, clinic):
    patient = PatientFactory(clinic=clinic, last_name="<script>alert(1)</script>")
    booked = appointment(doctor, service, patient, at("10:00"))
    for response in (signed_in.get(CALENDAR, {"date": "2026-11-25"}),
                     signed_in.get(reverse("scheduling:appointment", args=[booked.pk]), **HTMX)):
        html = response.content.decode()
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("action", ["appointment", "appointment-move"])
def test_another_clinics_appointment_is_not_found(signed_in, other_clinic, action):
    foreign = AppointmentFactory(doctor=DoctorFactory(clinic=other_clinic), start=at("10:00"))
    assert signed_in.get(reverse(f"scheduling:{action}", args=[foreign.pk])).status_code == 404


@pytest.mark.parametrize("action", ["appointment-move", "appointment-cancel",
                                    "appointment-confirm", "appointment-outcome"])
def test_another_clinics_appointment_cannot_be_changed(signed_in, other_clinic, action):
    foreign = AppointmentFactory(doctor=DoctorFactory(clinic=other_clinic), start=at("10:00"))
    response = signed_in.post(reverse(f"scheduling:{action}", args=[foreign.pk]),
                              {"reason": "x", "status": "completed", "time": "12:00",
                               "date": "2026-11-25"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.start) == ("booked", at("10:00"))


# --- Booking -------------------------------------------------------------------------------------

def test_the_booking_form_offers_the_free_times_of_the_chosen_day(signed_in, doctor, service,
                                                                  patient):
    appointment(doctor, service, patient, at("10:00"))
    response = signed_in.get(NEW, {"service": service.pk, "doctor": doctor.pk,
                                   "date": "2026-11-25"}, **htmx("book-slots"))
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="book-slots"')
    offered = starts(html)
    assert offered[0] == "2026-11-25T09:00:00+03:00"
    assert "2026-11-25T09:15:00+03:00" not in offered  # would run into the 10:00 visit
    assert "2026-11-25T10:00:00+03:00" not in offered
    assert "2026-11-25T11:00:00+03:00" in offered


def test_a_day_without_free_time_offers_the_next_free_times(signed_in, doctor, service):
    DoctorScheduleExceptionFactory(doctor=doctor, date=WEDNESDAY, kind="sick")
    html = signed_in.get(NEW, {"service": service.pk, "doctor": doctor.pk,
                               "date": "2026-11-25"}, **htmx("book-slots")).content.decode()
    assert "Next free times" in html
    assert starts(html)[0] == "2026-11-26T09:00:00+03:00"


def test_the_booking_form_finds_this_clinics_patients_only(signed_in, clinic, other_clinic):
    PatientFactory(clinic=clinic, last_name="Смирнова", first_name="Ольга")
    PatientFactory(clinic=other_clinic, last_name="Смирнова", first_name="Ирина")
    html = signed_in.get(reverse("scheduling:patient-search"),
                         {"patient_q": "Смирнова"}).content.decode()
    assert "Смирнова Ольга" in html and "Ирина" not in html
    assert 'type="radio" name="patient"' in html and " checked" in html  # the only match


def test_without_javascript_the_booking_form_finds_the_patient_in_a_whole_page(
        signed_in, clinic, doctor):
    PatientFactory(clinic=clinic, last_name="Смирнова", first_name="Ольга")
    html = signed_in.get(NEW, {"patient_q": "Смирнова", "doctor": doctor.pk,
                               "date": "2026-11-26"}).content.decode()
    assert "<html" in html and 'id="book-form"' in html
    assert "Смирнова Ольга" in html and 'value="2026-11-26"' in html


def test_booking_from_the_calendar_creates_a_booked_appointment(signed_in, administrator,
                                                                doctor, service, patient):
    response = signed_in.post(NEW, {"patient": patient.pk, "service": service.pk,
                                    "doctor": doctor.pk, "date": "2026-11-25",
                                    "time": "10:00"}, **HTMX)
    booked = Appointment.objects.get()
    assert (booked.patient, booked.doctor, booked.service) == (patient, doctor, service)
    assert (booked.start, booked.end, booked.status) == (at("10:00"), at("11:00"), "booked")
    assert booked.created_by == administrator and booked.source_conversation_id is None
    assert response["HX-Trigger"] == "calendar-changed"  # the grid reloads
    assert f'data-appointment-detail="{booked.pk}"' in response.content.decode()


def test_pressing_a_free_time_books_it(signed_in, doctor, colleague, service, patient):
    signed_in.post(NEW, {"patient": patient.pk, "service": service.pk, "doctor": "",
                         "date": "", "slot": f"{colleague.pk}|2026-11-25T14:15:00+03:00"}, **HTMX)
    booked = Appointment.objects.get()
    assert (booked.doctor, booked.start) == (colleague, at("14:15"))


def test_booking_a_taken_time_shows_the_message_and_the_next_free_times(
        signed_in, doctor, service, patient):
    appointment(doctor, service, patient, at("10:00"))
    response = signed_in.post(NEW, {"patient": patient.pk, "service": service.pk,
                                    "doctor": doctor.pk, "date": "2026-11-25",
                                    "time": "10:30"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "This time is already taken." in html
    assert starts(html)[:2] == ["2026-11-25T11:00:00+03:00", "2026-11-25T11:15:00+03:00"]
    assert f'value="{patient.pk}" checked' in html  # the form keeps what was chosen
    assert Appointment.objects.count() == 1


def test_booking_outside_the_doctors_hours_is_refused_with_the_reason(signed_in, doctor,
                                                                      service, patient):
    response = signed_in.post(NEW, {"patient": patient.pk, "service": service.pk,
                                    "doctor": doctor.pk, "date": "2026-11-25",
                                    "time": "12:30"}, **HTMX)
    assert "does not work at this time" in response.content.decode()
    assert not Appointment.objects.exists()


def test_another_clinics_patient_cannot_be_booked(signed_in, other_clinic, doctor, service):
    foreign = PatientFactory(clinic=other_clinic)
    response = signed_in.post(NEW, {"patient": foreign.pk, "service": service.pk,
                                    "doctor": doctor.pk, "date": "2026-11-25",
                                    "time": "10:00"}, **HTMX)
    assert "Select a valid choice" in response.content.decode()
    assert not Appointment.objects.exists()


def test_without_htmx_a_booking_redirects_to_the_appointment(signed_in, doctor, service,
                                                             patient):
    response = signed_in.post(NEW, {"patient": patient.pk, "service": service.pk,
                                    "doctor": doctor.pk, "date": "2026-11-25", "time": "10:00"})
    booked = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment", args=[booked.pk])


# --- Moving, cancelling, confirming, outcomes ----------------------------------------------------

def test_moving_from_the_calendar_needs_confirming_again(signed_in, doctor, colleague, service,
                                                         patient):
    booked = appointment(doctor, service, patient, at("10:00"), status="confirmed",
                         confirmed_via="phone")
    response = signed_in.post(reverse("scheduling:appointment-move", args=[booked.pk]),
                              {"doctor": colleague.pk, "date": "2026-11-26", "time": "15:00"},
                              **HTMX)
    booked.refresh_from_db()
    assert (booked.doctor, booked.start, booked.end) == (
        colleague, at("15:00", date(2026, 11, 26)), at("16:00", date(2026, 11, 26)))
    assert booked.status == "booked" and response["HX-Trigger"] == "calendar-changed"


def test_moving_to_a_taken_time_shows_the_next_free_times(signed_in, doctor, service, patient):
    booked = appointment(doctor, service, patient, at("10:00"))
    appointment(doctor, service, PatientFactory(clinic=patient.clinic), at("15:00"))
    response = signed_in.post(reverse("scheduling:appointment-move", args=[booked.pk]),
                              {"doctor": doctor.pk, "date": "2026-11-25", "time": "14:30"},
                              **HTMX)
    html = response.content.decode()
    assert "This time is already taken." in html
    assert starts(html)[0] == "2026-11-25T16:00:00+03:00"
    booked.refresh_from_db()
    assert booked.start == at("10:00")


def test_the_move_form_offers_the_days_free_times_for_any_doctor_of_the_service(
        signed_in, doctor, colleague, service, patient):
    booked = appointment(doctor, service, patient, at("10:00"))
    html = signed_in.get(reverse("scheduling:appointment-move", args=[booked.pk]),
                         {"doctor": "", "date": "2026-11-25"},
                         **htmx("move-slots")).content.decode()
    assert "Петрова Анна Сергеевна" in html and "Сидоров Олег" in html
    assert "2026-11-25T10:00:00+03:00" in starts(html)  # the colleague is free at 10:00


def test_cancelling_from_the_calendar_frees_the_time(signed_in, clinic, doctor, service,
                                                     patient, now):
    booked = appointment(doctor, service, patient, at("10:00"))
    response = signed_in.post(reverse("scheduling:appointment-cancel", args=[booked.pk]),
                              {"reason": "Заболела"}, **HTMX)
    booked.refresh_from_db()
    assert (booked.status, booked.cancellation_reason) == ("cancelled", "Заболела")
    assert response["HX-Trigger"] == "calendar-changed"
    assert 'data-status="cancelled"' in response.content.decode()
    free = free_slots(clinic=clinic, service=service, doctor=doctor, start_date=WEDNESDAY,
                      end_date=WEDNESDAY, now=now)
    assert at("10:00") in [slot.start for slot in free]


def test_a_cancelled_appointment_cannot_be_moved(signed_in, doctor, service, patient):
    booked = appointment(doctor, service, patient, at("10:00"), status="cancelled")
    response = signed_in.post(reverse("scheduling:appointment-move", args=[booked.pk]),
                              {"doctor": doctor.pk, "date": "2026-11-25", "time": "11:00"},
                              **HTMX)
    assert "Only a booked or confirmed appointment can be changed" in response.content.decode()


def test_confirming_from_the_calendar_records_how(signed_in, doctor, service, patient, now):
    booked = appointment(doctor, service, patient, at("10:00"))
    signed_in.post(reverse("scheduling:appointment-confirm", args=[booked.pk]),
                   {"via": "phone"}, **HTMX)
    booked.refresh_from_db()
    assert (booked.status, booked.confirmed_via, booked.confirmed_at) == ("confirmed", "phone",
                                                                          now)


def test_a_visit_that_has_started_is_marked_completed_or_no_show(signed_in, doctor, service,
                                                                 patient):
    earlier = appointment(doctor, service, patient, at("09:00", TUESDAY))
    url = reverse("scheduling:appointment-outcome", args=[earlier.pk])
    signed_in.post(url, {"status": "no_show"}, **HTMX)
    earlier.refresh_from_db()
    assert earlier.status == "no_show"
    signed_in.post(url, {"status": "completed"}, **HTMX)  # a mistake corrected
    earlier.refresh_from_db()
    assert earlier.status == "completed"


def test_a_future_visit_has_no_outcome_yet(signed_in, doctor, service, patient):
    booked = appointment(doctor, service, patient, at("10:00"))
    response = signed_in.post(reverse("scheduling:appointment-outcome", args=[booked.pk]),
                              {"status": "completed"}, **HTMX)
    assert "The visit has not started yet." in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == "booked"


def test_a_cancelled_visit_has_no_outcome(doctor, service, patient, now):
    cancelled = appointment(doctor, service, patient, at("09:00", TUESDAY), status="cancelled")
    with pytest.raises(BookingError) as refused:
        appointment_outcome_set(appointment=cancelled, status="completed", now=now)
    assert refused.value.code == "not_live"
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled"
