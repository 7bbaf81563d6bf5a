"""The inbox search: names, phones and message text, within one clinic, in constant queries."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from clinic import clock
from clinic.models import Patient
from inbox import selectors
from inbox.models import ContactIdentity, Conversation, ConversationWords, Message
from inbox.selectors import PAGE_SIZE, _messages_matching, _search_q, conversation_page
from tests.inbox.factories import TelegramChannelFactory


def _conversation(channel, n, when, *bodies, name="", phone=""):
    contact = ContactIdentity.objects.create(clinic=channel.clinic, channel=channel,
                                             external_id=str(1000 + n),
                                             display_name=name or f"Пациент {n}", phone=phone)
    conversation = Conversation.objects.create(
        clinic=channel.clinic, channel=channel, contact=contact, last_message_at=when,
        last_patient_message_at=when, last_message_preview=bodies[-1] if bodies else "")
    for body in bodies:
        Message.objects.create(conversation=conversation, channel=channel, direction="in",
                               body=body, status="received", created_at=when)
    return conversation


def _found(clinic, user, search, **kwargs):
    page = conversation_page(clinic=clinic, user=user, search=search, now=clock.now(), **kwargs)
    return [c.contact.display_name for c in page.conversations]


@pytest.fixture
def channel(clinic):
    return TelegramChannelFactory(clinic=clinic)


def test_text_search_on_postgres_finds_other_forms_of_a_word(require_postgres, administrator,
                                                              channel, now):
    _conversation(channel, 1, now, "Хочу записаться, нужна чистка зубов", name="Чистка")
    _conversation(channel, 2, now - timedelta(minutes=1), "Сколько стоит имплант под ключ?",
                  name="Имплант")
    _conversation(channel, 3, now - timedelta(minutes=2), "Болит зуб справа", name="Боль")
    clinic = channel.clinic
    assert _found(clinic, administrator, "чистку") == ["Чистка"]
    assert _found(clinic, administrator, "имплантом") == ["Имплант"]
    assert _found(clinic, administrator, "Имплантами") == ["Имплант"]
    # Every word of the search in one message; stop words ("на") are not required.
    assert _found(clinic, administrator, "на чистку зуба") == ["Чистка"]
    assert _found(clinic, administrator, "чистка импланта") == []


def test_text_search_on_postgres_is_answered_from_the_gin_index(require_postgres, channel,
                                                               now):
    _conversation(channel, 1, now, "нужна чистка")
    sql, params = _messages_matching("чистку", vendor="postgresql").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table is read whole otherwise
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "message_body_search" in plan


def test_text_search_off_postgres_falls_back_to_substrings(channel, now):
    # The fallback is plain SQL, so it is checked on whichever database the suite runs.
    _conversation(channel, 1, now, "Хочу записаться, нужна чистка зубов", name="Чистка")
    _conversation(channel, 2, now, "Сколько стоит имплант под ключ?", name="Имплант")

    def found(search):
        conversations = Conversation.objects.filter(clinic=channel.clinic).filter(
            _search_q(search, vendor="sqlite"))
        return [c.contact.display_name for c in conversations.select_related("contact")]

    assert found("чистк") == ["Чистка"]
    assert found("имплант ключ") == ["Имплант"]  # every word, in one message
    assert found("чистку") == []  # no morphology without Postgres


def test_search_finds_names_of_contacts_and_patients(administrator, channel, now):
    _conversation(channel, 1, now, "Здравствуйте", name="Мария Орлова")
    linked = _conversation(channel, 2, now - timedelta(minutes=1), "Добрый день",
                           name="Контакт без фамилии")
    linked.patient = Patient.objects.create(clinic=channel.clinic, last_name="Егорова",
                                            first_name="Анна")
    linked.save(update_fields=["patient"])
    _conversation(channel, 3, now - timedelta(minutes=2), "Привет", name="Иван Петров")
    clinic = channel.clinic
    assert _found(clinic, administrator, "Орлова") == ["Мария Орлова"]
    assert _found(clinic, administrator, "Егоров") == ["Контакт без фамилии"]
    assert _found(clinic, administrator, "Анна Егорова") == ["Контакт без фамилии"]


def test_search_finds_a_phone_by_four_or_more_digits(administrator, channel, now):
    _conversation(channel, 1, now, "Здравствуйте", name="Первый", phone="+79161234567")
    _conversation(channel, 2, now, "Здравствуйте", name="Второй", phone="+79035550011")
    clinic = channel.clinic
    assert _found(clinic, administrator, "4567") == ["Первый"]
    assert _found(clinic, administrator, "916 123-45") == ["Первый"]
    assert _found(clinic, administrator, "+7 (903) 555") == ["Второй"]
    assert _found(clinic, administrator, "567") == []  # too few digits for a phone


def test_a_search_never_crosses_clinics(administrator, channel, other_clinic, now):
    _conversation(channel, 1, now, "Нужна чистка", name="Своя Орлова", phone="+79161234567")
    theirs = TelegramChannelFactory(clinic=other_clinic)
    _conversation(theirs, 2, now, "Нужна чистка", name="Чужая Орлова", phone="+79161234567")
    clinic = channel.clinic
    for search in ("Орлова", "1234567", "чистка"):
        assert _found(clinic, administrator, search) == ["Своя Орлова"], search


def test_a_search_keeps_the_filter(administrator, channel, now):
    _conversation(channel, 1, now, "Нужна чистка", name="Открытая")
    resolved = _conversation(channel, 2, now, "Нужна чистка", name="Закрытая")
    resolved.status = "resolved"
    resolved.save(update_fields=["status"])
    clinic = channel.clinic
    assert _found(clinic, administrator, "чистка") == ["Открытая"]
    assert _found(clinic, administrator, "чистка", filter="resolved") == ["Закрытая"]


def test_a_search_page_costs_the_same_queries_for_any_number_of_rows(
        client, administrator, channel, now, django_assert_max_num_queries):
    for n in range(PAGE_SIZE + 5):
        _conversation(channel, n, now - timedelta(minutes=n), "Хочу на чистку",
                      "Сколько стоит чистка?", phone=f"+7916000{n:04d}")
    client.force_login(administrator)
    for search in ("чистка", "Пациент", "7916000"):
        with django_assert_max_num_queries(8):
            response = client.get(reverse("inbox:index"), {"q": search})
        assert len(response.context["page"].conversations) == PAGE_SIZE, search
        assert response.context["page"].next_cursor


def _words(conversation) -> list[str]:
    """The conversation's words as the search reads them; None without a row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(words) FROM inbox_conversationwords "
                       "WHERE conversation_id = %s", [conversation.pk])
        row = cursor.fetchone()
    return sorted(row[0]) if row else None


def test_a_conversations_words_follow_its_messages_on_postgres(require_postgres, channel, now):
    conversation = _conversation(channel, 1, now, "Нужна чистка")
    assert _words(conversation) == ["нужн", "чистк"]
    message = Message.objects.create(conversation=conversation, channel=channel,
                                     direction="out", body="Имплант под ключ",
                                     status="queued", created_at=now)
    assert _words(conversation) == ["имплант", "ключ", "нужн", "чистк"]
    first = conversation.messages.get(body="Нужна чистка")
    first.body = "Болит зуб"  # an edit
    first.save(update_fields=["body"])
    assert _words(conversation) == ["бол", "зуб", "имплант", "ключ"]
    message.delete()
    assert _words(conversation) == ["бол", "зуб"]
    other = _conversation(channel, 2, now)
    Message.objects.bulk_create([
        Message(conversation=other, channel=channel, direction="in", body="Чистка",
                status="received", created_at=now),
        Message(conversation=conversation, channel=channel, direction="in", body="Спасибо",
                status="received", created_at=now)])
    assert _words(other) == ["чистк"]
    assert _words(conversation) == ["бол", "зуб", "спасиб"]
    conversation.delete()
    assert not ConversationWords.objects.filter(conversation_id=conversation.pk).exists()


def test_a_conversation_without_its_words_gets_all_of_them_with_its_next_message(
        require_postgres, channel, now):
    conversation = _conversation(channel, 1, now, "Нужна чистка")
    ConversationWords.objects.filter(conversation=conversation).delete()  # as before 0009
    Message.objects.create(conversation=conversation, channel=channel, direction="in",
                           body="Спасибо", status="received", created_at=now)
    assert _words(conversation) == ["нужн", "спасиб", "чистк"]


def test_the_data_migration_fills_the_words_and_can_run_again(require_postgres, channel, now):
    migration = importlib.import_module("inbox.migrations.0011_conversation_words_fill")
    before = [_conversation(channel, n, now, "Нужна чистка", f"Имплант {n}") for n in range(3)]
    silent = _conversation(channel, 3, now)
    ConversationWords.objects.all().delete()  # as before 0009
    kept = _conversation(channel, 4, now, "Спасибо")
    editor = SimpleNamespace(connection=connection)
    migration.conversation_words_fill(apps, editor)
    migration.conversation_words_fill(apps, editor)
    for n, conversation in enumerate(before):
        assert _words(conversation) == sorted([str(n), "имплант", "нужн", "чистк"])
    assert _words(silent) == []
    assert _words(kept) == ["спасиб"]


def test_several_words_are_found_in_one_message_not_across_the_conversation_on_postgres(
        require_postgres, administrator, channel, now):
    _conversation(channel, 1, now, "Нужна чистка", "Сколько стоит имплант?", name="Врозь")
    _conversation(channel, 2, now - timedelta(minutes=1), "Чистка импланта", name="Вместе")
    clinic = channel.clinic
    assert _found(clinic, administrator, "чистка импланта") == ["Вместе"]
    assert _found(clinic, administrator, "чистка") == ["Врозь", "Вместе"]


@pytest.mark.parametrize("common_at", [1, 1000])
def test_common_and_rare_words_give_the_same_pages(require_postgres, administrator, channel,
                                                    now, monkeypatch, common_at):
    """Whether the list is walked row by row or the conversations with the words are collected
    first (COMMON_WORDS_AT decides), the pages are the same."""
    monkeypatch.setattr(selectors, "COMMON_WORDS_AT", common_at)
    for n in range(PAGE_SIZE + 5):
        bodies = ["Хочу на чистку зубов"] if n % 3 else ["Чистка", "Зубы болят"]
        _conversation(channel, n, now - timedelta(minutes=n), *bodies, name=f"Пациент {n}")
    clinic = channel.clinic
    first = conversation_page(clinic=clinic, user=administrator, now=now, search="чистку")
    rest = conversation_page(clinic=clinic, user=administrator, now=now, search="чистку",
                             cursor=first.next_cursor)
    assert ([c.contact.display_name for c in first.conversations + rest.conversations]
            == [f"Пациент {n}" for n in range(PAGE_SIZE + 5)])
    assert not rest.next_cursor
    both = [f"Пациент {n}" for n in range(PAGE_SIZE + 5) if n % 3]
    assert _found(clinic, administrator, "чистка зубов") == both[:PAGE_SIZE]
    assert _found(clinic, administrator, "Пациент 34") == ["Пациент 34"]
    assert _found(clinic, administrator, "седация") == []
