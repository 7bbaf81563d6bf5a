import re
import zoneinfo
from datetime import time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.models import DEFAULT_SATISFACTION_QUESTION, WEEKDAYS, Clinic
from clinic.phones import phone_normalize

WEEKDAY_LABELS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
                  _("Saturday"), _("Sunday"))
WEEKDAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})\s*$")


def intervals_from_text(text: str) -> list[list[str]]:
    """"09:00-13:00, 14:00-20:00" -> [["09:00", "13:00"], ["14:00", "20:00"]]; "" -> closed.

    An interval ending at or before its start runs past midnight; 24:00 means midnight.
    """
    intervals: list[list[str]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]", text or ""))):
        match = _INTERVAL.match(part)
        if not match:
            raise forms.ValidationError(
                _("Write hours as 09:00-20:00, several intervals separated by commas."))
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        until_midnight = (h2, m2) == (24, 0)
        if until_midnight:
            h2 = 0
        if not (h1 < 24 and m1 < 60 and h2 < 24 and m2 < 60):
            raise forms.ValidationError(_("“%(part)s” is not a time of day."),
                                        params={"part": part})
        start, end = time(h1, m1), time(h2, m2)
        if start == end and not until_midnight:  # 00:00-24:00 is the whole day
            raise forms.ValidationError(_("“%(part)s” is empty."), params={"part": part})
        intervals.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
    intervals.sort()
    for (_s1, e1), (s2, _e2) in zip(intervals, intervals[1:], strict=False):
        if e1 > s2 and e1 != "00:00":
            raise forms.ValidationError(_("Intervals overlap: %(text)s"), params={"text": text})
    return intervals


def intervals_to_text(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{'24:00' if end == '00:00' else end}" for start, end in intervals)


class ClinicProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones())],
    )

    class Meta:
        model = Clinic
        fields = ["name", "address", "phone", "timezone"]

    def clean_phone(self) -> str:
        return phone_normalize(self.cleaned_data["phone"])


class WorkingHoursForm(forms.Form):
    evening_duty_start = forms.TimeField(label=_("Evening duty from"), required=False,
                                         widget=forms.TimeInput(attrs={"type": "time"}))
    evening_duty_end = forms.TimeField(label=_("Evening duty until"), required=False,
                                       widget=forms.TimeInput(attrs={"type": "time"}))
    evening_duty_weekdays = forms.TypedMultipleChoiceField(
        label=_("Evening duty days"), required=False, coerce=int,
        choices=list(zip(WEEKDAYS, WEEKDAY_LABELS, strict=True)),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        initial = {
            name: intervals_to_text(day)
            for name, day in zip(WEEKDAY_FIELDS, clinic.weekly_hours, strict=True)
        }
        initial.update(evening_duty_start=clinic.evening_duty_start,
                       evening_duty_end=clinic.evening_duty_end,
                       evening_duty_weekdays=clinic.evening_duty_weekdays)
        super().__init__(*args, initial=initial, **kwargs)
        for name, label in zip(WEEKDAY_FIELDS, WEEKDAY_LABELS, strict=True):
            self.fields[name] = forms.CharField(
                label=label, required=False,
                widget=forms.TextInput(attrs={"placeholder": "09:00-13:00, 14:00-20:00"}))
        self.order_fields([*WEEKDAY_FIELDS])

    def day_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in WEEKDAY_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        weekly = []
        for name in WEEKDAY_FIELDS:
            try:
                weekly.append(intervals_from_text(data.get(name, "")))
            except forms.ValidationError as error:
                self.add_error(name, error)
        data["weekly_hours"] = weekly
        if bool(data.get("evening_duty_start")) != bool(data.get("evening_duty_end")):
            raise forms.ValidationError(_("Give both ends of the evening duty, or neither."))
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "weekly_hours": data["weekly_hours"],
            "evening_duty_start": data["evening_duty_start"],
            "evening_duty_end": data["evening_duty_end"],
            "evening_duty_weekdays": sorted(data["evening_duty_weekdays"]),
        }


class ResponseStandardsForm(forms.ModelForm):
    stop_words = forms.CharField(
        label=_("Stop-words"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One word or phrase per line."))

    class Meta:
        model = Clinic
        fields = ["first_reply_minutes", "reply_minutes", "promise_minutes", "promise_text",
                  "reassign_on_breach", "timer_sweep_seconds", "max_live_dialogues",
                  "name_style", "emoji_limit", "stop_words", "ask_satisfaction",
                  "satisfaction_question"]

    def __init__(self, *args: Any, instance: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        self.initial["stop_words"] = "\n".join(instance.stop_words)

    def clean_satisfaction_question(self) -> str:
        return (" ".join(self.cleaned_data["satisfaction_question"].split())
                or DEFAULT_SATISFACTION_QUESTION)

    def clean_stop_words(self) -> list[str]:
        words = [w.strip().lower() for w in self.cleaned_data["stop_words"].splitlines()]
        return list(dict.fromkeys(w for w in words if w))


class DayExceptionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.CharField(label=_("Hours"), required=False,
                            help_text=_("Empty for a holiday, or the hours of a short day."),
                            widget=forms.TextInput(attrs={"placeholder": "10:00-15:00"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean_hours(self) -> list[list[str]]:
        return intervals_from_text(self.cleaned_data["hours"])


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What uses the token, e.g. “MIS” or “website booking”."))
