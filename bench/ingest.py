"""Webhook ingest benchmark: Telegram + WhatsApp webhooks through gunicorn into Postgres.

What it measures
    The sustained rate at which the real stack (gunicorn -> Django -> inbox.webhooks ->
    inbound_events_store -> Postgres) accepts provider webhooks, and the latency of each
    one, for a realistic mix: Telegram updates and signed WhatsApp webhooks with Russian
    patient texts from many different senders (so contacts and conversations are created,
    not only messages), with a fraction of exact re-sends (same update_id / wamid) that must
    be stored once. Beside it, the machine's yardstick: single-row INSERT + COMMIT into a
    scratch table shaped like the message row, from the same number of connections.

How it runs
    1. creates a fresh Postgres database ``clinic_bench`` (dropped first if it exists),
       migrates it and creates a clinic with one Telegram and one WhatsApp channel;
    2. starts gunicorn (``clinic.wsgi:application``) on a free 127.0.0.1 port with
       DEBUG=0, REDIS_URL on Redis db 15 (unset when Redis is down), LOG_LEVEL=WARNING;
    3. posts a short warm-up (not counted), then N webhooks at concurrency C from a thread
       pool of lean http.client connections on loopback (so the client leaves the shared
       cores to the server), recording every latency and status;
    4. checks ``rows stored == N - duplicates`` in inbox_message, then measures the raw
       INSERT + COMMIT rate;
    5. stops gunicorn, drops ``clinic_bench`` and purges Redis db 15 -- also on Ctrl-C or
       an error.

    The benchmark process itself does not import Django; setup runs in ``manage.py``
    subprocesses. Nothing is sent anywhere but 127.0.0.1. It prints figures and asserts
    nothing about timing.

Usage
    .venv/bin/python bench/ingest.py [--n 3000] [--concurrency 16] [--duplicates 0.2]
                                     [--workers 2] [--worker-class sync|gthread]
                                     [--threads 4] [--seed 1]

    Needs Postgres at 127.0.0.1:5432 (user postgres, trust auth); Redis at 127.0.0.1:6379
    is used when it answers.

Output
    One figure a line: requests, non-2xx (each failure listed), webhooks/s and messages
    stored/s over the run, p50/p95/p99 latency, the stored-rows check, Postgres commits per
    webhook, where the CPU went (gunicorn workers, Postgres, this client, other processes),
    the raw insert+commit rate and the webhook/raw ratio; then a one-line summary. The exit
    status is 1 when a request failed or the row count is off, never because of timing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from scratch_db import database_drop, database_recreate, free_port, percentile

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn") if (VENV_BIN / "gunicorn").exists() else "gunicorn"

HOST = "127.0.0.1"
DB_NAME = "clinic_bench"
DATABASE_URL = f"postgres://postgres@{HOST}:5432/{DB_NAME}"
REDIS_URL = f"redis://{HOST}:6379/15"

WA_PHONE_ID = "106540352242922"
WA_DISPLAY_PHONE = "74951234567"
WA_BUSINESS_ID = "102290129340398"
# Provider send times as they would be in a real burst of ~300 updates a second, starting now.
BASE_DATE = int(time.time())
UPDATES_PER_SECOND = 300

FIRST_NAMES = ["Мария", "Анна", "Елена", "Ольга", "Наталья", "Ирина", "Татьяна", "Светлана",
               "Алексей", "Дмитрий", "Сергей", "Андрей", "Иван", "Михаил", "Николай", "Павел"]
LAST_NAMES = ["Иванова", "Петрова", "Смирнова", "Кузнецова", "Попова", "Соколова", "Лебедева",
              "Козлов", "Новиков", "Морозов", "Волков", "Фёдоров", "Орлов", "Егоров"]
TEXTS = [
    "Здравствуйте! Можно записаться на чистку зубов на следующей неделе?",
    "Сколько стоит профессиональная гигиена полости рта?",
    "Добрый день, болит зуб справа снизу уже третий день, когда можно прийти?",
    "Подскажите, вы работаете в субботу?",
    "Я записана на завтра в 15:30, хочу перенести на четверг.",
    "Спасибо, всё поняла. До встречи!",
    "А у вас есть детский стоматолог? Сыну 7 лет.",
    "Нужно ли что-то брать с собой на первый приём? Паспорт, полис?",
    "Здравствуйте, после удаления зуба немного кровит, это нормально?",
    "Можно оплатить картой или только наличными?",
    "Сколько стоит имплант под ключ? И сколько по времени всё занимает?",
    "Добрый вечер! Отменяю запись на пятницу, заболел ребёнок.",
    "Пришлите, пожалуйста, адрес и как к вам проехать на машине.",
    "У меня выпала пломба, можно сегодня попасть?",
    "Хочу сделать отбеливание, есть противопоказания?",
    "Да, подтверждаю запись 👍",
]


# --- request building ---------------------------------------------------------------------

@dataclass(frozen=True)
class Hook:
    """One webhook as the provider would send it: path, headers and the exact body bytes."""

    provider: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Channels:
    telegram_key: str
    telegram_secret: str
    whatsapp_key: str
    whatsapp_secret: str


@dataclass
class Sender:
    provider: str
    ident: int
    first_name: str
    last_name: str
    next_message_id: int = 1


def _telegram_update(update_id: int, sender: Sender, message_id: int, text: str) -> bytes:
    user = {"id": sender.ident, "is_bot": False, "first_name": sender.first_name,
            "last_name": sender.last_name, "username": f"patient{sender.ident}",
            "language_code": "ru"}
    chat = {"id": sender.ident, "first_name": sender.first_name, "last_name": sender.last_name,
            "username": f"patient{sender.ident}", "type": "private"}
    update = {"update_id": update_id, "message": {
        "message_id": message_id, "from": user, "chat": chat,
        "date": BASE_DATE + update_id // UPDATES_PER_SECOND, "text": text}}
    # Telegram sends UTF-8 as is.
    return json.dumps(update, ensure_ascii=False).encode()


def _whatsapp_webhook(sender: Sender, wamid: str, timestamp: int, text: str) -> bytes:
    wa_id = str(sender.ident)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": WA_DISPLAY_PHONE, "phone_number_id": WA_PHONE_ID},
        "contacts": [{"profile": {"name": f"{sender.first_name} {sender.last_name}"},
                      "wa_id": wa_id, "user_id": f"US.{sender.ident * 7919 % 10**19:019d}"}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "text",
                      "text": {"body": text}}],
    }
    payload = {"object": "whatsapp_business_account", "entry": [{
        "id": WA_BUSINESS_ID, "changes": [{"field": "messages", "value": value}]}]}
    # Meta escapes non-ASCII as \uXXXX; the signature covers exactly these bytes.
    return json.dumps(payload).encode()


def wa_signature(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def hooks_build(channels: Channels, *, count: int, senders: int, duplicates: int,
                rng: random.Random, first_update: int, id_base: int) -> list[Hook]:
    """``count`` webhooks, ``duplicates`` of them exact re-sends of an earlier one."""
    people: list[Sender] = []
    for i in range(max(1, senders)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if i % 2 == 0:  # Telegram user ids, over 32 bits as real ones can be
            people.append(Sender("telegram", 5_000_000_000 + id_base + i, first, last))
        else:  # Russian mobile numbers as WhatsApp ids
            people.append(Sender("whatsapp", 79_160_000_000 + id_base + i, first, last))
    tg_headers = {"Content-Type": "application/json",
                  "X-Telegram-Bot-Api-Secret-Token": channels.telegram_secret}
    update_id = first_update
    unique: list[Hook] = []
    for _ in range(count - duplicates):
        sender = rng.choice(people)
        message_id, sender.next_message_id = sender.next_message_id, sender.next_message_id + 1
        text = rng.choice(TEXTS)
        update_id += 1
        if sender.provider == "telegram":
            body = _telegram_update(update_id, sender, message_id, text)
            unique.append(Hook("telegram", f"/hooks/telegram/{channels.telegram_key}/",
                               tg_headers, body))
        else:
            wamid = "wamid.HBgL" + hashlib.sha1(  # noqa: S324 - an id, not security
                f"{sender.ident}:{message_id}:{id_base}".encode()).hexdigest()[:32].upper()
            body = _whatsapp_webhook(sender, wamid, BASE_DATE + update_id // UPDATES_PER_SECOND,
                                     text)
            headers = {"Content-Type": "application/json",
                       "X-Hub-Signature-256": wa_signature(body, channels.whatsapp_secret)}
            unique.append(Hook("whatsapp", f"/hooks/whatsapp/{channels.whatsapp_key}/",
                               headers, body))
    if not unique:
        return []
    # Re-sends go to random later positions, each a copy of a webhook sent before it.
    ordered: list[Hook] = []
    resend_at = set(rng.sample(range(1, count), min(duplicates, count - 1)))
    fresh = iter(unique)
    for position in range(count):
        if position in resend_at and ordered:
            ordered.append(rng.choice(ordered))
        else:
            ordered.append(next(fresh, None) or rng.choice(ordered))
    return ordered


# --- processes, database ------------------------------------------------------------------

def redis_usable() -> bool:
    try:
        with socket.create_connection((HOST, 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_dbsize() -> int:
    import redis

    return int(redis.Redis.from_url(REDIS_URL).dbsize())


def redis_purge() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()






def server_env(var_dir: str, use_redis: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "CELERY_BROKER_DIR"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": DATABASE_URL,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": var_dir,  # file cache / broker / staticfiles stay out of the project tree
        "PYTHONUNBUFFERED": "1",
    })
    if use_redis:
        env["REDIS_URL"] = REDIS_URL
    return env


SETUP_CODE = """
import json, os
from clinic.models import Clinic
from inbox.models import Channel
c = json.loads(os.environ["BENCH_CHANNELS"])
clinic = Clinic.objects.create(name="Клиника «Бенчмарк»", phone="+74951234567")
Channel.objects.create(clinic=clinic, kind="telegram", name="Telegram-бот",
                       key=c["telegram_key"], webhook_secret=c["telegram_secret"],
                       bot_token="123456:bench-not-a-token")
Channel.objects.create(clinic=clinic, kind="whatsapp", name="WhatsApp",
                       key=c["whatsapp_key"], app_secret=c["whatsapp_secret"],
                       phone_number_id=c["phone_number_id"], verify_token="bench",
                       access_token="bench-not-a-token")
"""


def database_prepare(env: dict[str, str], channels: Channels) -> None:
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    config = json.dumps({"telegram_key": channels.telegram_key,
                         "telegram_secret": channels.telegram_secret,
                         "whatsapp_key": channels.whatsapp_key,
                         "whatsapp_secret": channels.whatsapp_secret,
                         "phone_number_id": WA_PHONE_ID})
    subprocess.run([*manage, "shell", "-v", "0", "-c", SETUP_CODE], cwd=ROOT,
                   env={**env, "BENCH_CHANNELS": config}, check=True)


class Server:
    """gunicorn in a session of its own, so it and its workers are stopped together."""

    def __init__(self, env: dict[str, str], port: int, workers: int, worker_class: str,
                 threads: int) -> None:
        self.port = port
        command = [GUNICORN, "clinic.wsgi:application", "--bind", f"{HOST}:{port}",
                   "--workers", str(workers), "--worker-class", worker_class,
                   "--log-level", "warning", "--error-logfile", "-", "--no-control-socket"]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{self.port}/healthz/", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz/ in time")

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        # Anything left in gunicorn's session (a stuck worker) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


# --- CPU accounting -----------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == name:
                pids.append(int(comm.parent.name))
    return pids


def process_cpu(pids: list[int]) -> float:
    seconds = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


# --- load ---------------------------------------------------------------------------------

@dataclass
class RunResult:
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    client_cpu: float = 0.0


def load_run(base_url: str, hooks: list[Hook], concurrency: int,
             stop: threading.Event) -> RunResult:
    """Post every hook once from ``concurrency`` threads."""
    latencies = [0.0] * len(hooks)
    statuses = [0] * len(hooks)
    answers: list[str] = [""] * len(hooks)
    counter: Iterator[int] = itertools.count()

    host, port = urllib.parse.urlsplit(base_url).netloc.split(":")

    def worker() -> None:
        # http.client, one connection a request: gunicorn's sync workers close every
        # connection anyway, and a lean client leaves the shared cores to the server.
        while not stop.is_set():
            index = next(counter)  # atomic under the GIL
            if index >= len(hooks):
                return
            hook = hooks[index]
            started = time.perf_counter()
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            try:
                connection.request("POST", hook.path, body=hook.body, headers=hook.headers)
                response = connection.getresponse()
                answer = response.read().decode()
                latencies[index] = time.perf_counter() - started
                statuses[index], answers[index] = response.status, answer
            except OSError as error:
                latencies[index] = time.perf_counter() - started
                statuses[index], answers[index] = -1, repr(error)
            finally:
                connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    cpu_before = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    result = RunResult(wall=time.perf_counter() - started,
                       client_cpu=time.process_time() - cpu_before)
    for index, hook in enumerate(hooks):
        status, answer = statuses[index], answers[index]
        if 200 <= status < 300:
            result.latencies.append(latencies[index])
            with contextlib.suppress(ValueError, AttributeError):
                data = json.loads(answer)
                result.stored += int(data.get("stored", 0))
                result.duplicates += int(data.get("duplicates", 0))
        else:
            result.failures.append((status, hook.provider, answer[:300]))
    return result


def message_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM inbox_message").fetchone()
        return int(row[0]) if row else 0


def db_stats(dsn: str) -> tuple[int, int]:
    """(commits, rollbacks) Postgres has counted for the bench database."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                           "WHERE datname = %s", (DB_NAME,)).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)


def raw_insert_rate(dsn: str, rows: int, concurrency: int) -> float:
    """Rows/s of single-row INSERT + COMMIT, one commit per row, from ``concurrency`` conns."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_message")
        conn.execute("""
            CREATE TABLE bench_raw_message (
                id bigserial PRIMARY KEY,
                conversation_id bigint NOT NULL,
                channel_id bigint NOT NULL,
                direction varchar(3) NOT NULL,
                kind varchar(20) NOT NULL,
                body text NOT NULL,
                provider_message_id varchar(200),
                provider_timestamp timestamptz,
                status varchar(20) NOT NULL,
                created_at timestamptz NOT NULL
            )""")
        conn.execute("CREATE UNIQUE INDEX bench_raw_provider ON bench_raw_message "
                     "(channel_id, provider_message_id)")
    counter: Iterator[int] = itertools.count()
    errors: list[BaseException] = []
    ready = threading.Barrier(concurrency + 1)

    def worker() -> None:
        try:
            with psycopg.connect(dsn) as conn:  # autocommit off: one COMMIT per row
                ready.wait()
                while (index := next(counter)) < rows:
                    conn.execute(
                        "INSERT INTO bench_raw_message (conversation_id, channel_id, direction,"
                        " kind, body, provider_message_id, provider_timestamp, status,"
                        " created_at) VALUES (%s, 1, 'in', 'text', %s, %s, now(), 'received',"
                        " now())",
                        (index % 997, TEXTS[index % len(TEXTS)], f"raw.{index:012d}"))
                    conn.commit()
        except BaseException as error:  # reported below
            errors.append(error)
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.abort()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"raw insert failed: {errors[0]!r}")
    return rows / wall


# --- main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="webhooks in the measured run")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--duplicates", type=float, default=0.2,
                        help="fraction of the N that are exact re-sends")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--warmup", type=int, default=200, help="uncounted warm-up webhooks")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.n < 1 or args.concurrency < 1 or args.workers < 1 or not 0 <= args.duplicates < 1:
        parser.error("need --n >= 1, --concurrency >= 1, --workers >= 1, 0 <= --duplicates < 1")
    return args


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    duplicates = min(round(args.n * args.duplicates), max(0, args.n - 1))
    expected = args.n - duplicates
    channels = Channels(secrets.token_urlsafe(16), secrets.token_urlsafe(32),
                        secrets.token_urlsafe(16), secrets.token_hex(16))
    use_redis = redis_usable()
    redis_keys_before = redis_dbsize() if use_redis else 0
    var_dir = tempfile.mkdtemp(prefix="clinic-bench-")
    env = server_env(var_dir, use_redis)
    bench_dsn = f"postgresql://postgres@{HOST}:5432/{DB_NAME}"
    server: Server | None = None
    created_db = False
    stop = threading.Event()

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # Ctrl-C and kill both end in the finally below (also where SIGINT was ignored at start).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, terminate)
    try:
        print(f"setup: database {DB_NAME}, migrate, clinic + Telegram + WhatsApp channels …",
              flush=True)
        database_recreate(DB_NAME)
        created_db = True
        database_prepare(env, channels)
        port = free_port()
        server = Server(env, port, args.workers, args.worker_class, args.threads)
        server.wait_ready()
        base_url = f"http://{HOST}:{port}"

        warmup = hooks_build(channels, count=args.warmup, senders=max(1, args.warmup // 4),
                             duplicates=0, rng=rng, first_update=900_000_000,
                             id_base=900_000_000)
        hooks = hooks_build(channels, count=args.n, senders=max(1, args.n // 5),
                            duplicates=duplicates, rng=rng, first_update=100_000, id_base=0)
        if warmup:
            load_run(base_url, warmup, args.concurrency, stop)
        time.sleep(0.5)
        rows_before = message_rows(bench_dsn)
        commits_before = db_stats(bench_dsn)

        workers = server.worker_pids()
        busy_before, total_before = machine_cpu()
        postgres = pids_named("postgres")
        server_cpu_before, postgres_cpu_before = process_cpu(workers), process_cpu(postgres)
        print(f"run: {args.n} webhooks at concurrency {args.concurrency} against gunicorn "
              f"{args.worker_class} x{args.workers}"
              + (f" ({args.threads} threads each)" if args.worker_class == "gthread" else "")
              + " …", flush=True)
        result = load_run(base_url, hooks, args.concurrency, stop)
        busy_after, total_after = machine_cpu()
        server_cpu = process_cpu(workers) - server_cpu_before
        postgres_cpu = process_cpu(postgres) - postgres_cpu_before
        rows = message_rows(bench_dsn) - rows_before
        time.sleep(1.1)  # Postgres flushes its per-database counters about once a second
        commits_after = db_stats(bench_dsn)

        server.stop()
        raw_rate = raw_insert_rate(bench_dsn, args.n, args.concurrency)

        ok = len(result.latencies)
        lat = sorted(x * 1000 for x in result.latencies)
        rate = ok / result.wall if result.wall else 0.0
        stored_rate = rows / result.wall if result.wall else 0.0
        elapsed_cores = (total_after - total_before) or 1.0
        machine_busy = (busy_after - busy_before) / elapsed_cores * (os.cpu_count() or 1)
        wall = result.wall or 1.0
        commits = commits_after[0] - commits_before[0]
        rollbacks = commits_after[1] - commits_before[1]
        check = "OK" if rows == expected else "MISMATCH"

        print()
        print(f"server               gunicorn {args.worker_class}, {args.workers} worker(s)"
              + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
              + f", {os.cpu_count()} CPU(s), Redis {'db 15' if use_redis else 'off'}")
        print(f"requests             {args.n} ({duplicates} re-sends, "
              f"{max(1, args.n // 5)} senders, concurrency {args.concurrency})")
        print(f"non-2xx              {len(result.failures)}")
        for status, provider, answer in result.failures[:10]:
            print(f"  failure            {status} {provider}: {answer}")
        if len(result.failures) > 10:
            print(f"  …                  {len(result.failures) - 10} more failures")
        print(f"wall time            {result.wall:.2f} s")
        print(f"webhooks/s           {rate:.0f}")
        print(f"messages stored/s    {stored_rate:.0f}")
        print(f"latency p50          {percentile(lat, 0.50):.1f} ms")
        print(f"latency p95          {percentile(lat, 0.95):.1f} ms")
        print(f"latency p99          {percentile(lat, 0.99):.1f} ms")
        print(f"latency mean / max   {statistics.fmean(lat) if lat else float('nan'):.1f} / "
              f"{lat[-1] if lat else float('nan'):.1f} ms")
        print(f"queueing (C / rate)  {args.concurrency / rate * 1000 if rate else 0:.1f} ms "
              "(closed loop: mean latency can't be lower at this concurrency)")
        print(f"rows stored          {rows} / expected {expected} (N - duplicates) {check}")
        print(f"server answered      stored {result.stored}, duplicates {result.duplicates}")
        print(f"postgres xacts       {commits / max(1, args.n):.1f} commits per webhook "
              f"({rollbacks} rollbacks)")
        cores = {"gunicorn": server_cpu / wall, "Postgres": postgres_cpu / wall,
                 "client": result.client_cpu / wall}
        cores["other"] = max(0.0, machine_busy - sum(cores.values()))
        print(f"CPU busy             {machine_busy:.2f} of {os.cpu_count()} cores: "
              + ", ".join(f"{name} {value:.2f}" for name, value in cores.items()))
        print(f"CPU per webhook      gunicorn {server_cpu / max(1, ok) * 1000:.2f} ms, "
              f"Postgres {postgres_cpu / max(1, ok) * 1000:.2f} ms")
        print(f"raw insert+commit    {raw_rate:.0f} rows/s ({args.n} rows, "
              f"{args.concurrency} connections)")
        print(f"webhook / raw        {rate / raw_rate:.2f}" if raw_rate
              else "webhook / raw        n/a")
        print()
        print(f"ingest: {rate:.0f} webhooks/s, p95 {percentile(lat, 0.95):.1f} ms, "
              f"stored {rows}/{expected} {check}; raw insert+commit {raw_rate:.0f} rows/s")
        return 0 if not result.failures and rows == expected else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # let the clean-up finish
        stop.set()
        if server is not None:
            server.stop()
        if created_db:
            with contextlib.suppress(psycopg.Error):
                database_drop(DB_NAME)
        if use_redis:
            if redis_keys_before == 0:
                with contextlib.suppress(Exception):
                    redis_purge()
            else:
                print(f"note: Redis db 15 held {redis_keys_before} keys before the run; "
                      "not purged", file=sys.stderr)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
