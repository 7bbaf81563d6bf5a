from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from clinic.models import Clinic
from scheduling.models import Appointment, Doctor, DoctorScheduleException, Service


def _counts() -> tuple[int, ...]:
    return (Doctor.objects.count(), Service.objects.count(),
            Service.doctors.through.objects.count(), DoctorScheduleException.objects.count(),
            Appointment.objects.count())


def test_seed_demo_scheduling_fills_the_demo_clinic_and_is_idempotent(db, capsys):
    call_command("seed_demo", "--force")
    call_command("seed_demo_scheduling", "--force")
    counts = _counts()
    call_command("seed_demo_scheduling", "--force")
    assert _counts() == counts
    assert "8 doctors" in capsys.readouterr().out

    demo = Clinic.objects.get(name="Стоматология «Улыбка»")
    assert demo.doctors.count() == 8
    assert all(hasattr(d, "schedule") for d in demo.doctors.all())
    services = Service.objects.filter(clinic=demo)
    assert services.count() >= 20
    assert all(s.doctors.exists() for s in services)
    hygiene = services.get(name="Профессиональная гигиена полости рта")
    assert (hygiene.duration_minutes, hygiene.price_min, hygiene.price_max) == (60, 4500, 6500)
    kinds = set(DoctorScheduleException.objects.values_list("kind", flat=True))
    assert {"vacation", "sick", "extra_shift"} <= kinds

    appointments = list(Appointment.objects.filter(clinic=demo).order_by("doctor_id", "start"))
    assert len(appointments) > 300
    statuses = Counter(a.status for a in appointments)
    assert set(statuses) == {"booked", "confirmed", "cancelled", "completed", "no_show"}
    assert statuses["completed"] > statuses["no_show"]
    for earlier, later in zip(appointments, appointments[1:], strict=False):
        if earlier.doctor_id == later.doctor_id:
            assert earlier.end <= later.start  # never double-booked
    for a in appointments:
        assert a.patient.clinic_id == demo.pk
        assert a.end - a.start == timedelta(
            minutes=a.service.duration_minutes)


def test_seed_demo_scheduling_needs_the_demo_clinic_and_debug(db, settings):
    with pytest.raises(CommandError, match="seed_demo first"):
        call_command("seed_demo_scheduling", "--force")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo_scheduling")
