import pytest
from django.urls import reverse

from clinic.models import Membership
from inbox.models import ContactIdentity, Conversation, Message
from inbox.services.assignment import (
    QUEUE_GREETING,
    conversation_autoassign,
    conversation_status_set,
    queue_drain,
)
from tests.clinic.factories import MembershipFactory, PatientFactory
from tests.inbox.factories import TelegramChannelFactory
from tests.workers import queued_tasks


@pytest.fixture
def channel(clinic):
    return TelegramChannelFactory(clinic=clinic)


def waiting(channel, n, now, patient=None):
    contact = ContactIdentity.objects.create(clinic=channel.clinic, channel=channel,
                                             external_id=str(n), display_name=f"Пациент {n}",
                                             patient=patient)
    return Conversation.objects.create(clinic=channel.clinic, channel=channel, contact=contact,
                                       patient=patient, last_message_at=now,
                                       last_patient_message_at=now)


def online(clinic, name):
    return MembershipFactory(clinic=clinic, role="administrator", availability="online",
                             user__first_name=name).user


def assignee(conversation):
    conversation.refresh_from_db()
    return conversation.assignee


def test_a_new_conversation_goes_to_the_online_administrator_with_fewest_dialogues(
        channel, clinic, now):
    anna, boris = online(clinic, "Анна"), online(clinic, "Борис")
    MembershipFactory(clinic=clinic, role="administrator", availability="offline")
    first, second = waiting(channel, 1, now), waiting(channel, 2, now)
    conversation_autoassign(conversation_id=first.pk, now=now)
    conversation_autoassign(conversation_id=second.pk, now=now)
    assert {assignee(first), assignee(second)} == {anna, boris}


def test_the_one_who_last_answered_the_patient_is_preferred(channel, clinic, now):
    online(clinic, "Анна")
    boris = online(clinic, "Борис")
    patient = PatientFactory(clinic=clinic)
    old = waiting(channel, 1, now, patient)
    Message.objects.create(conversation=old, channel=channel, direction="out",
                           body="Здравствуйте", author=boris, status="sent", created_at=now)
    conversation_status_set(conversation=old, status="resolved", by=boris, now=now,
                            outcome="not_about_visit")
    other_channel = TelegramChannelFactory(clinic=clinic)
    new = waiting(other_channel, 2, now, patient)
    conversation_autoassign(conversation_id=new.pk, now=now)
    assert assignee(new) == boris


def test_at_the_cap_the_patient_waits_and_is_told_once_how_long(channel, clinic, now):
    anna = online(clinic, "Анна")
    for n in range(clinic.max_live_dialogues):
        conversation_autoassign(conversation_id=waiting(channel, n, now).pk, now=now)
    queued = waiting(channel, 99, now)
    conversation_autoassign(conversation_id=queued.pk, now=now)
    conversation_autoassign(conversation_id=queued.pk, now=now)
    assert assignee(queued) is None
    greetings = Message.objects.filter(conversation=queued, payload__automatic=QUEUE_GREETING)
    assert greetings.count() == 1
    assert "5" in greetings.get().body  # one conversation waiting: about 5 minutes
    assert Conversation.objects.filter(assignee=anna).count() == clinic.max_live_dialogues


def test_the_queue_drains_when_a_dialogue_is_resolved(channel, clinic, now):
    anna = online(clinic, "Анна")
    live = [waiting(channel, n, now) for n in range(clinic.max_live_dialogues)]
    for conversation in live:
        conversation_autoassign(conversation_id=conversation.pk, now=now)
    queued = waiting(channel, 99, now)
    conversation_autoassign(conversation_id=queued.pk, now=now)
    conversation_status_set(conversation=live[0], status="resolved", by=anna, now=now,
                            outcome="not_about_visit")
    assert queue_drain(clinic_id=clinic.pk, now=now) == 1
    assert assignee(queued) == anna


def test_nobody_online_means_nobody_is_assigned(channel, clinic, now):
    MembershipFactory(clinic=clinic, role="administrator", availability="away")
    conversation = waiting(channel, 1, now)
    assert not conversation_autoassign(conversation_id=conversation.pk, now=now)
    assert assignee(conversation) is None


def test_coming_online_and_signing_out(client, administrator, clinic,
                                      django_capture_on_commit_callbacks):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("inbox:availability"), {"availability": "online"})
    membership = Membership.objects.get(user=administrator, clinic=clinic)
    assert membership.availability == "online"
    assert len(queued_tasks(callbacks)) == 1  # the queue drains
    client.post(reverse("logout"))
    membership.refresh_from_db()
    assert membership.availability == "offline"


def _hand_outs(callbacks: list) -> list:
    """The after-commit hand-outs among the callbacks (a reply timer queues its own)."""
    return [c for c in callbacks if c.__qualname__.startswith("_bump.")]


def test_a_patient_message_queues_the_hand_out(client, channel,
                                               django_capture_on_commit_callbacks):
    import json

    from tests.inbox import payloads

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("hook-telegram", args=[channel.key]),
                    json.dumps(payloads.tg_message()), content_type="application/json",
                    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)
    assert len(_hand_outs(callbacks)) == 1


def test_a_burst_of_patient_messages_queues_one_hand_out(client, channel,
                                                         django_capture_on_commit_callbacks):
    import json

    from tests.inbox import payloads

    def write(update_id, date):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post(reverse("hook-telegram", args=[channel.key]),
                        json.dumps(payloads.tg_message(update_id, update_id, date=date)),
                        content_type="application/json",
                        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.webhook_secret)
        return len(_hand_outs(callbacks))

    assert write(1, 1_795_000_000) == 1
    assert write(2, 1_795_000_010) == 0  # the same burst
    assert write(3, 1_795_000_300) == 1  # five minutes later: waiting anew


def test_a_reopened_conversation_is_handed_out_afresh(client, channel, administrator, now,
                                                      django_capture_on_commit_callbacks):
    import json

    from tests.inbox import payloads

    url = reverse("hook-telegram", args=[channel.key])
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": channel.webhook_secret}
    client.post(url, json.dumps(payloads.tg_message(1, 1)), content_type="application/json",
                **headers)
    Conversation.objects.update(assignee=administrator, status="resolved")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url, json.dumps(payloads.tg_message(2, 2)), content_type="application/json",
                    **headers)
    conversation = Conversation.objects.get()
    assert conversation.status == "open" and conversation.assignee is None
    assert len(_hand_outs(callbacks)) == 1
