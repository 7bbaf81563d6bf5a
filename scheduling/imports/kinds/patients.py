"""Patients: matched by phone (E.164) and name; created or updated."""

from collections import defaultdict
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from clinic.models import Patient
from clinic.phones import phone_display, phone_normalize
from clinic.services import patient_update
from scheduling.imports.kinds.base import Column, Importer, Row, one_line, too_long_check
from scheduling.imports.reading import date_parse, name_key
from scheduling.imports.report import Action, RowOutcome


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
            "last_name": one_line(row.get("last_name")) or last,
            "first_name": one_line(row.get("first_name")) or first,
            "patronymic": one_line(row.get("patronymic")) or patronymic,
        }
        for field in ("last_name", "first_name", "patronymic"):
            source = field if row.get(field) else "full_name"
            too_long_check(row, source, values[field], 100)
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
