"""Outages: a worker killed mid-delivery, Redis down while patients write and staff reply."""

import json
import shutil
import signal
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from clinic import clock
from inbox.models import ContactIdentity, Conversation, Message
from inbox.services.outbound import message_send, outbox_sweep
from tests.inbox import payloads
from tests.inbox.factories import TelegramChannelFactory
from tests.workers import (
    background,
    celery_worker,
    free_port,
    kill,
    wait_for,
    worker_database_url,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _conversation(clinic):
    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel,
                                             external_id=str(payloads.CHAT_ID))
    return Conversation.objects.create(clinic=clinic, channel=channel, contact=contact,
                                       last_patient_message_at=clock.now())


def _status(message: Message) -> str:
    message.refresh_from_db()
    return message.status


def test_a_worker_killed_mid_delivery_delivers_once_after_restart(
        require_postgres, require_redis, fake, clinic, administrator):
    conversation = _conversation(clinic)
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1",
           "TELEGRAM_API_BASE": fake.base_url}
    # The provider stalls, then refuses: the kill lands before it accepts anything.
    fake.delay_next("telegram", 4)
    fake.fail_next("telegram", status=503)
    with celery_worker(env, "outbound") as first:
        message = message_send(conversation=conversation, author=administrator,
                               text="Здравствуйте! Запись подтверждаем?", now=clock.now())
        assert wait_for(lambda: _status(message) == "sending"), first["output"]
        time.sleep(1)  # inside the provider call now
        kill(first["process"], signal.SIGKILL)
    assert _status(message) == "sending"  # the dead worker's claim
    assert wait_for(lambda: any(r.api_method == "sendMessage" for r in fake.requests), 10)

    with celery_worker(env, "outbound") as second:
        later = clock.now() + timedelta(seconds=settings.OUTBOX_STALE_SECONDS + 1)
        assert outbox_sweep(now=later) == 1  # what beat's sweep does once the claim is stale
        assert wait_for(lambda: _status(message) == "sent"), second["output"][-3000:]
    message.refresh_from_db()
    assert message.attempts == 2 and message.provider_message_id
    assert len(fake.sent("telegram")) == 1


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_with_redis_down_webhooks_are_stored_and_replies_wait_until_it_returns(
        require_postgres, require_redis, fake, clinic, administrator, tmp_path):
    conversation = _conversation(clinic)
    channel = conversation.channel
    redis_port, web_port = free_port(), free_port()
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DEBUG": "1", "TELEGRAM_API_BASE": fake.base_url, "VAR_DIR": str(tmp_path),
           "OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_REQUEUE_AFTER_SECONDS": "1"}
    token = Token.objects.create(user=administrator).key
    web = f"http://127.0.0.1:{web_port}"
    with background([sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}",
                     "--noreload"], env) as server:
        assert wait_for(lambda: _answers(f"{web}/healthz/")), server["output"]
        # Redis is down: a patient writes, an administrator replies.
        hook = httpx.post(f"{web}/hooks/telegram/{channel.key}/",
                          content=json.dumps(payloads.tg_message(text="Вы работаете сегодня?")),
                          headers={"Content-Type": "application/json",
                                   "X-Telegram-Bot-Api-Secret-Token": channel.webhook_secret})
        assert hook.status_code == 200
        assert Message.objects.filter(body="Вы работаете сегодня?").exists()
        reply = httpx.post(f"{web}/api/v1/conversations/{conversation.pk}/messages/",
                           json={"text": "Да, до 20:00. Записать вас?"},
                           headers={"Authorization": f"Token {token}"})
        assert reply.status_code == 201, reply.text
        message = Message.objects.get(pk=reply.json()["id"])
        assert message.status == "queued"

        # Redis returns; nobody touches the message: beat's sweep and the worker deliver it.
        with background(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no"], {}), \
                celery_worker(env, "default,outbound") as worker, \
                background([sys.executable, "-m", "celery", "-A", "clinic", "beat",
                            "--loglevel", "INFO"], env):
            delivered = wait_for(lambda: _status(message) == "sent", 40)
        assert delivered, worker["output"][-3000:]
    assert len(fake.sent("telegram")) == 1


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
