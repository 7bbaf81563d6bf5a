"""Booking, cancelling, rescheduling and confirming. `now` is Tuesday 2026-11-24 11:00 Moscow."""

from datetime import date, datetime, time, timedelta

import pytest

from scheduling.models import Appointment
from scheduling.services import (
    BookingError,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
)
from tests.clinic.factories import PatientFactory
from tests.conftest import MOSCOW
from tests.scheduling.factories import (
    AppointmentFactory,
    DoctorFactory,
    DoctorScheduleExceptionFactory,
    ServiceFactory,
)

WEDNESDAY = date(2026, 11, 25)


def at(hhmm: str, day: date = WEDNESDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=MOSCOW)


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, name="Петрова Анна Сергеевна")


@pytest.fixture
def service(clinic, doctor):
    return ServiceFactory(clinic=clinic, duration_minutes=60, doctors=[doctor])


@pytest.fixture
def book(clinic, patient, doctor, service, administrator, now):
    def book(start, **overrides):
        kwargs = {"clinic": clinic, "patient": patient, "doctor": doctor, "service": service,
                  "start": start, "created_by": administrator, "now": now, **overrides}
        return appointment_book(**kwargs)
    return book


def test_booking_a_free_slot_creates_a_booked_appointment_for_the_service_duration(
        book, clinic, patient, doctor, service, administrator, now):
    appointment = book(at("10:00"), source_conversation_id=4321)
    appointment.refresh_from_db()
    assert (appointment.clinic, appointment.patient, appointment.doctor, appointment.service) == (
        clinic, patient, doctor, service)
    assert (appointment.start, appointment.end) == (at("10:00"), at("11:00"))
    assert appointment.status == "booked"
    assert appointment.created_by == administrator and appointment.created_at == now
    assert appointment.source_conversation_id == 4321


@pytest.mark.parametrize(("start", "code"), [
    (datetime(2026, 11, 24, 10, 0, tzinfo=MOSCOW), "in_past"),
    (datetime(2026, 11, 24, 11, 30, tzinfo=MOSCOW), "lead_time"),
    (at("12:30"), "outside_schedule"),  # runs into the lunch break at 13:00
    (at("13:15"), "outside_schedule"),  # inside the lunch break
    (at("19:30"), "outside_schedule"),  # the shift ends at 20:00
    (at("08:00"), "outside_schedule"),
    (datetime(2026, 11, 28, 10, 0, tzinfo=MOSCOW), "outside_schedule"),  # Saturday off
])
def test_booking_outside_the_rules_is_refused_with_a_reason(book, start, code):
    with pytest.raises(BookingError) as error:
        book(start)
    assert error.value.code == code
    assert Appointment.objects.count() == 0


def test_booking_on_a_vacation_day_is_refused(book, doctor):
    DoctorScheduleExceptionFactory(doctor=doctor, date=WEDNESDAY, kind="vacation")
    with pytest.raises(BookingError) as error:
        book(at("10:00"))
    assert error.value.code == "outside_schedule"


def test_booking_an_extra_shift_is_allowed(book, doctor):
    saturday = date(2026, 11, 28)
    DoctorScheduleExceptionFactory(doctor=doctor, date=saturday, kind="extra_shift",
                                   intervals=[["10:00", "14:00"]])
    assert book(at("13:00", saturday)).end == at("14:00", saturday)


def test_a_doctor_who_does_not_perform_the_service_cannot_be_booked_for_it(book, clinic):
    with pytest.raises(BookingError) as error:
        book(at("10:00"), doctor=DoctorFactory(clinic=clinic))
    assert error.value.code == "service_not_performed"


def test_an_inactive_doctor_cannot_be_booked(book, doctor):
    doctor.active = False
    doctor.save()
    with pytest.raises(BookingError) as error:
        book(at("10:00"))
    assert error.value.code == "doctor_inactive"


def test_a_patient_of_another_clinic_cannot_be_booked(book, other_clinic):
    with pytest.raises(BookingError) as error:
        book(at("10:00"), patient=PatientFactory(clinic=other_clinic))
    assert error.value.code == "wrong_clinic"


def test_a_naive_start_is_a_programming_error(book):
    with pytest.raises(ValueError, match="aware"):
        book(datetime(2026, 11, 25, 10, 0))  # noqa: DTZ001


def test_an_overlapping_booking_raises_slot_taken_with_the_next_free_slots(book, clinic):
    book(at("10:00"))
    other_patient = PatientFactory(clinic=clinic)
    with pytest.raises(SlotTaken) as error:
        book(at("10:30"), patient=other_patient)
    assert error.value.code == "slot_taken"
    assert [s.start for s in error.value.next_slots] == [
        at("11:00"), at("11:15"), at("11:30"), at("11:45"), at("12:00")]
    assert Appointment.objects.count() == 1


def test_back_to_back_bookings_do_not_overlap(book):
    book(at("10:00"))
    assert book(at("11:00")).start == at("11:00")


def test_cancelling_frees_the_slot(book, clinic, now):
    appointment = book(at("10:00"))
    appointment_cancel(appointment=appointment, reason="Заболел ребёнок", now=now)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert appointment.cancellation_reason == "Заболел ребёнок"
    assert appointment.cancelled_at == now
    again = book(at("10:00"), patient=PatientFactory(clinic=clinic))
    assert again.status == "booked"


def test_cancelling_twice_is_a_no_op_and_a_completed_visit_cannot_be_cancelled(
        book, doctor, service, now):
    appointment = book(at("10:00"))
    appointment_cancel(appointment=appointment, reason="", now=now)
    appointment_cancel(appointment=appointment, reason="ещё раз", now=now + timedelta(hours=1))
    appointment.refresh_from_db()
    assert appointment.cancellation_reason == "" and appointment.cancelled_at == now
    done = AppointmentFactory(doctor=doctor, service=service, status="completed",
                              start=datetime(2026, 11, 23, 10, 0, tzinfo=MOSCOW))
    with pytest.raises(BookingError) as error:
        appointment_cancel(appointment=done, reason="", now=now)
    assert error.value.code == "not_live"


def test_rescheduling_moves_the_appointment_and_asks_for_confirmation_again(book, now):
    appointment = book(at("10:00"))
    appointment_confirm(appointment=appointment, via="phone", now=now)
    appointment_reschedule(appointment=appointment, start=at("10:30"), now=now)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at("10:30"), at("11:30"))
    assert appointment.status == "booked"
    assert appointment.confirmed_via == "" and appointment.confirmed_at is None


def test_rescheduling_to_another_doctor_who_performs_the_service(book, clinic, service, now):
    appointment = book(at("10:00"))
    colleague = DoctorFactory(clinic=clinic)
    service.doctors.add(colleague)
    appointment_reschedule(appointment=appointment, start=at("10:00"), doctor=colleague, now=now)
    appointment.refresh_from_db()
    assert appointment.doctor == colleague
    assert book(at("10:00")).doctor != colleague  # the first doctor's time is free again


def test_rescheduling_follows_the_booking_rules(book, clinic, now):
    appointment = book(at("10:00"))
    book(at("15:00"), patient=PatientFactory(clinic=clinic))
    with pytest.raises(SlotTaken) as taken:
        appointment_reschedule(appointment=appointment, start=at("14:30"), now=now)
    assert taken.value.next_slots[0].start == at("16:00")
    with pytest.raises(BookingError) as error:
        appointment_reschedule(appointment=appointment, start=at("13:30"), now=now)
    assert error.value.code == "outside_schedule"
    appointment.refresh_from_db()
    assert appointment.start == at("10:00")


def test_a_cancelled_appointment_cannot_be_rescheduled(book, now):
    appointment = book(at("10:00"))
    appointment_cancel(appointment=appointment, reason="", now=now)
    with pytest.raises(BookingError) as error:
        appointment_reschedule(appointment=appointment, start=at("16:00"), now=now)
    assert error.value.code == "not_live"


def test_confirming_records_how_and_when_once(book, now):
    appointment = book(at("10:00"))
    appointment_confirm(appointment=appointment, via="telegram button", now=now)
    appointment_confirm(appointment=appointment, via="phone", now=now + timedelta(hours=1))
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"
    assert (appointment.confirmed_via, appointment.confirmed_at) == ("telegram button", now)


def test_a_cancelled_appointment_cannot_be_confirmed(book, now):
    appointment = book(at("10:00"))
    appointment_cancel(appointment=appointment, reason="", now=now)
    with pytest.raises(BookingError):
        appointment_confirm(appointment=appointment, via="phone", now=now)
