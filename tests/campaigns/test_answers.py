"""A patient's answer to a reminder, through the real Telegram webhook: confirm, cancel,
another time, buttons, stop."""

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Confirmation, Dispatch
from campaigns.services.dispatcher import dispatches_process_due
from campaigns.services.planner import plan_all
from clinic.models import ConsentEvent
from clinic.selectors import consent_granted
from inbox.models import Conversation, Message
from inbox.services.outbound import message_deliver, message_send
from scheduling.models import Appointment
from tests.conftest import MOSCOW
from tests.inbox import payloads
from tests.scheduling.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

THURSDAY_11 = datetime(2026, 11, 26, 11, 0, tzinfo=MOSCOW)


@pytest.fixture
def reminded(reminder, maria, service, doctor, now, fake):
    """Maria's visit on Thursday and the reminder Telegram has delivered to her on Tuesday."""
    visit = AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor,
                               service=service, start=THURSDAY_11,
                               created_at=now - timedelta(days=3))
    plan_all(now=now)
    dispatches_process_due(now=now)
    dispatch = Dispatch.objects.get()
    assert message_deliver(message_id=dispatch.message_id, now=now).sent
    dispatch.refresh_from_db()
    return visit, dispatch


class Patient:
    """Maria writing to the clinic's bot from her phone."""

    def __init__(self, client, channel, now):
        self.client, self.channel, self.update = client, channel, 20000
        self.at = int((now + timedelta(minutes=5)).timestamp())

    def _post(self, update: dict) -> None:
        response = self.client.post(
            reverse("hook-telegram", args=[self.channel.key]), json.dumps(update),
            content_type="application/json",
            HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=self.channel.webhook_secret)
        assert response.status_code == 200

    def says(self, text: str) -> None:
        self.update += 1
        update = payloads.tg_message(self.update, self.update, text=text)
        update["message"]["date"] = self.at
        self._post(update)

    def presses(self, data: str, on_message: str) -> None:
        self.update += 1
        update = payloads.tg_callback(self.update, data=data)
        query = update["callback_query"]
        query["id"] = f"cb{self.update}"
        query["message"]["message_id"] = int(on_message.split(":")[1])
        query["message"]["reply_markup"]["inline_keyboard"] = [[
            {"text": "Приду", "callback_data": data}]]
        self._post(update)


@pytest.fixture
def maria_writes(client, telegram, now):
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        yield Patient(client, telegram, now)


def conversation(maria) -> Conversation:
    return Conversation.objects.get(patient=maria)


@pytest.mark.parametrize("text", ["Да", "да, буду 👍", "1", "+", "Подтверждаю!"])
def test_a_yes_confirms_the_visit_and_needs_no_one(reminded, maria, maria_writes, text):
    visit, dispatch = reminded
    maria_writes.says(text)
    visit.refresh_from_db()
    dispatch.refresh_from_db()
    assert visit.status == "confirmed" and visit.confirmed_via == "telegram: reminder"
    assert dispatch.confirmation == Confirmation.CONFIRMED
    chat = conversation(maria)
    assert chat.status == "resolved" and chat.waiting_since is None  # no timer, no hand-out
    assert chat.messages.filter(direction="in", body=text).exists()  # shown in the thread


def test_a_no_cancels_the_visit_and_asks_the_administrator_to_offer_another_time(
        reminded, maria, maria_writes):
    visit, dispatch = reminded
    maria_writes.says("Нет, не смогу")
    visit.refresh_from_db()
    dispatch.refresh_from_db()
    assert visit.status == "cancelled"
    assert dispatch.confirmation == Confirmation.CANCELLED
    chat = conversation(maria)
    assert chat.status == "open" and chat.waiting_since is not None
    assert chat.messages.filter(kind="note").count() == 1


@pytest.mark.parametrize("text", ["перенести", "Можно перенести на пятницу?",
                                  "да, а можно на час позже?"])
def test_another_time_or_anything_else_goes_to_the_inbox_with_its_timer(
        reminded, maria, maria_writes, text):
    visit, dispatch = reminded
    maria_writes.says(text)
    visit.refresh_from_db()
    assert visit.status == "booked"
    assert conversation(maria).waiting_since is not None


def test_the_reminders_button_confirms(reminded, maria, maria_writes):
    visit, dispatch = reminded
    maria_writes.presses(f"cf:{dispatch.pk}:yes", on_message=dispatch.message.provider_message_id)
    visit.refresh_from_db()
    assert visit.status == "confirmed"
    assert conversation(maria).waiting_since is None


def test_a_forged_button_confirms_nothing(reminded, maria, maria_writes):
    visit, dispatch = reminded
    maria_writes.presses(f"cf:{dispatch.pk}:yes", on_message=f"{payloads.CHAT_ID}:999")
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_a_yes_to_the_administrators_own_question_is_not_a_confirmation(reminded, maria,
                                                                        maria_writes, now):
    visit, _ = reminded
    message_send(conversation=conversation(maria), author=None, text="Удобно в 15:00?",
                 now=now + timedelta(minutes=1))
    maria_writes.says("да")
    visit.refresh_from_db()
    assert visit.status == "booked"
    assert conversation(maria).waiting_since is not None


def test_one_yes_confirms_every_visit_that_day(reminded, maria, maria_writes, service, doctor,
                                               now):
    visit, _ = reminded
    later = AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor,
                               service=service, start=THURSDAY_11 + timedelta(hours=3),
                               created_at=now - timedelta(days=2))
    maria_writes.says("да")
    assert set(Appointment.objects.filter(pk__in=[visit.pk, later.pk])
               .values_list("status", flat=True)) == {"confirmed"}


def test_stop_withdraws_mailings_on_the_channel_and_is_acknowledged_once(
        reminded, maria, maria_writes, now):
    maria_writes.says("СТОП")
    events = list(maria.consent_events.all())
    # Withdrawn where it was granted; birthday, education and promotions never were.
    assert {e.topic for e in events} == {"recall", "follow_up", "plan_adherence"}
    assert {(e.channel, e.granted, e.source) for e in events} == {("telegram", False, "stop")}
    assert consent_granted(events=events, topic="appointment", channel="telegram")
    assert not consent_granted(events=events, topic="recall", channel="telegram")
    assert consent_granted(events=events, topic="recall", channel="whatsapp")
    acks = Message.objects.filter(payload__automatic="campaign_stop")
    assert acks.count() == 1
    maria_writes.says("стоп")
    assert acks.count() == 1 and ConsentEvent.objects.count() == 3
    assert conversation(maria).waiting_since is None


def _whatsapp_reply(client, channel, message: dict) -> None:
    raw = payloads.body(payloads.wa_envelope(payloads.wa_value(
        messages=[message], contacts=[payloads.wa_contact()])))
    response = client.post(reverse("hook-whatsapp", args=[channel.key]), raw,
                           content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=payloads.wa_signature(raw))
    assert response.status_code == 200


@pytest.fixture
def reminded_on_whatsapp(reminder, clinic, service, doctor, now, fake):
    """Olga wrote on WhatsApp an hour ago; her reminder went out with reply buttons."""
    from tests.campaigns.conftest import chat_with
    from tests.clinic.factories import PatientFactory
    from tests.inbox.factories import WhatsAppChannelFactory

    olga = PatientFactory(clinic=clinic, first_name="Ольга", phone="+79161234567")
    channel = WhatsAppChannelFactory(clinic=clinic)
    chat_with(olga, channel, wrote_at=now - timedelta(hours=1), external_id="79161234567")
    visit = AppointmentFactory(clinic=clinic, patient=olga, doctor=doctor, service=service,
                               start=THURSDAY_11, created_at=now - timedelta(days=3))
    plan_all(now=now)
    dispatches_process_due(now=now)
    dispatch = Dispatch.objects.get()
    assert message_deliver(message_id=dispatch.message_id, now=now).sent
    dispatch.refresh_from_db()
    request = fake.sent("whatsapp")[0].json
    assert request["type"] == "interactive"
    return visit, dispatch, channel, request


def test_a_whatsapp_reply_button_confirms(reminded_on_whatsapp, client, now):
    visit, dispatch, channel, request = reminded_on_whatsapp
    button = request["interactive"]["action"]["buttons"][0]["reply"]
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        _whatsapp_reply(client, channel, {
            "from": "79161234567", "id": "wamid.reply1", "timestamp": str(int(now.timestamp())),
            "type": "interactive", "context": {"from": "74951234567",
                                               "id": dispatch.message.provider_message_id},
            "interactive": {"type": "button_reply", "button_reply": button}})
    visit.refresh_from_db()
    assert visit.status == "confirmed" and visit.confirmed_via == "whatsapp: reminder"


def test_a_whatsapp_template_quick_reply_is_read_by_its_title(reminded_on_whatsapp, client,
                                                               now):
    visit, dispatch, channel, _ = reminded_on_whatsapp
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        _whatsapp_reply(client, channel, {
            "from": "79161234567", "id": "wamid.reply2", "timestamp": str(int(now.timestamp())),
            "type": "button", "context": {"from": "74951234567",
                                          "id": dispatch.message.provider_message_id},
            "button": {"payload": "CANCEL_PAYLOAD", "text": "Отменить"}})
    visit.refresh_from_db()
    assert visit.status == "cancelled"


def test_an_unanswered_request_is_marked_no_answer_once_the_visit_starts(reminded):
    _, dispatch = reminded
    dispatches_process_due(now=THURSDAY_11 + timedelta(minutes=1))
    dispatch.refresh_from_db()
    assert dispatch.confirmation == Confirmation.EXPIRED
