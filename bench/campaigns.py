"""Campaign engine benchmark (issue 9): one planner pass and one dispatcher pass at clinic scale.

What it measures
    One clinic (Europe/Moscow) with --patients patients (default 100,000) and --appointments
    upcoming live appointments (default 20,000) over the next 30 days, a year of past visits at
    the same daily rate, a Telegram bot most patients have written to, and 5 switched-on rules:
    a reminder 2 days and 2 hours before with confirmation, a confirmation request 1 day
    before, a 6-month hygiene recall (2 attempts), a follow-up 1 day after an implant, a
    birthday greeting. "Now" is frozen at Tuesday 24 November 2026, 11:00 Moscow (inside the
    send window) and passed to the services as now=.

    1. Planner: one pass of ``campaigns.services.planner.plan_all`` on the fresh data -- wall
       seconds, SQL statements, rows inserted, the process's max RSS (ru_maxrss; the data are
       loaded by a child process, so this process never held them); then a second pass (it
       must insert nothing). Afterwards, replays inside rolled-back transactions: each rule on
       its own (seconds, statements, rows), and the whole pass under tracemalloc (its peak).
    2. Dispatcher: one pass of ``campaigns.services.dispatcher.dispatches_process_due`` --
       seconds, statements (and per dispatch, by statement shape), dispatches claimed, sent
       (handed to the outbox: inbox messages written "queued"), deferred and skipped by reason,
       tasks published to Celery, and dispatches/s = handed to the outbox / seconds. The time
       is split into statements (inside the driver's execute), COMMITs, after-commit hooks
       (Celery publishes, the inbox's live-update cache writes) and the rest (Python: the
       ORM, model instances, the engine); each row (decide, send, record) is timed (first, p50,
       p95, max).
       With --profile the pass is then reset (the rows put back, its messages deleted) and run
       again under cProfile, whose top functions are printed; the figures and targets come
       from the first, unprofiled run.

How it runs
    A database of its own: a SQLite file in a temporary folder, or, when DATABASE_URL is a
    Postgres URL, a database created fresh (dropped first if it exists) on that server and
    dropped at the end -- its name must contain "bench", else ``clinic_bench_campaigns`` is
    used on the same server, so a real database is never touched. ``manage.py migrate`` runs in a
    subprocess, the data are bulk-created by a child process (``--build-only``), then Django
    is set up in this process and measures. Celery's broker is kombu's in-memory transport
    (``memory://``): publishing after commit is real and cheap, nothing is delivered; eager
    mode stays off. The inbox's live-update cache is the project's default without Redis (a
    file cache in the temporary folder). Postgres gets an ANALYZE after the load (autovacuum
    would do the same); SQLite none (the product never runs one). Timing is printed, never
    asserted.

Usage
    .venv/bin/python bench/campaigns.py [--patients 100000] [--appointments 20000]
                                        [--history-days 365] [--seed 1] [--profile] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_campaigns \\
        .venv/bin/python bench/campaigns.py

Output
    The data set, the planner and dispatcher figures, the costliest statement shapes, the
    targets (planner <= 10 s and <= 500 MB; dispatcher >= 200 dispatches/s handed to the
    outbox) met or missed. Exit status 1 when the run is off (nothing handed to the outbox, a
    second planner pass inserted rows, publishes missing), never because of timing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch_db import PYTHON, ROOT, django_on, percentile  # noqa: E402

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 24, 11, 0, tzinfo=MOSCOW)  # a Tuesday, inside the 09-21 send window
DEFAULT_PG_NAME = "clinic_bench_campaigns"
FUTURE_DAYS = 30

PLANNER_SECONDS = 10.0
PLANNER_MB = 500.0
DISPATCHES_PER_SECOND = 200.0

FIRST_NAMES = ["Мария", "Анна", "Елена", "Ольга", "Наталья", "Ирина", "Татьяна", "Светлана",
               "Юлия", "Екатерина", "Дарья", "Ксения", "Полина", "Вероника", "Алексей",
               "Дмитрий", "Сергей", "Андрей", "Иван", "Михаил", "Николай", "Павел", "Артём",
               "Максим", "Владимир", "Роман", "Олег", "Евгений", "Виктор", "Григорий"]
FEMALE = set(FIRST_NAMES[:14])
LAST_NAMES = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев",
              "Козлов", "Новиков", "Морозов", "Волков", "Фёдоров", "Орлов", "Егоров",
              "Васильев", "Павлов", "Семёнов", "Голубев", "Виноградов", "Богданов", "Беляев",
              "Тарасов", "Белов", "Комаров", "Макаров", "Андреев", "Ильин", "Гусев", "Титов",
              "Баранов", "Куликов", "Алексеев", "Степанов", "Яковлев", "Сорокин", "Романов"]
PATRONYMICS_M = ["Сергеевич", "Иванович", "Петрович", "Алексеевич", "Викторович", "Олегович"]
PATRONYMICS_F = ["Сергеевна", "Ивановна", "Петровна", "Алексеевна", "Викторовна", "Олеговна"]

# (key, name, category, minutes, share of visits)
SERVICES = [
    ("hygiene", "Профессиональная гигиена полости рта", "Гигиена", 60, 0.28),
    ("consult", "Консультация стоматолога-терапевта", "Терапия", 30, 0.15),
    ("caries", "Лечение кариеса", "Терапия", 60, 0.20),
    ("canal", "Лечение каналов", "Терапия", 90, 0.07),
    ("extraction", "Удаление зуба", "Хирургия", 30, 0.06),
    ("implant", "Установка импланта", "Хирургия", 90, 0.04),
    ("crown", "Установка коронки", "Ортопедия", 60, 0.08),
    ("ortho", "Приём ортодонта", "Ортодонтия", 30, 0.12),
]
CONFIRMATION_RU = ("{patient_first_name}, здравствуйте! Завтра, {visit_date}, в {visit_time} "
                   "вас ждут в {clinic_name}. Подтвердите, пожалуйста, визит: ответьте «да» "
                   "или «нет».")
CONFIRMATION_EN = ("Hello {patient_first_name}! Your visit to {clinic_name} is tomorrow, "
                   "{visit_date} at {visit_time}. Please reply “yes” or “no”.")


# --- the database -------------------------------------------------------------------------

@dataclass
class Target:
    url: str  # what Django connects to
    postgres_name: str = ""  # the throwaway Postgres database; "" for SQLite
    admin_url: str = ""  # the same server's "postgres" database, to create and drop it
    note: str = ""


def database_target(env_url: str, var_dir: str) -> Target:
    parts = urlsplit(env_url)
    if not env_url or parts.scheme.startswith("sqlite"):
        note = "DATABASE_URL is SQLite: using a SQLite file of our own" if env_url else ""
        return Target(f"sqlite:///{var_dir}/bench.sqlite3", note=note)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"DATABASE_URL: only Postgres is supported here, not {parts.scheme!r}")
    name, note = parts.path.lstrip("/"), ""
    if "bench" not in name:
        note = (f"DATABASE_URL names {name!r}, not a throwaway bench database: using "
                f"{DEFAULT_PG_NAME!r} on the same server instead")
        name = DEFAULT_PG_NAME
    return Target(url=urlunsplit(parts._replace(path=f"/{name}")), postgres_name=name,
                  admin_url=urlunsplit(parts._replace(scheme="postgresql", path="/postgres")),
                  note=note)


def postgres_recreate(target: Target, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(target.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(target.postgres_name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(
                sql.Identifier(target.postgres_name)))


# --- the data (in a child process) ----------------------------------------------------------

def _hours(day: date) -> tuple[int, int]:
    """The clinic's day: 09-21 on weekdays, 10-18 on Saturday, 10-16 on Sunday."""
    return {5: (10, 18), 6: (10, 16)}.get(day.weekday(), (9, 21))


def _walk(rng: random.Random, day: date, doctors: int, services: list[Any],
          cum: list[float]) -> list[tuple[int, datetime, datetime, Any]]:
    """Every doctor's day as back-to-back visits with short gaps: the candidates a day's
    appointments are drawn from (no two of a doctor's overlap, as Postgres requires)."""
    opens, closes = _hours(day)
    day_end = datetime.combine(day, clock_time(closes), tzinfo=MOSCOW)
    rows = []
    for doctor in range(doctors):
        at = datetime.combine(day, clock_time(opens), tzinfo=MOSCOW)
        at += timedelta(minutes=rng.choice((0, 0, 15, 30)))
        while True:
            service = rng.choices(services, cum_weights=cum)[0]
            end = at + timedelta(minutes=service.duration_minutes)
            if end > day_end:
                break
            rows.append((doctor, at, end, service))
            at = end + timedelta(minutes=rng.choice((0, 0, 0, 15, 30)))
    return rows


def _allocate(total: int, capacity: list[int], weights: list[float]) -> list[int]:
    """`total` spread over days in proportion to `weights`, each day at most its capacity."""
    if total > sum(capacity):
        raise SystemExit(f"{total} appointments do not fit in {sum(capacity)} doctor slots")
    share = sum(weights) or 1.0
    counts = [min(c, round(total * w / share)) for c, w in zip(capacity, weights, strict=True)]
    k = 0
    while sum(counts) != total:
        i = k % len(counts)
        if sum(counts) < total and counts[i] < capacity[i]:
            counts[i] += 1
        elif sum(counts) > total and counts[i] > 0:
            counts[i] -= 1
        k += 1
    return counts


def build(args: argparse.Namespace) -> dict[str, Any]:
    """One clinic and everything the five rules look at, bulk-created."""
    from campaigns.models import RuleKind
    from campaigns.services.rules import (
        BIRTHDAY_EN,
        BIRTHDAY_RU,
        DAY,
        FOLLOW_UP_EN,
        FOLLOW_UP_RU,
        HOUR,
        RECALL_EN,
        RECALL_RU,
        REMINDER_EN,
        REMINDER_RU,
        campaign_settings,
        rule_create,
    )
    from clinic.models import Clinic, ConsentEvent, Patient
    from inbox.models import Channel, ChannelKind, ContactIdentity, Conversation
    from scheduling.models import Appointment, Doctor, Service

    rng = random.Random(args.seed)
    started = time.perf_counter()
    clinic = Clinic.objects.create(name="Клиника «Бенчмарк»", timezone="Europe/Moscow",
                                   address="ул. Ленина, 10", phone="+74951234567")
    campaign_settings(clinic=clinic)  # 09:00-21:00, 1 a day and 3 a week
    channel = Channel.objects.create(clinic=clinic, kind=ChannelKind.TELEGRAM,
                                     name="Telegram-бот клиники", bot_token="1:bench")
    doctor_count = max(5, math.ceil(args.appointments / 200))
    doctors = Doctor.objects.bulk_create(
        Doctor(clinic=clinic, name=f"{rng.choice(LAST_NAMES)} {rng.choice(FIRST_NAMES)} {n}",
               specialties=["стоматолог"]) for n in range(doctor_count))
    services = []
    for _key, name, category, minutes, _share in SERVICES:
        service = Service.objects.create(clinic=clinic, name=name, category=category,
                                         duration_minutes=minutes, price_min=3000,
                                         price_max=9000)
        service.doctors.set(doctors)
        services.append(service)
    by_key = {spec[0]: service for spec, service in zip(SERVICES, services, strict=True)}
    cum, total = [], 0.0
    for spec in SERVICES:
        total += spec[4]
        cum.append(total)

    # Patients: names, a phone for nearly all, a birthday for most, some preferences.
    n_patients = args.patients
    print(f"build: {n_patients} patients …", flush=True)
    slots = ["morning"] * 20 + ["midday"] * 15 + ["evening"] * 15 + [""] * 50
    batch = []
    for n in range(n_patients):
        first = rng.choice(FIRST_NAMES)
        female = first in FEMALE
        last = rng.choice(LAST_NAMES) + ("а" if female else "")
        age_days = rng.randint(3 * 365, 85 * 365)
        batch.append(Patient(
            clinic=clinic, last_name=last, first_name=first,
            patronymic=rng.choice(PATRONYMICS_F if female else PATRONYMICS_M),
            phone=f"+79{rng.randrange(10**9):09d}" if rng.random() < 0.95 else "",
            email=f"patient{n}@example.org" if rng.random() < 0.35 else "",
            birthday=(NOW.date() - timedelta(days=age_days)) if rng.random() < 0.85 else None,
            preferred_time_of_day=rng.choice(slots),
            preferred_days=[5, 6] if rng.random() < 0.05 else [],
            language="en" if rng.random() < 0.03 else "ru",
            opted_out_all=rng.random() < 0.01, open_complaint=rng.random() < 0.003,
            left_unhappy=rng.random() < 0.01))
        if len(batch) == 5000:
            Patient.objects.bulk_create(batch, batch_size=1000)
            batch = []
    Patient.objects.bulk_create(batch, batch_size=1000)
    patient_ids = list(Patient.objects.filter(clinic=clinic).order_by("pk")
                       .values_list("pk", flat=True))
    # Who comes: a fifth are regulars, a fifth never came (imported or new).
    weights = [rng.choice((2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.2))
               for _ in patient_ids]
    patient_cum, total = [], 0.0
    for weight in weights:
        total += weight
        patient_cum.append(total)

    def patient() -> int:
        return rng.choices(patient_ids, cum_weights=patient_cum)[0]

    # Consent: a birthday greeting needs one on record (55% signed it); a few withdrew.
    print("build: consent ledger …", flush=True)
    events = []
    for pk in patient_ids:
        at = NOW - timedelta(days=rng.randint(30, 900))
        if rng.random() < 0.55:
            events.append(ConsentEvent(patient_id=pk, topic="birthday", channel="", granted=True,
                                       source="form", recorded_at=at))
        if rng.random() < 0.02:
            events.append(ConsentEvent(patient_id=pk, topic="recall", channel="",
                                       granted=False, source="chat", recorded_at=at))
        if rng.random() < 0.005:
            events.append(ConsentEvent(patient_id=pk, topic="appointment", channel="telegram",
                                       granted=False, source="stop", recorded_at=at))
    ConsentEvent.objects.bulk_create(events, batch_size=2000)
    del events

    # Appointments: the next 30 days (nearer days fuller), and the past year at the same rate.
    print(f"build: {args.appointments} upcoming appointments, {args.history_days} days of "
          "past visits …", flush=True)
    future_days = [NOW.date() + timedelta(days=k) for k in range(FUTURE_DAYS)]
    candidates = [[r for r in _walk(rng, day, doctor_count, services, cum) if r[1] > NOW]
                  for day in future_days]
    # Share of cancelled ones among the upcoming: 5% on top of the live ones.
    cancelled_future = args.appointments // 20
    counts = _allocate(args.appointments + cancelled_future, [len(c) for c in candidates],
                       [len(c) * (1.3 - 0.6 * k / (FUTURE_DAYS - 1))
                        for k, c in enumerate(candidates)])
    fill = args.appointments / sum(len(c) for c in candidates)  # the share of slots booked
    chosen = []
    for rows, count in zip(candidates, counts, strict=True):
        chosen += rng.sample(rows, count)
    del candidates
    rng.shuffle(chosen)
    appointments = []
    for i, (doctor, start, end, service) in enumerate(chosen):
        lead = timedelta(hours=max(0.5, rng.expovariate(1 / (24 * 7))))
        created = min(start - lead, NOW - timedelta(minutes=rng.randint(1, 24 * 60)))
        if i < cancelled_future:
            status = "cancelled"
        else:
            status = "confirmed" if rng.random() < 0.35 else "booked"
        appointments.append(Appointment(
            clinic=clinic, patient_id=patient(), doctor=doctors[doctor], service=service,
            start=start, end=end, status=status, created_at=created,
            cancelled_at=NOW - timedelta(hours=1) if status == "cancelled" else None))
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    del chosen, appointments

    past = 0
    for k in range(args.history_days + 1):  # day 0: this morning, before now
        day = NOW.date() - timedelta(days=k)
        rows = [r for r in _walk(rng, day, doctor_count, services, cum) if r[2] <= NOW]
        count = min(len(rows), round(len(rows) * fill))
        batch = []
        for doctor, start, end, service in rng.sample(rows, count):
            roll = rng.random()
            status = "completed" if roll < 0.85 else "no_show" if roll < 0.9 else "cancelled"
            lead = timedelta(hours=max(0.5, rng.expovariate(1 / (24 * 7))))
            batch.append(Appointment(
                clinic=clinic, patient_id=patient(), doctor=doctors[doctor], service=service,
                start=start, end=end, status=status, created_at=start - lead,
                cancelled_at=start - lead / 2 if status == "cancelled" else None))
        Appointment.objects.bulk_create(batch, batch_size=2000)
        past += len(batch)

    # Telegram: 85% of the patients have written to the bot at some point.
    print("build: Telegram contacts and conversations …", flush=True)
    linked = [pk for pk in patient_ids if rng.random() < 0.85]
    for lo in range(0, len(linked), 5000):
        part = linked[lo:lo + 5000]
        contacts = ContactIdentity.objects.bulk_create(
            [ContactIdentity(clinic=clinic, channel=channel, external_id=str(10**9 + pk),
                             display_name=f"Пациент {pk}", patient_id=pk) for pk in part],
            batch_size=1000)
        conversations = []
        for contact in contacts:
            wrote = NOW - timedelta(minutes=rng.randint(60, 400 * 24 * 60))
            conversations.append(Conversation(
                clinic=clinic, channel=channel, contact=contact, patient_id=contact.patient_id,
                status="open" if rng.random() < 0.03 else "resolved",
                last_message_at=wrote + timedelta(minutes=rng.randint(1, 30)),
                last_patient_message_at=wrote, last_message_preview="Спасибо!"))
        Conversation.objects.bulk_create(conversations, batch_size=1000)

    texts = {
        "reminder": {"ru": {"": REMINDER_RU}, "en": {"": REMINDER_EN}},
        "confirmation": {"ru": {"": CONFIRMATION_RU}, "en": {"": CONFIRMATION_EN}},
        "recall": {"ru": {"": RECALL_RU}, "en": {"": RECALL_EN}},
        "follow_up": {"ru": {"": FOLLOW_UP_RU}, "en": {"": FOLLOW_UP_EN}},
        "birthday": {"ru": {"": BIRTHDAY_RU}, "en": {"": BIRTHDAY_EN}},
    }
    when = NOW - timedelta(days=60)
    rule_create(clinic=clinic, by=None, now=when, name="Напоминание за 2 дня и за 2 часа",
                kind=RuleKind.REMINDER, enabled=True, steps=[-2 * DAY, -2 * HOUR],
                ask_confirmation=True, do_not_send_within=60, texts=texts["reminder"])
    rule_create(clinic=clinic, by=None, now=when, name="Подтверждение визита за день",
                kind=RuleKind.CONFIRMATION, enabled=True, steps=[-DAY],
                do_not_send_within=60, texts=texts["confirmation"])
    rule_create(clinic=clinic, by=None, now=when, name="Гигиена через 6 месяцев",
                kind=RuleKind.RECALL, enabled=True, interval_months=6, max_attempts=2,
                attempt_gap_days=14, service_ids=[by_key["hygiene"].pk],
                texts=texts["recall"])
    rule_create(clinic=clinic, by=None, now=when, name="Самочувствие после имплантации",
                kind=RuleKind.FOLLOW_UP, enabled=True, steps=[DAY],
                service_ids=[by_key["implant"].pk], texts=texts["follow_up"])
    rule_create(clinic=clinic, by=None, now=when, name="Поздравление с днём рождения",
                kind=RuleKind.BIRTHDAY, enabled=True, steps=[0], texts=texts["birthday"])

    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"doctors": doctor_count, "past_visits": past,
            "cancelled_upcoming": cancelled_future, "telegram_patients": len(linked),
            "build_seconds": time.perf_counter() - started}


# --- measuring ----------------------------------------------------------------------------

_IN_LIST = re.compile(r"IN \(%s(?:, %s)*\)")
_COLUMNS = re.compile(r"^SELECT (DISTINCT )?.*? FROM ")
_VALUES = re.compile(r"VALUES \(.*?\)(?:, \(.*?\))*(?= ON CONFLICT| RETURNING|$)")
_SET = re.compile(r"^UPDATE (\S+) SET .*? WHERE ")


def shape(sql: str) -> str:
    """A statement's kind: its SQL with column lists, values and IN lists folded."""
    text = " ".join(sql.split())
    text = _IN_LIST.sub("IN (…)", text)
    text = _COLUMNS.sub(lambda m: f"SELECT {m.group(1) or ''}… FROM ", text)
    text = _VALUES.sub("VALUES …", text)
    text = _SET.sub(r"UPDATE \1 SET … WHERE ", text)
    return text[:150]


@dataclass
class QueryLog:
    """Counts and times every statement through Django's cursor (execute_wrapper: SAVEPOINTs
    and SQLite's BEGIN included), by shape; and, beside them, the COMMITs, the after-commit
    hooks (Celery publishes, the inbox's live-update announcements) and the cache writes
    inside those hooks. "Inside execute" is the driver's execute call: rows a cursor fetches
    later (SQLite past the first row, Postgres server-side cursors) count as Python."""

    count: int = 0
    seconds: float = 0.0
    shapes: dict[str, list[float]] = field(default_factory=dict)
    commits: list[float] = field(default_factory=lambda: [0, 0.0])
    hooks: list[float] = field(default_factory=lambda: [0, 0.0])
    cache_sets: list[float] = field(default_factory=lambda: [0, 0.0])

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.count += 1
            self.seconds += spent
            entry = self.shapes.setdefault(sql, [0, 0.0])
            entry[0] += 1
            entry[1] += spent

    def by_shape(self) -> list[tuple[str, int, float]]:
        folded: dict[str, list[float]] = {}
        for sql, (count, spent) in self.shapes.items():
            entry = folded.setdefault(shape(sql), [0, 0.0])
            entry[0] += count
            entry[1] += spent
        return sorted(((s, int(c), t) for s, (c, t) in folded.items()), key=lambda r: -r[2])

    def split(self, seconds: float) -> str:
        rest = seconds - self.seconds - self.commits[1] - self.hooks[1]
        return (f"{self.seconds:.2f} s inside execute ({self.count} statements), "
                f"{self.commits[1]:.2f} s COMMIT ({self.commits[0]:.0f}), "
                f"{self.hooks[1]:.2f} s after-commit hooks ({self.hooks[0]:.0f} runs; "
                f"{self.cache_sets[1]:.2f} s of it in {self.cache_sets[0]:.0f} cache writes), "
                f"{rest:.2f} s the rest (Python: ORM, models, the engine)")


def _timed(owner: Any, name: str, bucket: list[float]) -> None:
    """Time a method of one object (an instance attribute over the class's method)."""
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            bucket[0] += 1
            bucket[1] += time.perf_counter() - started

    setattr(owner, name, timed)


@contextlib.contextmanager
def logged() -> Any:
    from django.core.cache import caches
    from django.db import connections

    connection, cache = connections["default"], caches["default"]
    log = QueryLog()
    patched = [(connection, "_commit", log.commits),
               (connection, "run_and_clear_commit_hooks", log.hooks),
               (cache, "set", log.cache_sets)]
    for owner, name, bucket in patched:
        _timed(owner, name, bucket)
    try:
        with connection.execute_wrapper(log):
            yield log
    finally:
        for owner, name, _bucket in patched:
            with contextlib.suppress(AttributeError):
                delattr(owner, name)


def rss_mb() -> float:
    """The process's current resident set."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Pass:
    seconds: float
    log: QueryLog
    result: Any = None
    inserted: int = 0


def planner_pass(now: datetime) -> Pass:
    from campaigns.models import Dispatch
    from campaigns.services.planner import plan_all

    before = Dispatch.objects.count()
    with logged() as log:
        started = time.perf_counter()
        returned = plan_all(now=now)
        seconds = time.perf_counter() - started
    return Pass(seconds, log, returned, Dispatch.objects.count() - before)


@contextlib.contextmanager
def rolled_back() -> Any:
    """A replay that leaves nothing behind."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def planner_replays(now: datetime) -> tuple[list[tuple[str, str, Pass]], float]:
    """Each rule's plan on an empty dispatch table, and the whole pass under tracemalloc;
    rolled back."""
    from django.db import connection

    from campaigns.models import Dispatch, Rule
    from campaigns.services.planner import plan_all, rule_plan

    table = connection.ops.quote_name(Dispatch._meta.db_table)
    rules = []
    for rule in Rule.objects.filter(enabled=True).select_related("clinic").order_by("pk"):
        with rolled_back():
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table name
            with logged() as log:
                started = time.perf_counter()
                rule_plan(rule=rule, now=now)
                seconds = time.perf_counter() - started
            rules.append((rule.kind, rule.name, Pass(seconds, log, None,
                                                     Dispatch.objects.count())))
    with rolled_back():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        tracemalloc.start()
        tracemalloc.reset_peak()
        plan_all(now=now)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return rules, peak


@dataclass
class DispatchFigures:
    pass_: Pass
    due: int
    claimed: int
    sent: int
    deferred: int
    handed: int  # inbox messages written "queued" by the pass
    published: int  # Celery publishes after commit
    outcomes: Counter  # (status, reason) of the due rows after the pass
    by_rule: Counter  # (rule kind, status) of the due rows after the pass
    rss_mb: float
    calls: list[tuple[float, str]]  # each row's decision and send: seconds, outcome


class Publishes:
    """Counts Celery publishes (after_task_publish)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.count += 1


def dispatcher_pass(now: datetime, publishes: Publishes) -> tuple[DispatchFigures, dict]:
    from campaigns.models import Dispatch, DispatchStatus
    from campaigns.services import dispatcher
    from campaigns.services.dispatcher import dispatches_process_due
    from inbox.models import Conversation, Message

    due = Dispatch.objects.filter(status=DispatchStatus.PLANNED, send_at__lte=now)
    fields = ["status", "reason", "detail", "send_at", "deferrals", "channel", "message",
              "claimed_at", "sent_at", "confirmation", "answered_at"]
    snapshot = {"rows": list(due), "fields": fields,
                "last_message": Message.objects.order_by("-pk").values_list("pk", flat=True)
                .first() or 0}
    due_ids = [row.pk for row in snapshot["rows"]]
    snapshot["conversations"] = list(Conversation.objects.filter(
        patient_id__in={row.patient_id for row in snapshot["rows"]}).only(
        "pk", "last_message_at", "last_message_preview", "unread_count"))
    published_before = publishes.count
    calls: list[tuple[float, str]] = []
    original = dispatcher._process

    def timed_process(*args: Any) -> str:  # looked up by dispatches_process_due at each call
        started = time.perf_counter()
        outcome = original(*args)
        calls.append((time.perf_counter() - started, outcome))
        return outcome

    dispatcher._process = timed_process
    try:
        with logged() as log:
            started = time.perf_counter()
            run = dispatches_process_due(now=now)
            seconds = time.perf_counter() - started
    finally:
        dispatcher._process = original
    rss = max_rss_mb()
    handed = Message.objects.filter(pk__gt=snapshot["last_message"], direction="out",
                                    status="queued").count()
    outcomes: Counter = Counter()
    by_rule: Counter = Counter()
    for status, reason, kind in (Dispatch.objects.filter(pk__in=due_ids)
                                 .values_list("status", "reason", "rule__kind")
                                 .iterator(chunk_size=2000)):
        outcomes[(status, reason)] += 1
        by_rule[(kind, status)] += 1
    figures = DispatchFigures(Pass(seconds, log, run), len(due_ids), run.claimed, run.sent,
                              run.deferred, handed, publishes.count - published_before,
                              outcomes, by_rule, rss, calls)
    return figures, snapshot


def dispatcher_reset(snapshot: dict) -> None:
    """Put the due rows back as they were and remove what the pass wrote, for a second run."""
    from campaigns.models import Dispatch
    from inbox.models import Conversation, Message

    Dispatch.objects.bulk_update(snapshot["rows"], snapshot["fields"], batch_size=500)
    Message.objects.filter(pk__gt=snapshot["last_message"]).delete()
    Conversation.objects.bulk_update(snapshot["conversations"], [
        "last_message_at", "last_message_preview", "unread_count"], batch_size=500)


def profile_dispatcher(now: datetime, top: int = 25) -> tuple[float, str]:
    from campaigns.services.dispatcher import dispatches_process_due

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    run = dispatches_process_due(now=now)
    profiler.disable()
    seconds = time.perf_counter() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return seconds, f"profiled run: {run.claimed} claimed, {run.sent} sent\n" + out.getvalue()


# --- output -------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_shapes(log: QueryLog, per: int, item: str, top: int = 12) -> None:
    print(f"  costliest statement shapes of the pass (top {top} by time inside execute):")
    print(f"    {'count':>7} {'per ' + item:>12} {'total ms':>9} {'ms each':>8}  statement")
    for text, count, spent in log.by_shape()[:top]:
        print(f"    {count:>7} {count / max(per, 1):>12.2f} {spent * 1000:>9.0f} "
              f"{spent * 1000 / count:>8.3f}  {text}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--appointments", type=int, default=20_000,
                        help="upcoming live appointments over the next 30 days")
    parser.add_argument("--history-days", type=int, default=365,
                        help="days of past visits, at the upcoming daily rate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true",
                        help="reset and run the dispatcher pass again under cProfile")
    parser.add_argument("--keep", action="store_true",
                        help="leave the Postgres database (or the SQLite folder) behind")
    parser.add_argument("--build-only", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.patients < 100 or args.appointments < 30 or args.history_days < 220:
        parser.error("need --patients >= 100, --appointments >= 30, --history-days >= 220 "
                     "(the recall looks 6 months and 2 weeks back)")
    return args


def child_build(args: argparse.Namespace) -> int:
    """The --build-only child: Django on the migrated database, the data, a JSON summary."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    summary = build(args)
    Path(args.build_only).write_text(json.dumps(summary))
    return 0


def configure_celery() -> Any:
    """Publish to kombu's in-memory transport: real publishes after commit, no delivery."""
    from celery.signals import after_task_publish
    from django.conf import settings

    from clinic.celery import app

    settings.CELERY_BROKER_URL = "memory://localhost/"
    app.conf.broker_url = "memory://localhost/"
    app.conf.broker_transport_options = {}
    app.conf.task_always_eager = False
    publishes = Publishes()
    after_task_publish.connect(publishes, weak=False)
    return app, publishes


def data_summary(build_summary: dict) -> dict[str, Any]:
    from django.db import connection

    from campaigns.models import Rule
    from clinic.models import ConsentEvent, Patient
    from inbox.models import Conversation
    from scheduling.models import Appointment

    live = Appointment.objects.filter(status__in=("booked", "confirmed"), start__gt=NOW)
    return {
        "vendor": connection.vendor,
        "patients": Patient.objects.count(),
        "with_birthday": Patient.objects.filter(birthday__isnull=False).count(),
        "with_slot": Patient.objects.exclude(preferred_time_of_day="").count(),
        "upcoming": live.count(),
        "next_24h": live.filter(start__lte=NOW + timedelta(hours=24)).count(),
        "past": Appointment.objects.filter(start__lt=NOW).count(),
        "conversations": Conversation.objects.filter(patient__isnull=False).count(),
        "consents": ConsentEvent.objects.count(),
        "rules": list(Rule.objects.filter(enabled=True).order_by("pk")
                      .values_list("kind", flat=True)),
        **build_summary,
    }


def main() -> int:
    args = parse_args()
    if args.build_only:
        return child_build(args)
    var_dir = tempfile.mkdtemp(prefix="clinic-bench-campaigns-")
    target = database_target(os.environ.get("DATABASE_URL", ""), var_dir)
    created_db = False

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, terminate)
    try:
        if target.note:
            print(f"note: {target.note}")
        where = (f"Postgres database {target.postgres_name}" if target.postgres_name
                 else f"SQLite {var_dir}/bench.sqlite3")
        print(f"setup: {where}, migrate …", flush=True)
        if target.postgres_name:
            postgres_recreate(target, create=True)
            created_db = True
        django_on(target.url, var_dir)
        summary_path = Path(var_dir) / "build.json"
        subprocess.run([PYTHON, str(Path(__file__).resolve()), "--build-only",
                        str(summary_path), "--patients", str(args.patients), "--appointments",
                        str(args.appointments), "--history-days", str(args.history_days),
                        "--seed", str(args.seed)], cwd=ROOT, check=True)
        data = data_summary(json.loads(summary_path.read_text()))
        app, publishes = configure_celery()

        print(f"data: {data['patients']} patients ({data['with_birthday']} with a birthday, "
              f"{data['with_slot']} with a preferred time of day), {data['upcoming']} upcoming "
              f"live appointments ({data['next_24h']} in the next 24 h, "
              f"{data['cancelled_upcoming']} cancelled besides), {data['past']} past visits, "
              f"{data['doctors']} doctors, {data['conversations']} Telegram conversations, "
              f"{data['consents']} consent rows; rules: {', '.join(data['rules'])}; built in "
              f"{data['build_seconds']:.0f} s", flush=True)
        now = NOW
        baseline_rss = rss_mb()

        print("measure: planner pass 1 …", flush=True)
        first = planner_pass(now)
        planner_rss = max_rss_mb()
        print("measure: planner pass 2 …", flush=True)
        second = planner_pass(now)
        from campaigns.models import Dispatch, DispatchStatus

        planned = Counter(Dispatch.objects.values_list("rule__kind", "status", "reason"))
        due_by_rule = Counter(Dispatch.objects.filter(
            status=DispatchStatus.PLANNED, send_at__lte=now).values_list("rule__kind", flat=True))
        due_now = sum(due_by_rule.values())

        print(f"measure: dispatcher pass ({due_now} due) …", flush=True)
        load = os.getloadavg()
        dispatch, snapshot = dispatcher_pass(now, publishes)
        profile_text = ""
        if args.profile:
            print("profile: dispatcher pass again under cProfile …", flush=True)
            dispatcher_reset(snapshot)
            profiled_seconds, profile_text = profile_dispatcher(now)
            profile_text = (f"profiled dispatcher pass: {profiled_seconds:.2f} s under cProfile "
                            "(inflated; the figures above are from the unprofiled run)\n"
                            + profile_text)
        print("measure: planner replays (per rule; tracemalloc), rolled back …", flush=True)
        per_rule, traced_peak = planner_replays(now)

        # --- the report ----------------------------------------------------------------
        d = dispatch
        handed_rate = d.handed / d.pass_.seconds if d.pass_.seconds else float("inf")
        planner_mb = planner_rss
        print()
        print(f"campaigns bench — {data['vendor']}, Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPU(s), now = {now.isoformat()} (Europe/Moscow); "
              f"broker {app.conf.broker_url}, eager {app.conf.task_always_eager}; load "
              f"average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} before the dispatcher pass")
        print()
        print("PLANNER  plan_all(now=now)")
        print(f"  pass 1: {first.seconds:8.2f} s  {first.log.count:6} statements "
              f"({first.log.seconds:.2f} s inside execute)  {first.inserted} rows inserted "
              f"(plan_all returned {first.result})")
        print(f"          {first.log.split(first.seconds)}")
        print(f"  pass 2: {second.seconds:8.2f} s  {second.log.count:6} statements "
              f"({second.log.seconds:.2f} s inside execute)  {second.inserted} rows inserted "
              f"(plan_all returned {second.result})")
        print(f"  memory: process max RSS {planner_mb:.0f} MB after pass 1 (RSS before "
              f"{baseline_rss:.0f} MB); tracemalloc peak of a replayed pass "
              f"{traced_peak:.1f} MB")
        print("  per rule (replayed alone on an empty table, rolled back):")
        for kind, name, p in per_rule:
            print(f"    {kind:13} {p.seconds:7.2f} s {p.log.count:6} statements "
                  f"{p.log.seconds:6.2f} s in execute {p.inserted:7} rows  {name}")
        print("  dispatch rows after planning, by rule (status / reason), and due now "
              "(planned, send_at <= now):")
        for kind in dict.fromkeys(k for k, *_ in sorted(planned)):
            rows = ", ".join(f"{count} {status}{' / ' + reason if reason else ''}"
                             for (k, status, reason), count in sorted(planned.items())
                             if k == kind)
            print(f"    {kind:13} {rows}; {due_by_rule[kind]} due now")
        print(f"    {'all':13} {sum(planned.values())} rows; {due_now} due now")
        print_shapes(first.log, max(first.inserted, 1), "row")
        print()
        print("DISPATCHER  dispatches_process_due(now=now)")
        print(f"  {d.pass_.seconds:.2f} s, {d.pass_.log.count} statements "
              f"({d.pass_.log.count / max(d.claimed, 1):.1f} per dispatch claimed), "
              f"process max RSS {d.rss_mb:.0f} MB")
        print(f"  time: {d.pass_.log.split(d.pass_.seconds)}")
        each = sorted(t for t, _ in d.calls)
        sent_each = sorted(t for t, outcome in d.calls if outcome == "sent")
        other_each = sorted(t for t, outcome in d.calls if outcome != "sent")
        if each:
            print(f"  per row (decide, send, record): first {d.calls[0][0] * 1000:.1f} ms, p50 "
                  f"{percentile(each, 0.5) * 1000:.2f} ms, p95 {percentile(each, 0.95) * 1000:.2f}"
                  f" ms, max {each[-1] * 1000:.1f} ms; sent p50 "
                  f"{percentile(sent_each, 0.5) * 1000:.2f} ms, not sent p50 "
                  f"{percentile(other_each, 0.5) * 1000:.2f} ms; claiming and the rest "
                  f"{d.pass_.seconds - sum(each):.2f} s")
        print(f"  due {d.due}, claimed {d.claimed}, sent {d.sent}, deferred {d.deferred}, "
              f"skipped/superseded/expired "
              f"{d.claimed - d.sent - d.deferred}")
        print(f"  handed to the outbox (inbox messages written 'queued'): {d.handed}; "
              f"Celery publishes after commit: {d.published}")
        print(f"  {handed_rate:.0f} dispatches/s handed to the outbox "
              f"({d.claimed / d.pass_.seconds if d.pass_.seconds else 0:.0f} claimed/s, "
              f"{d.pass_.seconds * 1000 / max(d.claimed, 1):.2f} ms per claimed dispatch)")
        print("  outcome of the due rows (status / reason):")
        for (status, reason), count in sorted(d.outcomes.items(), key=lambda kv: -kv[1]):
            print(f"    {count:7}  {status}{' / ' + reason if reason else ''}")
        print("  by rule:")
        for (kind, status), count in sorted(d.by_rule.items()):
            print(f"    {count:7}  {kind} {status}")
        print_shapes(d.pass_.log, d.claimed, "dispatch")
        if profile_text:
            print()
            print(profile_text)
        print()
        checks = [
            (f"planner pass ≤ {PLANNER_SECONDS:.0f} s", f"{first.seconds:.2f} s",
             first.seconds <= PLANNER_SECONDS),
            (f"planner memory ≤ {PLANNER_MB:.0f} MB (process max RSS)", f"{planner_mb:.0f} MB",
             planner_mb <= PLANNER_MB),
            (f"dispatcher ≥ {DISPATCHES_PER_SECOND:.0f} dispatches/s to the outbox",
             f"{handed_rate:.0f}/s", handed_rate >= DISPATCHES_PER_SECOND),
        ]
        print("TARGETS (issue 9)")
        for label, value, ok in checks:
            print(f"  {label:48} {value:>10}  {verdict(ok)}")
        problems = []
        if second.inserted:
            problems.append(f"the second planner pass inserted {second.inserted} rows")
        if not d.handed:
            problems.append("nothing was handed to the outbox")
        if d.published < d.handed:
            problems.append(f"only {d.published} of {d.handed} messages were published")
        print()
        print(f"campaigns: {data['patients']} patients / {data['upcoming']} upcoming on "
              f"{data['vendor']}: planner {first.seconds:.2f} s, {first.log.count} statements, "
              f"{planner_mb:.0f} MB max RSS; dispatcher {d.handed} to the outbox in "
              f"{d.pass_.seconds:.2f} s = {handed_rate:.0f}/s; "
              + ("all targets met" if all(ok for *_, ok in checks) else "missed: " + ", ".join(
                  label for label, _, ok in checks if not ok)))
        for problem in problems:
            print(f"PROBLEM: {problem}")
        return 1 if problems else 0
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created_db and not args.keep:
            with contextlib.suppress(Exception):
                postgres_recreate(target, create=False)
        if args.keep:
            print(f"kept: {target.postgres_name or var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
