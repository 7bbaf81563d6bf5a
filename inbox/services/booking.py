"""Booking from the conversation: the appointment is linked to the patient and the chat, and
the administrator gets a confirmation text to adjust and send."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from inbox.models import Conversation
from inbox.services.inbound import contact_patient_create
from scheduling.models import Appointment, Doctor, Service
from scheduling.services import appointment_book


def confirmation_text(*, appointment: Appointment) -> str:
    clinic = appointment.clinic
    local = appointment.start.astimezone(ZoneInfo(clinic.timezone))
    parts = [_("%(name)s, you are booked for %(date)s at %(time)s: %(service)s, doctor "
               "%(doctor)s.") % {
        "name": appointment.patient.first_name or _("Hello"),
        "date": formats.date_format(local, "j E"), "time": local.strftime("%H:%M"),
        "service": appointment.service.name, "doctor": appointment.doctor.name}]
    if clinic.address:
        parts.append(_("Address: %(address)s.") % {"address": clinic.address})
    if appointment.service.preparation:
        parts.append(appointment.service.preparation.strip())
    parts.append(_("See you!"))
    return " ".join(parts)


def conversation_book(*, conversation: Conversation, doctor: Doctor, service: Service,
                      start: datetime, by: Any, now: datetime) -> Appointment:
    """Book for the conversation's patient; a contact not linked yet becomes a patient first.

    Raises scheduling's BookingError / SlotTaken with what is free instead."""
    with transaction.atomic():
        if conversation.patient is None:
            conversation.patient = contact_patient_create(contact=conversation.contact)
        return appointment_book(clinic=conversation.clinic, patient=conversation.patient,
                                doctor=doctor, service=service, start=start, created_by=by,
                                now=now, source_conversation_id=conversation.pk)
