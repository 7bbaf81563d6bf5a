"""Automatic replies to patients: not the administrator's words, and marked so."""

from datetime import datetime, timedelta

from django.utils import formats
from django.utils.translation import gettext as _

from clinic.hours import NoWorkingTime, is_working_time, next_working_time
from clinic.selectors import clinic_hours
from inbox.models import Conversation, Message
from inbox.services.outbound import SendRefused, message_send

OUT_OF_HOURS = "out_of_hours"


def when_phrase(moment: datetime, now: datetime) -> str:
    """"today at 20:00", "tomorrow at 09:00", "on 30 November at 09:00"."""
    local_now = now.astimezone(moment.tzinfo)
    time = moment.strftime("%H:%M")
    if moment.date() == local_now.date():
        return _("today at %(time)s") % {"time": time}
    if moment.date() == local_now.date() + timedelta(days=1):
        return _("tomorrow at %(time)s") % {"time": time}
    day = formats.date_format(moment, "j E")
    return _("on %(day)s at %(time)s") % {"day": day, "time": time}


def out_of_hours_reply(*, conversation: Conversation, now: datetime) -> bool:
    """Outside working hours (evening duty counts as working), tell the patient when the clinic
    answers — once per conversation per closed period, keyed by the period's end."""
    hours = clinic_hours(clinic=conversation.clinic)
    if is_working_time(hours, now):
        return False
    try:
        opening = next_working_time(hours, now)
    except NoWorkingTime:
        return False
    until = opening.isoformat()
    if Message.objects.filter(conversation=conversation, payload__automatic=OUT_OF_HOURS,
                              payload__until=until).exists():
        return False
    text = _("Hello! The clinic is closed now. We will answer you %(when)s.") % {
        "when": when_phrase(opening, now)}
    try:
        message = message_send(conversation=conversation, author=None, text=text,
                               automatic=OUT_OF_HOURS, now=now)
    except SendRefused:
        return False
    Message.objects.filter(pk=message.pk).update(payload={**message.payload, "until": until})
    return True
