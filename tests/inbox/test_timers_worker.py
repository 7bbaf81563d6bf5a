"""Response timers with a real Celery worker on real Redis and Postgres, rules in seconds."""

import json
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from inbox.models import ResponseTimer
from tests.inbox import payloads
from tests.inbox.factories import TelegramChannelFactory
from tests.workers import celery_worker, wait_for, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seconds_for_minutes(settings):
    """A rule's minute lasts a second: the 5-minute first reply is due 5 s after arrival."""
    settings.RESPONSE_TIMER_UNIT_SECONDS = 1


@pytest.fixture
def worker_env(require_postgres, require_redis):
    return {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL,
            "DEBUG": "1", "TIMER_SWEEP_TICK_SECONDS": "1"}


def patient_writes(client, channel) -> ResponseTimer:
    update = payloads.tg_message(date=int(time.time()))  # written just now
    client.post(reverse("hook-telegram", args=[channel.key]), json.dumps(update),
                content_type="application/json",
                HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)
    return ResponseTimer.objects.get()


def breached(timer: ResponseTimer) -> bool:
    timer.refresh_from_db()
    return timer.breached_at is not None


def test_a_timer_breaches_at_its_due_time_through_the_worker(
        worker_env, seconds_for_minutes, client, open_around_the_clock):
    channel = TelegramChannelFactory(clinic=open_around_the_clock)
    with celery_worker(worker_env, "inbound") as worker:
        timer = patient_writes(client, channel)
        assert timer.eta_queued_at is not None
        assert wait_for(lambda: breached(timer), seconds=30), worker["output"][-3000:]
    # The promise: within 2 s of the due time (bench/timers.py measures the lag).
    assert timedelta(0) <= timer.breached_at - timer.due_at < timedelta(seconds=2)


def test_a_lost_task_is_covered_by_the_sweep_after_the_worker_restarts(
        worker_env, seconds_for_minutes, client, open_around_the_clock, tmp_path):
    open_around_the_clock.timer_sweep_seconds = 10
    open_around_the_clock.save()
    channel = TelegramChannelFactory(clinic=open_around_the_clock)
    timer = patient_writes(client, channel)  # no worker runs: the exact-time task waits...
    redis.Redis.from_url(settings.REDIS_URL).delete("inbound")  # ...and is lost
    wait_for(lambda: False, seconds=6)  # the due time passes with nobody watching
    assert not breached(timer)
    with celery_worker(worker_env, "default", beat_schedule=tmp_path / "beat") as worker:
        assert wait_for(lambda: breached(timer), seconds=30), worker["output"][-3000:]
    assert ResponseTimer.objects.filter(breached_at__isnull=False).count() == 1
