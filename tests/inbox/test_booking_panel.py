from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from inbox.models import ContactIdentity, Conversation
from scheduling.models import Appointment, Doctor, DoctorSchedule, Service
from tests.inbox.factories import TelegramChannelFactory

MONDAY_MORNING = datetime(2026, 11, 30, 7, 0)  # UTC: 10:00 in Moscow


@pytest.fixture
def setup(clinic):
    clinic.address = "Москва, ул. Тверская, 1"
    clinic.save()
    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1",
                                             display_name="Мария Иванова")
    conversation = Conversation.objects.create(clinic=clinic, channel=channel, contact=contact)
    doctor = Doctor.objects.create(clinic=clinic, name="Орлова Е. В.", specialties="гигиенист")
    DoctorSchedule.objects.create(doctor=doctor,
                                  weekly_hours=[[["09:00", "18:00"]]] * 5 + [[], []])
    service = Service.objects.create(clinic=clinic, name="Профессиональная гигиена",
                                     category="Гигиена", duration_minutes=60,
                                     price_min=Decimal(4500), price_max=Decimal(6500),
                                     preparation="Не ешьте за 2 часа до визита.")
    service.doctors.add(doctor)
    return conversation, doctor, service


@time_machine.travel(MONDAY_MORNING.replace(tzinfo=UTC))
def test_booking_from_the_chat_links_patient_and_conversation_and_fills_the_reply(
        client, administrator, setup):
    conversation, doctor, service = setup
    client.force_login(administrator)
    slots = client.get(reverse("inbox:booking-slots", args=[conversation.pk]),
                       {"service": service.pk}).content.decode()
    assert "4500–6500 ₽" in slots
    assert "2026-11-30T11:15:00+03:00" in slots  # an hour's lead time, on the 15-minute grid
    assert "2026-11-30T10:45:00+03:00" not in slots
    assert "Tue, 1 December" in slots  # several days, a few times each
    start = "2026-11-30T11:15:00+03:00"
    response = client.post(reverse("inbox:booking-book", args=[conversation.pk]),
                           {"service": service.pk, "doctor": doctor.pk, "start": start})
    body = response.content.decode()
    appointment = Appointment.objects.get()
    conversation.refresh_from_db()
    assert appointment.patient == conversation.patient  # created from the contact
    assert appointment.source_conversation_id == conversation.pk
    assert 'id="composer-text"' in body and "hx-swap-oob" in body
    assert "Мария" in body
    assert "Не ешьте за 2 часа до визита." in body and "Тверская" in body
    # The panel is drawn again: the new patient card, with the visit among the upcoming ones.
    assert 'id="patient-panel"' in body and "Not linked to a patient card" not in body
    assert "Not this patient" in body and "30 November, 11:15" in body
    # The same slot again: refused, with what is free instead.
    again = client.post(reverse("inbox:booking-book", args=[conversation.pk]),
                        {"service": service.pk, "doctor": doctor.pk, "start": start})
    assert "already taken" in again.content.decode()
    assert Appointment.objects.count() == 1


def test_another_clinics_service_cannot_be_booked(client, administrator, setup, other_clinic):
    conversation, doctor, _service = setup
    foreign = Service.objects.create(clinic=other_clinic, name="Чужая", category="x",
                                     duration_minutes=30, price_min=1, price_max=1)
    client.force_login(administrator)
    response = client.post(reverse("inbox:booking-book", args=[conversation.pk]),
                           {"service": foreign.pk, "doctor": doctor.pk,
                            "start": "2026-12-02T11:00:00+03:00"})
    assert response.status_code == 404 and not Appointment.objects.exists()


@time_machine.travel(MONDAY_MORNING.replace(tzinfo=UTC))
def test_the_panel_moves_and_cancels_the_patients_visit(client, administrator, setup):
    conversation, doctor, service = setup
    client.force_login(administrator)
    book = reverse("inbox:booking-book", args=[conversation.pk])
    client.post(book, {"service": service.pk, "doctor": doctor.pk,
                       "start": "2026-11-30T11:15:00+03:00"})
    appointment = Appointment.objects.get()
    panel = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "Профессиональная гигиена" in panel and "Cancel visit" in panel
    client.post(book, {"service": service.pk, "doctor": doctor.pk, "appointment": appointment.pk,
                       "start": "2026-12-01T12:00:00+03:00"})
    appointment.refresh_from_db()
    assert appointment.start.isoformat() == "2026-12-01T09:00:00+00:00"
    client.post(reverse("inbox:booking-cancel", args=[conversation.pk]),
                {"appointment": appointment.pk, "reason": "Заболела"})
    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancellation_reason == "Заболела"


def test_another_patients_visit_cannot_be_touched_from_this_chat(client, administrator, setup,
                                                                  clinic):
    from tests.clinic.factories import PatientFactory

    conversation, doctor, service = setup
    other = Appointment.objects.create(
        clinic=clinic, patient=PatientFactory(clinic=clinic), doctor=doctor, service=service,
        start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC), end=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        created_at=datetime(2026, 11, 20, tzinfo=UTC))
    client.force_login(administrator)
    response = client.post(reverse("inbox:booking-cancel", args=[conversation.pk]),
                           {"appointment": other.pk})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "booked"
