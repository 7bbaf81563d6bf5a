"""Doctors: matched by name; created with a weekly schedule, or updated."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.forms import intervals_from_text
from scheduling.imports.kinds.base import Column, Importer, Row, by_name, one_line, too_long_check
from scheduling.imports.reading import bool_parse, list_parse, name_key
from scheduling.imports.report import Action, RowOutcome
from scheduling.models import Doctor, DoctorSchedule, default_doctor_weekly_hours

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
        self.existing = by_name(Doctor.objects.filter(clinic=self.clinic)
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
        name = one_line(row.get("name"))
        if not name:
            row.error("name", "required", _("The doctor's name is empty."))
        too_long_check(row, "name", name, 200)
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
