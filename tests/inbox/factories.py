from datetime import datetime, timedelta

import factory

from clinic.models import Clinic, Patient
from inbox.channels.base import InboundMessage, Sender
from inbox.models import (
    Channel,
    ChannelKind,
    ContactIdentity,
    Conversation,
    DialogueWindow,
    Message,
)
from inbox.services.assignment import conversation_status_set
from inbox.services.inbound import inbound_events_store
from tests.clinic.factories import ClinicFactory


class TelegramChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    clinic = factory.SubFactory(ClinicFactory)
    kind = ChannelKind.TELEGRAM
    name = "Telegram-бот клиники"
    bot_token = "123456:TEST-token"
    webhook_secret = "s3cret_Token-value"


class WhatsAppChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    clinic = factory.SubFactory(ClinicFactory)
    kind = ChannelKind.WHATSAPP
    name = "WhatsApp клиники"
    phone_number_id = "106540352242922"
    access_token = "EAAtest"
    app_secret = "whatsapp-app-secret"
    verify_token = "verify-me"
    whatsapp_templates = [{"name": "visit_reminder", "language": "ru",
                           "params": ["patient_first_name", "visit_time"]}]


class WebchatChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    clinic = factory.SubFactory(ClinicFactory)
    kind = ChannelKind.WEBCHAT
    name = "Чат на сайте"
    allowed_origins = ["https://ulybka-clinic.ru"]


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactIdentity

    channel = factory.SubFactory(TelegramChannelFactory)
    clinic = factory.SelfAttribute("channel.clinic")
    external_id = factory.Sequence(lambda n: f"51234{n:05d}")
    display_name = "Мария Иванова"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    channel = factory.SelfAttribute("contact.channel")
    clinic = factory.SelfAttribute("contact.clinic")


class MessageFactory(factory.django.DjangoModelFactory):
    """A patient's text message unless told otherwise; `created_at` is required."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.SelfAttribute("conversation.channel")
    direction = "in"
    kind = "text"
    body = "Здравствуйте!"
    status = "received"


def conversation_for(clinic: Clinic, patient: Patient | None = None,
                     assignee: object | None = None) -> Conversation:
    """A Telegram conversation of the clinic, with the patient card linked when given."""
    channel = TelegramChannelFactory(clinic=clinic)
    return ConversationFactory(contact__channel=channel, patient=patient, assignee=assignee)


class Chat:
    """Writes a dialogue into a conversation as it happens, one message per line of the test:
    `chat.patient("…")`, `chat.admin("…")`; each message a minute after the one before."""

    def __init__(self, conversation: Conversation, admin: object, start: datetime):
        self.conversation, self.admin_user, self.at = conversation, admin, start

    def _next(self, minutes: float) -> datetime:
        self.at += timedelta(minutes=minutes)
        return self.at

    def patient(self, text: str, minutes: float = 1, **fields: object) -> Message:
        return MessageFactory(conversation=self.conversation, body=text,
                              created_at=self._next(minutes), **fields)

    def patient_writes(self, text: str, minutes: float = 1) -> Message:
        """Through the inbox's real inbound path: a resolved conversation opens again."""
        at = self._next(minutes)
        contact = self.conversation.contact
        inbound_events_store(channel=self.conversation.channel, now=at, events=[InboundMessage(
            sender=Sender(external_id=contact.external_id), text=text, sent_at=at,
            provider_message_id=f"{contact.external_id}:{at.timestamp()}")])
        return self.conversation.messages.order_by("-created_at", "-id").first()

    def admin(self, text: str, minutes: float = 1, kind: str = "text",
              author: object | None = None) -> Message:
        return MessageFactory(conversation=self.conversation, direction="out", kind=kind,
                              body=text, author=author or self.admin_user, status="sent",
                              created_at=self._next(minutes))

    def auto(self, text: str, minutes: float = 0) -> Message:
        return MessageFactory(conversation=self.conversation, direction="out", body=text,
                              author=None, status="sent", payload={"automatic": "greeting"},
                              created_at=self._next(minutes))

    def system(self, text: str) -> Message:
        return MessageFactory(conversation=self.conversation, direction="out", kind="system",
                              body=text, author=self.admin_user, status="sent",
                              created_at=self._next(0))

    def resolve(self, outcome: str = "next_step", next_step: str = "",
                by: object | None = None, minutes: float = 1) -> DialogueWindow:
        if outcome == "next_step" and not next_step:
            next_step = "Пациентка пришлёт снимок"
        conversation_status_set(conversation=self.conversation, status="resolved",
                                by=by or self.admin_user, now=self._next(minutes),
                                outcome=outcome, next_step=next_step)
        return self.conversation.windows.order_by("-pk").first()

    def reopen(self, by: object | None = None, minutes: float = 1) -> None:
        conversation_status_set(conversation=self.conversation, status="open",
                                by=by or self.admin_user, now=self._next(minutes))
