from django.contrib.auth import get_user_model
from django.core.management import call_command

from clinic.models import Clinic, ConsentEvent, Membership, Patient


def test_seed_demo_creates_the_clinic_staff_and_patients_and_is_idempotent(db, capsys):
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out
    counts = (Clinic.objects.count(), get_user_model().objects.count(),
              Membership.objects.count(), Patient.objects.count(), ConsentEvent.objects.count())
    call_command("seed_demo", "--force")
    assert (Clinic.objects.count(), get_user_model().objects.count(), Membership.objects.count(),
            Patient.objects.count(), ConsentEvent.objects.count()) == counts

    demo = Clinic.objects.get(name="Стоматология «Улыбка»")
    assert demo.patients.count() == 200
    assert demo.day_exceptions.filter(intervals=[]).exists()  # holidays
    assert demo.day_exceptions.exclude(intervals=[]).exists()  # short days
    assert demo.evening_duty_start is not None
    roles = set(demo.memberships.values_list("role", flat=True))
    assert roles == {"owner", "manager", "administrator"}
    assert demo.memberships.filter(role="administrator").count() == 3
    for username in ("owner", "manager", "anna", "irina", "dmitry"):
        assert username in out
        assert get_user_model().objects.get(username=username).check_password("demo-clinic")
    phones = list(demo.patients.values_list("phone", flat=True))
    assert all(p.startswith("+79") and len(p) == 12 for p in phones)
    assert len(set(phones)) < len(phones)  # some families share a phone
