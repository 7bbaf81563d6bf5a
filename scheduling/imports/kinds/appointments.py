"""Appointments: the patient by phone, doctor and service by name, the start in local time."""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clinic.models import Patient
from clinic.phones import phone_display, phone_normalize
from scheduling.imports.kinds.base import Column, Importer, Row, T, by_name, one_line
from scheduling.imports.reading import (
    CellError,
    date_parse,
    local_aware,
    local_datetime_parse,
    name_key,
    time_parse,
)
from scheduling.imports.report import Action, RowOutcome
from scheduling.models import Appointment, AppointmentStatus, Doctor, Service
from scheduling.services import (
    BookingError,
    _is_exclusion_violation,
    _lock_doctor,
    _overlaps,
    appointment_book,
    appointment_confirm,
)

_STATUS_WORDS = {
    AppointmentStatus.BOOKED: ("booked", "scheduled", "new", "записан", "записана", "запись",
                               "забронирован", "новая", "новый"),
    AppointmentStatus.CONFIRMED: ("confirmed", "подтвержден", "подтверждена", "подтверждено"),
    AppointmentStatus.CANCELLED: ("cancelled", "canceled", "отменен", "отменена", "отменено",
                                  "отмена"),
    AppointmentStatus.COMPLETED: ("completed", "done", "visited", "завершен", "завершена",
                                  "завершено", "пришел", "пришла", "состоялся", "состоялась",
                                  "выполнен", "выполнено"),
    AppointmentStatus.NO_SHOW: ("no show", "noshow", "неявка", "не пришел", "не пришла",
                                "не явился", "не явилась"),
}
_STATUSES = {name_key(word): status for status, words in _STATUS_WORDS.items()
             for word in words}


def status_parse(text: str) -> str:
    status = _STATUSES.get(name_key(text))
    if status is None:
        raise CellError("invalid_status",
                        _("“%(text)s” is not a status: booked, confirmed, cancelled, completed "
                          "or no-show (записан, подтверждён, отменён, пришёл, неявка).")
                        % {"text": text})
    return status


# Which column a booking refusal is about.
_BOOKING_COLUMNS = {"doctor_inactive": "doctor", "service_inactive": "service",
                    "service_not_performed": "service", "wrong_clinic": "doctor"}


class AppointmentImporter(Importer):
    """Future visits are booked by the same rules as any booking (`appointment_book`): the
    doctor's schedule, the service they perform, no overlap. Past visits are history:
    completed or no-show, checked only for overlap. Cancelled ones hold no time.
    """

    kind = "appointments"
    label = _("Appointments")
    columns = (
        Column("phone", "patient phone", "телефон",
               _("The patient's phone; the patient must exist (import patients first)."),
               aliases=("phone", "телефон пациента", "tel", "тел", "mobile", "мобильный"),
               required=True),
        Column("patient", "patient", "пациент",
               _("The patient's name: needed only when several patients share the phone."),
               aliases=("patient name", "фио", "фио пациента", "name", "full name")),
        Column("doctor", "doctor", "врач", _("The doctor's name, as in the doctors file."),
               aliases=("doctor name", "фио врача"), required=True),
        Column("service", "service", "услуга", _("The service's name, as in the services file."),
               aliases=("service name", "название услуги", "наименование"), required=True),
        Column("start", "start", "начало",
               _("Local time in the clinic's time zone: 2026-12-01 10:30 or 01.12.2026 10:30. "
                 "Or two columns, date and time."),
               aliases=("starts", "date and time", "datetime", "дата и время", "время приема",
                        "начало приема")),
        Column("date", "date", "дата", aliases=("дата приема", "visit date")),
        Column("time", "time", "время", aliases=("время начала", "start time")),
        Column("status", "status", "статус",
               _("booked (default), confirmed, cancelled, completed or no-show. A past visit "
                 "is completed, no-show or cancelled; a future one booked, confirmed or "
                 "cancelled."),
               aliases=("состояние",)),
    )

    @classmethod
    def missing_columns(cls, present: set[str]) -> list[str]:
        missing = super().missing_columns(present)
        if "start" not in present and not {"date", "time"} <= present:
            titles = {c.key: c.title for c in cls.columns}
            missing.append(titles["start"] if "date" not in present else titles["time"])
        return missing

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.doctors = by_name(Doctor.objects.filter(clinic=self.clinic)
                                .select_related("schedule"))
        self.services = by_name(Service.objects.filter(clinic=self.clinic))
        self.by_phone: dict[str, list[Patient]] = defaultdict(list)
        for patient in Patient.objects.filter(clinic=self.clinic).exclude(phone=""):
            self.by_phone[patient.phone].append(patient)
        # (doctor, patient, start) -> appointment id: the same visit is skipped, not rebooked
        self.existing: dict[tuple[int, int, datetime], int] = {
            (doctor_id, patient_id, start): pk for doctor_id, patient_id, start, pk in
            Appointment.objects.filter(clinic=self.clinic).values_list(
                "doctor_id", "patient_id", "start", "pk")}
        self.lines: dict[int, int] = {}  # appointment id -> the line that created it

    def _one(self, row: Row, key: str, found: dict[str, list[T]], *, empty: Promise,
             unknown: Promise) -> T | None:
        """The one doctor or service the cell names; `unknown` takes %(name)s."""
        text = one_line(row.get(key))
        if not text:
            row.error(key, "required", empty)
            return None
        matches = found.get(name_key(text), [])
        if len(matches) > 1:
            row.error(key, "ambiguous", _("Several are named “%(name)s”.") % {"name": text})
            return None
        if not matches:
            row.error(key, f"unknown_{key}", unknown % {"name": text})
            return None
        return matches[0]

    def _patient(self, row: Row) -> Patient | None:
        try:
            phone = phone_normalize(row.get("phone"))
        except ValidationError as error:
            row.error("phone", "invalid_phone", error.messages[0])
            return None
        if not phone:
            row.error("phone", "required", _("The patient's phone is empty."))
            return None
        sharing = self.by_phone.get(phone, [])
        words = {name_key(w) for w in row.get("patient").split()}
        matches = [p for p in sharing if words <= {
            name_key(n) for n in (p.last_name, p.first_name, p.patronymic) if n}]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            row.error("patient" if row.has("patient") else "phone", "ambiguous_patient",
                      _("%(count)d patients share this phone: give the patient's name.")
                      % {"count": len(matches)})
        elif sharing:
            row.error("patient", "unknown_patient",
                      _("No patient with this phone is named “%(name)s”.")
                      % {"name": row.get("patient")})
        else:
            row.error("phone", "unknown_patient",
                      _("No patient with the phone %(phone)s: import patients first.")
                      % {"phone": phone_display(phone)})
        return None

    def _start(self, row: Row) -> datetime | None:
        try:
            if row.get("start") or not (row.has("date") and row.has("time")):
                if not row.get("start"):
                    row.error("start", "required", _("When? The start is empty."))
                    return None
                return local_datetime_parse(row.get("start"), timezone=self.timezone)
        except CellError as error:
            row.error("start", error.code, error.message)
            return None
        day = row.parse("date", date_parse)
        hms = row.parse("time", time_parse)
        if not row.get("date"):
            row.error("date", "required", _("When? The date is empty."))
        if not row.get("time"):
            row.error("time", "required", _("When? The time is empty."))
        if day is None or hms is None:
            return None
        try:
            return local_aware(day, hms, timezone=self.timezone,
                               text=f"{row.get('date')} {row.get('time')}")
        except CellError as error:
            row.error("time", error.code, error.message)
            return None

    def _when_column(self, row: Row) -> str:
        return "start" if row.has("start") else "time"

    def row_import(self, row: Row) -> RowOutcome:
        patient = self._patient(row)
        doctor = self._one(
            row, "doctor", self.doctors, empty=_("Which doctor? The cell is empty."),
            unknown=_("No doctor named “%(name)s”: import doctors first, or check the "
                      "spelling."))
        service = self._one(
            row, "service", self.services, empty=_("Which service? The cell is empty."),
            unknown=_("No service named “%(name)s”: import services first, or check the "
                      "spelling."))
        start = self._start(row)
        status = row.parse("status", status_parse) or AppointmentStatus.BOOKED
        when = start.astimezone(self.timezone).strftime("%d.%m.%Y %H:%M") if start else (
            row.get("start") or f"{row.get('date')} {row.get('time')}".strip())
        label = (f"{when}, {doctor or row.get('doctor')} — "
                 f"{patient or row.get('patient') or row.get('phone')}, "
                 f"{service or row.get('service')}")
        if row.issues:
            return row.failed(label)
        assert patient and doctor and service and start
        duplicate = self.existing.get((doctor.pk, patient.pk, start))
        if duplicate is not None:
            if duplicate in self.lines:
                row.error(self._when_column(row), "duplicate",
                          _("The same appointment as on line %(line)d.")
                          % {"line": self.lines[duplicate]})
                return row.failed(label)
            return RowOutcome(row.line, Action.SKIP, label, str(_("already in the schedule")))
        end = start + timedelta(minutes=service.duration_minutes)
        if status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED) and start < self.now:
            row.error("status" if row.has("status") else self._when_column(row), "past_live",
                      _("This visit is in the past: its status is completed, no-show or "
                        "cancelled, not %(status)s.")
                      % {"status": str(AppointmentStatus(status).label).lower()})
        elif status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW) and end > self.now:
            row.error("status", "future_outcome",
                      _("This visit has not ended yet: it cannot be %(status)s.")
                      % {"status": str(AppointmentStatus(status).label).lower()})
        if row.issues:
            return row.failed(label)
        if status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            appointment = self._book(row, patient, doctor, service, start, end)
            if appointment is None:
                return row.failed(label)
            if status == AppointmentStatus.CONFIRMED:
                appointment_confirm(appointment=appointment, via="import", now=self.now)
        else:
            appointment = self._record(row, patient, doctor, service, start, end, status)
            if appointment is None:
                return row.failed(label)
        self.lines[appointment.pk] = row.line
        self.existing[(doctor.pk, patient.pk, start)] = appointment.pk
        return RowOutcome(row.line, Action.CREATE, label, str(AppointmentStatus(status).label))

    def _overlap_message(self, doctor: Doctor, start: datetime, end: datetime) -> str:
        other = Appointment.objects.filter(doctor=doctor, start__lt=end, end__gt=start).exclude(
            status=AppointmentStatus.CANCELLED).order_by("start").first()
        if other is not None and other.pk in self.lines:
            return str(_("The doctor is already booked at this time: the appointment on line "
                         "%(line)d overlaps it.") % {"line": self.lines[other.pk]})
        if other is not None:
            local = other.start.astimezone(self.timezone)
            return str(_("The doctor is already booked at this time: an appointment at "
                         "%(time)s overlaps it.") % {"time": local.strftime("%d.%m.%Y %H:%M")})
        return str(_("The doctor is already booked at this time."))

    def _book(self, row: Row, patient: Patient, doctor: Doctor, service: Service,
              start: datetime, end: datetime) -> Appointment | None:
        try:
            return appointment_book(clinic=self.clinic, patient=patient, doctor=doctor,
                                    service=service, start=start, created_by=self.by,
                                    now=self.now)
        except BookingError as error:
            if error.code == "slot_taken":
                message: str | Promise = self._overlap_message(doctor, start, end)
            else:
                message = error.message
            row.error(_BOOKING_COLUMNS.get(error.code, self._when_column(row)), error.code,
                      message)
            return None

    def _record(self, row: Row, patient: Patient, doctor: Doctor, service: Service,
                start: datetime, end: datetime, status: str) -> Appointment | None:
        """A past visit or a cancelled one: history, so no schedule rules, but never overlapping
        a live appointment (the same check and doctor lock as a booking)."""
        try:
            with transaction.atomic():
                if status != AppointmentStatus.CANCELLED:
                    _lock_doctor(doctor)
                    if _overlaps(doctor=doctor, start=start, end=end):
                        row.error(self._when_column(row), "slot_taken",
                                  self._overlap_message(doctor, start, end))
                        return None
                return Appointment.objects.create(
                    clinic=self.clinic, patient=patient, doctor=doctor, service=service,
                    start=start, end=end, status=status, created_by=self.by, created_at=self.now)
        except IntegrityError as error:  # the exclusion constraint: anything that slips past
            if not _is_exclusion_violation(error):
                raise
            row.error(self._when_column(row), "slot_taken",
                      self._overlap_message(doctor, start, end))
            return None
