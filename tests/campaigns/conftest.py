import pytest

from campaigns.models import Rule, RuleKind
from campaigns.services.rules import campaign_settings, rule_create
from inbox.fake_providers import FakeProviders
from inbox.models import ContactIdentity, Conversation
from tests.clinic.factories import PatientFactory
from tests.inbox.factories import TelegramChannelFactory
from tests.inbox.payloads import CHAT_ID
from tests.scheduling.factories import DoctorFactory, ServiceFactory

REMINDER_TEXT = "{patient_first_name}, ждём вас {visit_date} в {visit_time}, {clinic_address}."


@pytest.fixture
def fake(settings):
    with FakeProviders() as server:
        settings.TELEGRAM_API_BASE = server.base_url
        settings.WHATSAPP_API_BASE = server.base_url
        yield server


@pytest.fixture
def telegram(clinic):
    return TelegramChannelFactory(clinic=clinic)


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, name="Иванова Ольга Петровна")


@pytest.fixture
def service(clinic, doctor):
    return ServiceFactory(clinic=clinic, name="Лечение кариеса", doctors=[doctor])


@pytest.fixture
def hygiene(clinic, doctor):
    return ServiceFactory(clinic=clinic, name="Профессиональная гигиена", doctors=[doctor])


def chat_with(patient, channel, *, wrote_at, external_id: str = "") -> Conversation:
    contact = ContactIdentity.objects.create(
        clinic=channel.clinic, channel=channel, patient=patient,
        external_id=external_id or f"7{patient.pk:09d}", display_name=patient.full_name)
    return Conversation.objects.create(clinic=channel.clinic, channel=channel, contact=contact,
                                       patient=patient, last_patient_message_at=wrote_at,
                                       status="resolved")


@pytest.fixture
def maria(clinic, telegram, now):
    patient = PatientFactory(clinic=clinic, first_name="Мария", last_name="Иванова",
                             phone="+79161234567")
    chat_with(patient, telegram, wrote_at=now.replace(month=10), external_id=str(CHAT_ID))
    return patient


@pytest.fixture
def reminder(clinic, now):
    """2 days and 2 hours before, asking to confirm; the clinic's defaults are switched off."""
    Rule.objects.filter(clinic=clinic).update(enabled=False)
    campaign_settings(clinic=clinic)
    return rule_create(clinic=clinic, by=None, now=now, name="Напоминание",
                       kind=RuleKind.REMINDER, enabled=True, steps=[-2880, -120],
                       ask_confirmation=True, do_not_send_within=60,
                       texts={"ru": {"": REMINDER_TEXT}})
