"""Thin Celery tasks: load by id, call a service. Routed to the "slow" queue in settings."""

from celery import shared_task

from campaigns.services.dispatcher import dispatches_process_due
from campaigns.services.planner import appointment_plan, plan_all
from clinic import clock


@shared_task
def plan_all_task() -> None:
    """Beat, every 5 minutes: insert what falls due within the horizon (idempotent)."""
    plan_all(now=clock.now())


@shared_task(acks_late=True)
def appointment_plan_task(appointment_id: int) -> None:
    """A visit was booked, moved or cancelled (after commit): supersede and re-plan it."""
    appointment_plan(appointment_id=appointment_id, now=clock.now())


@shared_task
def dispatches_process_due_task() -> None:
    """Beat, every minute: send what is due."""
    dispatches_process_due(now=clock.now())
