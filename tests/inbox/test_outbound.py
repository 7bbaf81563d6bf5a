from datetime import timedelta

import pytest

from inbox.models import EarlyStatus, Message
from inbox.services.outbound import (
    SendRefused,
    early_statuses_apply,
    message_deliver,
    message_send,
    outbox_sweep,
)
from tests.workers import queued_tasks


def send(conversation, administrator, now, text="Здравствуйте, Мария! Чем помочь?", **kwargs):
    return message_send(conversation=conversation, author=administrator, text=text, now=now,
                        **kwargs)


def test_a_reply_is_written_as_queued_and_handed_to_celery_after_commit(
        telegram_conversation, administrator, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        message = send(telegram_conversation, administrator, now)
    assert message.status == "queued" and message.direction == "out"
    assert len(queued_tasks(callbacks)) == 1


def test_delivery_sends_once_and_records_the_provider_id(
        fake, telegram_conversation, administrator, now):
    message = send(telegram_conversation, administrator, now)
    assert message_deliver(message_id=message.pk, now=now).sent
    assert not message_deliver(message_id=message.pk, now=now).sent  # a second run: nothing
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id.startswith("5123456789:")
    sent = fake.sent("telegram")
    assert len(sent) == 1
    assert sent[0].json == {"chat_id": 5123456789, "text": "Здравствуйте, Мария! Чем помочь?"}


def test_buttons_go_out_as_an_inline_keyboard(fake, telegram_conversation, administrator, now):
    message = send(telegram_conversation, administrator, now, text="Подтвердите запись",
                   buttons=[("appt:1:confirm", "Подтверждаю"), ("appt:1:cancel", "Отменить")])
    message_deliver(message_id=message.pk, now=now)
    keyboard = fake.sent("telegram")[0].json["reply_markup"]["inline_keyboard"]
    assert keyboard == [[{"text": "Подтверждаю", "callback_data": "appt:1:confirm"}],
                        [{"text": "Отменить", "callback_data": "appt:1:cancel"}]]


def test_telegram_429_is_retried_after_retry_after(fake, telegram_conversation, administrator,
                                                   now):
    fake.fail_next("telegram", status=429, retry_after=7)
    message = send(telegram_conversation, administrator, now)
    result = message_deliver(message_id=message.pk, now=now)
    assert result.retry_in == 7
    message.refresh_from_db()
    assert message.status == "queued" and message.next_attempt_at == now + timedelta(seconds=7)
    assert not message_deliver(message_id=message.pk, now=now + timedelta(seconds=3)).sent
    assert message_deliver(message_id=message.pk, now=now + timedelta(seconds=7)).sent
    assert len(fake.sent("telegram")) == 1


def test_a_blocked_bot_fails_for_good_with_a_human_reason(fake, telegram_conversation,
                                                          administrator, now):
    fake.fail_next("telegram", status=403)
    message = send(telegram_conversation, administrator, now)
    assert message_deliver(message_id=message.pk, now=now).retry_in is None
    message.refresh_from_db()
    assert message.status == "failed" and message.error_text == "The patient blocked the bot"


def test_the_reason_is_recorded_in_the_clinics_language(fake, telegram_conversation,
                                                        administrator, now):
    from django.utils import translation

    fake.fail_next("telegram", status=403)
    message = send(telegram_conversation, administrator, now)
    with translation.override("ru"):
        message_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert message.error_text == "Пациент заблокировал бота"


def test_server_errors_back_off_and_give_up_after_the_limit(fake, settings, telegram_conversation,
                                                            administrator, now):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    fake.fail_next("telegram", status=502, count=3)
    message = send(telegram_conversation, administrator, now)
    delays = []
    at = now
    for _ in range(3):
        result = message_deliver(message_id=message.pk, now=at)
        if result.retry_in:
            delays.append(result.retry_in)
            at += timedelta(seconds=result.retry_in)
    assert delays == [5, 10]
    message.refresh_from_db()
    assert message.status == "failed" and message.error_text.startswith("Gave up after 3")


def test_whatsapp_free_text_inside_the_window(fake, whatsapp_conversation, administrator, now):
    message = send(whatsapp_conversation, administrator, now)
    message_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id.startswith("wamid.")
    request = fake.sent("whatsapp")[0]
    assert request.json["type"] == "text" and request.json["to"] == "79161234567"
    assert request.headers["Authorization"] == "Bearer EAAtest"


def test_whatsapp_outside_the_window_needs_a_template(fake, whatsapp_conversation,
                                                      administrator, now):
    later = now + timedelta(hours=25)
    with pytest.raises(SendRefused, match="24 hours"):
        send(whatsapp_conversation, administrator, later)
    message = message_send(conversation=whatsapp_conversation, author=administrator, now=later,
                           template="visit_reminder", template_params=["Мария", "15:30"])
    message_deliver(message_id=message.pk, now=later)
    template = fake.sent("whatsapp")[0].json["template"]
    assert template["name"] == "visit_reminder"
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["Мария", "15:30"]


def test_an_unknown_template_is_refused(whatsapp_conversation, administrator, now):
    with pytest.raises(SendRefused):
        message_send(conversation=whatsapp_conversation, author=administrator, now=now,
                     template="promo_blast")


def test_whatsapp_131047_fails_with_the_window_reason(fake, whatsapp_conversation,
                                                      administrator, now):
    fake.fail_next("whatsapp", status=400, code=131047)
    message = send(whatsapp_conversation, administrator, now)
    message_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "131047"
    assert "24-hour window" in message.error_text


def test_a_status_that_came_before_the_send_is_applied_when_the_send_is_recorded(
        fake, whatsapp_conversation, administrator, now):
    message = send(whatsapp_conversation, administrator, now)
    message_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    wamid = message.provider_message_id
    Message.objects.filter(pk=message.pk).update(status="sent")
    EarlyStatus.objects.create(channel=message.channel, provider_message_id=wamid,
                               status="delivered", at=now)
    assert early_statuses_apply(channel_id=message.channel_id) == 1
    message.refresh_from_db()
    assert message.status == "delivered" and not EarlyStatus.objects.exists()


def test_the_sweep_requeues_a_delivery_whose_worker_died(fake, telegram_conversation,
                                                        administrator, now):
    message = send(telegram_conversation, administrator, now)
    Message.objects.filter(pk=message.pk).update(status="sending", claimed_at=now, attempts=1)
    assert not message_deliver(message_id=message.pk, now=now).sent  # claimed by the dead one
    later = now + timedelta(minutes=5)
    assert outbox_sweep(now=later) == 1
    assert message_deliver(message_id=message.pk, now=later).sent
    assert len(fake.sent("telegram")) == 1


def test_an_empty_message_is_refused(telegram_conversation, administrator, now):
    with pytest.raises(SendRefused):
        send(telegram_conversation, administrator, now, text="   ")


def test_the_api_lists_the_thread_and_sends_a_reply(telegram_conversation, administrator,
                                                     django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(administrator)
    base = f"/api/v1/conversations/{telegram_conversation.pk}/"
    assert api.get("/api/v1/conversations/").json()["results"][0]["id"] == \
        telegram_conversation.pk
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(base + "messages/", {"text": "Добрый день! Чем помочь?"},
                            format="json")
    assert response.status_code == 201 and response.json()["status"] == "queued"
    assert len(queued_tasks(callbacks)) == 1
    thread = api.get(base + "messages/").json()["results"]
    assert [m["body"] for m in thread] == ["Добрый день! Чем помочь?"]
    assert api.post(base + "messages/", {"text": ""}, format="json").status_code == 409


def test_the_api_refuses_free_text_outside_the_whatsapp_window(whatsapp_conversation,
                                                               administrator):
    from rest_framework.test import APIClient

    whatsapp_conversation.last_patient_message_at = None
    whatsapp_conversation.save()
    api = APIClient()
    api.force_authenticate(administrator)
    response = api.post(f"/api/v1/conversations/{whatsapp_conversation.pk}/messages/",
                        {"text": "Здравствуйте"}, format="json")
    assert response.status_code == 409 and "24" in response.json()["detail"]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inbox.fake_providers import TINY_PNG

    return SimpleUploadedFile("снимок.png", TINY_PNG, content_type="image/png")


def test_a_photo_with_a_caption_goes_to_telegram_as_an_upload(
        fake, media_root, telegram_conversation, administrator, now):
    message = send(telegram_conversation, administrator, now, text="Ваш снимок", file=_png())
    assert message.kind == "image"
    assert message_deliver(message_id=message.pk, now=now).sent
    request = fake.sent("telegram")[0]
    assert request.api_method == "sendPhoto" and request.json["caption"] == "Ваш снимок"


def test_a_document_goes_to_whatsapp_after_an_upload(fake, media_root, whatsapp_conversation,
                                                     administrator, now):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    message = send(whatsapp_conversation, administrator, now, text="План лечения", file=pdf)
    assert message_deliver(message_id=message.pk, now=now).sent
    upload = next(r for r in fake.requests if r.api_method == "media-upload")
    body = fake.sent("whatsapp")[0].json
    assert body["type"] == "document" and body["document"]["filename"] == "plan.pdf"
    assert body["document"]["id"] and upload.answered_status == 200


def test_an_executable_or_a_huge_file_is_refused(media_root, telegram_conversation,
                                                 administrator, now, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(SendRefused):
        send(telegram_conversation, administrator, now, file=exe)
    settings.OUTBOUND_FILE_MAX_BYTES = 10
    with pytest.raises(SendRefused):
        send(telegram_conversation, administrator, now, file=_png())
    assert not Message.objects.exists()


def test_the_api_accepts_a_file(media_root, telegram_conversation, administrator):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(administrator)
    response = api.post(f"/api/v1/conversations/{telegram_conversation.pk}/messages/",
                        {"text": "Снимок", "file": _png()}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "image"


def test_a_worker_that_outlived_its_claim_cannot_record_a_second_send(
        fake, telegram_conversation, administrator, now):
    message = send(telegram_conversation, administrator, now)
    # Worker 1 claimed it at `now` and hangs; the sweep hands it to worker 2, which sends.
    Message.objects.filter(pk=message.pk).update(status="sending", claimed_at=now, attempts=1)
    later = now + timedelta(minutes=5)
    outbox_sweep(now=later)
    assert message_deliver(message_id=message.pk, now=later).sent
    first_id = Message.objects.get(pk=message.pk).provider_message_id
    # Worker 1 wakes up: its claim token (`now`) no longer matches anything.
    assert not Message.objects.filter(pk=message.pk, status="sending", claimed_at=now).exists()
    assert Message.objects.get(pk=message.pk).provider_message_id == first_id


def test_an_unexpected_provider_answer_fails_instead_of_looping(
        fake, telegram_conversation, administrator, now, monkeypatch):
    from inbox.channels.telegram import TelegramAdapter

    def broken(self, channel, outbound):
        raise KeyError("chat")

    monkeypatch.setattr(TelegramAdapter, "send", broken)
    message = send(telegram_conversation, administrator, now)
    assert message_deliver(message_id=message.pk, now=now).retry_in is None
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "unknown"
    assert outbox_sweep(now=now + timedelta(hours=1)) == 0


def test_a_message_interrupted_too_often_is_failed_by_the_sweep(
        telegram_conversation, administrator, now, settings):
    message = send(telegram_conversation, administrator, now)
    Message.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=now, attempts=settings.OUTBOX_MAX_ATTEMPTS)
    assert outbox_sweep(now=now + timedelta(minutes=5)) == 0
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "abandoned"


def test_a_long_caption_with_a_file_is_refused(media_root, telegram_conversation,
                                               administrator, now):
    with pytest.raises(SendRefused):
        send(telegram_conversation, administrator, now, text="я" * 1025, file=_png())


def test_a_template_without_parameters_sends_no_empty_component(
        fake, whatsapp_conversation, administrator, now):
    channel = whatsapp_conversation.channel
    channel.whatsapp_templates = [{"name": "hello", "language": "ru"}]
    channel.save()
    message = message_send(conversation=whatsapp_conversation, author=administrator,
                           now=now + timedelta(days=2), template="hello")
    message_deliver(message_id=message.pk, now=now + timedelta(days=2))
    assert "components" not in fake.sent("whatsapp")[0].json["template"]
