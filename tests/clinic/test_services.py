from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from clinic import services
from clinic.hours import add_working_minutes, is_working_time
from clinic.models import ClinicSettingChange, ConsentTopic, Patient, WorkerHeartbeat
from clinic.selectors import clinic_hours, patient_consent_state, patient_list, worker_status


def test_a_setting_change_is_recorded_with_who_when_old_and_new(clinic, owner, now):
    services.clinic_settings_update(clinic=clinic, changed_by=owner, now=now,
                                    changes={"first_reply_minutes": 7, "emoji_limit": 2})
    change = ClinicSettingChange.objects.get(clinic=clinic)
    assert (change.field, change.old_value, change.new_value) == ("first_reply_minutes", 5, 7)
    assert change.changed_by == owner and change.changed_at == now
    clinic.refresh_from_db()
    assert clinic.first_reply_minutes == 7


def test_saving_unchanged_settings_records_nothing(clinic, owner, now):
    services.clinic_settings_update(clinic=clinic, changed_by=owner, now=now,
                                    changes={"name": clinic.name, "stop_words": clinic.stop_words})
    assert not ClinicSettingChange.objects.exists()


def test_times_are_recorded_readably(clinic, owner, now):
    services.clinic_settings_update(clinic=clinic, changed_by=owner, now=now,
                                    changes={"evening_duty_start": time(20, 0)})
    change = ClinicSettingChange.objects.get()
    assert (change.old_value, change.new_value) == (None, "20:00")


def test_an_unknown_setting_is_refused(clinic, owner, now):
    with pytest.raises(ValueError):
        services.clinic_settings_update(clinic=clinic, changed_by=owner, now=now,
                                        changes={"id": 5})


def test_holidays_and_their_removal_are_versioned_and_reach_the_hours(clinic, owner, now):
    day = services.clinic_day_exception_set(clinic=clinic, changed_by=owner, now=now,
                                            day=date(2027, 1, 1), intervals=[], note="Новый год")
    assert clinic_hours(clinic=clinic).exceptions[date(2027, 1, 1)] == ()
    services.clinic_day_exception_delete(exception=day, changed_by=owner, now=now)
    assert date(2027, 1, 1) not in clinic_hours(clinic=clinic).exceptions
    assert [c.field for c in ClinicSettingChange.objects.all()] == ["day:2027-01-01"] * 2


def test_clinic_hours_are_read_from_the_clinic(clinic):
    clinic.weekly_hours = [[["09:00", "13:00"], ["14:00", "20:00"]]] * 5 + [[], []]
    clinic.evening_duty_start, clinic.evening_duty_end = time(20), time(22)
    hours = clinic_hours(clinic=clinic)
    assert hours.weekly[0] == ((time(9), time(13)), (time(14), time(20)))
    assert hours.weekly[6] == ()
    assert hours.evening_duty == (time(20), time(22))
    assert str(hours.timezone) == "Europe/Moscow"


def test_a_patient_phone_is_normalised_and_family_members_may_share_it(clinic):
    mother = services.patient_create(clinic=clinic, first_name="Анна", phone="8 916 123-45-67")
    son = services.patient_create(clinic=clinic, first_name="Иван", phone="+7 (916) 123-45-67")
    assert mother.phone == son.phone == "+79161234567"


def test_a_patient_with_an_invalid_phone_is_not_created(clinic):
    with pytest.raises(ValidationError):
        services.patient_create(clinic=clinic, first_name="Анна", phone="123")
    assert not Patient.objects.exists()


def test_consent_state_is_the_latest_ledger_row(patient, administrator, now):
    services.consent_record(patient=patient, topic=ConsentTopic.RECALL, granted=True,
                            source="chat", recorded_by=administrator, now=now.replace(day=1))
    services.consent_record(patient=patient, topic=ConsentTopic.RECALL, granted=False,
                            source="phone", recorded_by=administrator, now=now)
    rows = {row.topic: row.cells[0] for row in patient_consent_state(patient=patient).messages}
    assert rows[ConsentTopic.RECALL].granted is False
    assert rows[ConsentTopic.RECALL].event.source == "phone"
    assert rows[ConsentTopic.PROMOTIONS].event is None
    assert patient.consent_events.count() == 2  # the ledger keeps both


def test_patient_search_matches_names_and_phone_digits(clinic, other_clinic):
    services.patient_create(clinic=clinic, last_name="Соколова", first_name="Анна",
                            phone="+79161112233")
    services.patient_create(clinic=other_clinic, last_name="Соколова", first_name="Анна")
    assert [p.last_name for p in patient_list(clinic=clinic, search="Соколова")] == ["Соколова"]
    assert patient_list(clinic=clinic, search="1112233").count() == 1
    assert patient_list(clinic=clinic, search="Петрова").count() == 0


def test_a_friday_evening_message_in_a_clinic_is_due_on_monday(clinic):
    clinic.weekly_hours = [[["10:00", "20:00"]]] * 5 + [[], []]
    clinic.save()
    hours = clinic_hours(clinic=clinic)
    friday = datetime(2026, 11, 27, 19, 58, tzinfo=hours.timezone)
    assert add_working_minutes(hours, friday, 5) == datetime(2026, 11, 30, 10, 3,
                                                             tzinfo=hours.timezone)


def test_the_evening_duty_and_holidays_of_a_clinic_count(clinic, owner, now):
    clinic.weekly_hours = [[["10:00", "20:00"]]] * 5 + [[], []]
    clinic.evening_duty_start, clinic.evening_duty_end = time(20), time(22)
    clinic.save()
    services.clinic_day_exception_set(clinic=clinic, changed_by=owner, now=now,
                                      day=date(2026, 12, 31), intervals=[], note="")
    hours = clinic_hours(clinic=clinic)
    tz = hours.timezone
    assert is_working_time(hours, datetime(2026, 11, 27, 21, 0, tzinfo=tz))
    assert not is_working_time(hours, datetime(2026, 12, 31, 12, 0, tzinfo=tz))


def test_the_worker_counts_as_stopped_after_three_missed_heartbeats(db, now):
    assert worker_status(now=now).last_seen is None
    WorkerHeartbeat.objects.create(worker="celery@a", seen_at=now - timedelta(minutes=1))
    assert worker_status(now=now).alive
    assert not worker_status(now=now + timedelta(minutes=3)).alive
