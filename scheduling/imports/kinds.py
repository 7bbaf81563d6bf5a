"""The four kinds of file: their columns, and how each row is checked and written.

An importer reads the clinic's existing rows once when its file starts, then checks and writes
row by row inside the batch's transaction, so a later row (or a later file of the same batch)
sees what an earlier one created. A row with problems writes nothing; the batch rolls back.
Blank cells never erase: on an update only the values a row gives are changed.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clinic.forms import intervals_from_text
from clinic.models import Clinic, Patient
from clinic.phones import phone_display, phone_normalize
from clinic.services import patient_update
from scheduling.imports.reading import (
    CellError,
    bool_parse,
    date_parse,
    list_parse,
    local_aware,
    local_datetime_parse,
    minutes_parse,
    name_key,
    price_parse,
    time_parse,
)
from scheduling.imports.report import Action, Issue, RowOutcome
from scheduling.models import (
    MAX_DURATION_MINUTES,
    Appointment,
    AppointmentStatus,
    Doctor,
    DoctorSchedule,
    Service,
    default_doctor_weekly_hours,
)
from scheduling.services import (
    BookingError,
    _is_exclusion_violation,
    _lock_doctor,
    _overlaps,
    appointment_book,
    appointment_confirm,
)

T = TypeVar("T")
MIN_DURATION_MINUTES = 5


@dataclass(frozen=True)
class Column:
    key: str
    en: str  # the header the English sample file uses
    ru: str  # the header the Russian sample file uses
    help: str | Promise = ""  # shown in the page's column reference; "" = not listed
    aliases: tuple[str, ...] = ()
    required: bool = False

    def names(self) -> set[str]:
        return {name_key(n) for n in (self.key, self.en, self.ru, *self.aliases)}

    @property
    def title(self) -> str:
        return self.en if (get_language() or "").startswith("en") else self.ru


class Row:
    """One data row: its cells by column key, and the problems found in it."""

    def __init__(self, *, line: int, cells: dict[str, str], headers: dict[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.headers = headers  # column key -> the header as written in the file
        self.issues: list[Issue] = []

    def has(self, key: str) -> bool:
        return key in self.headers

    def get(self, key: str) -> str:
        return self.cells.get(key, "")

    def error(self, key: str, code: str, message: str | Promise) -> None:
        self.issues.append(Issue(self.line, self.headers.get(key, ""), code, message))

    def parse(self, key: str, parser: Callable[[str], T]) -> T | None:
        """The cell's value, or None when it is blank or wrong (then the row has an issue)."""
        text = self.get(key)
        if not text:
            return None
        try:
            return parser(text)
        except CellError as error:
            self.error(key, error.code, error.message)
            return None

    def failed(self, label: str) -> RowOutcome:
        return RowOutcome(self.line, Action.ERROR, label, issues=self.issues)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _too_long(row: Row, key: str, value: str, limit: int) -> None:
    if len(value) > limit:
        row.error(key, "too_long", _("Too long: at most %(limit)d characters.")
                  % {"limit": limit})


def _by_name(rows: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        found[name_key(row.name)].append(row)
    return found


class Importer:
    kind: ClassVar[str]
    label: ClassVar[Promise]
    columns: ClassVar[tuple[Column, ...]]

    def __init__(self, *, clinic: Clinic, by: Any | None, now: datetime) -> None:
        self.clinic = clinic
        self.by = by
        self.now = now
        self.timezone = ZoneInfo(clinic.timezone)

    @classmethod
    def missing_columns(cls, present: set[str]) -> list[str]:
        """The titles of required columns that the header lacks."""
        return [c.title for c in cls.columns if c.required and c.key not in present]

    def row_import(self, row: Row) -> RowOutcome:
        raise NotImplementedError

    def finish(self) -> None:
        """Called after the last row: write what was kept for a bulk insert."""


# --- Doctors ------------------------------------------------------------------------------------

WEEKDAY_COLUMNS = (
    Column("mon", "mon", "пн", _("Mon, Tue, Wed, Thu, Fri, Sat, Sun (Пн … Вс): working hours "
                                 "that day, like 09:00-13:00, 14:00-18:00; empty is a day off. "
                                 "Without these columns a new doctor works Mon–Fri "
                                 "09:00-13:00, 14:00-18:00."),
           aliases=("monday", "понедельник")),
    Column("tue", "tue", "вт", aliases=("tuesday", "вторник")),
    Column("wed", "wed", "ср", aliases=("wednesday", "среда")),
    Column("thu", "thu", "чт", aliases=("thursday", "четверг")),
    Column("fri", "fri", "пт", aliases=("friday", "пятница")),
    Column("sat", "sat", "сб", aliases=("saturday", "суббота")),
    Column("sun", "sun", "вс", aliases=("sunday", "воскресенье")),
)


class DoctorImporter(Importer):
    """Doctors are matched by name; an existing one gets the specialties, status and hours given."""

    kind = "doctors"
    label = _("Doctors")
    columns = (
        Column("name", "name", "ФИО", _("The doctor's full name, as patients and the calendar "
                                        "see it; an existing doctor with this name is updated."),
               aliases=("doctor", "full name", "врач", "имя", "фамилия имя отчество"),
               required=True),
        Column("specialties", "specialties", "специальности",
               _("Separated by commas: терапевт, эндодонтист."),
               aliases=("specialty", "speciality", "specialities", "специальность")),
        Column("active", "active", "активен",
               _("yes or no (да / нет); empty means yes for a new doctor."),
               aliases=("is active", "активна", "работает")),
        *WEEKDAY_COLUMNS,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.existing = _by_name(Doctor.objects.filter(clinic=self.clinic)
                                 .select_related("schedule"))
        self.seen: dict[str, int] = {}

    def _weekly_hours(self, row: Row) -> list | None:
        if not any(row.has(c.key) for c in WEEKDAY_COLUMNS):
            return None
        week = []
        for column in WEEKDAY_COLUMNS:
            try:
                week.append(intervals_from_text(row.get(column.key)))
            except forms.ValidationError as error:
                row.error(column.key, "invalid_hours", error.messages[0])
                week.append([])
        return week

    def row_import(self, row: Row) -> RowOutcome:
        name = _one_line(row.get("name"))
        if not name:
            row.error("name", "required", _("The doctor's name is empty."))
        _too_long(row, "name", name, 200)
        specialties = row.parse("specialties", list_parse)
        active = row.parse("active", bool_parse)
        weekly_hours = self._weekly_hours(row)
        key = name_key(name)
        if name and key in self.seen:
            row.error("name", "duplicate", _("The same doctor as on line %(line)d.")
                      % {"line": self.seen[key]})
        elif name:
            self.seen[key] = row.line
        if row.issues:
            return row.failed(name)
        existing = self.existing.get(key, [])
        if len(existing) > 1:
            row.error("name", "ambiguous", _("The clinic already has %(count)d doctors with "
                                             "this name: rename them apart first.")
                      % {"count": len(existing)})
            return row.failed(name)
        if not existing:
            doctor = Doctor.objects.create(clinic=self.clinic, name=name,
                                           specialties=specialties or [],
                                           active=True if active is None else active)
            DoctorSchedule.objects.create(
                doctor=doctor, weekly_hours=weekly_hours or default_doctor_weekly_hours())
            self.existing[key] = [doctor]
            return RowOutcome(row.line, Action.CREATE, name)
        doctor = existing[0]
        changed: list[str] = []
        if specialties and specialties != doctor.specialties:
            doctor.specialties = specialties
            changed.append("specialties")
        if active is not None and active != doctor.active:
            doctor.active = active
            changed.append("active")
        if changed:
            doctor.save(update_fields=changed)
        notes = [str(Doctor._meta.get_field(f).verbose_name) for f in changed]
        schedule = getattr(doctor, "schedule", None)
        if weekly_hours is not None and (schedule is None or schedule.weekly_hours != weekly_hours):
            DoctorSchedule.objects.update_or_create(doctor=doctor,
                                                    defaults={"weekly_hours": weekly_hours})
            notes.append(str(DoctorSchedule._meta.get_field("weekly_hours").verbose_name))
        if not notes:
            return RowOutcome(row.line, Action.SKIP, name, str(_("unchanged")))
        return RowOutcome(row.line, Action.UPDATE, name, ", ".join(notes))


# --- Services -----------------------------------------------------------------------------------

def _price_label(low: Decimal, high: Decimal) -> str:
    def amount(value: Decimal) -> str:
        return f"{value:,.0f}".replace(",", " ") if value == value.to_integral_value() else (
            f"{value:,.2f}".replace(",", " "))
    return f"{amount(low)} ₽" if low == high else f"{amount(low)}–{amount(high)} ₽"


class ServiceImporter(Importer):
    """Services are matched by name; the doctors named must exist (or come earlier in the batch)."""

    kind = "services"
    label = _("Services")
    columns = (
        Column("name", "name", "название", _("The service as the price list names it; an "
                                             "existing service with this name is updated."),
               aliases=("service", "услуга", "наименование", "название услуги"), required=True),
        Column("category", "category", "категория", _("A section of the price list."),
               aliases=("раздел", "group", "группа")),
        Column("duration", "duration", "длительность",
               _("Minutes (5 to 720); needed for a new service."),
               aliases=("duration minutes", "minutes", "длительность мин", "минуты",
                        "продолжительность", "длительность минут")),
        Column("price", "price", "цена",
               _("A price (5000) or a range (5000-8000) in roubles; needed for a new service."),
               aliases=("cost", "стоимость", "цена руб", "price rub")),
        Column("doctors", "doctors", "врачи",
               _("Who performs it: doctors' names, separated by commas, exactly as in the "
                 "doctors file."),
               aliases=("doctor", "врач", "performed by")),
        Column("preparation", "preparation", "подготовка",
               _("What the patient should know before the visit."),
               aliases=("preparation notes", "памятка", "памятка пациенту")),
        Column("active", "active", "активна",
               _("yes or no (да / нет); empty means yes for a new service."),
               aliases=("активен", "действует", "is active")),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.existing = _by_name(Service.objects.filter(clinic=self.clinic)
                                 .prefetch_related("doctors"))
        self.doctors = _by_name(Doctor.objects.filter(clinic=self.clinic))
        self.seen: dict[str, int] = {}

    def _doctors(self, row: Row) -> list[Doctor] | None:
        names = row.parse("doctors", list_parse)
        if not names:
            return None
        found = []
        for name in names:
            matches = self.doctors.get(name_key(name), [])
            if len(matches) == 1:
                found.append(matches[0])
            elif matches:
                row.error("doctors", "ambiguous_doctor",
                          _("Several doctors are named “%(name)s”.") % {"name": name})
            else:
                row.error("doctors", "unknown_doctor",
                          _("No doctor named “%(name)s”: import doctors first, or check the "
                            "spelling.") % {"name": name})
        return found

    def row_import(self, row: Row) -> RowOutcome:
        name = _one_line(row.get("name"))
        if not name:
            row.error("name", "required", _("The service's name is empty."))
        _too_long(row, "name", name, 200)
        category = _one_line(row.get("category"))
        _too_long(row, "category", category, 100)
        duration = row.parse("duration", minutes_parse)
        if duration is not None and not MIN_DURATION_MINUTES <= duration <= MAX_DURATION_MINUTES:
            row.error("duration", "duration_range",
                      _("A service lasts from %(min)d to %(max)d minutes.")
                      % {"min": MIN_DURATION_MINUTES, "max": MAX_DURATION_MINUTES})
        price = row.parse("price", price_parse)
        doctors = self._doctors(row)
        preparation = row.get("preparation").strip()
        active = row.parse("active", bool_parse)
        key = name_key(name)
        existing = self.existing.get(key, [])
        if name and key in self.seen:
            row.error("name", "duplicate", _("The same service as on line %(line)d.")
                      % {"line": self.seen[key]})
        elif name:
            self.seen[key] = row.line
            if not existing and not row.get("duration"):
                row.error("duration", "required",
                          _("A new service needs its duration in minutes."))
            if not existing and not row.get("price"):
                row.error("price", "required", _("A new service needs a price or a range."))
        if row.issues:
            return row.failed(name)
        if len(existing) > 1:
            row.error("name", "ambiguous", _("The clinic already has %(count)d services with "
                                             "this name: rename them apart first.")
                      % {"count": len(existing)})
            return row.failed(name)
        if not existing:
            assert duration is not None and price is not None
            service = Service.objects.create(
                clinic=self.clinic, name=name, category=category, duration_minutes=duration,
                price_min=price[0], price_max=price[1], preparation=preparation,
                active=True if active is None else active)
            if doctors:
                service.doctors.set(doctors)
            self.existing[key] = [service]
            return RowOutcome(row.line, Action.CREATE, f"{name}, {_price_label(*price)}",
                              ", ".join(d.name for d in doctors or []))
        service = existing[0]
        values: dict[str, Any] = {"category": category or None, "duration_minutes": duration,
                                  "preparation": preparation or None, "active": active}
        if price is not None:
            values["price_min"], values["price_max"] = price
        changed = [f for f, v in values.items() if v is not None and getattr(service, f) != v]
        for field in changed:
            setattr(service, field, values[field])
        if changed:
            service.save(update_fields=changed)
        notes = [str(Service._meta.get_field(f).verbose_name) for f in changed]
        if doctors is not None and {d.pk for d in doctors} != {
                d.pk for d in service.doctors.all()}:
            service.doctors.set(doctors)
            notes.append(str(Service._meta.get_field("doctors").verbose_name))
        label = f"{name}, {_price_label(service.price_min, service.price_max)}"
        if not notes:
            return RowOutcome(row.line, Action.SKIP, label, str(_("unchanged")))
        return RowOutcome(row.line, Action.UPDATE, label, ", ".join(notes))


# --- Patients -----------------------------------------------------------------------------------

def _names_agree(known: str, given: str) -> bool:
    """Blank on either side agrees with anything; otherwise the same name."""
    return not known or not given or name_key(known) == name_key(given)


def _full_name_split(text: str) -> tuple[str, str, str]:
    """"Иванова Мария Петровна" -> last, first, patronymic; a single word is a first name."""
    words = text.split()
    if len(words) == 1:
        return "", words[0], ""
    if not words:
        return "", "", ""
    return words[0], words[1], " ".join(words[2:])


class PatientImporter(Importer):
    """Patients are matched by phone (E.164) and name.

    A row updates the existing patient with this phone whose first and last names agree with
    the row's (a blank name agrees with anything); with a phone the clinic knows but other
    names, it is a new patient sharing the phone (family members often do).
    """

    kind = "patients"
    label = _("Patients")
    columns = (
        Column("full_name", "full name", "ФИО",
               _("Last name, first name, patronymic in one column; or use the three columns "
                 "below."),
               aliases=("name", "patient", "пациент", "фамилия имя отчество", "фио пациента")),
        Column("last_name", "last name", "фамилия", _("Last name."),
               aliases=("surname", "family name")),
        Column("first_name", "first name", "имя", _("First name."), aliases=("given name",)),
        Column("patronymic", "patronymic", "отчество", _("Patronymic."),
               aliases=("middle name",)),
        Column("phone", "phone", "телефон",
               _("Any common format: +7 916 123-45-67, 8 (916) 123-45-67. Patients are "
                 "matched by phone and name."),
               aliases=("tel", "mobile", "phone number", "тел", "мобильный",
                        "номер телефона", "телефон пациента"),
               required=True),
        Column("email", "email", "почта", _("E-mail."),
               aliases=("e-mail", "e mail", "электронная почта", "эл почта", "email адрес")),
        Column("birthday", "birthday", "дата рождения", _("Like 1985-03-12 or 12.03.1985."),
               aliases=("birth date", "date of birth", "день рождения", "др")),
        Column("notes", "notes", "примечание", _("Anything the staff should know."),
               aliases=("note", "comment", "comments", "комментарий", "примечания",
                        "заметки")),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_phone: dict[str, list[Patient]] = defaultdict(list)
        for patient in Patient.objects.filter(clinic=self.clinic).exclude(phone=""):
            self.by_phone[patient.phone].append(patient)
        # id() of a patient (new ones have no pk yet) -> the line that created or updated it
        self.seen: dict[int, int] = {}
        self.new: list[Patient] = []  # validated, saved in bulk at the end of the file

    def _values(self, row: Row) -> dict[str, Any]:
        last, first, patronymic = _full_name_split(row.get("full_name"))
        values: dict[str, Any] = {
            "last_name": _one_line(row.get("last_name")) or last,
            "first_name": _one_line(row.get("first_name")) or first,
            "patronymic": _one_line(row.get("patronymic")) or patronymic,
        }
        for field in ("last_name", "first_name", "patronymic"):
            source = field if row.get(field) else "full_name"
            _too_long(row, source, values[field], 100)
        email = row.get("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                row.error("email", "invalid_email",
                          _("“%(text)s” is not an e-mail address.") % {"text": email})
        values["email"] = email
        birthday = row.parse("birthday", date_parse)
        today = self.now.astimezone(self.timezone).date()
        if birthday is not None and not date(1900, 1, 1) <= birthday <= today:
            row.error("birthday", "invalid_birthday", _("This birthday is not possible."))
        values["birthday"] = birthday
        values["notes"] = row.get("notes").strip()
        return values

    def row_import(self, row: Row) -> RowOutcome:
        values = self._values(row)
        phone = ""
        if not row.get("phone"):
            row.error("phone", "required",
                      _("The phone is empty: patients are matched by their phone."))
        else:
            try:
                phone = phone_normalize(row.get("phone"))
            except ValidationError as error:
                row.error("phone", "invalid_phone", error.messages[0])
        name = " ".join(v for v in (values["last_name"], values["first_name"],
                                    values["patronymic"]) if v)
        label = f"{name or '—'}, {phone_display(phone) or row.get('phone')}"
        if row.issues:
            return row.failed(label)
        sharing = list(self.by_phone.get(phone, []))
        matches = [p for p in sharing if _names_agree(p.first_name, values["first_name"])
                   and _names_agree(p.last_name, values["last_name"])]
        if len(matches) > 1:
            row.error("phone", "ambiguous_patient",
                      _("%(count)d patients with this phone match this name: give the first "
                        "and last name.") % {"count": len(matches)})
            return row.failed(label)
        if matches and id(matches[0]) in self.seen:
            row.error("phone", "duplicate", _("The same patient as on line %(line)d.")
                      % {"line": self.seen[id(matches[0])]})
            return row.failed(label)
        try:
            outcome = self._write(row, matches[0] if matches else None, phone, values, label,
                                  sharing)
        except ValidationError as error:  # raised before anything is written
            for field, messages in error.message_dict.items():
                row.error(field if row.has(field) else "", "invalid", "; ".join(messages))
            return row.failed(label)
        return outcome

    def finish(self) -> None:
        Patient.objects.bulk_create(self.new, batch_size=500)

    def _write(self, row: Row, patient: Patient | None, phone: str, values: dict[str, Any],
               label: str, sharing: list[Patient]) -> RowOutcome:
        if patient is None:
            # As clinic.services.patient_create, but saved with the others at the end.
            patient = Patient(clinic=self.clinic, phone=phone, **{
                k: v for k, v in values.items() if v not in ("", None)})
            patient.full_clean(exclude=["clinic"])
            self.new.append(patient)
            self.by_phone[phone].append(patient)
            self.seen[id(patient)] = row.line
            note = ""
            if sharing:
                note = str(_("shares the phone with %(names)s")
                           % {"names": ", ".join(str(p) for p in sharing)})
            return RowOutcome(row.line, Action.CREATE, label, note)
        self.seen[id(patient)] = row.line
        changes = {k: v for k, v in values.items()
                   if v not in ("", None) and getattr(patient, k) != v}
        if not changes:
            return RowOutcome(row.line, Action.SKIP, label, str(_("unchanged")))
        patient_update(patient=patient, **changes)
        return RowOutcome(row.line, Action.UPDATE, label, ", ".join(
            str(Patient._meta.get_field(f).verbose_name) for f in changes))


# --- Appointments -------------------------------------------------------------------------------

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
        self.doctors = _by_name(Doctor.objects.filter(clinic=self.clinic)
                                .select_related("schedule"))
        self.services = _by_name(Service.objects.filter(clinic=self.clinic))
        self.by_phone: dict[str, list[Patient]] = defaultdict(list)
        for patient in Patient.objects.filter(clinic=self.clinic).exclude(phone=""):
            self.by_phone[patient.phone].append(patient)
        # (doctor, patient, start) -> appointment id: the same visit is skipped, not rebooked
        self.existing: dict[tuple[int, int, datetime], int] = {
            (doctor_id, patient_id, start): pk for doctor_id, patient_id, start, pk in
            Appointment.objects.filter(clinic=self.clinic).values_list(
                "doctor_id", "patient_id", "start", "pk")}
        self.lines: dict[int, int] = {}  # appointment id -> the line that created it

    def _one(self, row: Row, key: str, found: dict[str, list[T]], noun: str) -> T | None:
        text = _one_line(row.get(key))
        if not text:
            row.error(key, "required", _("Empty: which %(noun)s?") % {"noun": noun})
            return None
        matches = found.get(name_key(text), [])
        if len(matches) > 1:
            row.error(key, "ambiguous", _("Several are named “%(name)s”.") % {"name": text})
            return None
        if not matches:
            row.error(key, f"unknown_{key}",
                      _("No %(noun)s named “%(name)s”: import it first, or check the "
                        "spelling.") % {"noun": noun, "name": text})
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
        doctor = self._one(row, "doctor", self.doctors, str(_("doctor")))
        service = self._one(row, "service", self.services, str(_("service")))
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
                        "cancelled, not %(status)s.") % {"status": AppointmentStatus(status).label})
        elif status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW) and end > self.now:
            row.error("status", "future_outcome",
                      _("This visit has not ended yet: it cannot be %(status)s.")
                      % {"status": AppointmentStatus(status).label})
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


IMPORTERS: dict[str, type[Importer]] = {
    importer.kind: importer
    for importer in (DoctorImporter, ServiceImporter, PatientImporter, AppointmentImporter)
}
"""In the order a batch runs them: each kind may refer to the ones before it."""
