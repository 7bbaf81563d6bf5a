"""Resolving asks how the dialogue ended and records it as a dialogue window."""

from datetime import timedelta

import pytest
from django.urls import reverse

from inbox.models import Conversation, DialogueWindow
from inbox.services.assignment import AssignmentRefused, conversation_status_set
from inbox.signals import dialogue_resolved
from tests.inbox.factories import Chat, conversation_for
from tests.scheduling.factories import AppointmentFactory, DoctorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(clinic, administrator, patient, now):
    return Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)


def test_resolving_needs_the_result_and_a_next_step_needs_its_text(chat, administrator, now):
    chat.patient("Здравствуйте")
    for outcome, next_step in (("", ""), ("maybe", ""), ("next_step", "  ")):
        with pytest.raises(AssignmentRefused):
            conversation_status_set(conversation=chat.conversation, status="resolved",
                                    by=administrator, now=now, outcome=outcome,
                                    next_step=next_step)
    assert Conversation.objects.get().status == "open"
    assert not DialogueWindow.objects.exists()


def test_a_resolve_records_the_dialogue_who_handled_it_and_how_it_ended(chat, administrator):
    first = chat.patient("Здравствуйте! Можно записаться?")
    chat.admin("Здравствуйте, Мария! Меня зовут Анна. На какой день?")
    last = chat.patient("На четверг")
    chat.admin("Внутренняя пометка", kind="note")
    window = chat.resolve("next_step", "  Перезвонит  в четверг ")
    assert (window.first_message, window.started_at) == (first, first.created_at)
    assert window.last_message.body == "Внутренняя пометка" and window.ended_at > last.created_at
    assert window.administrator == administrator and window.resolved_by == administrator
    assert (window.outcome, window.next_step) == ("next_step", "Перезвонит в четверг")
    assert window.clinic_replied and window.status == "resolved" and window.resolve_count == 1


def test_a_manual_reopen_and_a_new_resolve_extend_the_same_dialogue(chat):
    chat.patient("Сколько стоит чистка?")
    chat.admin("Здравствуйте, Мария! От 4500 ₽. Записать вас?")
    window = chat.resolve("not_about_visit")
    chat.reopen()
    assert DialogueWindow.objects.get().status == "reopened"
    later = chat.admin("Мария, есть окно в пятницу в 10:00. Удобно?")
    again = chat.resolve("next_step", "Ответит до пятницы")
    assert again.pk == window.pk and DialogueWindow.objects.count() == 1
    assert again.last_message == later and again.resolve_count == 2
    assert again.outcome == "next_step"


def test_a_patient_writing_after_a_resolve_starts_a_new_dialogue(chat):
    chat.patient("Здравствуйте")
    chat.admin("Здравствуйте, Мария! Чем помочь?")
    first = chat.resolve("not_about_visit")
    again = chat.patient_writes("Ещё вопрос: вы работаете в субботу?", minutes=30)
    assert Conversation.objects.get().status == "open"
    second = chat.resolve("no_reply_needed")
    assert second.pk != first.pk
    assert second.first_message == again and second.last_message == again
    assert not second.clinic_replied  # nobody of the staff wrote in it


def test_the_visit_booked_from_the_chat_during_the_dialogue_is_found(chat, clinic, patient,
                                                                     now):
    doctor = DoctorFactory(clinic=clinic)
    chat.patient("Запишите на чистку")
    earlier = AppointmentFactory(doctor=doctor, patient=patient, start=now + timedelta(days=2),
                                 created_at=chat.at,
                                 source_conversation_id=chat.conversation.pk)
    first = chat.resolve("booked")
    assert first.appointment == earlier
    chat.patient_writes("И ещё ребёнка на осмотр", minutes=60)
    AppointmentFactory(doctor=doctor, start=now + timedelta(days=3), created_at=chat.at,
                       source_conversation_id=chat.conversation.pk + 1000)  # another chat's
    cancelled = AppointmentFactory(doctor=doctor, patient=patient, status="cancelled",
                                   start=now + timedelta(days=4), created_at=chat.at,
                                   source_conversation_id=chat.conversation.pk)
    assert chat.resolve("booked").appointment is None  # the first is counted, one cancelled
    assert cancelled.pk


def test_the_resolve_tells_quality_after_commit(chat, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, window_id, **kwargs):
        received.append(window_id)

    dialogue_resolved.connect(receiver)
    try:
        chat.patient("Здравствуйте")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            window = chat.resolve("not_about_visit")
        assert received == []
        for callback in callbacks:
            callback()
        assert received == [window.pk]
    finally:
        dialogue_resolved.disconnect(receiver)


def test_the_thread_asks_for_the_result_and_a_plain_post_resolves(client, chat,
                                                                 administrator):
    chat.patient("Здравствуйте")
    client.force_login(administrator)
    url = reverse("inbox:thread", args=[chat.conversation.pk])
    page = client.get(url).content.decode()
    assert 'name="outcome" value="booked"' in page and 'name="next_step"' in page
    assert "No visit booked from this chat" in page

    resolve = reverse("inbox:assignment", args=[chat.conversation.pk, "resolve"])
    refused = client.post(resolve, follow=True)
    assert "Choose how the dialogue ended" in refused.content.decode()
    assert Conversation.objects.get().status == "open"

    client.post(resolve, {"outcome": "next_step", "next_step": "Пришлёт анализы"})
    assert Conversation.objects.get().status == "resolved"
    page = client.get(url).content.decode()
    assert "Agreed on a next step" in page and "Пришлёт анализы" in page


def test_the_htmx_resolve_answers_with_the_thread(client, chat, administrator):
    chat.patient("Здравствуйте")
    client.force_login(administrator)
    resolve = reverse("inbox:assignment", args=[chat.conversation.pk, "resolve"])
    response = client.post(resolve, {"outcome": "no_reply_needed"}, HTTP_HX_REQUEST="true",
                           HTTP_HX_TARGET="thread")
    assert response.status_code == 200 and "Reopen" in response.content.decode()
    assert DialogueWindow.objects.get().outcome == "no_reply_needed"
