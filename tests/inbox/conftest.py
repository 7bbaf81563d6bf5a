import pytest
from django.utils import translation

from inbox.fake_providers import FakeProviders
from inbox.models import ContactIdentity, Conversation
from tests.inbox.factories import TelegramChannelFactory, WhatsAppChannelFactory


@pytest.fixture(autouse=True)
def english(settings):
    """Reasons are stored in the clinic's language; these tests read them in English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def fake(settings):
    """The fake Telegram + WhatsApp server on loopback, with the real adapters pointed at it."""
    with FakeProviders() as server:
        settings.TELEGRAM_API_BASE = server.base_url
        settings.WHATSAPP_API_BASE = server.base_url
        yield server


def _conversation(channel, external_id, phone="", last_patient_message_at=None):
    contact = ContactIdentity.objects.create(clinic=channel.clinic, channel=channel,
                                             external_id=external_id, phone=phone,
                                             display_name="Мария Иванова")
    return Conversation.objects.create(clinic=channel.clinic, channel=channel, contact=contact,
                                       last_patient_message_at=last_patient_message_at)


@pytest.fixture
def telegram_conversation(clinic, now):
    return _conversation(TelegramChannelFactory(clinic=clinic), "5123456789",
                         last_patient_message_at=now)


@pytest.fixture
def whatsapp_conversation(clinic, now):
    return _conversation(WhatsAppChannelFactory(clinic=clinic), "79161234567", "+79161234567",
                         last_patient_message_at=now)
