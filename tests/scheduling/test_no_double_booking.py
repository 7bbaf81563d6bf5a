"""On Postgres the database itself refuses a double booking, however the rows arrive."""

import threading
from datetime import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from scheduling.models import Appointment
from scheduling.services import SlotTaken, appointment_book
from tests.clinic.factories import PatientFactory
from tests.conftest import MOSCOW
from tests.scheduling.factories import AppointmentFactory, DoctorFactory, ServiceFactory

pytestmark = pytest.mark.services

TEN = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)


@pytest.mark.django_db(transaction=True)
def test_the_same_slot_booked_from_10_threads_is_won_by_exactly_one(require_postgres, clinic,
                                                                     now):
    doctor = DoctorFactory(clinic=clinic)
    service = ServiceFactory(clinic=clinic, duration_minutes=60, doctors=[doctor])
    patients = [PatientFactory(clinic=clinic) for _ in range(10)]
    barrier = threading.Barrier(10)
    won: list[Appointment] = []
    taken: list[SlotTaken] = []
    failed: list[BaseException] = []

    def attempt(patient) -> None:
        try:
            barrier.wait()
            won.append(appointment_book(clinic=clinic, patient=patient, doctor=doctor,
                                        service=service, start=TEN, created_by=None, now=now))
        except SlotTaken as error:
            taken.append(error)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failed == []
    assert len(won) == 1 and len(taken) == 9
    assert Appointment.objects.count() == 1
    for error in taken:
        assert error.next_slots and error.next_slots[0].start == datetime(
            2026, 11, 25, 11, 0, tzinfo=MOSCOW)


@pytest.mark.django_db
def test_the_database_rejects_an_overlapping_row_even_without_the_service(require_postgres,
                                                                           clinic):
    doctor = DoctorFactory(clinic=clinic)
    service = ServiceFactory(clinic=clinic, duration_minutes=60, doctors=[doctor])
    AppointmentFactory(doctor=doctor, service=service, start=TEN)
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        AppointmentFactory(doctor=doctor, service=service,
                           start=datetime(2026, 11, 25, 10, 59, tzinfo=MOSCOW))
    assert error.value.__cause__.sqlstate == "23P01"
    # Back to back, a cancelled row and another doctor are all fine.
    AppointmentFactory(doctor=doctor, service=service,
                       start=datetime(2026, 11, 25, 11, 0, tzinfo=MOSCOW))
    AppointmentFactory(doctor=doctor, service=service, start=TEN, status="cancelled")
    AppointmentFactory(doctor=DoctorFactory(clinic=clinic), service=service, start=TEN)
    assert Appointment.objects.count() == 4
