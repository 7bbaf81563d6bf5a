"""Patient satisfaction: one automatic question after a resolve, and a reply of 1 to 5 stored as
the dialogue's rating without reopening the conversation.

Decided here: a dialogue window is asked at most once, so a manual reopen and a new resolve of
the same window never ask again; the question and the rating belong to no dialogue window."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinic.models import ClinicSettingChange
from inbox.models import Conversation, DialogueWindow, Message, ResponseTimer
from inbox.services.assignment import conversation_status_set
from inbox.services.outbound import message_deliver, message_send
from inbox.services.satisfaction import SATISFACTION_QUESTION, rating_parse
from inbox.signals import satisfaction_recorded
from qa.models import Scorecard
from qa.services.scoring import dialogue_build, scorecard_build
from qa.tasks import scorecard_build_task
from tests.inbox import payloads
from tests.inbox.factories import (
    Chat,
    ContactFactory,
    ConversationFactory,
    TelegramChannelFactory,
    WhatsAppChannelFactory,
    conversation_for,
)
from tests.workers import celery_worker, wait_for, worker_database_url

QUESTION = "Оцените, пожалуйста, ответ от 1 до 5: напишите цифру."


@pytest.fixture
def queued(monkeypatch):
    """What would go to Celery, by task name; nothing reaches a broker."""
    tasks: list[tuple[str, tuple]] = []

    def enqueue(task, *args, **kwargs):
        tasks.append((task.name.rsplit(".", 1)[-1], args))

    monkeypatch.setattr("inbox.tasks.enqueue", enqueue)
    monkeypatch.setattr("qa.receivers.enqueue", enqueue)
    return tasks


@pytest.fixture
def asking(clinic):
    clinic.ask_satisfaction = True
    clinic.save(update_fields=["ask_satisfaction"])
    return clinic


@pytest.fixture
def chat(db, clinic, administrator, patient, now):
    return Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)


class Dialogue:
    """A chat whose after-commit work runs as it would in production."""

    def __init__(self, chat: Chat, capture) -> None:
        self.chat, self.capture = chat, capture

    def talk(self) -> None:
        self.chat.patient_writes("Здравствуйте! Сколько стоит чистка?")
        self.chat.admin("Здравствуйте, Мария! Меня зовут Анна. От 4500 ₽. Записать вас?")

    def resolve(self, outcome: str = "not_about_visit", **kwargs) -> DialogueWindow:
        with self.capture(execute=True):
            return self.chat.resolve(outcome, **kwargs)

    def patient_writes(self, text: str, minutes: float = 1) -> Message:
        with self.capture(execute=True):
            return self.chat.patient_writes(text, minutes=minutes)


@pytest.fixture
def dialogue(chat, queued, django_capture_on_commit_callbacks):
    return Dialogue(chat, django_capture_on_commit_callbacks)


def questions(conversation: Conversation) -> list[Message]:
    return list(Message.objects.filter(conversation=conversation,
                                       payload__automatic=SATISFACTION_QUESTION))


# What reads as a rating


@pytest.mark.parametrize(("text", "rating"), [
    ("5", 5), ("5!", 5), (" 4 ", 4), ("5 спасибо", 5), ("⭐5", 5), ("Спасибо, 5)", 5),
    ("1", 1), ("3.", 3), ("5️⃣", 5), ("4 из 5", 4), ("5/5", 5), ("⭐⭐⭐⭐", 4),
    ("5 спасибо за помощь!", 5), ("Всё отлично, 5!", 5), ("5 баллов", 5), ("5\nспасибо", 5),
])
def test_a_digit_with_thanks_punctuation_or_an_emoji_is_a_rating(text, rating):
    assert rating_parse(text) == rating


@pytest.mark.parametrize("text", [
    "5 минут", "в 5", "1 вопрос", "5?", "Можно в 5?", "15", "0", "6", "4-5", "5:30", "5 5",
    "5%", "5-го", "Спасибо", "👍", "", "Пять", "5 ok", "2 часа",
    "5 спасибо, а ещё хочу записать сына к ортодонту",
])
def test_a_time_an_amount_or_words_around_the_digit_are_not_a_rating(text):
    assert rating_parse(text) is None


# Asking


def test_with_the_setting_off_no_question_is_sent(dialogue, chat):
    dialogue.talk()
    window = dialogue.resolve()
    assert questions(chat.conversation) == []
    assert window.satisfaction_asked_at is None and window.satisfaction_skipped == ""


def test_after_a_resolve_one_automatic_question_goes_out_on_the_same_channel(
        asking, dialogue, chat, queued, fake):
    dialogue.talk()
    window = dialogue.resolve()
    [question] = questions(chat.conversation)
    assert (question.body, question.author, question.direction) == (QUESTION, None, "out")
    assert question.channel == chat.conversation.channel and question.status == "queued"
    window.refresh_from_db()
    assert window.satisfaction_asked_at == chat.at
    # Through the ordinary outbox: queued after commit, delivered by the real adapter.
    assert ("message_deliver_task", (question.pk,)) in queued
    assert message_deliver(message_id=question.pk, now=chat.at).sent
    [sent] = fake.sent("telegram")
    assert sent.json["text"] == QUESTION
    # It neither answers nor starts a wait.
    conversation = Conversation.objects.get()
    assert conversation.status == "resolved" and conversation.reply_due_at is None
    assert not ResponseTimer.objects.filter(met_message=question).exists()
    assert not ResponseTimer.objects.filter(trigger_message=question).exists()


def test_the_clinic_words_the_question_itself(asking, dialogue, chat):
    asking.satisfaction_question = "Мария, как мы вам помогли? Оценка от 1 до 5."
    asking.save()
    dialogue.talk()
    dialogue.resolve()
    assert [q.body for q in questions(chat.conversation)] == [
        "Мария, как мы вам помогли? Оценка от 1 до 5."]


def test_a_reopen_and_a_new_resolve_of_the_same_dialogue_do_not_ask_again(asking, dialogue,
                                                                          chat):
    dialogue.talk()
    window = dialogue.resolve()
    chat.reopen()
    chat.admin("Мария, есть окно в пятницу в 10:00. Удобно?")
    again = dialogue.resolve("next_step", next_step="Ответит до пятницы")
    assert again.pk == window.pk and again.resolve_count == 2
    assert len(questions(chat.conversation)) == 1


def test_the_question_and_the_rating_stay_out_of_a_reopened_dialogue(asking, dialogue, chat):
    dialogue.talk()
    dialogue.resolve()
    chat.patient_writes("5!")
    chat.reopen()
    chat.admin("Мария, есть окно в пятницу в 10:00. Удобно?")  # the question is inside now
    window = dialogue.resolve("next_step", next_step="Ответит до пятницы")
    texts = [m.text for m in dialogue_build(window=window).messages]
    assert QUESTION not in texts and "5!" not in texts
    assert "Мария, есть окно в пятницу в 10:00. Удобно?" in texts


def test_no_question_when_no_reply_was_needed(asking, dialogue, chat):
    dialogue.talk()
    dialogue.resolve("no_reply_needed")
    assert questions(chat.conversation) == []


def test_no_question_when_nobody_of_the_staff_wrote(asking, dialogue, chat):
    chat.patient_writes("Здравствуйте! Вы работаете в субботу?")
    chat.auto("Здравствуйте! Сейчас клиника закрыта.")
    window = dialogue.resolve("not_about_visit")
    assert not window.clinic_replied and questions(chat.conversation) == []


def test_whatsapp_outside_the_24_hour_window_skips_the_question_and_says_why(
        asking, administrator, dialogue, queued, now, caplog):
    channel = WhatsAppChannelFactory(clinic=asking)
    conversation = ConversationFactory(
        contact=ContactFactory(channel=channel, external_id="79161234567"),
        assignee=administrator, last_patient_message_at=now - timedelta(hours=25))
    chat = Chat(conversation, administrator, now)
    chat.patient("Здравствуйте! Сколько стоит чистка?", minutes=-25 * 60)
    chat.admin("Здравствуйте, Мария! От 4500 ₽. Записать вас?", minutes=24 * 60 + 30)
    with caplog.at_level("INFO", logger="inbox.services.satisfaction"):
        window = Dialogue(chat, dialogue.capture).resolve(minutes=31)
    window.refresh_from_db()
    assert Conversation.objects.get(pk=conversation.pk).status == "resolved"  # not failed
    assert questions(conversation) == []
    assert window.satisfaction_asked_at is None
    assert window.satisfaction_skipped == "whatsapp_window"
    assert "whatsapp_window" in caplog.text


def test_whatsapp_within_24_hours_is_asked(asking, administrator, dialogue, now):
    channel = WhatsAppChannelFactory(clinic=asking)
    conversation = ConversationFactory(
        contact=ContactFactory(channel=channel, external_id="79161234567"),
        assignee=administrator, last_patient_message_at=now)
    chat = Chat(conversation, administrator, now)
    chat.patient("Здравствуйте! Сколько стоит чистка?", minutes=0)
    chat.admin("Здравствуйте, Мария! От 4500 ₽. Записать вас?")
    Dialogue(chat, dialogue.capture).resolve()
    assert len(questions(conversation)) == 1


def test_a_patient_who_opted_out_of_all_messages_is_not_asked(asking, dialogue, chat, patient):
    patient.opted_out_all = True
    patient.save()
    dialogue.talk()
    window = dialogue.resolve()
    window.refresh_from_db()
    assert questions(chat.conversation) == [] and window.satisfaction_skipped == "opted_out"


def test_a_question_that_cannot_be_written_never_fails_the_resolve(asking, dialogue, chat,
                                                                  monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database hiccuped")

    monkeypatch.setattr("inbox.services.outbound.message_send", broken)
    dialogue.talk()
    window = dialogue.resolve()
    assert window.status == "resolved" and Conversation.objects.get().status == "resolved"
    assert questions(chat.conversation) == []


def test_no_question_once_the_patient_has_written_again(asking, chat, queued,
                                                        django_capture_on_commit_callbacks):
    Dialogue(chat, django_capture_on_commit_callbacks).talk()
    with django_capture_on_commit_callbacks() as callbacks:  # the resolve, not yet after it
        chat.resolve("not_about_visit")
    chat.patient_writes("Ой, ещё вопрос: а рентген у вас делают?")
    for callback in callbacks:
        callback()
    assert questions(chat.conversation) == []


# The answer


def test_a_rating_is_stored_and_the_conversation_stays_resolved(asking, dialogue, chat, queued):
    dialogue.talk()
    window = dialogue.resolve()
    before = Conversation.objects.get()
    timers = ResponseTimer.objects.count()
    queued.clear()
    received = []

    def receiver(sender, window_id, **kwargs):
        received.append(window_id)

    satisfaction_recorded.connect(receiver)
    try:
        rating = dialogue.patient_writes("5 спасибо", minutes=10)
    finally:
        satisfaction_recorded.disconnect(receiver)
    window.refresh_from_db()
    assert (window.satisfaction, window.satisfaction_at) == (5, chat.at)
    assert window.satisfaction_message == rating
    assert rating.body == "5 спасибо" and rating.direction == "in"  # stored as sent
    assert rating.payload["satisfaction"] == 5
    conversation = Conversation.objects.get()
    assert conversation.status == "resolved" and conversation.assignee == before.assignee
    assert conversation.unread_count == before.unread_count
    assert conversation.reply_due_at is None and conversation.waiting_since is None
    assert ResponseTimer.objects.count() == timers  # no timer started
    assert conversation.last_message_preview == "5 спасибо"
    assert conversation.last_patient_message_at == chat.at
    assert [name for name, _ in queued] == []  # nobody is handed the conversation
    assert received == [window.pk]


def test_5_minutes_is_a_new_request_that_reopens_the_conversation(asking, dialogue, chat,
                                                                  queued):
    dialogue.talk()
    window = dialogue.resolve()
    message = dialogue.patient_writes("5 минут", minutes=10)
    window.refresh_from_db()
    assert window.satisfaction is None and "satisfaction" not in message.payload
    conversation = Conversation.objects.get()
    assert conversation.status == "open" and conversation.unread_count == 1
    assert ResponseTimer.objects.filter(trigger_message=message, met_at__isnull=True).exists()
    assert ("patient_wrote_task", (conversation.pk,)) in queued


def test_only_the_first_answer_is_the_rating(asking, dialogue, chat):
    dialogue.talk()
    window = dialogue.resolve()
    dialogue.patient_writes("4")
    second = dialogue.patient_writes("5")
    window.refresh_from_db()
    assert window.satisfaction == 4
    assert Conversation.objects.get().status == "open"
    assert ResponseTimer.objects.filter(trigger_message=second).exists()


def test_a_digit_without_a_question_is_an_ordinary_message(dialogue, chat):
    dialogue.talk()
    window = dialogue.resolve()  # the clinic does not ask
    dialogue.patient_writes("5")
    window.refresh_from_db()
    assert window.satisfaction is None and Conversation.objects.get().status == "open"


def test_an_answer_after_three_days_is_an_ordinary_message(asking, dialogue, chat):
    dialogue.talk()
    window = dialogue.resolve()
    dialogue.patient_writes("5", minutes=3 * 24 * 60 + 1)
    window.refresh_from_db()
    assert window.satisfaction is None and Conversation.objects.get().status == "open"


def test_the_next_dialogue_starts_after_the_question_and_the_rating(asking, dialogue, chat):
    dialogue.talk()
    first = dialogue.resolve()
    dialogue.patient_writes("5")
    request = dialogue.patient_writes("Здравствуйте! А рентген у вас делают?", minutes=60)
    chat.admin("Здравствуйте, Мария! Да, прицельный снимок — 500 ₽. Записать вас?")
    second = dialogue.resolve()
    assert second.pk != first.pk and second.first_message == request
    texts = [m.text for m in dialogue_build(window=second).messages]
    assert "5" not in texts and QUESTION not in texts
    assert len(questions(chat.conversation)) == 2  # the new dialogue is asked too
    first.refresh_from_db()
    assert first.satisfaction == 5


def test_the_thread_shows_the_rating_beside_the_patients_message(asking, dialogue, chat,
                                                                 client, administrator):
    dialogue.talk()
    dialogue.resolve()
    dialogue.patient_writes("5")
    client.force_login(administrator)
    page = client.get(reverse("inbox:thread", args=[chat.conversation.pk])).content.decode()
    assert "rating: 5 of 5" in page and "automatic question: rate the answer" in page


# Quality


def test_a_rating_after_the_scorecard_exists_lands_on_the_scorecard(asking, dialogue, chat):
    dialogue.talk()
    window = dialogue.resolve()
    with time_machine.travel(chat.at + timedelta(seconds=3), tick=False):
        scorecard_build_task(window.pk)  # the slow queue, on its own clock
    scorecard = Scorecard.objects.get(window=window)
    assert scorecard.satisfaction is None
    dialogue.patient_writes("4")
    scorecard.refresh_from_db()
    assert scorecard.satisfaction == 4


def test_a_rating_before_scoring_is_copied_when_the_scorecard_is_built(asking, dialogue, chat):
    dialogue.talk()
    window = dialogue.resolve()
    dialogue.patient_writes("⭐5")
    assert scorecard_build(window_id=window.pk, now=chat.at).satisfaction == 5
    assert Scorecard.objects.get().satisfaction == 5


# The setting


def test_the_owner_turns_it_on_in_the_standards_and_the_change_is_versioned(client, owner,
                                                                           clinic):
    client.force_login(owner)
    form = client.get(reverse("clinic:settings-standards")).context["form"]
    assert form["ask_satisfaction"].value() is False
    assert form["satisfaction_question"].value() == QUESTION
    data = {name: value for name, value in form.initial.items()
            if value is not None and value is not False}
    data.update({"stop_words": "\n".join(clinic.stop_words), "ask_satisfaction": "on",
                 "satisfaction_question": "  Оцените нас от 1 до 5  "})
    response = client.post(reverse("clinic:settings-standards"), data)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.ask_satisfaction is True
    assert clinic.satisfaction_question == "Оцените нас от 1 до 5"
    changed = set(ClinicSettingChange.objects.filter(clinic=clinic)
                  .values_list("field", flat=True))
    assert changed == {"ask_satisfaction", "satisfaction_question"}
    data["satisfaction_question"] = ""  # empty: the default question
    client.post(reverse("clinic:settings-standards"), data)
    clinic.refresh_from_db()
    assert clinic.satisfaction_question == QUESTION


# The whole loop on real services


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_the_question_and_a_rating_by_webhook_reaches_the_scorecard(
        require_postgres, require_redis, fake, client, open_around_the_clock, administrator):
    clinic = open_around_the_clock
    clinic.ask_satisfaction = True
    clinic.save(update_fields=["ask_satisfaction"])
    channel = TelegramChannelFactory(clinic=clinic)
    hook = reverse("hook-telegram", args=[channel.key])
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": channel.webhook_secret}
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1",
           "TELEGRAM_API_BASE": fake.base_url, "WHATSAPP_API_BASE": fake.base_url}
    with celery_worker(env, "default,inbound,outbound,slow") as worker:
        client.post(hook, json.dumps(payloads.tg_message(text="Сколько стоит чистка?")),
                    content_type="application/json", **headers)
        conversation = Conversation.objects.get()
        Conversation.objects.filter(pk=conversation.pk).update(assignee=administrator)
        message_send(conversation=conversation, author=administrator, now=timezone.now(),
                     text="Здравствуйте! Меня зовут Анна. Чистка — от 4500 ₽. Записать вас?")
        conversation_status_set(conversation=conversation, status="resolved", by=administrator,
                                now=timezone.now(), outcome="not_about_visit")
        window = DialogueWindow.objects.get()

        def asked() -> bool:
            return any(r.json.get("text") == QUESTION for r in fake.sent("telegram"))

        assert wait_for(asked), worker["output"][-3000:]
        assert wait_for(lambda: Scorecard.objects.filter(window=window).exists(), seconds=60), (
            worker["output"][-3000:])
        client.post(hook, json.dumps(payloads.tg_message(update_id=10002, message_id=44,
                                                         text="5!")),
                    content_type="application/json", **headers)
        assert Scorecard.objects.get(window=window).satisfaction == 5
        window.refresh_from_db()
        assert window.satisfaction == 5
        wait_for(lambda: False, seconds=1)  # give a wrongly queued hand-out the chance
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.unread_count == 0
    assert len([r for r in fake.sent("telegram") if r.json.get("text") == QUESTION]) == 1

