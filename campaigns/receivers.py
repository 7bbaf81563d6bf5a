"""campaigns' answers to what the apps below it announce; connected in CampaignsConfig.ready()."""

from typing import Any

from campaigns.services.answers import patient_answer
from campaigns.services.rules import rule_defaults_create
from campaigns.tasks import appointment_plan_task
from clinic import clock
from clinic.models import Clinic
from inbox.models import Message
from inbox.tasks import enqueue


def rules_for_new_clinic(sender: Any, clinic: Clinic, **kwargs: Any) -> None:
    """A new clinic gets the default rules, all switched off."""
    rule_defaults_create(clinic=clinic, now=clock.now())


def appointment_plan_queue(sender: Any, appointment_id: int, **kwargs: Any) -> None:
    """A visit changed (after commit): re-plan it on the slow queue; the 5-minute planner
    covers a lost task."""
    enqueue(appointment_plan_task, appointment_id)


def reminder_answer(sender: Any, message: Message, now: Any, **kwargs: Any) -> bool:
    """Inside the inbox's storing transaction: a confirmation needs no one."""
    return patient_answer(message=message, now=now)
