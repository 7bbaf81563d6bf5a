import json

import pytest
from django.urls import reverse

from inbox.models import ContactIdentity, Conversation, Message, MessageRevision
from tests.clinic.factories import PatientFactory
from tests.inbox import payloads
from tests.inbox.factories import TelegramChannelFactory
from tests.workers import queued_tasks


@pytest.fixture
def channel(clinic):
    return TelegramChannelFactory(clinic=clinic)


def post(client, channel, payload, secret=None, **extra):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret or channel.webhook_secret, **extra}
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(reverse("hook-telegram", args=[channel.key]), raw,
                       content_type="application/json", **headers)


def test_a_patient_message_is_stored_with_contact_and_conversation(client, channel):
    response = post(client, channel, payloads.tg_message(text="Хочу записаться на чистку"))
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.body == "Хочу записаться на чистку"
    assert message.direction == "in" and message.status == "received"
    assert message.provider_message_id == f"{payloads.CHAT_ID}:42"
    contact = ContactIdentity.objects.get()
    assert contact.external_id == str(payloads.CHAT_ID)  # 64-bit chat ids survive
    assert contact.display_name == "Мария Иванова" and contact.username == "maria_iv"
    conversation = Conversation.objects.get()
    assert conversation.clinic == channel.clinic and conversation.status == "open"
    assert conversation.last_patient_message_at is not None


def test_the_same_update_delivered_twice_is_stored_once(client, channel):
    update = payloads.tg_message()
    assert post(client, channel, update).json()["stored"] == 1
    assert post(client, channel, update).json()["duplicates"] == 1
    assert Message.objects.count() == 1


def test_message_ids_are_per_chat_so_two_chats_do_not_collide(client, channel):
    post(client, channel, payloads.tg_message(update_id=1, message_id=7, chat_id=111))
    post(client, channel, payloads.tg_message(update_id=2, message_id=7, chat_id=222))
    assert Message.objects.count() == 2 and Conversation.objects.count() == 2


@pytest.mark.parametrize("secret", ["wrong", ""])
def test_a_forged_secret_is_rejected_and_nothing_is_stored(client, channel, secret):
    response = client.post(reverse("hook-telegram", args=[channel.key]),
                           json.dumps(payloads.tg_message()), content_type="application/json",
                           HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret)
    assert response.status_code == 403
    assert not Message.objects.exists() and not ContactIdentity.objects.exists()


def test_an_unknown_channel_key_is_404(client, db):
    response = client.post(reverse("hook-telegram", args=["nope"]), "{}",
                           content_type="application/json")
    assert response.status_code == 404


@pytest.mark.parametrize(("raw", "reason"), [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "update_id"),
    (json.dumps({"update_id": 5, "message": {"text": "no chat"}}).encode(), "malformed"),
])
def test_malformed_payloads_are_400_with_a_reason_and_store_nothing(client, channel, raw, reason,
                                                                    caplog):
    response = post(client, channel, raw)
    assert response.status_code == 400 and reason in response.json()["error"]
    assert not Message.objects.exists()
    assert any("rejected payload" in r.message for r in caplog.records)


def test_an_oversized_body_is_413(client, channel):
    update = payloads.tg_message(text="я" * 600_000)
    assert post(client, channel, update).status_code == 413
    assert not Message.objects.exists()


def test_a_wrong_content_type_is_415(client, channel):
    response = client.post(reverse("hook-telegram", args=[channel.key]), "update_id=1",
                           content_type="application/x-www-form-urlencoded",
                           HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)
    assert response.status_code == 415


def test_a_known_but_unsupported_update_is_acknowledged_and_ignored(client, channel):
    update = {"update_id": 9, "my_chat_member": {"chat": payloads.tg_chat(), "date": 1}}
    assert post(client, channel, update).status_code == 200
    assert not Message.objects.exists()


def test_patient_html_is_stored_verbatim(client, channel):
    post(client, channel, payloads.tg_message(text="<script>alert('x')</script>"))
    assert Message.objects.get().body == "<script>alert('x')</script>"


def test_a_photo_keeps_the_largest_size_and_the_caption(client, channel):
    post(client, channel, payloads.tg_photo())
    message = Message.objects.get()
    assert message.kind == "image" and message.body == "Вот снимок зуба"
    assert message.attachments[0]["provider_ref"] == "AgAD-large"
    assert message.attachments[0]["size"] == 98000


def test_an_edit_keeps_the_old_text_as_a_revision(client, channel):
    post(client, channel, payloads.tg_message(update_id=1, text="Запишите на вторник"))
    post(client, channel, payloads.tg_edit(2, 42, "Запишите на среду", edit_date=1_795_000_060))
    message = Message.objects.get()
    assert message.body == "Запишите на среду" and message.edited_at is not None
    assert list(message.revisions.values_list("body", flat=True)) == ["Запишите на вторник"]


def test_an_edit_arriving_before_its_original_is_not_overwritten(client, channel):
    post(client, channel, payloads.tg_edit(2, 42, "Запишите на среду", edit_date=1_795_000_060))
    post(client, channel, payloads.tg_message(update_id=1, text="Запишите на вторник"))
    message = Message.objects.get()
    assert message.body == "Запишите на среду"
    assert MessageRevision.objects.get().body == "Запишите на вторник"


def test_an_older_edit_arriving_late_does_not_replace_a_newer_one(client, channel):
    post(client, channel, payloads.tg_message(update_id=1, text="v1"))
    post(client, channel, payloads.tg_edit(3, 42, "v3", edit_date=1_795_000_300))
    post(client, channel, payloads.tg_edit(2, 42, "v2", edit_date=1_795_000_200))
    message = Message.objects.get()
    assert message.body == "v3"
    assert set(message.revisions.values_list("body", flat=True)) == {"v1", "v2"}


def test_sharing_ones_own_contact_links_the_patient(client, channel):
    patient = PatientFactory(clinic=channel.clinic, phone="+79161234567")
    post(client, channel, payloads.tg_contact(phone="79161234567"))
    contact = ContactIdentity.objects.get()
    assert contact.phone == "+79161234567" and contact.patient == patient
    assert Conversation.objects.get().patient == patient


def test_sharing_someone_elses_contact_links_nobody(client, channel):
    PatientFactory(clinic=channel.clinic, phone="+79161234567")
    post(client, channel, payloads.tg_contact(phone="79161234567", user_id=999))
    contact = ContactIdentity.objects.get()
    assert contact.patient is None and contact.phone == ""
    assert Message.objects.get().kind == "contact"


def test_a_shared_phone_of_several_patients_only_suggests(client, channel):
    mother = PatientFactory(clinic=channel.clinic, phone="+79161234567", first_name="Анна")
    son = PatientFactory(clinic=channel.clinic, phone="+79161234567", first_name="Иван")
    post(client, channel, payloads.tg_contact(phone="+7 916 123-45-67"))
    contact = ContactIdentity.objects.get()
    assert contact.patient is None
    assert set(contact.suggested_patients.all()) == {mother, son}


def test_a_patient_of_another_clinic_is_never_linked(client, channel, other_clinic):
    PatientFactory(clinic=other_clinic, phone="+79161234567")
    post(client, channel, payloads.tg_contact())
    assert ContactIdentity.objects.get().patient is None


def test_a_button_press_is_stored_once_and_queued_for_an_answer(
        client, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        post(client, channel, payloads.tg_callback())
        post(client, channel, payloads.tg_callback())
    message = Message.objects.get()
    assert message.kind == "button" and message.body == "✅ Подтверждаю"
    assert message.payload["data"] == "appt:58213:confirm"
    assert message.payload["replied_to"] == f"{payloads.CHAT_ID}:77"
    # The answer and the hand-out; the duplicate queues nothing.
    assert len(queued_tasks(callbacks)) == 2


def test_a_resolved_conversation_is_reopened_by_a_new_message(client, channel):
    post(client, channel, payloads.tg_message(update_id=1, message_id=1))
    Conversation.objects.update(status="resolved")
    post(client, channel, payloads.tg_message(update_id=2, message_id=2))
    assert Conversation.objects.get().status == "open"


def test_the_administrator_confirms_a_suggestion(client, channel):
    from inbox.services.inbound import contact_patient_link

    mother = PatientFactory(clinic=channel.clinic, phone="+79161234567", first_name="Анна")
    PatientFactory(clinic=channel.clinic, phone="+79161234567", first_name="Иван")
    post(client, channel, payloads.tg_contact(phone="+79161234567"))
    contact = ContactIdentity.objects.get()
    contact_patient_link(contact=contact, patient=mother)
    assert Conversation.objects.get().patient == mother
    assert not contact.suggested_patients.exists()


def test_a_new_patient_is_created_from_the_contact(client, channel):
    from inbox.services.inbound import contact_patient_create

    post(client, channel, payloads.tg_contact(phone="79031112233"))
    patient = contact_patient_create(contact=ContactIdentity.objects.get())
    assert (patient.first_name, patient.last_name, patient.phone) == (
        "Мария", "Иванова", "+79031112233")
    assert Conversation.objects.get().patient == patient


def test_a_patient_of_another_clinic_cannot_be_linked(client, channel, other_clinic):
    from inbox.services.inbound import contact_patient_link

    post(client, channel, payloads.tg_message())
    with pytest.raises(ValueError):
        contact_patient_link(contact=ContactIdentity.objects.get(),
                             patient=PatientFactory(clinic=other_clinic))


def test_two_edits_before_the_original_keep_all_three_texts(client, channel):
    post(client, channel, payloads.tg_edit(2, 42, "B", edit_date=1_795_000_100))
    post(client, channel, payloads.tg_edit(3, 42, "C", edit_date=1_795_000_200))
    post(client, channel, payloads.tg_message(update_id=1, text="A"))
    message = Message.objects.get()
    assert message.body == "C"
    assert list(message.revisions.order_by("valid_from").values_list("body", flat=True)) == [
        "A", "B"]


def test_a_late_older_edit_does_not_undo_a_newer_edit_back_to_the_original(client, channel):
    post(client, channel, payloads.tg_message(update_id=1, text="A"))
    post(client, channel, payloads.tg_edit(3, 42, "A", edit_date=1_795_000_200))
    post(client, channel, payloads.tg_edit(2, 42, "B", edit_date=1_795_000_100))
    assert Message.objects.get().body == "A"


def test_a_caption_edit_arriving_first_does_not_lose_the_photo(
        client, channel, django_capture_on_commit_callbacks):
    photo = payloads.tg_photo()
    edit = {"update_id": 1, "edited_message": {**photo["message"], "caption": "Новая подпись",
                                               "edit_date": 1_795_000_100}}
    post(client, channel, edit)
    with django_capture_on_commit_callbacks() as callbacks:
        post(client, channel, photo)
    message = Message.objects.get()
    assert message.kind == "image" and message.body == "Новая подпись"
    assert message.attachments[0]["provider_ref"] == "AgAD-large"
    assert len(queued_tasks(callbacks)) == 1  # the file is fetched after all


def test_a_forged_button_press_is_stored_but_not_verified(client, channel):
    post(client, channel, payloads.tg_message())
    conversation = Conversation.objects.get()
    Message.objects.create(conversation=conversation, channel=channel, direction="out",
                           body="Подтвердите запись", status="sent",
                           provider_message_id=f"{payloads.CHAT_ID}:77",
                           payload={"buttons": [["appt:58213:confirm", "Подтверждаю"]]},
                           created_at=conversation.created_at)
    post(client, channel, payloads.tg_callback(update_id=20, data="appt:58213:confirm"))
    forged = payloads.tg_callback(update_id=21, data="appt:99999:cancel")
    forged["callback_query"]["id"] = "other"
    post(client, channel, forged)
    presses = {m.payload["data"]: m.payload["verified"]
               for m in Message.objects.filter(kind="button")}
    assert presses == {"appt:58213:confirm": True, "appt:99999:cancel": False}
