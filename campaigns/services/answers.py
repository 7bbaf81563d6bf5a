"""A patient's answer to a reminder: confirm, cancel, another time, or stop.

- A button of the reminder (verified: our message in this conversation offered it) or, while
  the reminder is the clinic's last message in the conversation, a text reply read by
  `campaigns.replies.reply_intent`.
- Confirm: every live visit of the patient that day is confirmed; the message needs no one.
- Cancel: those visits are cancelled (their time is free again) and a note asks the
  administrator to offer another time; the message waits for a reply with its timer.
- Another time, or anything else: the message waits for a reply as usual.
- A stop word (anywhere, from a known patient) withdraws the consents to non-transactional
  topics on that channel and is acknowledged once; reminders of booked visits go on.
"""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from campaigns.models import Confirmation, Dispatch
from campaigns.replies import Intent, reply_intent
from clinic.models import MESSAGE_TOPICS, ConsentSource, ConsentTopic
from clinic.selectors import consent_granted
from clinic.services import consent_record
from inbox.models import Conversation, Direction, Message, MessageKind
from inbox.services.outbound import SendRefused, message_send, note_add
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_cancel, appointment_confirm

BUTTON = re.compile(r"cf:(\d+):(yes|no|move)")
BUTTON_INTENT = {"yes": Intent.CONFIRM, "no": Intent.CANCEL, "move": Intent.RESCHEDULE}
STOP_TOPICS = tuple(t for t in MESSAGE_TOPICS if t != ConsentTopic.APPOINTMENT)
STOP_ACK = "campaign_stop"  # payload["automatic"] of the acknowledgement


def _pending(conversation: Conversation, now: datetime) -> Dispatch | None:
    """The unanswered confirmation request sent to this conversation, if the clinic has said
    nothing since: a "да" after the administrator's own question answers that question."""
    last_ours = (Message.objects.filter(conversation=conversation, direction=Direction.OUT)
                 .exclude(kind=MessageKind.NOTE).order_by("-created_at", "-id")
                 .values_list("pk", flat=True).first())
    dispatch = (Dispatch.objects.select_related("appointment", "patient", "clinic")
                .filter(message__conversation=conversation, confirmation=Confirmation.PENDING,
                        appointment__start__gt=now).order_by("-sent_at").first())
    return dispatch if dispatch is not None and dispatch.message_id == last_ours else None


def _day_visits(dispatch: Dispatch) -> list[Appointment]:
    tz = ZoneInfo(dispatch.clinic.timezone)
    day = dispatch.appointment.start.astimezone(tz).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return list(Appointment.objects.filter(
        patient=dispatch.patient_id, start__gte=start, start__lt=start + timedelta(days=1),
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)))


def _answer(dispatch: Dispatch, intent: Intent, message: Message, now: datetime) -> bool:
    visits = _day_visits(dispatch)
    channel = message.channel.kind
    if intent == Intent.CONFIRM:
        for visit in visits:
            appointment_confirm(appointment=visit, via=f"{channel}: reminder", now=now)
        confirmation = Confirmation.CONFIRMED
    elif intent == Intent.CANCEL:
        for visit in visits:
            appointment_cancel(appointment=visit, now=now,
                               reason=_("The patient cancelled in reply to the reminder"))
        note_add(conversation=message.conversation, author=None, now=now,
                 text=_("The patient cancelled the visit in reply to the reminder; the time "
                        "is free again. Offer another time."))
        confirmation = Confirmation.CANCELLED
    else:
        confirmation = Confirmation.RESCHEDULE
    Dispatch.objects.filter(pk=dispatch.pk, confirmation=Confirmation.PENDING).update(
        confirmation=confirmation, answered_at=now)
    return intent == Intent.CONFIRM


def _stop(message: Message, now: datetime) -> bool:
    conversation = message.conversation
    patient = conversation.patient
    if patient is None:
        return False
    channel = message.channel.kind
    events = list(patient.consent_events.all())
    withdrawn = [topic for topic in STOP_TOPICS
                 if consent_granted(events=events, topic=topic, channel=channel)]
    for topic in withdrawn:
        consent_record(patient=patient, topic=topic, granted=False, source=ConsentSource.STOP,
                       recorded_by=None, now=now, channel=channel,
                       evidence=message.body[:500])
    if withdrawn:
        with translation.override(patient.language):
            text = _("You will no longer get mailings from us here. Reminders of the visits "
                     "you book will still come.")
        try:
            message_send(conversation=conversation, author=None, text=text,
                         automatic=STOP_ACK, now=now)
        except SendRefused:
            pass  # e.g. a website chat that is gone: the withdrawal stands
    return True


def patient_answer(*, message: Message, now: datetime) -> bool:
    """Act on the patient's message if it answers a reminder or stops mailings; True when it
    needs no one (see the module's docstring)."""
    dispatch = None
    if message.kind == MessageKind.BUTTON:
        match = BUTTON.fullmatch(message.payload.get("data", ""))
        if match:
            if not message.payload.get("verified"):  # not a button we offered here: forged
                return False
            dispatch = (Dispatch.objects.select_related("appointment", "patient", "clinic")
                        .filter(pk=match[1], clinic_id=message.conversation.clinic_id,
                                confirmation=Confirmation.PENDING,
                                appointment__start__gt=now).first())
            if dispatch is None:
                return False
            intent = BUTTON_INTENT[match[2]]
        elif message.payload.get("callback_id"):  # another Telegram button: not ours to read
            return False
        else:  # a WhatsApp template's quick reply: its payload is the template's, read its title
            intent = reply_intent(message.body)
    elif message.kind == MessageKind.TEXT:
        intent = reply_intent(message.body)
    else:
        return False
    if intent == Intent.OTHER:
        return False
    with transaction.atomic():
        if intent == Intent.STOP:
            return _stop(message, now)
        dispatch = dispatch or _pending(message.conversation, now)
        if dispatch is None:
            return False
        return _answer(dispatch, intent, message, now)
