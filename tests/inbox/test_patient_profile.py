"""The patient panel's communication profile and consent ledger (issue 9, item 1)."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.models import ConsentEvent, ConsentTopic
from clinic.selectors import consent_events, consent_granted, patient_consent_state
from clinic.services import consent_record, consents_update, patient_comms_update
from inbox.models import ContactIdentity, Conversation
from tests.clinic.factories import MembershipFactory, PatientFactory
from tests.inbox.factories import TelegramChannelFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def chat(telegram_conversation, patient):
    """A Telegram conversation (the patient has written to the bot) linked to the patient."""
    telegram_conversation.patient = patient
    telegram_conversation.save(update_fields=["patient"])
    ContactIdentity.objects.filter(pk=telegram_conversation.contact_id).update(patient=patient)
    return telegram_conversation


def _url(conversation):
    return reverse("inbox:patient-consents", args=[conversation.pk])


def _cells(patient):
    return {(c.topic, c.channel): c for row in patient_consent_state(patient=patient).messages
            for c in row.cells}


def _matrix_post(patient, changes, source="chat", evidence=""):
    """What the consents form posts: every box as the panel shows it, with `changes` made."""
    boxes = {key: cell.granted for key, cell in _cells(patient).items()} | changes
    return {"part": "messages", "source": source, "evidence": evidence,
            "granted": [f"{topic}:{channel}" for (topic, channel), on in boxes.items() if on]}


def _record(patient, topic, channel, granted, at):
    return consent_record(patient=patient, topic=topic, channel=channel, granted=granted,
                          source="chat", recorded_by=None, now=at)


def test_the_newest_row_on_the_channel_or_on_every_channel_decides(patient, now):
    _record(patient, "promotions", "", True, now - timedelta(days=2))
    telegram_no = _record(patient, "promotions", "telegram", False, now - timedelta(days=1))
    _record(patient, "recall", "sms", False, now - timedelta(days=2))
    recall_all = _record(patient, "recall", "", True, now - timedelta(days=1))

    cells = _cells(patient)
    assert cells["promotions", ""].state == "granted"
    assert cells["promotions", "telegram"].state == "withdrawn"
    assert cells["promotions", "telegram"].event == telegram_no
    assert cells["promotions", "whatsapp"].state == "granted"  # the every-channel row
    assert cells["recall", "sms"].state == "granted"
    assert cells["recall", "sms"].event == recall_all  # newer than the SMS row
    assert cells["appointment", "email"].state == "default_granted"
    assert cells["education", "webchat"].state == "default_denied"
    events = consent_events(patient=patient)
    assert all(cell.granted == consent_granted(events=events, topic=topic, channel=channel)
               for (topic, channel), cell in cells.items())


def _boxes(body):
    """The consent checkboxes of a rendered panel: value -> checked."""
    return {value: bool(checked) for value, checked in re.findall(
        r'<input type="checkbox" name="granted" value="([a-z_]+:[a-z]*)"[^>]*?( checked)?>',
        body)}


def test_the_panel_shows_the_derived_state_not_only_the_rows(client, administrator, chat,
                                                             patient, now):
    _record(patient, "promotions", "", True, now - timedelta(days=1))
    _record(patient, "promotions", "telegram", False, now)
    client.force_login(administrator)
    body = client.get(reverse("inbox:thread", args=[chat.pk])).content.decode()
    boxes = _boxes(body)
    assert len(boxes) == 7 * 6 + 1  # the message topics on every channel, and data processing
    assert boxes["appointment:"] and boxes["appointment:sms"]  # care topics: on by default
    assert not boxes["education:"] and not boxes["data_processing:"]  # need a consent
    assert boxes["promotions:"] and boxes["promotions:whatsapp"]
    assert not boxes["promotions:telegram"]
    assert 'class="consent-default_granted"' in body and 'class="consent-withdrawn"' in body


def test_only_the_changed_cells_append_rows(client, administrator, chat, patient):
    client.force_login(administrator)
    client.post(_url(chat), _matrix_post(patient, {}))
    assert not ConsentEvent.objects.exists()  # the defaults, as shown, are no change

    client.post(_url(chat), _matrix_post(patient, {("recall", "sms"): False,
                                                   ("promotions", ""): True},
                                         source="phone", evidence="сказала по телефону"))
    rows = list(ConsentEvent.objects.order_by("id").values_list(
        "topic", "channel", "granted", "source", "evidence", "recorded_by"))
    assert rows == [("promotions", "", True, "phone", "сказала по телефону", administrator.pk),
                    ("recall", "sms", False, "phone", "сказала по телефону", administrator.pk)]
    cells = _cells(patient)
    assert cells["promotions", "telegram"].state == "granted"  # the whole topic at once
    assert cells["recall", "sms"].state == "withdrawn"
    assert cells["recall", "telegram"].state == "default_granted"

    client.post(_url(chat), _matrix_post(patient, {}))
    assert ConsentEvent.objects.count() == 2  # nothing changed, nothing appended


def test_a_channel_changed_with_its_whole_topic_keeps_its_own_value(patient, now):
    _record(patient, "promotions", "", True, now - timedelta(days=2))
    _record(patient, "promotions", "sms", False, now - timedelta(days=1))
    rows = consents_update(patient=patient, wanted={("promotions", "sms"): True,
                                                    ("promotions", ""): False},
                           source="form", evidence="", recorded_by=None, now=now)
    assert [(r.channel, r.granted) for r in rows] == [("", False), ("sms", True)]
    cells = _cells(patient)
    assert cells["promotions", "sms"].state == "granted"  # its row is the newer one
    assert cells["promotions", "email"].state == "withdrawn"


def test_data_processing_is_recorded_apart_from_messages(client, administrator, chat, patient):
    client.force_login(administrator)
    client.post(_url(chat), _matrix_post(patient, {(t, ""): False for t in (
        "appointment", "recall", "follow_up", "plan_adherence")}))
    assert not ConsentEvent.objects.filter(topic="data_processing").exists()

    client.post(_url(chat), {"part": "data_processing", "granted": ["data_processing:"],
                             "source": "form", "evidence": "согласие на ОПД № 12"})
    assert ConsentEvent.objects.filter(topic="data_processing").count() == 1
    assert ConsentEvent.objects.count() == 5
    state = patient_consent_state(patient=patient)
    assert state.data_processing.state == "granted"
    assert all(row.topic != "data_processing" for row in state.messages)

    # A message topic cannot be slipped into the data processing form, nor the other way.
    client.post(_url(chat), {"part": "data_processing", "granted": ["promotions:"],
                             "source": "form"})
    client.post(_url(chat), {**_matrix_post(patient, {}), "granted": ["data_processing:"]})
    assert ConsentEvent.objects.count() == 5

    body = client.get(reverse("inbox:thread", args=[chat.pk])).content.decode()
    matrix = body[body.index('id="consents-messages"'):body.index('id="consents-data-processing"')]
    assert 'value="data_processing:"' not in matrix
    assert 'value="data_processing:"' in body[body.index('id="consents-data-processing"'):]


def test_the_history_lists_the_last_ten_rows(client, administrator, chat, patient, now):
    for n in range(12):
        _record(patient, "promotions", "", n % 2 == 0, now - timedelta(hours=12 - n))
    history = patient_consent_state(patient=patient).history
    assert len(history) == 10 and history[0].recorded_at == now - timedelta(hours=1)
    client.force_login(administrator)
    body = client.get(reverse("inbox:thread", args=[chat.pk])).content.decode()
    assert body.count('data-topic="promotions"') == 10


def test_the_communication_profile_is_saved(client, administrator, chat, patient):
    client.force_login(administrator)
    response = client.post(_url(chat), {
        "part": "comms", "channel_0": "whatsapp", "channel_1": "", "channel_2": "email",
        "preferred_time_of_day": "evening", "preferred_days": ["4", "0"], "language": "en"},
        headers=HTMX)
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.channel_order == ["whatsapp", "email"]
    assert patient.preferred_time_of_day == "evening"
    assert patient.preferred_days == [0, 4]
    assert patient.language == "en"
    body = response.content.decode()
    assert body.index('data-channel="whatsapp"') < body.index('data-channel="email"') < (
        body.index('data-channel="telegram"'))


@pytest.mark.parametrize("order", [["telegram", "telegram"], ["fax"], ["phone"]])
def test_the_service_refuses_a_wrong_channel_order(patient, order):
    with pytest.raises(ValidationError) as refused:
        patient_comms_update(patient=patient, channel_order=order, preferred_time_of_day="",
                             preferred_days=[], language="ru")
    assert "channel_order" in refused.value.message_dict
    patient.refresh_from_db()
    assert patient.channel_order == []


def test_the_service_refuses_days_that_are_not_weekdays(patient):
    with pytest.raises(ValidationError) as refused:
        patient_comms_update(patient=patient, channel_order=[], preferred_time_of_day="",
                             preferred_days=[7], language="ru")
    assert "preferred_days" in refused.value.message_dict


@pytest.mark.parametrize("channels", [
    {"channel_0": "sms", "channel_1": "sms"},
    {"channel_0": "fax"},
])
def test_a_wrong_channel_order_is_shown_and_not_saved(client, administrator, chat, patient,
                                                       channels):
    client.force_login(administrator)
    response = client.post(_url(chat), {"part": "comms", "language": "ru", **channels},
                           headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="form-errors"' in body
    assert body.count('value="sms" selected') == list(channels.values()).count("sms")  # kept
    patient.refresh_from_db()
    assert patient.channel_order == []


def test_reachability_follows_contacts_phone_and_email(client, administrator, chat, patient,
                                                       clinic):
    silent = TelegramChannelFactory(clinic=clinic)  # a second bot the patient never wrote to
    contact = ContactIdentity.objects.create(clinic=clinic, channel=silent, external_id="42",
                                             patient=patient)
    Conversation.objects.create(clinic=clinic, channel=silent, contact=contact)
    patient.email = ""
    patient.save(update_fields=["email"])
    client.force_login(administrator)
    panel = client.get(reverse("inbox:thread", args=[chat.pk])).context["panel"]
    reach = {r.channel: r.reachable for r in panel.channels}
    assert reach == {"telegram": True, "whatsapp": True, "webchat": False, "sms": True,
                     "email": False}

    chat.last_patient_message_at = None  # now no bot has been written to
    chat.save(update_fields=["last_patient_message_at"])
    panel = client.get(reverse("inbox:thread", args=[chat.pk])).context["panel"]
    assert {r.channel: r.reachable for r in panel.channels}["telegram"] is False


@pytest.mark.parametrize("role", ["administrator", "manager", "owner"])
def test_every_staff_role_may_edit(client, chat, patient, clinic, role):
    client.force_login(MembershipFactory(clinic=clinic, role=role).user)
    response = client.post(_url(chat), {"part": "data_processing", "granted": [
        "data_processing:"], "source": "in_person"}, headers=HTMX)
    assert response.status_code == 200
    assert ConsentEvent.objects.filter(patient=patient).count() == 1


def test_another_clinics_user_gets_404(client, outsider, chat, patient):
    client.force_login(outsider)
    for data in ({"part": "data_processing", "granted": ["data_processing:"],
                  "source": "chat"},
                 {"part": "comms", "channel_0": "sms", "language": "en"}):
        assert client.post(_url(chat), data).status_code == 404
    assert not ConsentEvent.objects.exists()
    patient.refresh_from_db()
    assert patient.channel_order == [] and patient.language == "ru"


def test_reading_is_not_changing(client, administrator, chat):
    client.force_login(administrator)
    assert client.get(_url(chat)).status_code == 405


def test_a_conversation_without_a_patient_has_no_profile(client, administrator,
                                                         telegram_conversation):
    client.force_login(administrator)
    response = client.post(_url(telegram_conversation), {"part": "comms", "language": "ru"})
    assert response.status_code == 404


def test_the_fragment_escapes_the_evidence(client, administrator, chat, patient):
    client.force_login(administrator)
    response = client.post(_url(chat), {
        "part": "data_processing", "granted": ["data_processing:"], "source": "chat",
        "evidence": '<script>alert("x")</script>'}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<aside id="patient-panel"')
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert ConsentEvent.objects.get().evidence == '<script>alert("x")</script>'


def test_other_patients_in_the_clinic_are_untouched(client, administrator, chat, clinic):
    other = PatientFactory(clinic=clinic)
    client.force_login(administrator)
    client.post(_url(chat), _matrix_post(chat.patient, {(ConsentTopic.BIRTHDAY, ""): True}))
    assert not other.consent_events.exists()
    assert chat.patient.consent_events.count() == 1
