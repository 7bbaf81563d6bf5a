"""The free-slot finder. `now` is Tuesday 2026-11-24 11:00 Moscow, so the earliest start is 12:00.

The default doctor works Monday to Friday 09:00–13:00 and 14:00–20:00.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.models import ClinicDayException
from scheduling.selectors import Slot, free_slots
from tests.conftest import MOSCOW
from tests.scheduling.factories import (
    AppointmentFactory,
    DoctorFactory,
    DoctorScheduleExceptionFactory,
    ServiceFactory,
)

TUESDAY = date(2026, 11, 24)
WEDNESDAY = date(2026, 11, 25)
THURSDAY = date(2026, 11, 26)
SATURDAY = date(2026, 11, 28)
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")


def at(day: date, hhmm: str, tz: ZoneInfo = MOSCOW) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz)


def starts(slots: list[Slot], tz: ZoneInfo = MOSCOW) -> list[str]:
    return [slot.start.astimezone(tz).strftime("%a %H:%M") for slot in slots]


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, name="Петрова Анна Сергеевна")


@pytest.fixture
def service(clinic, doctor):
    return ServiceFactory(clinic=clinic, duration_minutes=60, doctors=[doctor])


def slots_on(clinic, service, day, now, **kwargs):
    return free_slots(clinic=clinic, service=service, start_date=day, end_date=day, now=now,
                      limit=100, **kwargs)


def test_slots_start_a_lead_time_after_now_on_the_grid_and_skip_the_lunch_break(
        clinic, service, now):
    slots = slots_on(clinic, service, TUESDAY, now)
    assert starts(slots)[:4] == ["Tue 12:00", "Tue 14:00", "Tue 14:15", "Tue 14:30"]
    assert all(s.start.tzinfo == MOSCOW and s.end - s.start == timedelta(hours=1) for s in slots)


def test_a_sixty_minute_service_does_not_start_at_19_30_when_the_shift_ends_at_20_00(
        clinic, service, now):
    slots = slots_on(clinic, service, TUESDAY, now)
    assert starts(slots)[-1] == "Tue 19:00"
    assert "Tue 19:30" not in starts(slots)


def test_a_short_service_fits_up_to_the_end_of_the_shift(clinic, doctor, now):
    checkup = ServiceFactory(clinic=clinic, duration_minutes=15, doctors=[doctor])
    slots = slots_on(clinic, checkup, TUESDAY, now)
    assert starts(slots)[:5] == ["Tue 12:00", "Tue 12:15", "Tue 12:30", "Tue 12:45", "Tue 14:00"]
    assert starts(slots)[-1] == "Tue 19:45"


def test_a_slot_is_a_frozen_value_with_the_doctor(clinic, doctor, service, now):
    slot = slots_on(clinic, service, TUESDAY, now)[0]
    assert slot == Slot(doctor.pk, "Петрова Анна Сергеевна", at(TUESDAY, "12:00"),
                        at(TUESDAY, "13:00"))
    with pytest.raises(AttributeError):
        slot.start = at(TUESDAY, "14:00")


def test_existing_appointments_block_their_time_and_the_grid_resumes_after_them(
        clinic, doctor, service, now):
    AppointmentFactory(doctor=doctor, service=service, start=at(TUESDAY, "15:00"))
    short = ServiceFactory(clinic=clinic, duration_minutes=20, doctors=[doctor])
    AppointmentFactory(doctor=doctor, service=short, start=at(TUESDAY, "17:00"))  # to 17:20
    slots = starts(slots_on(clinic, service, TUESDAY, now))
    assert slots[:3] == ["Tue 12:00", "Tue 14:00", "Tue 16:00"]
    assert "Tue 16:15" not in slots and "Tue 17:15" not in slots
    assert slots[3] == "Tue 17:30"


def test_cancelled_appointments_and_other_doctors_appointments_do_not_block(
        clinic, doctor, service, now):
    AppointmentFactory(doctor=doctor, service=service, start=at(TUESDAY, "14:00"),
                       status="cancelled")
    AppointmentFactory(doctor=DoctorFactory(clinic=clinic), service=service,
                       start=at(TUESDAY, "14:00"))
    assert "Tue 14:00" in starts(slots_on(clinic, service, TUESDAY, now))


def test_completed_and_confirmed_appointments_block(clinic, doctor, service, now):
    AppointmentFactory(doctor=doctor, service=service, start=at(TUESDAY, "14:00"),
                       status="confirmed")
    AppointmentFactory(doctor=doctor, service=service, start=at(TUESDAY, "12:00"),
                       status="completed")
    assert starts(slots_on(clinic, service, TUESDAY, now))[:1] == ["Tue 15:00"]


def test_a_vacation_day_has_no_slots(clinic, doctor, service, now):
    DoctorScheduleExceptionFactory(doctor=doctor, date=WEDNESDAY, kind="vacation")
    DoctorScheduleExceptionFactory(doctor=doctor, date=THURSDAY, kind="sick")
    slots = free_slots(clinic=clinic, service=service, start_date=WEDNESDAY,
                       end_date=date(2026, 11, 27), now=now, limit=1)
    assert starts(slots) == ["Fri 09:00"]


def test_an_extra_shift_opens_a_normally_free_day(clinic, doctor, service, now):
    DoctorScheduleExceptionFactory(doctor=doctor, date=SATURDAY, kind="extra_shift",
                                   intervals=[["10:00", "12:00"]])
    slots = slots_on(clinic, service, SATURDAY, now)
    assert starts(slots) == ["Sat 10:00", "Sat 10:15", "Sat 10:30", "Sat 10:45", "Sat 11:00"]
    assert slots_on(clinic, service, date(2026, 11, 29), now) == []  # Sunday stays off


def test_changed_hours_replace_the_weekly_hours_for_that_day(clinic, doctor, service, now):
    DoctorScheduleExceptionFactory(doctor=doctor, date=WEDNESDAY, kind="changed_hours",
                                   intervals=[["16:00", "18:00"]])
    assert starts(slots_on(clinic, service, WEDNESDAY, now)) == [
        "Wed 16:00", "Wed 16:15", "Wed 16:30", "Wed 16:45", "Wed 17:00"]


def test_a_clinic_holiday_closes_every_doctor(clinic, doctor, service, now):
    other = DoctorFactory(clinic=clinic)
    service.doctors.add(other)
    DoctorScheduleExceptionFactory(doctor=other, date=THURSDAY, kind="extra_shift",
                                   intervals=[["09:00", "21:00"]])
    ClinicDayException.objects.create(clinic=clinic, date=THURSDAY, intervals=[],
                                      note="Праздник")
    assert slots_on(clinic, service, THURSDAY, now) == []
    assert slots_on(clinic, service, WEDNESDAY, now)  # the day before is open


def test_a_clinic_short_day_cuts_every_doctor_to_its_hours(clinic, doctor, service, now):
    ClinicDayException.objects.create(clinic=clinic, date=WEDNESDAY,
                                      intervals=[["10:00", "15:00"]], note="Короткий день")
    assert starts(slots_on(clinic, service, WEDNESDAY, now)) == [
        "Wed 10:00", "Wed 10:15", "Wed 10:30", "Wed 10:45", "Wed 11:00", "Wed 11:15",
        "Wed 11:30", "Wed 11:45", "Wed 12:00", "Wed 14:00"]


def test_only_active_doctors_who_perform_the_service_are_offered(clinic, doctor, service, now):
    DoctorFactory(clinic=clinic, name="Не делает эту услугу")
    inactive = DoctorFactory(clinic=clinic, name="Уволен", active=False)
    service.doctors.add(inactive)
    slots = slots_on(clinic, service, TUESDAY, now)
    assert {slot.doctor_id for slot in slots} == {doctor.pk}


def test_a_doctor_who_does_not_perform_the_service_gets_no_slots(clinic, service, now):
    other = DoctorFactory(clinic=clinic)
    assert slots_on(clinic, service, TUESDAY, now, doctor=other) == []


def test_an_inactive_service_or_another_clinics_service_has_no_slots(
        clinic, other_clinic, doctor, service, now):
    foreign = ServiceFactory(clinic=other_clinic, doctors=[DoctorFactory(clinic=other_clinic)])
    assert slots_on(clinic, foreign, TUESDAY, now) == []
    service.active = False
    service.save()
    assert slots_on(clinic, service, TUESDAY, now) == []


def test_slots_of_several_doctors_come_earliest_first_then_by_doctor_name(
        clinic, doctor, service, now):
    early = DoctorFactory(clinic=clinic, name="Андреев Павел")
    service.doctors.add(early)
    AppointmentFactory(doctor=doctor, service=service, start=at(TUESDAY, "14:00"))
    slots = free_slots(clinic=clinic, service=service, start_date=TUESDAY, end_date=TUESDAY,
                       now=now, limit=5)
    assert [(s.doctor_name[:7], s.start.strftime("%H:%M")) for s in slots] == [
        ("Андреев", "12:00"), ("Петрова", "12:00"), ("Андреев", "14:00"),
        ("Андреев", "14:15"), ("Андреев", "14:30")]
    only = free_slots(clinic=clinic, service=service, doctor=doctor, start_date=TUESDAY,
                      end_date=TUESDAY, now=now, limit=2)
    assert starts(only) == ["Tue 12:00", "Tue 15:00"]


def test_the_limit_spans_days(clinic, service, now):
    slots = free_slots(clinic=clinic, service=service, start_date=TUESDAY,
                       end_date=date(2026, 12, 8), now=now, limit=40)
    assert len(slots) == 40
    assert starts(slots)[-1].startswith("Wed")
    assert slots == sorted(slots, key=lambda s: s.start)


def test_dates_and_hours_are_the_clinics_in_vladivostok(clinic, doctor, service, now):
    clinic.timezone = "Asia/Vladivostok"
    clinic.save()
    # 11:00 in Moscow is 18:00 in Vladivostok: the earliest start is 19:00 there.
    slots = free_slots(clinic=clinic, service=service, start_date=TUESDAY, end_date=WEDNESDAY,
                       now=now, limit=3)
    assert [s.start for s in slots] == [at(TUESDAY, "19:00", VLADIVOSTOK),
                                        at(WEDNESDAY, "09:00", VLADIVOSTOK),
                                        at(WEDNESDAY, "09:15", VLADIVOSTOK)]
    assert all(s.start.tzinfo == VLADIVOSTOK for s in slots)
    assert slots[0].start == at(TUESDAY, "12:00")  # the same instant, seen from Moscow


def test_an_appointment_booked_in_moscow_time_blocks_the_vladivostok_clinic_correctly(
        clinic, doctor, service, now):
    clinic.timezone = "Asia/Vladivostok"
    clinic.save()
    AppointmentFactory(doctor=doctor, service=service, start=at(WEDNESDAY, "02:00"))  # 09:00 VL
    slots = free_slots(clinic=clinic, service=service, start_date=WEDNESDAY, end_date=WEDNESDAY,
                       now=now, limit=1)
    assert slots[0].start == at(WEDNESDAY, "10:00", VLADIVOSTOK)


def test_the_finder_uses_a_fixed_number_of_queries_whatever_the_doctors_and_days(
        clinic, service, now, django_assert_num_queries):
    for _ in range(5):
        doctor = DoctorFactory(clinic=clinic)
        service.doctors.add(doctor)
        AppointmentFactory(doctor=doctor, service=service, start=at(WEDNESDAY, "10:00"))
    with django_assert_num_queries(4):
        slots = free_slots(clinic=clinic, service=service, start_date=TUESDAY,
                           end_date=date(2026, 12, 8), now=now, limit=500)
    assert len(slots) == 500
