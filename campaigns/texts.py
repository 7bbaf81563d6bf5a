"""The words of an automatic message: the rule's text for the patient's language and channel,
with the patient's name, the clinic and the visit's time and place filled in.

Medical secrecy: a message names the time and place of a visit, never the service or a
diagnosis, so there is no variable for them.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat, translation

from clinic.models import Clinic, Patient
from clinic.phones import phone_display

VARIABLE = re.compile(r"\{(\w+)\}")
VARIABLES = ("patient_first_name", "patient_name_patronymic", "clinic_name", "clinic_address",
             "clinic_phone", "visit_date", "visit_weekday", "visit_time", "doctor_name")
VISIT_VARIABLES = ("visit_date", "visit_weekday", "visit_time", "doctor_name")
"""Only a message about a visit has them."""
LANGUAGES = ("ru", "en")


def text_pick(*, texts: dict, language: str, channel: str) -> str:
    """The channel's own text in the patient's language, else that language's common text,
    else the same in Russian, then English."""
    for lang in dict.fromkeys((language, *LANGUAGES)):
        by_channel = texts.get(lang) or {}
        text = (by_channel.get(channel) or by_channel.get("") or "").strip()
        if text:
            return text
    return ""


def text_values(*, patient: Patient, clinic: Clinic, visit: datetime | None = None,
                doctor_name: str = "", language: str = "ru") -> dict[str, str]:
    values = {
        "patient_first_name": patient.first_name or patient.full_name,
        "patient_name_patronymic": patient.name_with_patronymic or patient.full_name,
        "clinic_name": clinic.name,
        "clinic_address": clinic.address,
        "clinic_phone": phone_display(clinic.phone),
        "doctor_name": doctor_name,
    }
    if visit is not None:
        local = visit.astimezone(ZoneInfo(clinic.timezone))
        with translation.override(language):
            values.update(visit_date=dateformat.format(local, "j E"),
                          visit_weekday=dateformat.format(local, "l").lower(),
                          visit_time=dateformat.format(local, "H:i"))
    return values


def text_render(text: str, values: dict[str, str]) -> str:
    """Fill the variables; an unknown one stays as written, so a typo shows in the preview."""
    return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def unknown_variables(text: str, *, visit: bool = True) -> list[str]:
    """The {variables} a text uses that its message cannot fill."""
    known = VARIABLES if visit else tuple(v for v in VARIABLES if v not in VISIT_VARIABLES)
    return sorted({name for name in VARIABLE.findall(text) if name not in known})
