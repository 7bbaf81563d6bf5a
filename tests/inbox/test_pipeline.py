"""The whole pipeline on real Postgres, real Redis and a real Celery worker subprocess."""

import json
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinic import clock
from inbox.models import Conversation, Message
from inbox.services.outbound import message_send
from tests.inbox import payloads
from tests.inbox.factories import TelegramChannelFactory, WhatsAppChannelFactory
from tests.workers import celery_worker, wait_for, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _post_concurrently(url: str, raw: bytes, headers: dict, threads: int = 8) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(threads)

    def deliver() -> None:
        try:
            barrier.wait()
            response = Client().post(url, raw, content_type="application/json", **headers)
            statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=deliver) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


def test_the_same_telegram_update_from_8_threads_is_stored_once(require_postgres, clinic):
    channel = TelegramChannelFactory(clinic=clinic)
    statuses = _post_concurrently(
        reverse("hook-telegram", args=[channel.key]), json.dumps(payloads.tg_message()).encode(),
        {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": channel.webhook_secret})
    assert statuses == [200] * 8
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


def test_the_same_whatsapp_message_from_8_threads_is_stored_once(require_postgres, clinic):
    channel = WhatsAppChannelFactory(clinic=clinic)
    raw = payloads.body(payloads.wa_envelope(payloads.wa_value(
        contacts=[payloads.wa_contact()], messages=[payloads.wa_text()])))
    statuses = _post_concurrently(reverse("hook-whatsapp", args=[channel.key]), raw,
                                  {"HTTP_X_HUB_SIGNATURE_256": payloads.wa_signature(raw)})
    assert statuses == [200] * 8
    assert Message.objects.count() == 1


@pytest.fixture
def worker(require_postgres, require_redis, fake):
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1",
           "TELEGRAM_API_BASE": fake.base_url, "WHATSAPP_API_BASE": fake.base_url}
    with celery_worker(env, "default,inbound,outbound") as info:
        yield info


def test_a_reply_reaches_the_patient_through_the_worker_and_a_429_is_waited_out(
        worker, fake, client, open_around_the_clock, administrator):
    clinic = open_around_the_clock
    channel = TelegramChannelFactory(clinic=clinic)
    client.post(reverse("hook-telegram", args=[channel.key]),
                json.dumps(payloads.tg_message()), content_type="application/json",
                HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)
    conversation = Conversation.objects.get()
    fake.fail_next("telegram", status=429, retry_after=1)
    message = message_send(conversation=conversation, author=administrator,
                           text="Здравствуйте, Мария! Когда вам удобно прийти?", now=clock.now())

    def delivered() -> bool:
        message.refresh_from_db()
        return message.status == "sent"

    assert wait_for(delivered), worker["output"][-3000:]
    attempts = [r for r in fake.requests if r.api_method == "sendMessage"]
    assert [r.answered_status for r in attempts] == [429, 200]
    assert len(fake.sent("telegram")) == 1


def test_a_button_press_is_answered_exactly_once(worker, fake, client, clinic):
    channel = TelegramChannelFactory(clinic=clinic)
    for _ in range(2):
        client.post(reverse("hook-telegram", args=[channel.key]),
                    json.dumps(payloads.tg_callback()), content_type="application/json",
                    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)

    def answered() -> bool:
        return any(r.api_method == "answerCallbackQuery" for r in fake.requests)

    assert wait_for(answered), worker["output"][-3000:]
    wait_for(lambda: False, seconds=1)  # give a duplicate the chance to show up
    answers = [r for r in fake.requests if r.api_method == "answerCallbackQuery"]
    assert len(answers) == 1
    assert answers[0].json["callback_query_id"] == "4382bfdwdsb323b2d9"
