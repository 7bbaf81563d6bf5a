"""Thin Celery tasks: load by id, call a service. Routed to queues in settings."""

import logging
from datetime import datetime
from typing import Any

from celery import Task, shared_task

from clinic import clock
from inbox.models import Conversation
from inbox.services.assignment import conversation_autoassign, queue_drain
from inbox.services.auto_replies import out_of_hours_reply
from inbox.services.inbound import button_answer
from inbox.services.media import media_fetch
from inbox.services.outbound import message_deliver, outbox_sweep
from inbox.services.timers import timer_breach, timers_sweep

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any, countdown: float | None = None,
            eta: datetime | None = None) -> None:
    """Publish without blocking the caller on a broker outage: the sweeps catch up later."""
    try:
        task.apply_async(args, countdown=countdown, eta=eta, retry=False)
    except Exception:  # noqa: BLE001 — any broker error; the database row is the truth
        logger.warning("could not queue %s%s; the sweep will", task.name, args, exc_info=True)


@shared_task(acks_late=True)
def message_deliver_task(message_id: int) -> None:
    result = message_deliver(message_id=message_id, now=clock.now())
    if result.retry_in is not None:
        enqueue(message_deliver_task, message_id, countdown=result.retry_in)


@shared_task
def outbox_sweep_task() -> None:
    outbox_sweep(now=clock.now())


@shared_task(acks_late=True)
def button_answer_task(message_id: int) -> None:
    button_answer(message_id=message_id, now=clock.now())


@shared_task(acks_late=True)
def media_fetch_task(message_id: int) -> None:
    retry_in = media_fetch(message_id=message_id, now=clock.now())
    if retry_in is not None:
        enqueue(media_fetch_task, message_id, countdown=retry_in)


@shared_task
def patient_wrote_task(conversation_id: int) -> None:
    """A patient wrote to a conversation nobody holds: the out-of-hours reply, the hand-out."""
    now = clock.now()
    out_of_hours_reply(conversation=Conversation.objects.select_related(
        "clinic", "channel", "contact", "patient").get(pk=conversation_id), now=now)
    conversation_autoassign(conversation_id=conversation_id, now=now)


@shared_task
def queue_drain_task(clinic_id: int) -> None:
    queue_drain(clinic_id=clinic_id, now=clock.now())


@shared_task
def timer_breach_task(timer_id: int) -> None:
    """Queued with eta = due; the database decides (a stale or repeated run does nothing)."""
    timer_breach(timer_id=timer_id, now=clock.now())


@shared_task
def timers_sweep_task() -> None:
    timers_sweep(now=clock.now())
