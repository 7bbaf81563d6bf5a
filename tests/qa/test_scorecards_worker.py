"""Scoring through a real Celery worker on real Redis and Postgres: a resolve in the inbox
becomes exactly one scorecard, and a reopen and a new resolve update it keeping the override."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from qa.models import Scorecard
from qa.services.review import scorecard_override
from tests.qa.factories import Chat, conversation_for, good_dialogue
from tests.workers import celery_worker, wait_for, worker_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def worker_env(require_postgres, require_redis):
    return {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL,
            "DEBUG": "1"}


def scored_version(window_id: int) -> int:
    scorecard = Scorecard.objects.filter(window_id=window_id, is_current=True).first()
    return scorecard.window_version if scorecard else 0


def test_a_resolve_is_scored_once_by_the_worker_and_a_reopen_keeps_the_override(
        worker_env, open_around_the_clock, administrator, manager, patient):
    # The worker reads the real clock: the dialogue happens in the last few minutes.
    start = timezone.now() - timedelta(minutes=15)
    chat = Chat(conversation_for(open_around_the_clock, patient, assignee=administrator),
                administrator, start)
    good_dialogue(chat)
    with celery_worker(worker_env, "slow") as worker:
        window = chat.resolve("next_step", "Придёт в четверг")  # queued after commit
        assert wait_for(lambda: scored_version(window.pk) == 1, seconds=60), (
            worker["output"][-3000:])
        scorecard = Scorecard.objects.get()
        item = scorecard.items.get(code="emoji")
        assert item.auto_result == "pass"
        scorecard_override(item=item, by=manager, result="fail", comment="Смайлик в жалобе",
                           reason="Контекст диалога", now=timezone.now())

        chat.reopen()
        chat.admin("Мария, напомню: четверг, 15:00. Подтвердите, пожалуйста, удобно ли вам?")
        chat.resolve("next_step", "Подтвердит запись")
        assert wait_for(lambda: scored_version(window.pk) == 2, seconds=60), (
            worker["output"][-3000:])

    assert Scorecard.objects.count() == 1
    again = Scorecard.objects.get()
    assert again.pk == scorecard.pk and again.next_step == "Подтвердит запись"
    item = again.items.get(code="emoji")
    assert (item.auto_result, item.result) == ("pass", "fail")
    assert item.overrides.get().comment == "Смайлик в жалобе"
    assert again.score < again.automatic_score
