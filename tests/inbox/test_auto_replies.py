from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from inbox.models import ContactIdentity, Conversation, Message
from inbox.services.auto_replies import OUT_OF_HOURS, out_of_hours_reply
from tests.inbox.factories import TelegramChannelFactory

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(autouse=True)
def russian():
    from django.utils import translation

    with translation.override("ru"):
        yield


@pytest.fixture
def conversation(clinic):
    clinic.weekly_hours = [[["09:00", "20:00"]]] * 5 + [[], []]
    clinic.save()
    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1")
    return Conversation.objects.create(clinic=clinic, channel=channel, contact=contact)


def replies(conversation):
    return list(Message.objects.filter(conversation=conversation,
                                       payload__automatic=OUT_OF_HOURS)
                .values_list("body", flat=True))


def test_at_night_the_patient_learns_the_clinic_answers_tomorrow_morning(conversation):
    night = datetime(2026, 11, 24, 23, 10, tzinfo=MSK)  # Tuesday
    assert out_of_hours_reply(conversation=conversation, now=night)
    assert out_of_hours_reply(conversation=conversation,
                              now=night.replace(hour=23, minute=50)) is False  # once
    assert replies(conversation) == [
        "Здравствуйте! Сейчас клиника закрыта. Мы ответим вам завтра в 09:00."]


def test_on_friday_evening_the_answer_comes_on_monday(conversation):
    friday = datetime(2026, 11, 27, 21, 0, tzinfo=MSK)
    out_of_hours_reply(conversation=conversation, now=friday)
    assert replies(conversation) == [
        "Здравствуйте! Сейчас клиника закрыта. Мы ответим вам 30 ноября в 09:00."]


def test_the_next_closed_period_gets_its_own_reply(conversation):
    out_of_hours_reply(conversation=conversation, now=datetime(2026, 11, 24, 23, 0, tzinfo=MSK))
    out_of_hours_reply(conversation=conversation, now=datetime(2026, 11, 25, 22, 0, tzinfo=MSK))
    assert len(replies(conversation)) == 2


def test_evening_duty_counts_as_open(conversation):
    from datetime import time

    clinic = conversation.clinic
    clinic.evening_duty_start, clinic.evening_duty_end = time(20), time(22)
    clinic.save()
    assert not out_of_hours_reply(conversation=conversation,
                                  now=datetime(2026, 11, 24, 21, 0, tzinfo=MSK))
    out_of_hours_reply(conversation=conversation, now=datetime(2026, 11, 24, 19, 0, tzinfo=MSK))
    assert replies(conversation) == []


def test_during_working_hours_nothing_is_sent(conversation):
    assert not out_of_hours_reply(conversation=conversation,
                                  now=datetime(2026, 11, 24, 12, 0, tzinfo=MSK))
