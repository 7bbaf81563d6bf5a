"""Inbox list benchmark on Postgres: filters, counters and search at 100k conversations.

What it measures
    The server time of the conversation list (``inbox.views.index``: the page, the filter
    counters, the template) for an administrator of clinic 1, through Django's test client in
    this process, over a database of 100,000 conversations and 2,000,000 messages split across
    two clinics (most conversations resolved, a few thousand open): the first page of "all
    open", "mine" and "unassigned", and a search by a Russian word (in another form than the
    one in the messages, so morphology matters), by a rare word and by a phone fragment.
    For each: p50/p95 over --requests requests, the SQL queries per page, and beside it the
    time of the same page's bare SQL (every SELECT the request ran, replayed through a raw
    cursor) in the same run. It prints the EXPLAIN ANALYZE of the searches' page query and
    which GIN index it read (the conversations' words or the messages'), if any.

How it runs
    1. creates a fresh Postgres database ``--database`` (``clinic_inbox_bench``; dropped first
       if it exists) and migrates it with ``manage.py migrate`` in a subprocess;
    2. sets Django up in this process on that database (DEBUG off, so no query log), creates
       the clinics, channels and staff with the ORM and loads patients, contacts,
       conversations and messages with COPY, then VACUUM ANALYZE;
    3. measures; drops the database -- also on Ctrl-C or an error -- unless --keep.
    With --reuse, a database left by an earlier --keep run is migrated (so new migrations,
    data migrations included, run on the loaded data) and measured again without loading it
    anew; the figures of the data set are read back from it. Without one, it is built.
    It prints figures and asserts nothing about timing.

Usage
    .venv/bin/python bench/inbox_list.py [--conversations 100000] [--messages 2000000]
                                         [--open 4000] [--requests 200] [--seed 1]
                                         [--database clinic_inbox_bench] [--keep] [--reuse]

    Needs Postgres at 127.0.0.1:5432 (user postgres, trust auth).

Output
    The data set, then one line a page (view p50/p95 against its target, queries against the
    budget, bare SQL p50/p95), the search plans, and a one-line summary.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from scratch_db import ADMIN_DSN, database_drop, database_recreate, django_on, percentile

HOST = "127.0.0.1"
DB_NAME = "clinic_inbox_bench"

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
STAFF_PER_CLINIC = 8
LIST_TARGET_MS = 40.0
SEARCH_TARGET_MS = 100.0
QUERY_BUDGET = 8

FIRST_NAMES = ["Мария", "Анна", "Елена", "Ольга", "Наталья", "Ирина", "Татьяна", "Светлана",
               "Юлия", "Екатерина", "Дарья", "Ксения", "Алексей", "Дмитрий", "Сергей",
               "Андрей", "Иван", "Михаил", "Николай", "Павел", "Артём", "Максим", "Владимир",
               "Григорий", "Роман", "Олег", "Евгений", "Виктор", "Полина", "Вероника"]
LAST_NAMES = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев",
              "Козлов", "Новиков", "Морозов", "Волков", "Фёдоров", "Орлов", "Егоров",
              "Васильев", "Павлов", "Семёнов", "Голубев", "Виноградов", "Богданов",
              "Воробьёв", "Михайлов", "Беляев", "Тарасов", "Белов", "Комаров", "Киселёв",
              "Макаров", "Андреев", "Ковалёв", "Ильин", "Гусев", "Титов", "Кузьмин", "Кудрявцев",
              "Баранов", "Куликов", "Алексеев", "Степанов", "Яковлев", "Сорокин", "Сергеев",
              "Романов", "Захаров", "Борисов", "Королёв", "Герасимов", "Пономарёв", "Григорьев",
              "Лазарев", "Медведев", "Ершов", "Никитин", "Соболев", "Рябов", "Поляков",
              "Цветков", "Данилов", "Жуков", "Фролов", "Журавлёв", "Николаев", "Крылов",
              "Максимов", "Сидоров", "Осипов", "Белоусов", "Федотов", "Дорофеев", "Щербаков"]
FEMALE = set(FIRST_NAMES[:12] + ["Полина", "Вероника"])

GREETINGS = ["", "Здравствуйте! ", "Добрый день! ", "Добрый вечер. ", "Доброе утро, ",
             "Привет) ", "Здравствуйте, подскажите, ", "Извините за беспокойство, "]
CORE = [
    "можно записаться на чистку зубов на следующей неделе?",
    "сколько стоит профессиональная гигиена полости рта?",
    "болит зуб справа снизу уже третий день, когда можно прийти?",
    "вы работаете в субботу?",
    "я записана на завтра в 15:30, хочу перенести на четверг.",
    "спасибо, всё поняла. До встречи!",
    "а у вас есть детский стоматолог? Сыну 7 лет.",
    "нужно ли что-то брать с собой на первый приём? Паспорт, полис?",
    "после удаления зуба немного кровит, это нормально?",
    "можно оплатить картой или только наличными?",
    "сколько стоит имплант под ключ? И сколько по времени всё занимает?",
    "отменяю запись на пятницу, заболел ребёнок.",
    "пришлите, пожалуйста, адрес и как к вам проехать на машине.",
    "у меня выпала пломба, можно сегодня попасть?",
    "хочу сделать отбеливание, есть противопоказания?",
    "да, подтверждаю запись.",
    "какая цена на установку брекетов?",
    "десна опухла и болит при нажатии.",
    "можно ли поставить коронку за один визит?",
    "мне нужна консультация ортодонта для дочери.",
    "после лечения канала ноет зуб, это пройдёт?",
    "сколько стоят виниры на передние зубы?",
    "есть ли рассрочка на имплантацию?",
    "чувствительность зубов к холодному, что посоветуете?",
    "хочу записаться к хирургу на удаление зуба мудрости.",
    "подскажите стоимость рентгена, снимок нужен срочно.",
    "можно ли лечить зубы при беременности?",
    "у ребёнка шатается молочный зуб, нужно ли удалять?",
    "когда будет готов протез? Мне обещали на этой неделе.",
    "опаздываю минут на десять, пробки.",
    "можно ли прийти без записи с острой болью?",
    "сколько времени длится чистка и больно ли это?",
    "врач сказал прийти на контроль через месяц, запишите, пожалуйста.",
    "после установки импланта щека отекла, так бывает?",
    "нужна справка для налогового вычета за лечение.",
    "у вас есть скидки пенсионерам?",
    "имплантом доволен, спасибо доктору!",
    "хочу поменять старую пломбу, она потемнела.",
    "пришлите, пожалуйста, прайс на чистку и отбеливание.",
    "можно записать мужа на соседнее время?",
    "кровоточат дёсны при чистке зубов.",
    "подскажите, анестезия входит в стоимость?",
    "мне нужен повторный приём у терапевта.",
    "когда у доктора Смирновой ближайшее окно?",
    "спасибо, что так быстро приняли!",
    "отвалилась коронка, что делать до приёма?",
    "есть ли у вас седация для лечения?",
    "можно перенести консультацию на вечер?",
    "сколько стоит лечение кариеса?",
    "зуб реагирует на сладкое, нужно посмотреть.",
]
TAILS = ["", "", " Спасибо.", " Заранее спасибо!", " Жду ответа.", " Позвоните, пожалуйста.",
         " Это срочно.", " Можно вечером после 18?"]
REPLIES = [
    "Добрый день! Да, есть время в четверг в 10:00 и в пятницу в 16:30. Какое удобнее?",
    "Профессиональная чистка стоит от 4500 до 6500 ₽, займёт около часа.",
    "Записали вас, ждём! Напомним накануне.",
    "Имплантация под ключ от 55 000 ₽, точнее скажет хирург на консультации.",
    "Приходите сегодня к 17:00, доктор вас посмотрит.",
    "Мы работаем ежедневно с 9 до 21, в воскресенье до 18.",
    "Да, можно оплатить картой, наличными или в рассрочку.",
    "Отменили запись. Выздоравливайте! Напишите, когда будет удобно.",
    "Наш адрес: ул. Ленина, 10, парковка во дворе.",
    "Это может быть нормальной реакцией, но лучше показаться врачу. Когда сможете прийти?",
]








# --- data ---------------------------------------------------------------------------------

def _copy(conn: psycopg.Connection, table: str, columns: list[str], lines: list[str]) -> None:
    """COPY tab-separated ``lines`` (values never hold tabs, newlines or backslashes)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        buffer = io.StringIO()
        for index, line in enumerate(lines, 1):
            buffer.write(line)
            buffer.write("\n")
            if index % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _stamp(at: datetime) -> str:
    return at.isoformat()


@dataclass
class Data:
    clinic: Any
    user: Any  # an administrator of clinic 1, the one the requests come from
    conversations: int
    messages: int
    open_by_clinic: int
    mine: int
    unassigned: int
    patients: int
    phone_fragment: str
    load_seconds: float


def build(rng: random.Random, conversations: int, messages: int, open_total: int,
          db_name: str) -> Data:
    """Two clinics, their channels and staff by the ORM; everything else by COPY."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from clinic.models import Clinic, Membership
    from inbox.models import Channel, ChannelKind

    started = time.perf_counter()
    user_model = get_user_model()
    clinics, channels, staff = [], {}, {}
    for number in (1, 2):
        clinic = Clinic.objects.create(name=f"Клиника {number}", timezone="Europe/Moscow")
        clinics.append(clinic)
        channels[clinic.pk] = [Channel.objects.create(clinic=clinic, kind=kind, name=kind)
                               for kind in ChannelKind.values]
        staff[clinic.pk] = []
        for n in range(STAFF_PER_CLINIC):
            user = user_model.objects.create_user(
                username=f"admin{number}_{n}", password=None,
                first_name=rng.choice(FIRST_NAMES), last_name=rng.choice(LAST_NAMES))
            Membership.objects.create(user=user, clinic=clinic,
                                      role="owner" if n == 0 else "administrator")
            staff[clinic.pk].append(user.pk)
    me = user_model.objects.get(username="admin1_1")

    phrases = [g + (c[0].upper() + c[1:] if not g or g.endswith(("! ", ". ", ") ")) else c) + t
               for g in GREETINGS for c in CORE for t in TAILS]
    per_clinic = conversations // 2
    open_per_clinic = open_total // 2
    now_s = _stamp(NOW)
    patient_lines, contact_lines, conversation_lines, message_lines = [], [], [], []
    patient_id = contact_id = conversation_id = 0
    mine = unassigned = 0
    phone_fragment = ""
    counts = [max(1, round(rng.expovariate(1.0) * messages / conversations))
              for _ in range(conversations)]
    scale = messages / sum(counts)
    counts = [max(1, round(c * scale)) for c in counts]
    counts[-1] = max(1, counts[-1] + messages - sum(counts))
    for index in range(conversations):
        clinic = clinics[index // per_clinic if index < 2 * per_clinic else 1]
        position = index % per_clinic
        channel = rng.choice(channels[clinic.pk])
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if first in FEMALE:
            last += "а"
        phone = f"+79{rng.randrange(10**9):09d}" if channel.kind != "webchat" else ""
        if clinic is clinics[0] and phone and not phone_fragment and position > 500:
            phone_fragment = phone[-7:]
        contact_id += 1
        display = f"{first} {last}" if rng.random() < 0.8 else first
        contact_lines.append("\t".join([
            str(clinic.pk), str(channel.pk), f"ext{index}", display, "", phone, "", "\\N",
            now_s]))
        patient = "\\N"
        if rng.random() < 0.35:
            patient_id += 1
            patient = str(patient_id)
            patient_lines.append("\t".join([
                str(clinic.pk), last, first, "", phone, "", "\\N", "", "", "[]", "[]", "ru",
                "f", "f", "f", "", now_s, now_s]))
        # The open ones are the most recent few thousand of each clinic, with stragglers.
        is_open = position < open_per_clinic
        if is_open:
            last_at = NOW - timedelta(minutes=rng.uniform(0, 60 * 24 * 14))
            status = "pending" if rng.random() < 0.15 else "open"
            roll = rng.random()
            assignee = "\\N" if roll < 0.4 else str(rng.choice(staff[clinic.pk]))
            if clinic is clinics[0]:
                unassigned += assignee == "\\N"
                mine += assignee == str(me.pk)
            waiting = rng.random() < 0.3  # the patient wrote last: a reply is due
        else:
            last_at = NOW - timedelta(minutes=rng.uniform(60 * 24, 60 * 24 * 730))
            status = "resolved"
            assignee = str(rng.choice(staff[clinic.pk])) if rng.random() < 0.9 else "\\N"
            waiting = False
        count = counts[index]
        conversation_id += 1
        at = last_at - timedelta(minutes=20 * count)
        body = ""
        for m in range(count):
            inbound = m % 2 == 0 or rng.random() < 0.3
            body = rng.choice(phrases) if inbound else rng.choice(REPLIES)
            at = last_at if m == count - 1 else at + timedelta(minutes=rng.uniform(1, 20))
            message_lines.append("\t".join([
                str(conversation_id), str(channel.pk), "in" if inbound else "out", "text", body,
                "[]", "{}", "received" if inbound else "delivered", "", "", "0", _stamp(at)]))
        conversation_lines.append("\t".join([
            str(clinic.pk), str(channel.pk), str(contact_id), patient, status, assignee,
            _stamp(last_at), _stamp(last_at), body[:200], str(rng.randrange(3) if is_open else 0),
            now_s, _stamp(last_at) if waiting else "\\N",
            _stamp(last_at + timedelta(minutes=5)) if waiting else "\\N",
            "first_reply" if waiting else ""]))

    with connection.cursor() as django_cursor:
        conn = django_cursor.connection
        _copy(conn, "clinic_patient", [
            "clinic_id", "last_name", "first_name", "patronymic", "phone", "email", "birthday",
            "preferred_channel", "preferred_time_of_day", "preferred_days", "channel_order",
            "language", "opted_out_all", "open_complaint", "left_unhappy", "notes", "created_at",
            "updated_at"],
            patient_lines)
        # Contacts and conversations get ids 1..N in order; patients are numbered as created.
        _copy(conn, "inbox_contactidentity", [
            "clinic_id", "channel_id", "external_id", "display_name", "username", "phone",
            "bsuid", "patient_id", "created_at"], contact_lines)
        _copy(conn, "inbox_conversation", [
            "clinic_id", "channel_id", "contact_id", "patient_id", "status", "assignee_id",
            "last_message_at", "last_patient_message_at", "last_message_preview",
            "unread_count", "created_at", "waiting_since", "reply_due_at", "waiting_rule"],
            conversation_lines)
        del contact_lines, conversation_lines, patient_lines
        # New conversations have no words yet: with a row each, the messages' trigger only adds
        # theirs, instead of working each conversation out again from all its messages.
        _copy(conn, "inbox_conversationwords", ["conversation_id", "words"],
              [f"{pk}\t" for pk in range(1, conversations + 1)])
        _copy(conn, "inbox_message", [
            "conversation_id", "channel_id", "direction", "kind", "body", "attachments",
            "payload", "status", "error_code", "error_text", "attempts", "created_at"],
            message_lines)
    del message_lines
    with psycopg.connect(f"postgresql://postgres@{HOST}:5432/{db_name}",
                         autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        patients = conn.execute("SELECT count(*) FROM clinic_patient").fetchone()[0]
    return Data(clinic=clinics[0], user=me, conversations=conversations,
                messages=messages, open_by_clinic=open_per_clinic, mine=mine,
                unassigned=unassigned, patients=patients, phone_fragment=phone_fragment,
                load_seconds=time.perf_counter() - started)


def database_loaded(name: str) -> bool:
    """Whether the database exists and an earlier run loaded its conversations."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            return False
    try:
        with psycopg.connect(f"postgresql://postgres@{HOST}:5432/{name}") as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM inbox_conversation)").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return False


def loaded() -> Data | None:
    """The data set of a database an earlier run loaded (and kept); None if it holds none."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from clinic.models import Clinic, Patient
    from inbox.models import Conversation, Message

    clinic = Clinic.objects.filter(name="Клиника 1").first()
    me = get_user_model().objects.filter(username="admin1_1").first()
    if clinic is None or me is None or not Conversation.objects.exists():
        return None
    started = time.perf_counter()
    active = Conversation.objects.filter(clinic=clinic).exclude(status="resolved")
    # As build() chose it: the phone of clinic 1's first conversation after the 500th.
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM inbox_conversation WHERE clinic_id = %s",
                       [clinic.pk])
        first_id = cursor.fetchone()[0]
    phone = (Conversation.objects.filter(clinic=clinic, pk__gt=first_id + 500)
             .exclude(contact__phone="").order_by("pk").values_list("contact__phone", flat=True)
             .first() or "")
    return Data(clinic=clinic, user=me, conversations=Conversation.objects.count(),
                messages=Message.objects.count(), open_by_clinic=active.count(),
                mine=active.filter(assignee=me).count(),
                unassigned=active.filter(assignee__isnull=True).count(),
                patients=Patient.objects.count(), phone_fragment=phone[-7:],
                load_seconds=time.perf_counter() - started)


# --- measuring ----------------------------------------------------------------------------

@dataclass
class Page:
    label: str
    params: dict[str, str]
    target_ms: float


@dataclass
class Figures:
    page: Page
    view: list[float]
    sql: list[float]
    queries: int
    rows: int
    slowest: tuple[float, str]  # the page's costliest SELECT: its median ms and its start


def measure(client: Any, page: Page, requests: int) -> Figures:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):  # warm-up: plans, caches, the session row
        client.get("/inbox/", page.params)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/inbox/", page.params)
    # Read now: every request starts by clearing the connection's query log.
    executed = [query["sql"] for query in captured.captured_queries]
    assert response.status_code == 200, response.status_code  # noqa: S101 - a broken bench
    rows = response.content.decode().count('<li class="conversation')
    view = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get("/inbox/", page.params)
        view.append((time.perf_counter() - started) * 1000)
    selects = [query for query in executed if query.lstrip().upper().startswith("SELECT")]
    bare = []
    with connection.cursor() as cursor:
        raw = cursor.connection  # the psycopg connection, no Django wrapper
        with raw.cursor() as raw_cursor:
            for _ in range(requests):
                started = time.perf_counter()
                for statement in selects:
                    raw_cursor.execute(statement)  # no parameters: '%' is not a placeholder
                    raw_cursor.fetchall()
                bare.append((time.perf_counter() - started) * 1000)
            each = []
            for statement in selects:
                times = []
                for _ in range(min(requests, 20)):
                    started = time.perf_counter()
                    raw_cursor.execute(statement)
                    raw_cursor.fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                each.append((percentile(sorted(times), 0.5), " ".join(statement.split())[:90]))
    return Figures(page, sorted(view), sorted(bare), len(executed), rows, max(each))


def page_sql(client: Any, params: dict[str, str]) -> str:
    """The SQL of the list's page query for these parameters (the one ordered by recency)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get("/inbox/", params)
    return next(q["sql"] for q in captured.captured_queries
                if "ORDER BY" in q["sql"] and "inbox_conversation" in q["sql"]
                and "last_message_at" in q["sql"].split("ORDER BY")[-1])


def explain(statement: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        return [row[0] for row in cursor.fetchall()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--open", type=int, default=4_000,
                        help="open or pending conversations over both clinics")
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default=DB_NAME,
                        help="the throwaway Postgres database's name (dropped and created)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the database behind for EXPLAIN by hand or --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database an earlier --keep run left (migrated "
                             "first) instead of loading it anew; build it if it is missing")
    args = parser.parse_args()
    if args.conversations < 2 or args.messages < args.conversations or args.open < 2:
        parser.error("need --conversations >= 2, --messages >= --conversations, --open >= 2")
    return args


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    var_dir = tempfile.mkdtemp(prefix="clinic-inbox-bench-")
    created_db = False

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, terminate)
    try:
        database_url = f"postgres://postgres@{HOST}:5432/{args.database}"
        reuse = args.reuse and database_loaded(args.database)
        print(f"setup: database {args.database}{' (reused)' if reuse else ''}, migrate …",
              flush=True)
        if not reuse:
            database_recreate(args.database)
        created_db = True
        django_on(database_url, var_dir)
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        # No collectstatic here: plain static URLs instead of the production manifest.
        settings.STORAGES = {**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

        data = loaded() if reuse else None
        if data is None:
            print(f"load: {args.conversations} conversations, {args.messages} messages "
                  "(COPY) …", flush=True)
            data = build(rng, args.conversations, args.messages, args.open, args.database)
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"data: 2 clinics, {data.conversations} conversations, {data.messages} messages, "
              f"{data.patients} patients; clinic 1: {data.open_by_clinic} open or pending, "
              f"{data.mine} mine, {data.unassigned} unassigned; "
              f"{'read back' if reuse else 'loaded'} in {data.load_seconds:.0f} s", flush=True)

        client = Client()
        client.force_login(data.user)
        pages = [
            Page("all open", {"filter": "open"}, LIST_TARGET_MS),
            Page("mine", {"filter": "mine"}, LIST_TARGET_MS),
            Page("unassigned", {"filter": "unassigned"}, LIST_TARGET_MS),
            Page("waiting", {"filter": "waiting"}, LIST_TARGET_MS),
            Page("overdue", {"filter": "overdue"}, LIST_TARGET_MS),
            Page("resolved", {"filter": "resolved"}, LIST_TARGET_MS),
            Page("search 'чистку'", {"filter": "open", "q": "чистку"}, SEARCH_TARGET_MS),
            Page("search 'имплантом'", {"filter": "open", "q": "имплантом"}, SEARCH_TARGET_MS),
            Page("search 'седацией' (rare)", {"filter": "open", "q": "седацией"},
                 SEARCH_TARGET_MS),
            Page(f"search phone '{data.phone_fragment[-5:]}'",
                 {"filter": "open", "q": data.phone_fragment[-5:]}, SEARCH_TARGET_MS),
            Page("search name 'Орлова'", {"filter": "open", "q": "Орлова"}, SEARCH_TARGET_MS),
            Page("search 'чистку' in resolved", {"filter": "resolved", "q": "чистку"},
                 SEARCH_TARGET_MS),
        ]
        results = []
        for page in pages:
            print(f"measure: {page.label} …", flush=True)
            results.append(measure(client, page, args.requests))
        plans = {page.label: explain(page_sql(client, page.params))
                 for page in pages if "q" in page.params}
        list_plan = explain(page_sql(client, {"filter": "open"}))
        pg_version = connection.cursor().connection.info.server_version
        connection.close()

        print()
        print(f"postgres             {pg_version // 10000}.{pg_version % 10000}, "
              f"{os.cpu_count()} CPU(s); {args.requests} requests a page, Django test client "
              "in process, DEBUG off")
        print(f"{'page':32} {'rows':>4} {'view p50':>9} {'view p95':>9} {'target':>7} "
              f"{'queries':>8} {'bare SQL p50':>13} {'p95':>7}")
        missed = []
        for figures in results:
            p50, p95 = percentile(figures.view, 0.5), percentile(figures.view, 0.95)
            ok = p95 <= figures.page.target_ms and figures.queries <= QUERY_BUDGET
            if not ok:
                missed.append(figures.page.label)
            print(f"{figures.page.label:32} {figures.rows:>4} {p50:>7.1f}ms {p95:>7.1f}ms "
                  f"{'≤' + format(figures.page.target_ms, '.0f'):>7} "
                  f"{str(figures.queries) + '/≤' + str(QUERY_BUDGET):>8} "
                  f"{percentile(figures.sql, 0.5):>11.1f}ms "
                  f"{percentile(figures.sql, 0.95):>5.1f}ms {'' if ok else ' MISSED'}")
            print(f"{'':32} slowest SELECT {figures.slowest[0]:.1f}ms: {figures.slowest[1]}")
        print()
        print("plan of 'all open' (page query):")
        for line in list_plan:
            print(f"    {line}")
        for label, plan in plans.items():
            read = [index for index in ("conversation_words_search", "message_body_search")
                    if any(f"Index Scan on {index}" in line and "never executed" not in line
                           for line in plan)]
            print(f"plan of {label}: reads "
                  + (" and ".join(f"the GIN index {index}" for index in read) if read
                     else "no GIN index"))
            for line in plan:
                print(f"    {line}")
        print()
        lists = [f for f in results if f.page.target_ms == LIST_TARGET_MS]
        searches = [f for f in results if f.page.target_ms == SEARCH_TARGET_MS]
        print(f"inbox list: {data.conversations} conversations / {data.messages} messages; "
              f"list pages p95 ≤ {max(percentile(f.view, 0.95) for f in lists):.1f} ms "
              f"(target {LIST_TARGET_MS:.0f}), searches p95 ≤ "
              f"{max(percentile(f.view, 0.95) for f in searches):.1f} ms "
              f"(target {SEARCH_TARGET_MS:.0f}), queries ≤ {max(f.queries for f in results)} "
              f"(budget {QUERY_BUDGET}); "
              + ("all targets met" if not missed else "missed: " + ", ".join(missed)))
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        if created_db and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            with contextlib.suppress(psycopg.Error):
                database_drop(args.database)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
