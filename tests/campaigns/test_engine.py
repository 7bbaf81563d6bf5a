"""The planner and the dispatcher with controlled clocks: steps, late bookings, windows, moved
and cancelled visits, re-runs."""

from datetime import datetime, timedelta

import pytest

from campaigns.models import Confirmation, Dispatch, DispatchStatus, RuleKind, SkipReason
from campaigns.services.dispatcher import dispatches_process_due
from campaigns.services.planner import appointment_plan, plan_all
from campaigns.services.rules import campaign_settings, rule_create, rule_update
from inbox.models import Message
from scheduling.services import appointment_cancel, appointment_reschedule
from tests.clinic.factories import PatientFactory
from tests.conftest import MOSCOW
from tests.scheduling.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

THURSDAY_11 = datetime(2026, 11, 26, 11, 0, tzinfo=MOSCOW)


def run(now: datetime):
    """One beat: the planner, then the dispatcher."""
    plan_all(now=now)
    return dispatches_process_due(now=now)


def sent_to(patient) -> list[Message]:
    return list(Message.objects.filter(conversation__patient=patient, direction="out")
                .order_by("created_at", "id"))


def test_a_reminder_goes_out_at_each_step_once(reminder, maria, service, doctor, now):
    visit = AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor,
                               service=service, start=THURSDAY_11,
                               created_at=now - timedelta(days=3))

    first = run(now)  # Tuesday 11:00: two days before
    assert first.sent == 1
    again = run(now + timedelta(minutes=1))
    assert again.claimed == 0 and len(sent_to(maria)) == 1
    message = sent_to(maria)[0]
    assert message.body == "Мария, ждём вас 26 ноября в 11:00, Москва, ул. Тверская, 1."
    assert message.payload["automatic"] == "campaign"
    assert [b[0].split(":")[2] for b in message.payload["buttons"]] == ["yes", "no", "move"]
    dispatch = Dispatch.objects.get(message=message)
    assert dispatch.confirmation == Confirmation.PENDING and dispatch.appointment == visit

    assert run(THURSDAY_11 - timedelta(hours=3)).sent == 0  # not yet
    assert run(THURSDAY_11 - timedelta(hours=2)).sent == 1
    assert run(THURSDAY_11 - timedelta(minutes=90)).sent == 0
    assert len(sent_to(maria)) == 2
    # The reminder does not answer the patient: the conversation is not waiting.
    assert maria.conversations.get().waiting_since is None


def test_a_visit_booked_inside_do_not_send_within_gets_no_late_step(reminder, maria, service,
                                                                      doctor, now):
    # Booked at 10:30 for 13:00: the 2-hour step (11:00) is only 30 minutes after booking.
    AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor, service=service,
                       start=now + timedelta(hours=2), created_at=now - timedelta(minutes=30))
    assert run(now).sent == 0
    dispatch = Dispatch.objects.get(step=-120)
    assert (dispatch.status, dispatch.reason) == (DispatchStatus.SKIPPED,
                                                   SkipReason.BOOKED_LATE)


def test_a_step_before_the_send_window_is_pulled_back_to_the_evening_before(
        reminder, maria, service, doctor, now):
    # A visit at 08:30: its 2-hour step (06:30) is before the clinic's 09:00; not after the
    # visit but the evening before, at the window's end.
    start = datetime(2026, 11, 25, 8, 30, tzinfo=MOSCOW)
    AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor, service=service,
                       start=start, created_at=now - timedelta(days=5))
    plan_all(now=datetime(2026, 11, 24, 12, 0, tzinfo=MOSCOW))
    dispatch = Dispatch.objects.get(step=-120)
    assert dispatch.send_at == datetime(2026, 11, 24, 20, 59, tzinfo=MOSCOW)


def test_a_moved_visit_gets_one_new_reminder_and_the_old_one_is_superseded(
        reminder, maria, service, doctor, now):
    visit = AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor,
                               service=service, start=THURSDAY_11 + timedelta(hours=3),
                               created_at=now - timedelta(days=3))
    plan_all(now=now)
    assert Dispatch.objects.filter(status=DispatchStatus.PLANNED).count() == 1  # Tue 14:00
    moved = appointment_reschedule(appointment=visit, start=THURSDAY_11, now=now)
    appointment_plan(appointment_id=moved.pk, now=now)  # what the signal's task does

    old = Dispatch.objects.get(status=DispatchStatus.SUPERSEDED)
    assert old.reason == SkipReason.VISIT_MOVED
    assert run(now).sent == 1
    assert run(now + timedelta(hours=3)).sent == 0  # the old 14:00 step stays superseded
    assert len(sent_to(maria)) == 1
    assert "в 11:00" in sent_to(maria)[0].body


def test_a_cancelled_visit_gets_no_reminder(reminder, maria, service, doctor, now):
    visit = AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor,
                               service=service, start=THURSDAY_11 + timedelta(hours=1),
                               created_at=now - timedelta(days=3))
    plan_all(now=now)
    appointment_cancel(appointment=visit, reason="заболела", now=now)
    appointment_plan(appointment_id=visit.pk, now=now)
    assert run(now + timedelta(hours=1)).sent == 0
    assert sent_to(maria) == []
    assert Dispatch.objects.get().status == DispatchStatus.SUPERSEDED


def test_a_visit_cancelled_after_planning_is_caught_at_send_time(reminder, maria, service,
                                                                 doctor, now):
    visit = AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor,
                               service=service, start=THURSDAY_11 + timedelta(hours=1),
                               created_at=now - timedelta(days=3))
    plan_all(now=now)
    appointment_cancel(appointment=visit, reason="", now=now)  # no re-plan task ran
    assert dispatches_process_due(now=now + timedelta(hours=1)).sent == 0
    assert Dispatch.objects.get().status == DispatchStatus.SUPERSEDED


def test_two_visits_on_one_day_get_one_reminder(reminder, maria, service, doctor, now):
    for hours in (0, 2):
        AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor, service=service,
                           start=THURSDAY_11 + timedelta(hours=hours),
                           created_at=now - timedelta(days=3))
    plan_all(now=now)
    plan_all(now=now + timedelta(hours=2))
    assert Dispatch.objects.count() == 1


def test_a_dispatch_names_the_revision_it_was_planned_under(reminder, maria, service, doctor,
                                                            now):
    AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor, service=service,
                       start=THURSDAY_11, created_at=now - timedelta(days=3))
    reminder = rule_update(rule=reminder, by=None, now=now,
                           texts={"ru": {"": "Ждём вас {visit_time}"}})
    assert reminder.revision == 2
    run(now)
    assert Dispatch.objects.get().revision.number == 2
    assert sent_to(maria)[0].body == "Ждём вас 11:00"


def test_a_recall_waits_for_the_patients_evening_and_skips_the_booked(clinic, maria, hygiene,
                                                                      doctor, now):
    maria.preferred_time_of_day = "evening"
    maria.save()
    booked = PatientFactory(clinic=clinic)
    for hour, patient in ((10, maria), (12, booked)):
        AppointmentFactory(clinic=clinic, patient=patient, doctor=doctor, service=hygiene,
                           start=datetime(2026, 5, 24, hour, 0, tzinfo=MOSCOW),
                           status="completed")
    AppointmentFactory(clinic=clinic, patient=booked, doctor=doctor, service=hygiene,
                       start=now + timedelta(days=10))
    rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=RuleKind.RECALL,
                enabled=True, interval_months=6, max_attempts=2, attempt_gap_days=14,
                service_ids=[hygiene.pk], texts={"ru": {"": "Пора на гигиену"}})

    assert run(now).sent == 0
    dispatch = Dispatch.objects.get()
    assert dispatch.patient == maria and dispatch.occurrence_key == "recall:2026-11-24:1"
    assert dispatch.send_at == datetime(2026, 11, 24, 17, 0, tzinfo=MOSCOW)
    assert run(datetime(2026, 11, 24, 17, 0, tzinfo=MOSCOW)).sent == 1
    # The second attempt two weeks later, unless she books in between.
    assert run(datetime(2026, 12, 8, 18, 0, tzinfo=MOSCOW)).sent == 1
    assert len(sent_to(maria)) == 2


def test_a_patients_preferred_days_defer_a_recall_to_the_weekend(clinic, maria, hygiene,
                                                                 doctor, now):
    maria.preferred_days = [5, 6]
    maria.save()
    AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=hygiene,
                       start=datetime(2026, 5, 24, 10, 0, tzinfo=MOSCOW), status="completed")
    rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=RuleKind.RECALL,
                enabled=True, service_ids=[hygiene.pk], texts={"ru": {"": "Пора"}})
    plan_all(now=now)
    assert Dispatch.objects.get().send_at == datetime(2026, 11, 28, 9, 0, tzinfo=MOSCOW)


def test_the_dispatcher_defers_a_message_the_window_no_longer_allows(clinic, maria, hygiene,
                                                                     doctor, now):
    AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=hygiene,
                       start=datetime(2026, 5, 24, 10, 0, tzinfo=MOSCOW), status="completed")
    rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=RuleKind.RECALL,
                enabled=True, service_ids=[hygiene.pk], texts={"ru": {"": "Пора"}})
    plan_all(now=now)
    maria.preferred_time_of_day = "evening"  # changed after planning
    maria.save()
    assert dispatches_process_due(now=now).deferred == 1
    dispatch = Dispatch.objects.get()
    assert dispatch.status == DispatchStatus.PLANNED and dispatch.reason == SkipReason.WINDOW
    assert dispatch.send_at == datetime(2026, 11, 24, 17, 0, tzinfo=MOSCOW)
    assert dispatches_process_due(now=dispatch.send_at).sent == 1


def test_a_birthday_greeting_goes_once_a_year_with_consent(clinic, maria, now):
    from clinic.services import consent_record

    maria.birthday = datetime(1990, 11, 24).date()
    maria.save()
    rule_create(clinic=clinic, by=None, now=now, name="ДР", kind=RuleKind.BIRTHDAY,
                enabled=True, steps=[0], texts={"ru": {"": "С днём рождения!"}})
    assert run(now).sent == 0  # a birthday greeting needs a consent on record
    assert Dispatch.objects.get().reason == SkipReason.NO_CONSENT
    Dispatch.objects.all().delete()
    consent_record(patient=maria, topic="birthday", granted=True, source="form",
                   recorded_by=None, now=now)
    assert run(now).sent == 1
    assert run(now + timedelta(hours=2)).sent == 0


def test_the_caps_hold_back_a_second_non_transactional_message_the_same_day(
        clinic, maria, hygiene, doctor, now):
    from clinic.services import consent_record

    maria.birthday = datetime(1990, 11, 24).date()
    maria.save()
    consent_record(patient=maria, topic="birthday", granted=True, source="form",
                   recorded_by=None, now=now)
    AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=hygiene,
                       start=datetime(2026, 5, 24, 10, 0, tzinfo=MOSCOW), status="completed")
    rule_create(clinic=clinic, by=None, now=now, name="ДР", kind=RuleKind.BIRTHDAY,
                enabled=True, steps=[0], texts={"ru": {"": "С днём рождения!"}})
    rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=RuleKind.RECALL,
                enabled=True, service_ids=[hygiene.pk], texts={"ru": {"": "Пора"}})
    result = run(now)
    assert (result.sent, result.deferred) == (1, 1)
    held = Dispatch.objects.get(status=DispatchStatus.PLANNED)
    assert held.reason == SkipReason.CAP and held.send_at == now + timedelta(days=1)


def test_planners_and_dispatchers_run_twice_write_nothing_new(reminder, maria, service, doctor,
                                                             now):
    AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor, service=service,
                       start=THURSDAY_11, created_at=now - timedelta(days=3))
    assert plan_all(now=now) == 1
    assert plan_all(now=now) == 0
    dispatches_process_due(now=now)
    assert dispatches_process_due(now=now).claimed == 0
    assert campaign_settings(clinic=maria.clinic).daily_cap == 1


def test_the_audience_filters_narrow_who_a_rule_reaches(clinic, maria, hygiene, doctor, now):
    from tests.scheduling.factories import DoctorFactory

    other_doctor = DoctorFactory(clinic=clinic)
    young = PatientFactory(clinic=clinic, birthday=datetime(2015, 1, 1).date())
    elder = PatientFactory(clinic=clinic, birthday=datetime(1950, 1, 1).date())
    maria.birthday = datetime(1990, 1, 1).date()
    maria.save()
    for hour, patient, who in ((9, maria, doctor), (11, young, doctor),
                               (13, elder, other_doctor)):
        AppointmentFactory(clinic=clinic, patient=patient, doctor=who, service=hygiene,
                           start=datetime(2026, 5, 24, hour, 0, tzinfo=MOSCOW),
                           status="completed")
    rule = rule_create(clinic=clinic, by=None, now=now, name="Гигиена", kind=RuleKind.RECALL,
                       enabled=True, service_ids=[hygiene.pk], doctor_ids=[doctor.pk],
                       age_min=18, age_max=70, texts={"ru": {"": "Пора"}})
    plan_all(now=now)
    assert list(Dispatch.objects.values_list("patient", flat=True)) == [maria.pk]
    rule = rule_update(rule=rule, by=None, now=now, doctor_ids=[], age_min=None,
                       age_max=None, last_visit_within_days=30)
    plan_all(now=now)  # nobody visited in the last 30 days
    assert Dispatch.objects.count() == 1


def test_a_follow_up_is_skipped_when_the_patient_booked_themselves(clinic, maria, service,
                                                                   doctor, now):
    visit = AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=service,
                               start=now - timedelta(days=1, hours=2), status="completed")
    rule_create(clinic=clinic, by=None, now=now, name="После", kind=RuleKind.FOLLOW_UP,
                enabled=True, steps=[1440], service_ids=[service.pk],
                texts={"ru": {"": "Как вы?"}})
    AppointmentFactory(clinic=clinic, patient=maria, doctor=doctor, service=service,
                       start=now + timedelta(days=7), created_at=visit.end + timedelta(hours=3))
    result = run(now)
    assert result.sent == 0
    assert Dispatch.objects.get().reason == SkipReason.ALREADY_BOOKED


def test_a_reminder_due_just_before_the_window_opens_goes_the_evening_before(
        reminder, maria, service, doctor, now):
    # A visit at 09:10: 09:00 would be too close (15 minutes), so 20:59 the day before.
    start = datetime(2026, 11, 25, 9, 10, tzinfo=MOSCOW)
    AppointmentFactory(clinic=maria.clinic, patient=maria, doctor=doctor, service=service,
                       start=start, created_at=now - timedelta(days=5))
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=MOSCOW)
    plan_all(now=evening)
    assert Dispatch.objects.get(step=-120).send_at == datetime(2026, 11, 24, 20, 59,
                                                                tzinfo=MOSCOW)
    assert dispatches_process_due(now=datetime(2026, 11, 24, 20, 59, tzinfo=MOSCOW)).sent == 1


@pytest.mark.parametrize(("day", "months", "expected"), [
    ("2026-08-31", 6, "2027-02-28"), ("2027-08-31", 6, "2028-02-29"),
    ("2026-05-24", 6, "2026-11-24"), ("2026-11-30", -9, "2026-02-28")])
def test_months_are_added_to_the_same_day_or_the_months_last(day, months, expected):
    from datetime import date

    from campaigns.services.planner import add_months

    assert add_months(date.fromisoformat(day), months) == date.fromisoformat(expected)


def test_switching_a_rule_is_kept_in_the_clinics_settings_history(reminder, owner, now):
    from campaigns.services.rules import rule_switch
    from clinic.models import ClinicSettingChange

    rule_switch(rule=reminder, enabled=False, by=owner, now=now)
    rule_switch(rule=reminder, enabled=False, by=owner, now=now)  # no change, no row
    change = ClinicSettingChange.objects.get(field=f"campaigns:rule:{reminder.pk}:enabled")
    assert (change.old_value, change.new_value, change.changed_by) == (True, False, owner)
