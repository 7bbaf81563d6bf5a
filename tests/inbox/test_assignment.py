import threading

import pytest
from django.db import connection
from django.urls import reverse

from clinic import clock
from inbox.models import ContactIdentity, Conversation, Message
from inbox.services.assignment import (
    AssignmentRefused,
    conversation_status_set,
    conversation_take,
    conversation_transfer,
)
from tests.clinic.factories import MembershipFactory
from tests.inbox.factories import TelegramChannelFactory


@pytest.fixture
def conversation(clinic, now):
    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1",
                                             display_name="Мария")
    return Conversation.objects.create(clinic=clinic, channel=channel, contact=contact,
                                       last_message_at=now)


def test_taking_a_conversation_records_it_in_the_thread(conversation, administrator, now):
    conversation_take(conversation=conversation, user=administrator, now=now)
    conversation.refresh_from_db()
    assert conversation.assignee == administrator
    assert Message.objects.get(kind="system").body.endswith("took the conversation.")


def test_a_second_take_is_refused_with_who_has_it(conversation, administrator, clinic, now):
    other = MembershipFactory(clinic=clinic, role="administrator").user
    conversation_take(conversation=conversation, user=administrator, now=now)
    with pytest.raises(AssignmentRefused, match=administrator.get_full_name()):
        conversation_take(conversation=conversation, user=other, now=now)


def test_a_conversation_passes_only_to_someone_of_the_clinic(conversation, administrator,
                                                             outsider, now):
    with pytest.raises(AssignmentRefused):
        conversation_transfer(conversation=conversation, to=outsider, by=administrator,
                              note="", now=now)


def test_resolve_and_reopen(conversation, administrator, now):
    conversation_status_set(conversation=conversation, status="resolved", by=administrator,
                            now=now, outcome="not_about_visit")
    conversation_status_set(conversation=conversation, status="resolved", by=administrator,
                            now=now, outcome="not_about_visit")  # nothing new
    conversation_status_set(conversation=conversation, status="open", by=administrator, now=now)
    assert Message.objects.filter(kind="system").count() == 2


def test_the_thread_buttons_take_and_pass(client, conversation, administrator, manager):
    client.force_login(administrator)
    client.post(reverse("inbox:assignment", args=[conversation.pk, "take"]))
    client.post(reverse("inbox:assignment", args=[conversation.pk, "transfer"]),
                {"to": manager.pk, "note": "Вопрос по скидке"})
    conversation.refresh_from_db()
    assert conversation.assignee == manager
    assert "Вопрос по скидке" in Message.objects.filter(kind="system").last().body


@pytest.mark.django_db(transaction=True)
def test_two_administrators_pressing_take_at_once_one_wins(require_postgres, clinic):
    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1")
    conversation = Conversation.objects.create(clinic=clinic, channel=channel, contact=contact)
    people = [MembershipFactory(clinic=clinic, role="administrator").user for _ in range(6)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(people))

    def take(user) -> None:
        try:
            barrier.wait()
            conversation_take(conversation=Conversation.objects.get(pk=conversation.pk),
                              user=user, now=clock.now())
            outcomes.append("won")
        except AssignmentRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    assert Message.objects.filter(kind="system").count() == 1
