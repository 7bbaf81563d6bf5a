"""Forms of the calendar: what to show, and booking, moving, cancelling an appointment.

A time is chosen either by typing a date and time for a doctor, or by pressing one of the free
slots shown beside the form (a submit button named "slot", "<doctor id>|<ISO start>").
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Patient
from scheduling.models import Appointment, AppointmentStatus, Doctor, Service
from scheduling.selectors import doctor_list, service_list

VIEWS = ("day", "week")


@dataclass(frozen=True)
class CalendarQuery:
    view: str
    day: date
    doctor_id: int | None
    hide_cancelled: bool


class CalendarQueryForm(forms.Form):
    """The calendar's address: anything missing or malformed falls back to a default."""

    view = forms.ChoiceField(choices=[(v, v) for v in VIEWS], required=False)
    date = forms.DateField(required=False)
    doctor = forms.IntegerField(required=False, min_value=1)
    hide_cancelled = forms.BooleanField(required=False)

    def query(self, *, today: date) -> CalendarQuery:
        self.is_valid()
        data = self.cleaned_data
        return CalendarQuery(view=data.get("view") or "day", day=data.get("date") or today,
                             doctor_id=data.get("doctor"),
                             hide_cancelled=bool(data.get("hide_cancelled")))


class _TimeChoiceForm(forms.Form):
    """A doctor and a start: from a pressed slot, or from the date and time typed in."""

    doctor = forms.ModelChoiceField(queryset=Doctor.objects.none(), required=False,
                                    label=_("Doctor"), empty_label=_("Any doctor"))
    date = forms.DateField(label=_("Date"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), required=False,
                           widget=forms.TimeInput(attrs={"type": "time", "step": 300},
                                                  format="%H:%M"))
    slot = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, clinic: Clinic, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.timezone = ZoneInfo(clinic.timezone)
        self.fields["doctor"].queryset = doctor_list(clinic=clinic)

    def _slot(self, raw: str) -> tuple[Doctor, datetime]:
        doctor_id, _sep, start = raw.partition("|")
        try:
            doctor = self.fields["doctor"].queryset.get(pk=int(doctor_id))
            moment = datetime.fromisoformat(start)
        except (ValueError, Doctor.DoesNotExist) as error:
            raise forms.ValidationError(_("That time is no longer offered; choose another."),
                                        code="bad_slot") from error
        if moment.utcoffset() is None:
            raise forms.ValidationError(_("That time is no longer offered; choose another."),
                                        code="bad_slot")
        return doctor, moment.astimezone(self.timezone)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("slot"):
            data["doctor"], data["start"] = self._slot(data["slot"])
            return data
        if not data.get("doctor"):
            self.add_error("doctor", _("Choose a doctor, or press one of the free times."))
        if not data.get("date") and "date" not in self.errors:
            self.add_error("date", _("Enter the date, or press one of the free times."))
        if not data.get("time"):
            self.add_error("time", _("Enter the time, or press one of the free times."))
        if data.get("date") and data.get("time"):
            data["start"] = datetime.combine(data["date"], data["time"], tzinfo=self.timezone)
        return data


class AppointmentBookForm(_TimeChoiceForm):
    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), label=_("Patient"),
                                     error_messages={"required": _("Find and choose the patient.")})
    service = forms.ModelChoiceField(queryset=Service.objects.none(), label=_("Service"))

    field_order = ["patient", "service", "doctor", "date", "time", "slot"]

    def __init__(self, *args: object, clinic: Clinic, **kwargs: object) -> None:
        super().__init__(*args, clinic=clinic, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(clinic=clinic)
        self.fields["service"].queryset = service_list(clinic=clinic).order_by(
            "category", "name", "id")


class AppointmentMoveForm(_TimeChoiceForm):
    """Move to another time, or to another doctor who performs the service."""

    def __init__(self, *args: object, appointment: Appointment, **kwargs: object) -> None:
        super().__init__(*args, clinic=appointment.clinic, **kwargs)
        self.appointment = appointment
        self.fields["doctor"].queryset = doctor_list(clinic=appointment.clinic).filter(
            services=appointment.service_id)
        self.fields["doctor"].empty_label = _("Any doctor who performs it")


class AppointmentCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


CONFIRMED_VIA = (("phone", _("by phone")), ("chat", _("in a chat")),
                 ("in_person", _("in person")))


class AppointmentConfirmForm(forms.Form):
    via = forms.ChoiceField(label=_("The patient confirmed"), choices=CONFIRMED_VIA)


class AppointmentOutcomeForm(forms.Form):
    status = forms.ChoiceField(choices=[(AppointmentStatus.COMPLETED, _("Completed")),
                                        (AppointmentStatus.NO_SHOW, _("No-show"))])
