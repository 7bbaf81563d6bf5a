from datetime import time

import pytest
from django.urls import reverse

from clinic.forms import intervals_from_text
from clinic.models import ClinicDayException, ClinicSettingChange


def test_login_page_is_in_russian_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Войти" in response.content.decode()


def test_a_user_signs_in_and_lands_in_the_inbox(client, administrator):
    response = client.post(reverse("login"), {"username": administrator.username,
                                              "password": "correct horse battery"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("inbox:index")


def test_password_guessing_is_locked_out(client, administrator):
    for _ in range(5):
        client.post(reverse("login"), {"username": administrator.username, "password": "nope"})
    response = client.post(reverse("login"), {"username": administrator.username,
                                              "password": "correct horse battery"})
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]


def test_pages_carry_a_strict_content_security_policy(client, administrator):
    client.force_login(administrator)
    policy = client.get(reverse("inbox:index"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_owner_saves_working_hours_with_a_break_and_evening_duty(client, owner, clinic):
    client.force_login(owner)
    data = {"mon": "09:00-13:00, 14:00-20:00", "tue": "9:00–20:00", "wed": "", "thu": "",
            "fri": "10.00-24:00", "sat": "", "sun": "", "evening_duty_start": "20:00",
            "evening_duty_end": "22:00", "evening_duty_weekdays": ["0", "1"]}
    response = client.post(reverse("clinic:settings-hours"), data)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.weekly_hours[0] == [["09:00", "13:00"], ["14:00", "20:00"]]
    assert clinic.weekly_hours[4] == [["10:00", "00:00"]]
    assert clinic.weekly_hours[2] == []
    assert clinic.evening_duty_start == time(20) and clinic.evening_duty_weekdays == [0, 1]
    assert set(ClinicSettingChange.objects.values_list("field", flat=True)) == {
        "weekly_hours", "evening_duty_start", "evening_duty_end", "evening_duty_weekdays"}
    page = client.get(reverse("clinic:settings-hours")).content.decode()
    assert "10:00-24:00" in page


def test_bad_hours_are_explained_and_change_nothing(client, owner, clinic):
    client.force_login(owner)
    before = clinic.weekly_hours
    response = client.post(reverse("clinic:settings-hours"), {
        "mon": "9 to 5", "tue": "", "wed": "", "thu": "", "fri": "", "sat": "", "sun": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["mon"]
    clinic.refresh_from_db()
    assert clinic.weekly_hours == before and not ClinicSettingChange.objects.exists()


@pytest.mark.parametrize(("text", "expected"), [
    ("", []),
    ("14:00-20:00, 09:00-13:00", [["09:00", "13:00"], ["14:00", "20:00"]]),
    ("22:00-02:00", [["22:00", "02:00"]]),
    ("00:00-24:00", [["00:00", "00:00"]]),
])
def test_interval_text_parses(text, expected):
    assert intervals_from_text(text) == expected


@pytest.mark.parametrize("text", ["09:00-13:00, 12:00-15:00", "25:00-26:00", "10:00-10:00"])
def test_impossible_intervals_are_refused(text):
    from django import forms

    with pytest.raises(forms.ValidationError):
        intervals_from_text(text)


def test_the_owner_adds_and_removes_a_holiday(client, owner, clinic):
    client.force_login(owner)
    client.post(reverse("clinic:settings-day-add"), {"date": "2027-01-07", "hours": "",
                                                     "note": "Рождество"})
    day = ClinicDayException.objects.get(clinic=clinic)
    assert day.intervals == [] and day.note == "Рождество"
    client.post(reverse("clinic:settings-day-delete", args=[day.pk]))
    assert not ClinicDayException.objects.exists()
    history = client.get(reverse("clinic:settings-history")).content.decode()
    assert "Рождество" in history


def test_the_owner_changes_response_standards_and_sees_the_history(client, owner, clinic):
    client.force_login(owner)
    response = client.post(reverse("clinic:settings-standards"), {
        "first_reply_minutes": 3, "reply_minutes": 5, "promise_minutes": 15,
        "timer_sweep_seconds": 30, "max_live_dialogues": 2,
        "promise_text": "Уточню у врача и вернусь через 15 минут.",
        "name_style": "name_patronymic", "emoji_limit": 1, "stop_words": "Ок\nне знаю\n\nок"})
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.first_reply_minutes == 3 and clinic.stop_words == ["ок", "не знаю"]
    history = client.get(reverse("clinic:settings-history")).content.decode()
    assert owner.username in history or owner.get_full_name() in history


def test_a_zero_minute_standard_is_refused(client, owner, clinic):
    client.force_login(owner)
    response = client.post(reverse("clinic:settings-standards"), {
        "first_reply_minutes": 0, "promise_minutes": 15, "max_live_dialogues": 2,
        "name_style": "first_name", "emoji_limit": 2, "stop_words": ""})
    assert response.status_code == 200 and response.context["form"].errors


def test_an_invalid_clinic_phone_is_refused_and_the_header_keeps_the_saved_name(
        client, owner, clinic):
    client.force_login(owner)
    response = client.post(reverse("clinic:settings"), {
        "name": "Новое имя", "address": "", "phone": "12", "timezone": "Europe/Moscow"})
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert '<span class="clinic-name">Клиника А</span>' in response.content.decode()


def test_patient_text_in_a_clinic_name_is_escaped(client, owner, clinic):
    clinic.name = "<script>alert(1)</script>"
    clinic.save()
    client.force_login(owner)
    body = client.get(reverse("clinic:settings")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_healthz_answers_without_login(client, db):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_english_is_available(client, administrator):
    client.force_login(administrator)
    client.post(reverse("set_language"), {"language": "en", "next": "/inbox/"})
    body = client.get(reverse("inbox:index")).content.decode()
    assert "Log out" in body and 'lang="en"' in body
