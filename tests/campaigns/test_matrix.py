"""Who gets a message, on which channel: consent × exclusion × channel, decided at send time."""

from datetime import datetime, timedelta

import pytest

from campaigns.models import Dispatch, DispatchStatus, RuleKind, SkipReason
from campaigns.services.dispatcher import dispatches_process_due
from campaigns.services.planner import plan_all
from campaigns.services.rules import rule_create
from clinic.services import consent_record
from inbox.models import ContactIdentity, Conversation, Message
from tests.campaigns.conftest import chat_with
from tests.conftest import MOSCOW
from tests.inbox.factories import WhatsAppChannelFactory
from tests.scheduling.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

TEMPLATE = {"name": "recall_v1", "language": "ru", "category": "utility"}


def withdraw(patient, topic, channel, now):
    consent_record(patient=patient, topic=topic, granted=False, source="chat",
                   recorded_by=None, now=now - timedelta(days=1), channel=channel)


def whatsapp_chat(patient, now, *, wrote_hours_ago, template=True):
    channel = WhatsAppChannelFactory(clinic=patient.clinic,
                                     whatsapp_templates=[TEMPLATE] if template else [])
    return chat_with(patient, channel, wrote_at=now - timedelta(hours=wrote_hours_ago),
                     external_id="79161234567")


CASES = {
    # name: (setup, kind, expected status, reason, channel)
    "everything allows: her Telegram": (lambda p, n: None, RuleKind.RECALL, "sent", "",
                                        "telegram"),
    "recall withdrawn everywhere": (lambda p, n: withdraw(p, "recall", "", n),
                                    RuleKind.RECALL, "skipped", SkipReason.NO_CONSENT, ""),
    "recall withdrawn on Telegram: WhatsApp inside 24 h": (
        lambda p, n: (withdraw(p, "recall", "telegram", n),
                      whatsapp_chat(p, n, wrote_hours_ago=3)),
        RuleKind.RECALL, "sent", "", "whatsapp"),
    "Telegram withdrawn, WhatsApp outside 24 h without a template": (
        lambda p, n: (withdraw(p, "recall", "telegram", n),
                      whatsapp_chat(p, n, wrote_hours_ago=30, template=False)),
        RuleKind.RECALL, "skipped", SkipReason.NO_CONSENT, ""),
    "no way to reach her: she never wrote to the bot": (
        lambda p, n: p.conversations.update(last_patient_message_at=None), RuleKind.RECALL,
        "skipped", SkipReason.NO_CHANNEL, ""),
    "open complaint": (lambda p, n: setattr(p, "open_complaint", True), RuleKind.RECALL,
                       "skipped", SkipReason.OPEN_COMPLAINT, ""),
    "left unhappy": (lambda p, n: setattr(p, "left_unhappy", True), RuleKind.RECALL,
                     "skipped", SkipReason.LEFT_UNHAPPY, ""),
    "opted out of everything": (lambda p, n: setattr(p, "opted_out_all", True),
                                RuleKind.REMINDER, "skipped", SkipReason.OPTED_OUT, ""),
    "a reminder reaches the unhappy patient": (lambda p, n: setattr(p, "left_unhappy", True),
                                               RuleKind.REMINDER, "sent", "", "telegram"),
    "reminders withdrawn on Telegram": (lambda p, n: withdraw(p, "appointment", "telegram", n),
                                        RuleKind.REMINDER, "skipped", SkipReason.NO_CONSENT, ""),
    "a newer grant on every channel beats an older withdrawal": (
        lambda p, n: (withdraw(p, "recall", "telegram", n - timedelta(days=1)),
                      consent_record(patient=p, topic="recall", granted=True, source="form",
                                     recorded_by=None, now=n - timedelta(hours=1))),
        RuleKind.RECALL, "sent", "", "telegram"),
    "SMS first, but no SMS provider: Telegram": (
        lambda p, n: setattr(p, "channel_order", ["sms", "telegram"]), RuleKind.RECALL,
        "sent", "", "telegram"),
}


@pytest.mark.parametrize("case", CASES)
def test_consent_exclusion_and_channel_decide_at_send_time(case, clinic, maria, hygiene,
                                                            service, doctor, now):
    setup, kind, status, reason, channel = CASES[case]
    if kind == RuleKind.RECALL:
        AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=hygiene,
                           start=datetime(2026, 5, 24, 10, 0, tzinfo=MOSCOW),
                           status="completed")
        rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=kind, enabled=True,
                    service_ids=[hygiene.pk], texts={"ru": {"": "Пора на гигиену"}},
                    whatsapp_template="recall_v1")
    else:
        AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=service,
                           start=now + timedelta(days=2), created_at=now - timedelta(days=5))
        rule_create(clinic=clinic, by=None, now=now, name="Напоминание", kind=kind,
                    enabled=True, steps=[-2880], texts={"ru": {"": "Ждём вас {visit_time}"}})
    setup(maria, now)
    maria.save()

    plan_all(now=now)
    dispatches_process_due(now=now)

    dispatch = Dispatch.objects.get()
    assert (dispatch.status, dispatch.reason, dispatch.channel) == (status, reason, channel)
    assert Message.objects.filter(direction="out").count() == (status == DispatchStatus.SENT)


def test_whatsapp_by_phone_alone_starts_a_conversation_with_the_approved_template(
        clinic, hygiene, doctor, now):
    from tests.clinic.factories import PatientFactory

    patient = PatientFactory(clinic=clinic, first_name="Ольга", phone="+79035550101")
    WhatsAppChannelFactory(clinic=clinic, whatsapp_templates=[TEMPLATE])
    AppointmentFactory(clinic=clinic, patient=patient, doctor=doctor, service=hygiene,
                       start=datetime(2026, 5, 24, 10, 0, tzinfo=MOSCOW), status="completed")
    rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=RuleKind.RECALL,
                enabled=True, service_ids=[hygiene.pk], texts={"ru": {"": "Пора"}},
                whatsapp_template="recall_v1", whatsapp_params=["patient_first_name"])
    plan_all(now=now)
    assert dispatches_process_due(now=now).sent == 1
    contact = ContactIdentity.objects.get(external_id="79035550101")
    assert contact.patient == patient
    message = Conversation.objects.get(contact=contact).messages.get()
    assert message.payload["template"] == {"name": "recall_v1", "language": "ru",
                                           "params": ["Ольга"]}


def test_education_goes_by_e_mail_only(clinic, maria, hygiene, doctor, now, settings,
                                       mailoutbox):
    settings.EMAIL_FROM = "clinic@example.com"
    maria.email = "maria@example.com"
    maria.save()
    consent_record(patient=maria, topic="education", granted=True, source="form",
                   recorded_by=None, now=now - timedelta(days=3))
    AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=hygiene,
                       start=now - timedelta(days=3, hours=1), status="completed")
    rule_create(clinic=clinic, by=None, now=now, name="Уход", kind=RuleKind.EDUCATION,
                enabled=True, steps=[3 * 1440], texts={"ru": {"": "Как ухаживать за зубами"}})
    plan_all(now=now)
    assert dispatches_process_due(now=now).sent == 1
    assert [m.to for m in mailoutbox] == [["maria@example.com"]]
    assert Dispatch.objects.get().channel == "email"
    assert not Message.objects.exists()
