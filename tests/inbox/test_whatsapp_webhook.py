import pytest
from django.urls import reverse

from inbox.models import ContactIdentity, DeliveryStatus, EarlyStatus, Message
from tests.clinic.factories import PatientFactory
from tests.inbox import payloads
from tests.inbox.factories import WhatsAppChannelFactory


@pytest.fixture
def channel(clinic):
    return WhatsAppChannelFactory(clinic=clinic)


def post(client, channel, payload, signature=None):
    raw = payloads.body(payload)
    return client.post(reverse("hook-whatsapp", args=[channel.key]), raw,
                       content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=payloads.wa_signature(raw) if signature is None
                       else signature)


def outbound(channel, conversation, wamid, status="sent"):
    return Message.objects.create(conversation=conversation, channel=channel, direction="out",
                                  body="Здравствуйте, Мария!", provider_message_id=wamid,
                                  status=status, created_at=conversation.created_at)


def test_the_verification_handshake_echoes_the_challenge(client, channel):
    url = reverse("hook-whatsapp", args=[channel.key])
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                          "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    bad = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "guess",
                           "hub.challenge": "1"})
    assert bad.status_code == 403


def test_a_signed_message_is_stored_with_phone_and_bsuid(client, channel):
    payload = payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()]))
    assert post(client, channel, payload).status_code == 200
    contact = ContactIdentity.objects.get()
    assert contact.phone == "+79161234567" and contact.bsuid == "US.13491208655302741918"
    assert contact.display_name == "Мария"
    assert Message.objects.get().body == "Сколько стоит чистка?"


def test_a_bad_signature_is_403_and_stores_nothing(client, channel):
    payload = payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()]))
    assert post(client, channel, payload, signature="sha256=" + "0" * 64).status_code == 403
    assert post(client, channel, payload, signature="").status_code == 403
    assert not Message.objects.exists()


def test_the_signature_covers_the_raw_bytes_not_reserialised_json(client, channel):
    payload = payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()]))
    raw = payloads.body(payload)
    spaced = raw.replace(b'", "', b'",  "')  # same JSON, different bytes
    response = client.post(reverse("hook-whatsapp", args=[channel.key]), spaced,
                           content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=payloads.wa_signature(raw))
    assert response.status_code == 403


def test_every_message_and_status_of_a_batch_is_handled(client, channel):
    first = payloads.wa_value(
        contacts=[payloads.wa_contact(), payloads.wa_contact("79031112233", "Олег",
                                                             "US.2")],
        messages=[payloads.wa_text("wamid.A", "Добрый день"),
                  payloads.wa_text("wamid.B", "Есть запись на субботу?", wa_id="79031112233")])
    second = payloads.wa_value(contacts=[payloads.wa_contact()],
                               messages=[payloads.wa_text("wamid.C", "И ещё вопрос")])
    response = post(client, channel, payloads.wa_envelope(first, second))
    assert response.json()["stored"] == 3
    assert ContactIdentity.objects.count() == 2
    assert Message.objects.filter(conversation__contact__phone="+79031112233").count() == 1


def test_the_same_message_delivered_twice_is_stored_once(client, channel):
    payload = payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()]))
    post(client, channel, payload)
    post(client, channel, payload)
    assert Message.objects.count() == 1


def test_a_sender_without_a_phone_is_known_by_the_bsuid(client, channel):
    message = payloads.wa_text()
    message.pop("from")
    message["from_user_id"] = "US.777"
    payload = payloads.wa_envelope(payloads.wa_value(
        contacts=[{"profile": {"name": "Гость"}, "user_id": "US.777"}], messages=[message]))
    assert post(client, channel, payload).status_code == 200
    contact = ContactIdentity.objects.get()
    assert contact.external_id == "bsuid:US.777" and contact.phone == ""


def test_a_verified_whatsapp_number_links_the_one_matching_patient(client, channel):
    patient = PatientFactory(clinic=channel.clinic, phone="+79161234567")
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()])))
    assert ContactIdentity.objects.get().patient == patient


def test_statuses_move_forward_only(client, channel):
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()])))
    conversation = ContactIdentity.objects.get().conversation
    message = outbound(channel, conversation, "wamid.OUT1")
    for status in ("read", "delivered", "sent"):
        post(client, channel, payloads.wa_envelope(payloads.wa_value(
            statuses=[payloads.wa_status("wamid.OUT1", status)])))
    message.refresh_from_db()
    assert message.status == DeliveryStatus.READ


def test_a_failed_status_records_the_reason(client, channel):
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()])))
    message = outbound(channel, ContactIdentity.objects.get().conversation, "wamid.OUT2")
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        statuses=[payloads.wa_status("wamid.OUT2", "failed", code=131047)])))
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "131047"
    assert "24-hour window" in message.error_text


def test_a_status_before_the_send_is_recorded_is_kept_for_later(client, channel):
    response = post(client, channel, payloads.wa_envelope(payloads.wa_value(
        statuses=[payloads.wa_status("wamid.EARLY", "delivered")])))
    assert response.status_code == 200
    assert EarlyStatus.objects.get().status == "delivered"


def test_another_phone_numbers_changes_are_ignored(client, channel):
    value = payloads.wa_value(contacts=[payloads.wa_contact()], messages=[payloads.wa_text()])
    value["metadata"]["phone_number_id"] = "999"
    assert post(client, channel, payloads.wa_envelope(value)).status_code == 200
    assert not Message.objects.exists()


@pytest.mark.parametrize("payload", [
    {"object": "page", "entry": []},
    {"object": "whatsapp_business_account", "entry": [{"changes": [
        {"field": "messages", "value": {"messages": [{"id": "x"}]}}]}]},
])
def test_malformed_webhooks_are_400_and_store_nothing(client, channel, payload):
    assert post(client, channel, payload).status_code == 400
    assert not Message.objects.exists()


def test_a_template_quick_reply_is_a_button_press(client, channel):
    reply = {"from": "79161234567", "id": "wamid.BTN", "timestamp": "1795000200",
             "type": "button", "context": {"from": "74951234567", "id": "wamid.REMINDER"},
             "button": {"payload": "appt:58213:confirm", "text": "Подтверждаю"}}
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[reply])))
    message = Message.objects.get()
    assert message.kind == "button" and message.body == "Подтверждаю"
    assert message.payload["replied_to"] == "wamid.REMINDER"


def test_a_contact_first_known_by_bsuid_gets_its_phone_later(client, channel):
    patient = PatientFactory(clinic=channel.clinic, phone="+79161234567")
    message = payloads.wa_text("wamid.1")
    message.pop("from")
    message["from_user_id"] = "US.13491208655302741918"
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[{"profile": {"name": "Мария"}, "user_id": "US.13491208655302741918"}],
        messages=[message])))
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text("wamid.2")])))
    contact = ContactIdentity.objects.get()
    assert contact.phone == "+79161234567" and contact.patient == patient


def test_a_message_redelivered_days_later_does_not_reopen_the_24_hour_window(client, channel):
    import time

    from inbox.models import Conversation

    three_days_ago = str(int(time.time()) - 3 * 24 * 3600)
    post(client, channel, payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()],
        messages=[payloads.wa_text(timestamp=three_days_ago)])))
    conversation = Conversation.objects.get()
    assert int(conversation.last_patient_message_at.timestamp()) == int(three_days_ago)
