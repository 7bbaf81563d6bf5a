"""Booking, rescheduling, cancelling and confirming appointments.

Never double-booked: on Postgres the exclusion constraint `appointment_no_overlap` is the
guarantee (a losing concurrent insert fails with exclusion_violation, 23P01); on SQLite every
transaction is IMMEDIATE (settings), so the overlap check and the insert below run under the
database's single write lock and bookings are serialised. Both paths raise SlotTaken.
"""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from clinic.models import Clinic, Patient
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    DoctorSchedule,
    DoctorScheduleException,
    Service,
)
from scheduling.selectors import LEAD_TIME, Slot, doctor_working_spans, free_slots
from scheduling.signals import appointment_changed

EXCLUSION_VIOLATION = "23P01"
NEXT_SLOTS_SHOWN = 5
NEXT_SLOTS_DAYS = 14


class BookingError(Exception):
    """A booking, rescheduling or status change the rules do not allow; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SlotTaken(BookingError):
    """The doctor already has a live appointment overlapping the slot; here is what is free."""

    def __init__(self, next_slots: list[Slot]) -> None:
        super().__init__("slot_taken", _("This time is already taken."))
        self.next_slots = next_slots


def _is_exclusion_violation(error: IntegrityError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION


def _check_booking(*, clinic: Clinic, patient: Patient, doctor: Doctor, service: Service,
                   start: datetime, now: datetime) -> datetime:
    """Validate a requested slot; returns its end."""
    if start.utcoffset() is None:
        raise ValueError(f"an aware start is required, got {start!r}")
    if not (patient.clinic_id == doctor.clinic_id == service.clinic_id == clinic.pk):
        raise BookingError("wrong_clinic", _("The patient, doctor and service must belong to "
                                             "the same clinic."))
    if not doctor.active:
        raise BookingError("doctor_inactive", _("The doctor is not taking appointments."))
    if not service.active:
        raise BookingError("service_inactive", _("The service is not offered."))
    if not service.doctors.filter(pk=doctor.pk).exists():
        raise BookingError("service_not_performed",
                           _("The doctor does not perform this service."))
    if start <= now:
        raise BookingError("in_past", _("The time is in the past."))
    if start < now + LEAD_TIME:
        minutes = int(LEAD_TIME / timedelta(minutes=1))
        raise BookingError("lead_time", _("Appointments start at least %(minutes)d minutes "
                                          "from now.") % {"minutes": minutes})
    end = start + timedelta(minutes=service.duration_minutes)
    local_date = start.astimezone(ZoneInfo(clinic.timezone)).date()
    spans = doctor_working_spans(clinic=clinic, doctor=doctor,
                                 start_date=local_date - timedelta(days=1), end_date=local_date)
    if not any(s <= start and end <= e for s, e in spans):
        raise BookingError("outside_schedule",
                           _("The doctor does not work at this time for the whole service."))
    return end


def _overlaps(*, doctor: Doctor, start: datetime, end: datetime,
              exclude_pk: int | None = None) -> bool:
    live = Appointment.objects.filter(doctor=doctor, start__lt=end, end__gt=start).exclude(
        status=AppointmentStatus.CANCELLED)
    if exclude_pk is not None:
        live = live.exclude(pk=exclude_pk)
    return live.exists()


def _slot_taken(*, clinic: Clinic, service: Service, doctor: Doctor, start: datetime,
                now: datetime) -> SlotTaken:
    day = start.astimezone(ZoneInfo(clinic.timezone)).date()
    return SlotTaken(free_slots(
        clinic=clinic, service=service, doctor=doctor, start_date=day,
        end_date=day + timedelta(days=NEXT_SLOTS_DAYS), now=now, limit=NEXT_SLOTS_SHOWN,
        not_before=start))


def _announce(appointment_id: int) -> None:
    transaction.on_commit(lambda: appointment_changed.send_robust(
        sender=Appointment, appointment_id=appointment_id))


def _lock_doctor(doctor: Doctor) -> None:
    """Bookings for one doctor take turns. Concurrent inserts checked only by the exclusion
    constraint can deadlock each other on Postgres instead of failing cleanly; the constraint
    stays as the backstop for anything that writes appointments some other way."""
    Doctor.objects.select_for_update().filter(pk=doctor.pk).values_list("pk", flat=True).first()


def appointment_book(
    *, clinic: Clinic, patient: Patient, doctor: Doctor, service: Service, start: datetime,
    created_by: Any | None, now: datetime, source_conversation_id: int | None = None,
) -> Appointment:
    """Book `service` with `doctor` at `start`; raises BookingError, or SlotTaken when taken."""
    end = _check_booking(clinic=clinic, patient=patient, doctor=doctor, service=service,
                         start=start, now=now)
    try:
        with transaction.atomic():
            _lock_doctor(doctor)
            if _overlaps(doctor=doctor, start=start, end=end):
                raise _slot_taken(clinic=clinic, service=service, doctor=doctor, start=start,
                                  now=now)
            appointment = Appointment.objects.create(
                clinic=clinic, patient=patient, doctor=doctor, service=service, start=start,
                end=end, status=AppointmentStatus.BOOKED, created_by=created_by,
                created_at=now, source_conversation_id=source_conversation_id)
            _announce(appointment.pk)
            return appointment
    except IntegrityError as error:
        if not _is_exclusion_violation(error):
            raise
        raise _slot_taken(clinic=clinic, service=service, doctor=doctor, start=start,
                          now=now) from error


def _require_live(appointment: Appointment) -> None:
    if not appointment.is_live:
        raise BookingError("not_live", _("Only a booked or confirmed appointment can be "
                                         "changed; this one is %(status)s.")
                           % {"status": appointment.get_status_display()})


def appointment_reschedule(
    *, appointment: Appointment, start: datetime, now: datetime, doctor: Doctor | None = None,
) -> Appointment:
    """Move a live appointment (optionally to another doctor) under the booking rules.

    A moved appointment needs confirming again.
    """
    _require_live(appointment)
    doctor = doctor or appointment.doctor
    clinic, service = appointment.clinic, appointment.service
    end = _check_booking(clinic=clinic, patient=appointment.patient, doctor=doctor,
                         service=service, start=start, now=now)
    fields = {"doctor": doctor, "start": start, "end": end,
              "status": AppointmentStatus.BOOKED, "confirmed_via": "", "confirmed_at": None}
    try:
        with transaction.atomic():
            _lock_doctor(doctor)
            if _overlaps(doctor=doctor, start=start, end=end, exclude_pk=appointment.pk):
                raise _slot_taken(clinic=clinic, service=service, doctor=doctor, start=start,
                                  now=now)
            moved = Appointment.objects.filter(
                pk=appointment.pk, status__in=[AppointmentStatus.BOOKED,
                                               AppointmentStatus.CONFIRMED],
            ).update(**fields)
            _announce(appointment.pk)
    except IntegrityError as error:
        if not _is_exclusion_violation(error):
            raise
        raise _slot_taken(clinic=clinic, service=service, doctor=doctor, start=start,
                          now=now) from error
    if not moved:
        appointment.refresh_from_db()
        _require_live(appointment)
    for name, value in fields.items():
        setattr(appointment, name, value)
    return appointment


def appointment_cancel(*, appointment: Appointment, reason: str, now: datetime) -> Appointment:
    """Cancel a live appointment; its time is free again at once. Cancelling twice is a no-op."""
    if appointment.status == AppointmentStatus.CANCELLED:
        return appointment
    _require_live(appointment)
    fields = {"status": AppointmentStatus.CANCELLED, "cancellation_reason": reason,
              "cancelled_at": now}
    updated = Appointment.objects.filter(
        pk=appointment.pk, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED],
    ).update(**fields)
    if updated:
        _announce(appointment.pk)
    if not updated:
        appointment.refresh_from_db()
        if appointment.status != AppointmentStatus.CANCELLED:
            _require_live(appointment)
        return appointment
    for name, value in fields.items():
        setattr(appointment, name, value)
    return appointment


def appointment_confirm(*, appointment: Appointment, via: str, now: datetime) -> Appointment:
    """The patient confirmed (e.g. via "telegram button", "phone"). Confirming twice is a no-op."""
    if appointment.status == AppointmentStatus.CONFIRMED:
        return appointment
    _require_live(appointment)
    fields = {"status": AppointmentStatus.CONFIRMED, "confirmed_via": via, "confirmed_at": now}
    updated = Appointment.objects.filter(
        pk=appointment.pk, status=AppointmentStatus.BOOKED).update(**fields)
    if not updated:
        appointment.refresh_from_db()
        if appointment.status != AppointmentStatus.CONFIRMED:
            _require_live(appointment)
        return appointment
    for name, value in fields.items():
        setattr(appointment, name, value)
    return appointment


OUTCOMES = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


def appointment_outcome_set(*, appointment: Appointment, status: str,
                            now: datetime) -> Appointment:
    """Record how a visit went: completed or no-show, once it has started.

    From booked or confirmed, or from the other outcome to correct a mistake; setting the same
    outcome twice is a no-op. A cancelled appointment has no outcome.
    """
    if status not in OUTCOMES:
        raise ValueError(f"an outcome is completed or no_show, got {status!r}")
    if appointment.status == status:
        return appointment
    if appointment.start > now:
        raise BookingError("not_started", _("The visit has not started yet."))
    allowed = [AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, *OUTCOMES]
    if appointment.status not in allowed:
        _require_live(appointment)
    updated = Appointment.objects.filter(pk=appointment.pk, status__in=allowed).update(
        status=status)
    if not updated:
        appointment.refresh_from_db()
        if appointment.status != status:
            _require_live(appointment)
        return appointment
    appointment.status = status
    return appointment


def doctor_create(*, clinic: Clinic, name: str, specialties: list[str] | None = None,
                  active: bool = True, weekly_hours: list | None = None) -> Doctor:
    """A doctor with a weekly schedule (the default template unless `weekly_hours` is given)."""
    with transaction.atomic():
        doctor = Doctor.objects.create(clinic=clinic, name=name, specialties=specialties or [],
                                       active=active)
        schedule = DoctorSchedule(doctor=doctor)
        if weekly_hours is not None:
            schedule.weekly_hours = weekly_hours
        schedule.save()
    return doctor


def doctor_update(*, doctor: Doctor, **fields: Any) -> Doctor:
    """Change name, specialties or `active` (an inactive doctor is offered no new slots)."""
    unknown = set(fields) - {"name", "specialties", "active"}
    if unknown:
        raise ValueError(f"Not doctor fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(doctor, name, value)
    if fields:
        doctor.save(update_fields=list(fields))
    return doctor


def doctor_schedule_set(*, doctor: Doctor, weekly_hours: list) -> DoctorSchedule:
    """Replace the doctor's weekly template; booked appointments stay where they are."""
    schedule, _created = DoctorSchedule.objects.update_or_create(
        doctor=doctor, defaults={"weekly_hours": weekly_hours})
    return schedule


def doctor_schedule_exception_set(*, doctor: Doctor, day: date, kind: str, intervals: list,
                                  note: str = "") -> tuple[DoctorScheduleException, bool]:
    """Declare a dated day (no intervals = off that day), replacing an earlier one for that date.

    Returns the exception and whether it is new."""
    return DoctorScheduleException.objects.update_or_create(
        doctor=doctor, date=day, defaults={"kind": kind, "intervals": intervals, "note": note})


def doctor_schedule_exception_delete(*, exception: DoctorScheduleException) -> None:
    exception.delete()


def service_create(*, clinic: Clinic, doctors: list[Doctor] | None = None,
                   **fields: Any) -> Service:
    with transaction.atomic():
        service = Service.objects.create(clinic=clinic, **fields)
        if doctors:
            service.doctors.set(doctors)
    return service


def service_update(*, service: Service, doctors: list[Doctor] | None = None,
                   **fields: Any) -> Service:
    """Change the service's fields and, when `doctors` is given, who performs it."""
    with transaction.atomic():
        for name, value in fields.items():
            setattr(service, name, value)
        if fields:
            service.save(update_fields=list(fields))
        if doctors is not None:
            service.doctors.set(doctors)
    return service
