"""Two planners and two dispatchers at once on Postgres: the same rows, each message once."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection

from campaigns.models import Dispatch, DispatchStatus
from campaigns.services.dispatcher import dispatches_process_due
from campaigns.services.planner import plan_all
from inbox.models import Message
from inbox.services.outbound import message_deliver
from tests.campaigns.conftest import chat_with
from tests.clinic.factories import PatientFactory
from tests.scheduling.factories import AppointmentFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PATIENTS = 40


def side_by_side(work: Callable[[], object], times: int = 2) -> list[object]:
    barrier = threading.Barrier(times)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_two_planners_and_two_dispatchers_send_each_reminder_once(
        require_postgres, reminder, telegram, service, now, fake):
    for n in range(PATIENTS):
        patient = PatientFactory(clinic=telegram.clinic, first_name=f"Пациент{n}")
        chat_with(patient, telegram, wrote_at=now - timedelta(days=20),
                  external_id=str(900000 + n))
        AppointmentFactory(clinic=telegram.clinic, patient=patient,  # a doctor each
                           service=service, start=now + timedelta(days=2, minutes=n),
                           created_at=now - timedelta(days=5))

    side_by_side(lambda: plan_all(now=now))
    assert Dispatch.objects.count() == PATIENTS

    runs = side_by_side(lambda: dispatches_process_due(now=now + timedelta(hours=1)))
    assert sum(run.sent for run in runs) == PATIENTS
    assert Dispatch.objects.filter(status=DispatchStatus.SENT).count() == PATIENTS
    ids = list(Message.objects.filter(direction="out").values_list("pk", flat=True))
    assert len(ids) == PATIENTS

    # Two workers delivering the same queue: the provider hears each message once.
    side_by_side(lambda: [message_deliver(message_id=pk, now=now + timedelta(hours=1))
                          for pk in ids])
    sent = [r for r in fake.sent("telegram") if r.api_method == "sendMessage"]
    assert len(sent) == PATIENTS
    assert len({r.json["chat_id"] for r in sent}) == PATIENTS
