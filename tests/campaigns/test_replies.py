"""Reading a patient's reply to a reminder: only a plain yes or no is acted on silently."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.replies import Intent, reply_intent

CONFIRM, CANCEL, RESCHEDULE, STOP, OTHER = Intent

REPLIES = [
    # A plain yes, however it is typed.
    ("да", CONFIRM),
    ("Да", CONFIRM),
    ("ДА!!!", CONFIRM),
    ("Дааа", CONFIRM),
    ("да-да", CONFIRM),
    ("1", CONFIRM),
    ("1.", CONFIRM),
    (" 1 ", CONFIRM),
    ("1️⃣", CONFIRM),
    ("+", CONFIRM),
    ("++", CONFIRM),
    ("C", CONFIRM),  # Latin
    ("С", CONFIRM),  # Cyrillic
    ("подтверждаю", CONFIRM),
    ("Подтверждаю, спасибо!", CONFIRM),
    ("👍", CONFIRM),
    ("👍🏻", CONFIRM),
    ("👍🏽👍🏽", CONFIRM),
    ("да👍", CONFIRM),
    ("✅", CONFIRM),
    ("👌", CONFIRM),
    ("ок", CONFIRM),
    ("Окей)", CONFIRM),
    ("да, спасибо", CONFIRM),
    ("Да, буду", CONFIRM),
    ("Хорошо, приду", CONFIRM),
    ("Конечно буду", CONFIRM),
    ("буду", CONFIRM),
    ("Приду 🙏", CONFIRM),
    ("Здравствуйте! Да, всё в силе.", CONFIRM),
    ("Добрый день, подтверждаю запись", CONFIRM),
    ("Да, смогу прийти, спасибо большое", CONFIRM),
    ("Yes", CONFIRM),
    ("ok", CONFIRM),
    ("confirm", CONFIRM),
    ("Yes please!", CONFIRM),
    # A plain no: the slot is freed.
    ("нет", CANCEL),
    ("Нет, спасибо", CANCEL),
    ("2", CANCEL),
    ("2.", CANCEL),
    ("отмена", CANCEL),
    ("Отмените", CANCEL),
    ("отменить запись", CANCEL),
    ("Отмените, пожалуйста, мою запись", CANCEL),
    ("не приду", CANCEL),
    ("Не смогу прийти", CANCEL),
    ("К сожалению, не получится 😔", CANCEL),
    ("Нееет", CANCEL),
    ("❌", CANCEL),
    ("👎🏼", CANCEL),
    ("cancel", CANCEL),
    ("No thanks", CANCEL),
    # Another time: a human rebooks.
    ("перенести", RESCHEDULE),
    ("Перенесите пожалуйста", RESCHEDULE),
    ("можно перенести?", RESCHEDULE),
    ("другое время", RESCHEDULE),
    ("Давайте на другой день", RESCHEDULE),
    ("Не смогу, можно перенести на пятницу?", RESCHEDULE),
    ("хочу перезаписаться", RESCHEDULE),
    ("Can we reschedule?", RESCHEDULE),
    # Opt-out: only when the whole message says so.
    ("СТОП", STOP),
    ("Стоп!", STOP),
    ("STOP", STOP),
    ("отписаться", STOP),
    ("Отпишите меня", STOP),
    ("Отпишите меня от рассылки, пожалуйста", STOP),
    ("Не пишите мне больше", STOP),
    ("Не присылайте больше сообщения", STOP),
    ("Хватит спамить", STOP),
    ("unsubscribe", STOP),
    # Anything else goes to a human.
    ("да, а можно на час позже?", OTHER),
    ("Да, но я опоздаю на 10 минут", OTHER),
    ("буду, подскажите адрес", OTHER),
    ("нет, не смогу, давайте в пятницу", OTHER),
    ("да?", OTHER),
    ("Отменить?", OTHER),
    ("не уверен", OTHER),
    ("да нет, наверное", OTHER),
    ("да нет", OTHER),
    ("Нет, всё в силе", OTHER),
    ("нет проблем", OTHER),
    ("не отменяйте", OTHER),
    ("Конечно нет", OTHER),
    ("стоп, а во сколько приём?", OTHER),
    ("Стоп, отмените запись", OTHER),
    ("Удалите запись", OTHER),
    ("Больше не приду", OTHER),
    ("12", OTHER),
    ("1 зуб", OTHER),
    ("1 2", OTHER),
    ("с мужем", OTHER),
    ("Спасибо", OTHER),
    ("Понятно", OTHER),
    ("-", OTHER),
    ("🤔", OTHER),
    ("да 🤔", OTHER),
    ("✅❌", OTHER),
    ("🙏", OTHER),
    ("", OTHER),
    ("   ", OTHER),
    ("Да, Анна придёт", OTHER),
    ("Здравствуйте, а сколько стоит чистка?", OTHER),
    ("+7 999 123-45-67", OTHER),
    ("так", OTHER),
]


@pytest.mark.parametrize(
    ("text", "expected"), REPLIES, ids=[text or "<empty>" for text, _ in REPLIES]
)
def test_it_reads_a_real_reply_as_the_patient_meant_it(text, expected):
    assert reply_intent(text) == expected


def test_every_intent_has_examples_in_the_table():
    assert {expected for _, expected in REPLIES} == set(Intent)


def test_the_table_is_large_enough_to_trust():
    assert len(REPLIES) >= 60


def test_it_returns_an_intent_that_is_a_plain_string():
    assert reply_intent("да") == "confirm"


@given(st.text(max_size=60))
def test_it_never_silently_confirms_or_cancels_a_question(text):
    assert reply_intent(f"да, {text}?") not in {CONFIRM, CANCEL}
    assert reply_intent(f"нет {text}?") not in {CONFIRM, CANCEL}


@given(st.sampled_from(["да", "буду", "приду", "подтверждаю", "ок"]), st.text(max_size=20))
def test_a_yes_negated_by_the_patient_is_never_a_confirm(yes, tail):
    assert reply_intent(f"не {yes} {tail}") != CONFIRM
