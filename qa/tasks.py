"""Thin Celery tasks: load by id, call a service. Routed to the "slow" queue in settings."""

from celery import shared_task

from clinic import clock
from qa.services.scoring import scorecard_build, scorecards_process_due


@shared_task(acks_late=True)
def scorecard_build_task(window_id: int) -> None:
    """Queued after a resolve commits; idempotent (the window has one current scorecard)."""
    scorecard_build(window_id=window_id, now=clock.now())


@shared_task
def scorecards_process_due_task() -> None:
    """Beat's backstop: resolved dialogues whose task was lost are scored here."""
    scorecards_process_due(now=clock.now())
