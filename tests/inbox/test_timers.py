"""The response timers with a controlled clock: when a reply is due, what meets it, the breach."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from clinic.models import Availability
from inbox.channels.base import InboundMessage, Sender
from inbox.models import Conversation, Message, Notification, ResponseTimer
from inbox.services.assignment import conversation_status_set, no_reply_needed
from inbox.services.auto_replies import out_of_hours_reply
from inbox.services.inbound import inbound_events_store
from inbox.services.outbound import message_send, note_add
from inbox.services.timers import timer_breach, timers_sweep
from tests.clinic.factories import MembershipFactory
from tests.inbox.factories import TelegramChannelFactory

MSK = ZoneInfo("Europe/Moscow")
FRIDAY_1958 = datetime(2026, 11, 27, 19, 58, tzinfo=MSK)
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=MSK)


@pytest.fixture
def channel(clinic):
    clinic.weekly_hours = [[["10:00", "20:00"]]] * 5 + [[], []]  # Monday to Friday 10–20
    clinic.save()
    return TelegramChannelFactory(clinic=clinic)


def patient_writes(channel, at: datetime, n: int = 1, text: str = "Здравствуйте!") -> Message:
    with time_machine.travel(at, tick=False):
        inbound_events_store(channel=channel, now=at, events=[InboundMessage(
            sender=Sender(external_id="5123456789", display_name="Мария Иванова"),
            provider_message_id=f"5123456789:{n}", sent_at=at, text=text)])
    return Message.objects.get(provider_message_id=f"5123456789:{n}")


def open_timer(conversation: Conversation) -> ResponseTimer:
    return ResponseTimer.objects.get(conversation=conversation, met_at=None, dismissed_at=None)


def test_a_message_at_friday_1958_is_due_at_the_next_opening_plus_3_working_minutes(channel):
    message = patient_writes(channel, FRIDAY_1958)
    timer = open_timer(message.conversation)
    assert timer.kind == "first_reply" and timer.started_at == FRIDAY_1958
    assert timer.due_at == datetime(2026, 11, 30, 10, 3, tzinfo=MSK)  # Monday
    conversation = Conversation.objects.get()
    assert conversation.reply_due_at == timer.due_at
    assert conversation.waiting_since == FRIDAY_1958
    assert conversation.waiting_rule == "first_reply"


def test_with_evening_duty_a_message_at_1958_is_due_at_2003(channel):
    clinic = channel.clinic
    clinic.evening_duty_start, clinic.evening_duty_end = time(20, 0), time(22, 0)
    clinic.save()
    message = patient_writes(channel, FRIDAY_1958)
    assert open_timer(message.conversation).due_at == datetime(2026, 11, 27, 20, 3, tzinfo=MSK)


def test_a_second_patient_message_does_not_move_the_due_time(channel):
    first = patient_writes(channel, TUESDAY_NOON)
    due = open_timer(first.conversation).due_at
    patient_writes(channel, TUESDAY_NOON + timedelta(minutes=3), n=2, text="Алло?")
    assert ResponseTimer.objects.count() == 1
    assert open_timer(first.conversation).due_at == due == TUESDAY_NOON + timedelta(minutes=5)


def test_a_reply_meets_the_timer_and_records_both_response_times(channel, administrator):
    message = patient_writes(channel, FRIDAY_1958)
    conversation = message.conversation
    monday = datetime(2026, 11, 30, 10, 1, tzinfo=MSK)
    reply = message_send(conversation=conversation, author=administrator,
                         text="Доброе утро, Мария!", now=monday)
    timer = ResponseTimer.objects.get()
    assert timer.met_at == monday and timer.met_by == administrator
    assert timer.met_message == reply
    assert timer.response_working_seconds == 3 * 60  # 19:58–20:00 and 10:00–10:01
    assert timer.response_seconds == (monday - FRIDAY_1958).total_seconds()
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None and conversation.waiting_since is None


def test_a_note_and_an_automatic_greeting_do_not_meet_the_timer(channel, administrator):
    message = patient_writes(channel, datetime(2026, 11, 24, 21, 0, tzinfo=MSK))
    conversation = Conversation.objects.select_related("clinic", "channel", "contact").get()
    note_add(conversation=conversation, author=administrator, text="Перезвонить утром",
             now=datetime(2026, 11, 24, 21, 1, tzinfo=MSK))
    assert out_of_hours_reply(conversation=conversation,
                              now=datetime(2026, 11, 24, 21, 1, tzinfo=MSK))
    assert open_timer(message.conversation).met_at is None


def test_a_promise_breaches_at_1215_without_an_answer(channel, administrator):
    conversation = patient_writes(channel, TUESDAY_NOON - timedelta(minutes=1)).conversation
    message_send(conversation=conversation, author=administrator, kind="promise",
                 text="Уточню у врача и вернусь в течение 15 минут.", now=TUESDAY_NOON)
    reply_timer, promise = ResponseTimer.objects.order_by("id")
    assert reply_timer.met_at == TUESDAY_NOON  # the promise answered the patient
    assert promise.kind == "promise" and promise.due_at == datetime(2026, 11, 24, 12, 15,
                                                                    tzinfo=MSK)
    assert not timer_breach(timer_id=promise.pk,
                            now=promise.due_at - timedelta(microseconds=1))
    assert timer_breach(timer_id=promise.pk, now=promise.due_at)
    promise.refresh_from_db()
    assert promise.breached_at == datetime(2026, 11, 24, 12, 15, tzinfo=MSK)


def test_a_promise_answered_at_121459_is_met(channel, administrator):
    conversation = patient_writes(channel, TUESDAY_NOON - timedelta(minutes=1)).conversation
    message_send(conversation=conversation, author=administrator, kind="promise",
                 text="Уточню у врача.", now=TUESDAY_NOON)
    message_send(conversation=conversation, author=administrator, now=TUESDAY_NOON.replace(
        minute=14, second=59), text="Врач подтвердил: можно завтра в 10:00.")
    promise = ResponseTimer.objects.get(kind="promise")
    assert promise.met_at == datetime(2026, 11, 24, 12, 14, 59, tzinfo=MSK)
    assert promise.response_seconds == 14 * 60 + 59
    assert not timer_breach(timer_id=promise.pk, now=promise.due_at)
    assert ResponseTimer.objects.filter(breached_at__isnull=False).count() == 0


def test_a_second_promise_does_not_answer_the_first(channel, administrator):
    conversation = patient_writes(channel, TUESDAY_NOON - timedelta(minutes=1)).conversation
    for minute in (0, 10):
        message_send(conversation=conversation, author=administrator, kind="promise",
                     text="Уточняю.", now=TUESDAY_NOON.replace(minute=minute))
    promise = ResponseTimer.objects.get(kind="promise")
    assert promise.met_at is None and promise.due_at == TUESDAY_NOON.replace(minute=15)


def test_a_patient_message_during_a_promise_keeps_the_promise_clock(channel, administrator):
    conversation = patient_writes(channel, TUESDAY_NOON - timedelta(minutes=1)).conversation
    message_send(conversation=conversation, author=administrator, kind="promise",
                 text="Уточню у врача.", now=TUESDAY_NOON)
    patient_writes(channel, TUESDAY_NOON + timedelta(minutes=2), n=2, text="Жду")
    assert open_timer(conversation).kind == "promise"
    assert ResponseTimer.objects.count() == 2


def test_the_first_answer_of_a_dialogue_has_its_own_rule_and_later_ones_the_reply_rule(
        channel, administrator):
    clinic = channel.clinic
    clinic.reply_minutes = 10
    clinic.save()
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    message_send(conversation=conversation, author=administrator, text="Здравствуйте!",
                 now=TUESDAY_NOON + timedelta(minutes=1))
    patient_writes(channel, TUESDAY_NOON + timedelta(minutes=2), n=2, text="А цена?")
    later = open_timer(conversation)
    assert later.kind == "reply" and later.due_at == TUESDAY_NOON + timedelta(minutes=12)
    message_send(conversation=conversation, author=administrator, text="От 3 500 ₽.",
                 now=TUESDAY_NOON + timedelta(minutes=3))
    conversation_status_set(conversation=conversation, status="resolved", by=administrator,
                            now=TUESDAY_NOON + timedelta(minutes=4), outcome="not_about_visit")
    patient_writes(channel, TUESDAY_NOON + timedelta(hours=2), n=3, text="Снова я")
    assert open_timer(conversation).kind == "first_reply"  # a reopened dialogue


def test_a_breach_is_recorded_once_and_notifies_the_assignee_and_managers(
        channel, administrator, manager, owner):
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    Conversation.objects.filter(pk=conversation.pk).update(assignee=administrator)
    timer = open_timer(conversation)
    late = timer.due_at + timedelta(seconds=1)
    assert timer_breach(timer_id=timer.pk, now=late)
    assert not timer_breach(timer_id=timer.pk, now=late + timedelta(seconds=30))
    timer.refresh_from_db()
    assert timer.breached_at == late and timer.assignee_at_breach == administrator
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert notified == {administrator.pk, manager.pk, owner.pk}
    assert "Мария Иванова" in Notification.objects.first().text


def test_a_timer_met_after_its_breach_keeps_the_breach_and_records_the_answer(
        channel, administrator):
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    timer = open_timer(conversation)
    timer_breach(timer_id=timer.pk, now=timer.due_at)
    message_send(conversation=conversation, author=administrator, text="Извините за ожидание!",
                 now=TUESDAY_NOON + timedelta(minutes=9))
    timer.refresh_from_db()
    assert timer.breached_at == timer.due_at
    assert timer.met_at == TUESDAY_NOON + timedelta(minutes=9)
    assert timer.response_working_seconds == 9 * 60


def test_no_reply_needed_ends_the_wait_without_a_message_and_is_recorded(channel,
                                                                       administrator):
    conversation = patient_writes(channel, TUESDAY_NOON, text="Спасибо!").conversation
    assert no_reply_needed(conversation=conversation, by=administrator, reason="Поблагодарила",
                           now=TUESDAY_NOON + timedelta(minutes=1))
    timer = ResponseTimer.objects.get()
    assert timer.dismissed_by == administrator and timer.dismiss_reason == "Поблагодарила"
    assert not timer_breach(timer_id=timer.pk, now=timer.due_at)
    assert not Message.objects.filter(direction="out").exclude(kind="system").exists()
    assert "Поблагодарила" in Message.objects.get(kind="system").body
    assert not no_reply_needed(conversation=conversation, by=administrator, reason="",
                               now=TUESDAY_NOON + timedelta(minutes=2))  # nothing waits


def test_resolving_a_waiting_conversation_ends_its_timer(channel, administrator):
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    conversation_status_set(conversation=conversation, status="resolved", by=administrator,
                            now=TUESDAY_NOON + timedelta(minutes=1), outcome="no_reply_needed")
    assert ResponseTimer.objects.get().dismissed_at is not None
    assert Conversation.objects.get().reply_due_at is None


def test_a_breach_hands_the_dialogue_to_a_free_colleague_when_the_clinic_wants_it(
        channel, administrator):
    clinic = channel.clinic
    clinic.reassign_on_breach = True
    clinic.save()
    colleague = MembershipFactory(clinic=clinic, role="administrator",
                                  availability=Availability.ONLINE).user
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    Conversation.objects.filter(pk=conversation.pk).update(assignee=administrator)
    timer_breach(timer_id=open_timer(conversation).pk, now=TUESDAY_NOON + timedelta(minutes=5))
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    assert "overdue" in Message.objects.filter(kind="system").last().body


def test_without_the_setting_a_breach_leaves_the_assignee(channel, administrator):
    MembershipFactory(clinic=channel.clinic, role="administrator",
                      availability=Availability.ONLINE)
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    Conversation.objects.filter(pk=conversation.pk).update(assignee=administrator)
    timer_breach(timer_id=open_timer(conversation).pk, now=TUESDAY_NOON + timedelta(minutes=5))
    conversation.refresh_from_db()
    assert conversation.assignee == administrator


def test_the_sweep_breaches_due_timers_once_per_clinic_interval(channel):
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    due = open_timer(conversation).due_at
    assert timers_sweep(now=due - timedelta(seconds=1)).breached == 0
    assert timers_sweep(now=due).breached == 1
    patient_writes(channel, TUESDAY_NOON, n=2)  # still waiting: no second timer
    other = TelegramChannelFactory(clinic=channel.clinic, bot_token="2:x")
    start = TUESDAY_NOON + timedelta(seconds=10)
    with time_machine.travel(start, tick=False):
        inbound_events_store(channel=other, now=start, events=[InboundMessage(
            sender=Sender(external_id="77"), provider_message_id="77:1", sent_at=start)])
    later_due = ResponseTimer.objects.get(conversation__channel=other).due_at
    assert later_due == due + timedelta(seconds=10)
    # Swept at `due`: with a 30-second interval, the next sweep of this clinic is at due + 30 s.
    assert timers_sweep(now=later_due).breached == 0
    assert timers_sweep(now=due + timedelta(seconds=30)).breached == 1


def test_a_far_due_time_gets_its_exact_task_only_when_it_nears(channel, settings,
                                                               django_capture_on_commit_callbacks):
    settings.TIMER_ETA_HORIZON_SECONDS = 600
    with django_capture_on_commit_callbacks() as callbacks:
        patient_writes(channel, FRIDAY_1958 + timedelta(minutes=5))  # due on Monday
    timer = ResponseTimer.objects.get()
    assert timer.eta_queued_at is None
    assert not [c for c in callbacks if "breach" in c.__qualname__]
    assert timers_sweep(now=timer.due_at - timedelta(minutes=20)).queued == 0
    monday = timer.due_at - timedelta(minutes=9)
    assert timers_sweep(now=monday).queued == 1
    assert timers_sweep(now=monday + timedelta(seconds=10)).queued == 0  # queued once
    timer.refresh_from_db()
    assert timer.eta_queued_at == monday


@pytest.mark.django_db(transaction=True)
def test_concurrent_breach_calls_record_one_breach(require_postgres, clinic, manager):
    clinic.weekly_hours = [[["00:00", "00:00"]]] * 7
    clinic.save()
    channel = TelegramChannelFactory(clinic=clinic)
    conversation = patient_writes(channel, TUESDAY_NOON).conversation
    timer = open_timer(conversation)
    late = timer.due_at + timedelta(seconds=1)
    outcomes: list[bool] = []
    barrier = threading.Barrier(8)

    def breach(sweep: bool) -> None:
        try:
            barrier.wait()
            outcomes.append(timers_sweep(now=late).breached == 1 if sweep
                            else timer_breach(timer_id=timer.pk, now=late))
        finally:
            connection.close()

    threads = [threading.Thread(target=breach, args=(n % 2 == 0,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 7 + [True]
    assert Notification.objects.filter(timer=timer).count() == 1
