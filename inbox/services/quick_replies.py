"""Quick replies and the promise text: the clinic's words with the patient's name filled in."""

import re
from typing import Any

from clinic.phones import phone_display
from inbox.models import Conversation, QuickReply

VARIABLE = re.compile(r"\{(\w+)\}")
VARIABLES = ("patient_first_name", "patient_name_patronymic", "patient_name", "admin_name",
             "clinic_name", "clinic_address", "clinic_phone")


def text_fill(*, text: str, conversation: Conversation, admin: Any) -> str:
    """Replace {variables}; an unknown one stays as written, so a typo is visible, not lost."""
    patient, contact, clinic = conversation.patient, conversation.contact, conversation.clinic
    contact_first = (contact.display_name.split() or [""])[0]
    first = (patient.first_name if patient else "") or contact_first
    values = {
        "patient_first_name": first,
        "patient_name_patronymic": (patient.name_with_patronymic if patient else "") or first,
        "patient_name": (patient.full_name if patient else "") or contact.display_name,
        "admin_name": admin.first_name or admin.get_full_name() or admin.username,
        "clinic_name": clinic.name,
        "clinic_address": clinic.address,
        "clinic_phone": phone_display(clinic.phone),
    }
    return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def quick_reply_save(*, reply: QuickReply, title: str, text: str, by: Any) -> QuickReply:
    reply.title, reply.text, reply.updated_by = title.strip(), text.strip(), by
    reply.save()
    return reply
