"""The timers in the inbox: urgency order, the waiting and overdue filters, the clock, the bell,
"no reply needed", the today page and the settings."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from inbox.models import (
    ContactIdentity,
    Conversation,
    Notification,
    ResponseTimer,
)
from inbox.selectors import PAGE_SIZE
from inbox.services.outbound import message_send
from inbox.services.timers import timer_breach
from inbox.templatetags.timers import countdown_text, duration
from tests.clinic.factories import MembershipFactory
from tests.inbox.factories import TelegramChannelFactory

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=MSK)  # Tuesday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def channel(clinic):
    clinic.weekly_hours = [[["00:00", "00:00"]]] * 7
    clinic.save()
    return TelegramChannelFactory(clinic=clinic)


def _conversation(channel, n: int, last: datetime, due: datetime | None = None) -> Conversation:
    contact = ContactIdentity.objects.create(clinic=channel.clinic, channel=channel,
                                             external_id=str(n), display_name=f"Пациент {n}")
    conversation = Conversation.objects.create(
        clinic=channel.clinic, channel=channel, contact=contact, last_message_at=last,
        last_patient_message_at=last, last_message_preview=f"Вопрос {n}",
        waiting_since=due - timedelta(minutes=5) if due else None, reply_due_at=due,
        waiting_rule="first_reply" if due else "")
    if due:
        ResponseTimer.objects.create(clinic=channel.clinic, conversation=conversation,
                                     kind="first_reply", started_at=due - timedelta(minutes=5),
                                     due_at=due)
    return conversation


def _names(response) -> list[str]:
    return [c.contact.display_name for c in response.context["page"].conversations]


def test_the_list_puts_overdue_first_then_the_soonest_due_then_the_most_recent(
        client, administrator, channel):
    _conversation(channel, 1, NOW - timedelta(minutes=1))  # not waiting, most recent
    _conversation(channel, 2, NOW - timedelta(minutes=30))  # not waiting
    _conversation(channel, 3, NOW - timedelta(minutes=2), due=NOW + timedelta(minutes=3))
    _conversation(channel, 4, NOW - timedelta(minutes=9), due=NOW - timedelta(minutes=4))
    _conversation(channel, 5, NOW - timedelta(minutes=1), due=NOW + timedelta(minutes=4))
    client.force_login(administrator)
    response = client.get(reverse("inbox:index"))
    assert _names(response) == ["Пациент 4", "Пациент 3", "Пациент 5", "Пациент 1",
                                "Пациент 2"]
    assert response.context["counts"]["waiting"] == 3
    assert response.context["counts"]["overdue"] == 1
    body = response.content.decode()
    assert "overdue by 4 min" in body and "countdown-overdue" in body
    assert "<title>(3) Inbox" in body


def test_the_waiting_and_overdue_filters(client, administrator, channel):
    _conversation(channel, 1, NOW)
    _conversation(channel, 2, NOW, due=NOW + timedelta(minutes=3))
    _conversation(channel, 3, NOW, due=NOW - timedelta(seconds=30))
    client.force_login(administrator)
    waiting = client.get(reverse("inbox:index"), {"filter": "waiting"})
    assert _names(waiting) == ["Пациент 3", "Пациент 2"]
    overdue = client.get(reverse("inbox:index"), {"filter": "overdue"})
    assert _names(overdue) == ["Пациент 3"]
    assert "overdue by 30 s" in overdue.content.decode()


def test_a_row_shows_who_when_what_and_who_holds_it(client, administrator, channel, settings):
    settings.LANGUAGE_CODE = "ru"
    waiting = _conversation(channel, 1, NOW - timedelta(minutes=7), due=NOW - timedelta(minutes=2))
    waiting.assignee, waiting.unread_count = administrator, 2
    waiting.last_message_preview = "Можно <b>сегодня</b>?"
    waiting.save()
    nameless = _conversation(channel, 2, NOW - timedelta(hours=3))
    ContactIdentity.objects.filter(pk=nameless.contact_id).update(display_name="",
                                                                  phone="+79161234567")
    unknown = _conversation(channel, 3, NOW - timedelta(days=2))
    ContactIdentity.objects.filter(pk=unknown.contact_id).update(display_name="")
    client.force_login(administrator)
    body = client.get(reverse("inbox:index"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    rows = body.split('<li class="conversation')[1:]
    assert len(rows) == 3
    first = rows[0]
    assert first.startswith(' unread overdue">')
    assert f'href="/inbox/c/{waiting.pk}/"' in first and 'title="Telegram"' in first
    assert '<span class="who">Пациент 1</span>' in first
    assert 'datetime="2026-11-24T11:53:00+03:00">7\xa0минут</time>' in first
    assert "Можно &lt;b&gt;сегодня&lt;/b&gt;?" in first
    assert '<span class="waited">ждёт 7\xa0минут</span>' in first and "countdown-overdue" in first
    assert administrator.get_full_name() in first
    assert '<span class="badge" aria-label="непрочитанные">2</span>' in first
    assert '<span class="who">+79161234567</span>' in rows[1]
    assert '<span class="who">Неизвестный</span>' in rows[2]
    assert "waited" not in rows[1] + rows[2] and "badge" not in rows[1] + rows[2]


def test_urgency_pages_do_not_repeat_or_skip(client, administrator, channel):
    for n in range(PAGE_SIZE + 10):
        due = NOW + timedelta(minutes=n % 7 - 3) if n % 2 else None
        _conversation(channel, n, NOW - timedelta(minutes=n % 5), due=due)
    client.force_login(administrator)
    first = client.get(reverse("inbox:index")).context["page"]
    second = client.get(reverse("inbox:index"), {"after": first.next_cursor}).context["page"]
    rows = first.conversations + second.conversations
    assert len({c.pk for c in rows}) == len(rows) == PAGE_SIZE + 10
    key = [(c.reply_due_at is None, c.reply_due_at or NOW, -c.last_message_at.timestamp(), -c.pk)
           for c in rows]
    assert key == sorted(key)


def test_the_list_with_timers_costs_a_constant_number_of_queries(
        client, administrator, channel, django_assert_max_num_queries):
    for n in range(PAGE_SIZE + 5):
        _conversation(channel, n, NOW, due=NOW + timedelta(minutes=n % 9 - 4))
    client.force_login(administrator)
    with django_assert_max_num_queries(8):
        client.get(reverse("inbox:index"), {"filter": "waiting"})


def test_the_thread_shows_the_clock_and_no_reply_needed_ends_the_wait(
        client, administrator, channel):
    conversation = _conversation(channel, 1, NOW, due=NOW + timedelta(minutes=3))
    client.force_login(administrator)
    body = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert 'role="timer"' in body and "3:00" in body and "No reply needed" in body
    client.post(reverse("inbox:assignment", args=[conversation.pk, "no-reply"]),
                {"reason": "Сказала «спасибо»"})
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None
    timer = ResponseTimer.objects.get()
    assert timer.dismissed_by == administrator and timer.dismiss_reason == "Сказала «спасибо»"
    body = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert 'role="timer"' not in body


def test_a_breach_rings_the_bell_of_the_assignee_and_opening_the_thread_reads_it(
        client, administrator, manager, channel):
    conversation = _conversation(channel, 1, NOW, due=NOW - timedelta(minutes=1))
    Conversation.objects.filter(pk=conversation.pk).update(assignee=administrator)
    assert timer_breach(timer_id=ResponseTimer.objects.get().pk, now=NOW)
    client.force_login(administrator)
    bell = client.get(reverse("inbox:bell")).content.decode()
    assert 'class="badge"' in bell and ">1<" in bell and "Пациент 1" in bell
    assert "Пациент 1" in client.get(reverse("inbox:notifications")).content.decode()
    client.get(reverse("inbox:thread", args=[conversation.pk]))
    assert 'class="badge"' not in client.get(reverse("inbox:bell")).content.decode()
    assert Notification.objects.get(user=manager).read_at is None  # the manager's is theirs


def test_nobody_sees_another_persons_or_clinics_notifications(client, administrator, channel,
                                                             outsider):
    conversation = _conversation(channel, 1, NOW, due=NOW - timedelta(minutes=1))
    Conversation.objects.filter(pk=conversation.pk).update(assignee=administrator)
    timer_breach(timer_id=ResponseTimer.objects.get().pk, now=NOW)
    colleague = MembershipFactory(clinic=channel.clinic, role="administrator").user
    for person in (colleague, outsider):
        client.force_login(person)
        assert "Пациент 1" not in client.get(reverse("inbox:notifications")).content.decode()


def test_the_today_page_shows_first_reply_times_and_breaches(client, administrator, manager,
                                                           channel):
    for n, answer_after in enumerate((60, 120, 600), start=1):
        conversation = _conversation(channel, n, NOW - timedelta(minutes=30),
                                     due=NOW - timedelta(minutes=25))
        ResponseTimer.objects.filter(conversation=conversation).update(
            started_at=NOW - timedelta(minutes=30), due_at=NOW - timedelta(minutes=25))
        if answer_after > 300:
            timer_breach(timer_id=ResponseTimer.objects.get(conversation=conversation).pk,
                         now=NOW - timedelta(minutes=25))
        message_send(conversation=conversation, author=administrator, text="Добрый день!",
                     now=NOW - timedelta(minutes=30) + timedelta(seconds=answer_after))
    client.force_login(manager)
    response = client.get(reverse("inbox:today"))
    clinic = response.context["report"].clinic
    assert clinic.median_first_reply == 120 and clinic.p90_first_reply == 600
    assert clinic.met_in_time == 2 and clinic.breached == 1
    people = dict((p.pk, f) for p, f in response.context["people"])
    assert people[administrator.pk].met_in_time == 2
    assert "2 min 00 s" in response.content.decode()
    client.force_login(administrator)
    mine = client.get(reverse("inbox:today")).context["people"]
    assert [p.pk for p, _ in mine] == [administrator.pk]


def test_the_owner_sets_the_timer_rules(client, owner, clinic):
    client.force_login(owner)
    form = client.get(reverse("clinic:settings-standards")).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"stop_words": "\n".join(clinic.stop_words), "reply_minutes": 7,
                 "reassign_on_breach": "on", "timer_sweep_seconds": 20})
    client.post(reverse("clinic:settings-standards"), data)
    clinic.refresh_from_db()
    assert (clinic.reply_minutes, clinic.reassign_on_breach, clinic.timer_sweep_seconds) == (
        7, True, 20)


def test_the_clock_text():
    due = NOW
    assert countdown_text(125, due) == ("ok", "2:05")
    assert countdown_text(60, due) == ("soon", "1:00")
    assert countdown_text(-42, due) == ("overdue", "overdue by 42 s")
    assert countdown_text(-301, due) == ("overdue", "overdue by 5 min")
    assert countdown_text(3 * 3600, due)[1].startswith("reply by")
    assert duration(3725) == "1 h 02 min" and duration(None) == "—"
