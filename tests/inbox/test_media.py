import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from inbox.fake_providers import TINY_PNG
from inbox.models import Message
from inbox.services.media import media_fetch
from tests.inbox import payloads
from tests.inbox.factories import TelegramChannelFactory, WhatsAppChannelFactory
from tests.workers import queued_tasks


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _telegram_photo(client, clinic, django_capture_on_commit_callbacks):
    channel = TelegramChannelFactory(clinic=clinic)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("hook-telegram", args=[channel.key]),
                    json.dumps(payloads.tg_photo()), content_type="application/json",
                    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)
    # Queued after commit, not done in the request: the file fetch, the hand-out and the reply
    # timer's breach check at its due time.
    assert len(queued_tasks(callbacks)) == 3
    return Message.objects.get()


def test_a_telegram_photo_is_fetched_into_storage(fake, client, clinic, now,
                                                  django_capture_on_commit_callbacks):
    fake.add_file("AgAD-large", TINY_PNG, file_path="photos/file_1.png", mime="image/png")
    message = _telegram_photo(client, clinic, django_capture_on_commit_callbacks)
    assert media_fetch(message_id=message.pk, now=now) is None
    message.refresh_from_db()
    stored = message.attachments[0]
    assert stored["mime"] == "image/png" and stored["size"] == len(TINY_PNG)
    with default_storage.open(stored["file"]) as file:
        assert file.read() == TINY_PNG
    assert media_fetch(message_id=message.pk, now=now) is None  # nothing left to do
    assert len([r for r in fake.requests if r.api_method == "getFile"]) == 1


def test_a_file_over_the_limit_is_refused_with_a_reason(fake, settings, client, clinic, now,
                                                        django_capture_on_commit_callbacks):
    settings.MEDIA_MAX_BYTES = 10
    fake.add_file("AgAD-large", TINY_PNG, file_path="photos/file_1.png", mime="image/png")
    message = _telegram_photo(client, clinic, django_capture_on_commit_callbacks)
    media_fetch(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert "larger than" in message.attachments[0]["error"]
    assert "file" not in message.attachments[0]


def test_a_file_type_outside_the_list_is_refused(fake, client, clinic, now,
                                                 django_capture_on_commit_callbacks):
    fake.add_file("AgAD-large", b"MZ\x90\x00", file_path="documents/setup.exe",
                  mime="application/x-msdownload")
    message = _telegram_photo(client, clinic, django_capture_on_commit_callbacks)
    media_fetch(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert "are not accepted" in message.attachments[0]["error"]


def test_a_temporary_failure_is_retried(fake, settings, client, clinic, now,
                                        django_capture_on_commit_callbacks):
    message = _telegram_photo(client, clinic, django_capture_on_commit_callbacks)
    fake.add_file("AgAD-large", TINY_PNG, file_path="photos/file_1.png", mime="image/png")
    settings.TELEGRAM_API_BASE = "http://127.0.0.1:9"  # nothing listens: a network error
    assert media_fetch(message_id=message.pk, now=now) == settings.MEDIA_RETRY_SECONDS
    settings.TELEGRAM_API_BASE = fake.base_url
    assert media_fetch(message_id=message.pk, now=now) is None
    message.refresh_from_db()
    assert message.attachments[0]["file"] and message.attachments[0]["attempts"] == 1


def test_a_whatsapp_image_is_looked_up_and_downloaded_with_the_token(
        fake, client, clinic, now, django_capture_on_commit_callbacks):
    channel = WhatsAppChannelFactory(clinic=clinic)
    fake.add_media("1048569706", TINY_PNG, mime="image/png")
    image = {"from": "79161234567", "id": "wamid.IMG", "timestamp": "1795000000",
             "type": "image", "image": {"caption": "Снимок", "mime_type": "image/png",
                                        "sha256": "x", "id": "1048569706"}}
    raw = payloads.body(payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[image])))
    with django_capture_on_commit_callbacks():
        client.post(reverse("hook-whatsapp", args=[channel.key]), raw,
                    content_type="application/json",
                    HTTP_X_HUB_SIGNATURE_256=payloads.wa_signature(raw))
    message = Message.objects.get()
    media_fetch(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert message.kind == "image" and message.body == "Снимок"
    assert message.attachments[0]["size"] == len(TINY_PNG)
    downloads = [r for r in fake.requests if r.provider == "whatsapp"]
    assert all(r.headers["Authorization"] == "Bearer EAAtest" for r in downloads)
