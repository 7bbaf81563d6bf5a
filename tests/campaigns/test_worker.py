"""The background loop for real: a Celery worker plans a changed visit's reminder, the
dispatcher task hands it to the outbox, the outbound worker delivers it to the fake Telegram
server — once, however often the tasks run again."""

from datetime import time, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.models import CampaignSettings, Dispatch, DispatchStatus
from campaigns.tasks import dispatches_process_due_task, plan_all_task
from scheduling.models import Appointment
from scheduling.signals import appointment_changed
from tests.clinic.factories import PatientFactory
from tests.scheduling.factories import AppointmentFactory
from tests.workers import celery_worker, wait_for, worker_database_url

from .conftest import chat_with

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(require_postgres, require_redis, fake):
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1",
           "TELEGRAM_API_BASE": fake.base_url, "WHATSAPP_API_BASE": fake.base_url}
    with celery_worker(env, "default,inbound,outbound,slow") as info:
        yield info


def test_a_changed_visit_is_reminded_through_the_worker_once(worker, fake, reminder, telegram,
                                                              service, doctor):
    # Whatever the hour of the run: the clinic may send round the clock.
    CampaignSettings.objects.filter(clinic=telegram.clinic).update(send_from=time(0),
                                                                   send_until=time(0))
    now = timezone.now()
    patient = PatientFactory(clinic=telegram.clinic, first_name="Мария")
    chat_with(patient, telegram, wrote_at=now - timedelta(days=3), external_id="5123456789")
    visit = AppointmentFactory(clinic=telegram.clinic, patient=patient, doctor=doctor,
                               service=service, start=now + timedelta(days=2, minutes=-5),
                               created_at=now - timedelta(days=4))

    appointment_changed.send(sender=Appointment, appointment_id=visit.pk)  # as a booking does
    assert wait_for(lambda: Dispatch.objects.filter(appointment=visit).exists()), \
        worker["output"][-3000:]

    dispatches_process_due_task.delay()

    def delivered() -> bool:
        return len(fake.sent("telegram")) == 1

    assert wait_for(delivered), list(Dispatch.objects.values("status", "reason", "send_at"))
    request = fake.sent("telegram")[0].json
    assert request["chat_id"] in (5123456789, "5123456789")
    assert request["text"].startswith("Мария, ждём вас")
    assert Dispatch.objects.get(appointment=visit, step=-2880).status == DispatchStatus.SENT

    plan_all_task.delay()
    dispatches_process_due_task.delay()
    wait_for(lambda: False, seconds=3)  # give a duplicate the chance to show up
    assert len(fake.sent("telegram")) == 1
