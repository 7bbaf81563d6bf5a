"""The engine's Dialogue, built from the database: who wrote what, in which dialogue, by which
rules, and how it ended."""

from datetime import timedelta

import pytest

from qa.checklist import Outcome
from qa.services.revisions import checklist_revision_save
from qa.services.scoring import dialogue_build
from tests.qa.factories import Chat, conversation_for
from tests.scheduling.factories import AppointmentFactory, DoctorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(clinic, administrator, patient, now):
    return Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)


def test_each_message_is_read_as_the_patient_the_administrator_or_an_automatic_one(chat):
    chat.patient("Здравствуйте! Можно к ортодонту?")
    chat.auto("Спасибо! Администратор ответит в течение 5 минут.")
    chat.system("Анна Белова взяла диалог.")
    chat.admin("Здравствуйте, Мария! Меня зовут Анна. Что вас беспокоит?", minutes=2)
    chat.admin("Уточнить у Петрова про брекеты", kind="note")
    chat.admin("Мария, уточню у врача и вернусь в течение 15 минут.", kind="promise", minutes=0)
    chat.patient("", kind="image", attachments=[{"kind": "image", "provider_ref": "f1"}])
    chat.patient("Четверг", kind="button", payload={"data": "thu"})
    chat.patient("Вот снимок", kind="image", attachments=[{"kind": "image", "provider_ref": "f2"}])
    window = chat.resolve("next_step", "Пришлёт снимок врачу")

    dialogue = dialogue_build(window=window)

    assert [(m.author, m.kind, m.text) for m in dialogue.messages] == [
        ("patient", "text", "Здравствуйте! Можно к ортодонту?"),
        ("auto", "text", "Спасибо! Администратор ответит в течение 5 минут."),
        ("admin", "text", "Здравствуйте, Мария! Меня зовут Анна. Что вас беспокоит?"),
        ("admin", "note", "Уточнить у Петрова про брекеты"),
        ("admin", "promise", "Мария, уточню у врача и вернусь в течение 15 минут."),
        ("patient", "text", "[image]"),  # no caption: a placeholder
        ("patient", "text", "Четверг"),  # a button press is what the patient said
        ("patient", "text", "Вот снимок"),  # the caption
    ]
    times = [m.at for m in dialogue.messages]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert (dialogue.patient_first_name, dialogue.patient_patronymic,
            dialogue.patient_last_name) == ("Мария", "Петровна", "Иванова")
    assert dialogue.admin_name == "Анна"
    assert dialogue.outcome == Outcome(next_step="Пришлёт снимок врачу", about_visit=True)


def test_a_patient_message_counts_from_when_they_wrote_it_kept_in_order(chat, now):
    chat.patient("Добрый день!")
    chat.admin("Здравствуйте! Меня зовут Анна. Как к вам обращаться?")
    late = chat.patient("Хочу на чистку", provider_timestamp=now - timedelta(hours=1))
    window = chat.resolve()
    messages = dialogue_build(window=window).messages
    assert messages[2].at == messages[1].at < late.created_at  # not before the reply it follows


def test_only_the_resolved_dialogue_is_read_and_a_new_message_starts_the_next(chat):
    chat.patient("Сколько стоит отбеливание?")
    chat.admin("Здравствуйте, Мария! Отбеливание стоит от 15000 ₽. Записать вас?")
    first = chat.resolve("not_about_visit")
    chat.patient_writes("А можно справку для бассейна?", minutes=60)
    chat.admin("Да, Мария, справку выдаст терапевт. Когда вам удобно подойти?")
    second = chat.resolve("next_step", "Придёт за справкой")

    assert first.pk != second.pk
    texts = [m.text for m in dialogue_build(window=second).messages]
    assert texts == ["А можно справку для бассейна?",
                     "Да, Мария, справку выдаст терапевт. Когда вам удобно подойти?"]
    assert len(dialogue_build(window=first).messages) == 2


def test_a_booking_counts_only_when_a_visit_booked_from_the_chat_is_found(
        chat, clinic, patient, now):
    chat.patient("Запишите меня на чистку")
    chat.admin("Здравствуйте, Мария! Записала вас на пятницу, 10:00. До встречи!")
    nothing_found = chat.resolve("booked")
    assert nothing_found.appointment is None
    assert dialogue_build(window=nothing_found).outcome.booked is False

    chat.reopen()
    visit = AppointmentFactory(doctor=DoctorFactory(clinic=clinic), patient=patient,
                               start=now + timedelta(days=3), created_at=chat.at,
                               source_conversation_id=chat.conversation.pk)
    booked = chat.resolve("booked")
    assert booked.pk == nothing_found.pk and booked.appointment == visit
    assert dialogue_build(window=booked).outcome == Outcome(booked=True, about_visit=True)


def test_the_rules_are_the_clinics_adjusted_by_the_revision(chat, clinic, owner, now):
    DoctorFactory(clinic=clinic, name="Цхай Виктория Олеговна")
    clinic.emoji_limit, clinic.first_reply_minutes = 3, 7
    clinic.save(update_fields=["emoji_limit", "first_reply_minutes"])
    chat.patient("Здравствуйте")
    window = chat.resolve("not_about_visit")

    rules = dialogue_build(window=window).rules
    assert (rules.emoji_limit, rules.first_reply_minutes) == (3, 7)  # the clinic's, as timers
    assert rules.stop_words == tuple(clinic.stop_words)
    assert "Цхай Виктория Олеговна" in rules.dictionary

    revision = checklist_revision_save(clinic=clinic, by=owner, now=now, changes={
        "emoji": {"parameters": {"emoji_limit": 1}},
        "literacy": {"parameters": {"dictionary": ["брекет-система"]}}})
    rules = dialogue_build(window=window, revision=revision).rules
    assert rules.emoji_limit == 1 and rules.first_reply_minutes == 7
    assert {"брекет-система", "Цхай Виктория Олеговна"} <= set(rules.dictionary)
