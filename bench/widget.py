"""Issue 10's figures for the website chat widget: its size, how fast a reply reaches the
visitor, and what idle open widgets cost the server.

What it measures
    1. static/widget.js raw and gzipped (level 9 and the default level 6).
    2. Latency: one visitor does what static/widget.js does (POST session, POST a first
       message, then a loop of GET messages/?after=<cursor>&wait=25, the first with wait=0,
       re-polling at once after each answer) while this process sends --messages replies through
       `inbox.services.outbound.message_send` (the ORM, same database and Redis), one every
       0.3-0.5 s. For each reply: the time from just before the call, and from its return (the
       commit and the visitor's version bump are done), to the moment the long-poll answer
       carrying it is received. With --browser, the same in headless Chromium on
       /widget/demo/?channel=<key>: until the reply's bubble is in the widget's DOM.
    3. Idle cost: --visitors returning visitors (each its own token and connection, asyncio +
       httpx) keep the widget's long-poll loop for --seconds with no messages, started over a
       20 s warm-up that is not counted (so they do not poll in step). Printed: requests/s and
       the status mix, how long a long-poll was held, the CPU of gunicorn (master + workers) and
       of the database's Postgres backends (per cent of one core), Postgres transactions/s of
       the bench database (pg_stat_database xact_commit + xact_rollback: every autocommit
       query is one), Redis commands/s (the whole Redis server), the peak number of Postgres
       connections to the bench database, and a probe: GET config/ once a second, as any
       other short request (a provider's webhook) would be served beside the long-polls.

How it runs
    A fresh Postgres database ``clinic_bench_widget`` (one clinic open round the clock, one
    administrator, one website chat channel) and Redis db 10 as cache and Celery broker
    (nothing consumes the queued delivery tasks; the widget marks replies delivered itself);
    gunicorn as the Dockerfile runs it (gthread) on a free 127.0.0.1 port with DEBUG=0. All
    visitors come from 127.0.0.1, so the per-address limits are raised for the bench:
    WEBCHAT_IP_RATE=100000/m, WEBCHAT_SESSION_RATE=100000/h (production: 120/m and 10/h).
    Gunicorn gets --workers 3 and enough threads for every long-poll plus 16 spare
    (--threads, default ceil((visitors + 16) / workers)); the Dockerfile's 3 x 8 = 24 slots
    are filled by 24 waiting widgets.

    A waiting long-poll lets go of its Postgres connection (inbox/webchat.py), so 200 idle
    widgets hold a handful of connections, not 200. Database and Redis db 10 are dropped and
    flushed. Timing is printed, never asserted.

Usage
    .venv/bin/python bench/widget.py [--visitors 200] [--seconds 60] [--messages 50]
        [--workers 3] [--threads N] [--browser] [--skip-idle]
"""

import argparse
import asyncio
import gzip
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch_db import (  # noqa: E402
    ADMIN_DSN,
    PYTHON,
    ROOT,
    database_drop,
    database_recreate,
    django_on,
    free_port,
    percentile,
)

DB_NAME = "clinic_bench_widget"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/10"
LIMITS = {"WEBCHAT_IP_RATE": "100000/m", "WEBCHAT_SESSION_RATE": "100000/h"}
WIDGET = ROOT / "static" / "widget.js"
WAIT = 25  # what widget.js asks for (the server caps it at WEBCHAT_LONGPOLL_SECONDS, 20)
CLIENT_TIMEOUT = 40  # widget.js aborts a long-poll after 40 s
WARMUP = 20
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# --- Setup ----------------------------------------------------------------------------------

def populate() -> tuple[str, int]:
    """A clinic open round the clock with its administrator and a website chat: its key."""
    from clinic.models import Clinic, Membership
    from inbox.models import Channel
    from tests.clinic.factories import UserFactory

    clinic = Clinic.objects.create(name="Bench", weekly_hours=[[["00:00", "00:00"]]] * 7)
    admin = UserFactory(first_name="Анна")
    Membership.objects.create(user=admin, clinic=clinic, role="administrator")
    channel = Channel.objects.create(clinic=clinic, kind="webchat", name="Сайт",
                                     widget={"form_enabled": False})
    return channel.key, admin.pk


def start_server(port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "clinic.wsgi:application", "--pythonpath", str(ROOT),
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread",
         "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(), start_new_session=True,
        stdout=log.open("w"), stderr=subprocess.STDOUT)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(2)  # every worker forked
    return server


def pids_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [pid, *(int(p) for p in out.split())]


def cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(values: list[float]) -> str:
    values = sorted(values)
    return (f"p50 {ms(percentile(values, .5))}, p95 {ms(percentile(values, .95))}, "
            f"max {ms(values[-1])} (n={len(values)})") if values else "no data"


# --- 1. Size --------------------------------------------------------------------------------

def size() -> None:
    raw = WIDGET.read_bytes()
    print(f"static/widget.js: {len(raw) / 1024:.1f} KiB raw, "
          f"{len(gzip.compress(raw, 9)) / 1024:.1f} KiB gzip -9, "
          f"{len(gzip.compress(raw, 6)) / 1024:.1f} KiB gzip (default level 6)")


# --- 2. Latency -----------------------------------------------------------------------------

class Visitor(threading.Thread):
    """One widget: session, a first message, then the long-poll loop; notes when each message
    id first arrives."""

    def __init__(self, api: str, origin: str) -> None:
        super().__init__(daemon=True)
        self.api, self.origin = api, origin
        self.ready, self.stop = threading.Event(), threading.Event()
        self.arrived: dict[int, float] = {}
        self.statuses: Counter = Counter()

    def run(self) -> None:
        headers = {"Origin": self.origin, "Accept": "application/json"}
        with httpx.Client(base_url=self.api, headers=headers, timeout=CLIENT_TIMEOUT) as http:
            session = http.post("session/", json={})
            if session.status_code not in (200, 201):
                raise SystemExit(f"session: {session.status_code} {session.text[:300]}")
            http.headers["X-Visitor-Token"] = session.json()["token"]
            http.post("messages/", json={"text": "Здравствуйте! Сколько стоит чистка?",
                                         "client_id": "bench-first"}).raise_for_status()
            self.ready.set()
            cursor, first = 0, True
            while not self.stop.is_set():
                r = http.get("messages/", params={"after": cursor, "wait": 0 if first else WAIT})
                now = time.perf_counter()
                self.statuses[r.status_code] += 1
                if r.status_code != 200:
                    time.sleep(1)
                    continue
                data = r.json()
                for message in data["messages"]:
                    self.arrived.setdefault(message["id"], now)
                cursor, first = max(cursor, data["cursor"]), False


def replies(messages: int, admin_id: int, stamp: bool = False) -> list[tuple[int, float, float]]:
    """Send the replies to the clinic's only website chat conversation: (id, before, after)
    in perf_counter seconds (or, with `stamp`, time.time() for a browser to compare with)."""
    from django.contrib.auth import get_user_model

    from clinic import clock
    from inbox.models import Conversation
    from inbox.services.outbound import message_send

    conversation = Conversation.objects.select_related("channel").latest("pk")
    admin = get_user_model().objects.get(pk=admin_id)
    clock_now = time.time if stamp else time.perf_counter
    sent = []
    for n in range(messages):
        time.sleep(random.uniform(0.3, 0.5))
        before = clock_now()
        message = message_send(conversation=conversation, author=admin,
                               text=f"bench reply #{n}.", now=clock.now())
        sent.append((message.pk, before, clock_now()))
    return sent


def latency(api: str, origin: str, messages: int, admin_id: int) -> None:
    visitor = Visitor(api, origin)
    visitor.start()
    if not visitor.ready.wait(20):
        raise SystemExit("the visitor could not start a session")
    time.sleep(1)  # the first poll (wait=0) is answered; now it waits
    sent = replies(messages, admin_id)
    deadline = time.perf_counter() + WAIT
    while time.perf_counter() < deadline and not all(i in visitor.arrived for i, _, _ in sent):
        time.sleep(0.1)
    visitor.stop.set()
    missing = [i for i, _, _ in sent if i not in visitor.arrived]
    from_call = [visitor.arrived[i] - before for i, before, _ in sent if i in visitor.arrived]
    from_commit = [visitor.arrived[i] - after for i, _, after in sent if i in visitor.arrived]
    print(f"Latency, HTTP client doing what widget.js does ({messages} replies, 0.3-0.5 s apart):")
    print(f"  from the message_send call:   {summary(from_call)}")
    print(f"  from its return (committed):  {summary(from_commit)}")
    print(f"  message_send itself:          {summary([a - b for _, b, a in sent])}")
    print(f"  long-poll statuses {dict(visitor.statuses)}"
          f"{f'; never arrived: {missing}' if missing else ''}")


OBSERVE = """() => {
  const root = document.querySelector("[data-clinic-inbox]").shadowRoot;
  window.__seen = {};
  const scan = () => {
    const now = Date.now();
    for (const el of root.querySelectorAll(".msg.clinic")) {
      const m = /bench reply #(\\d+)\\./.exec(el.textContent);
      if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = now;
    }
  };
  new MutationObserver(scan).observe(root, {childList: true, subtree: true, characterData: true});
}"""


def browser_latency(base: str, key: str, messages: int, admin_id: int) -> None:
    """Chromium on the demo page: the visitor writes, then the replies come; the page notes
    (Date.now()) when each reply's bubble is added, compared with time.time() here."""
    from playwright.sync_api import sync_playwright

    ready, done = threading.Event(), threading.Event()
    result: dict = {}

    def browse() -> None:  # Playwright's loop in a thread of its own; the ORM stays here
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(locale="ru-RU")
                page.set_default_timeout(15_000)
                page.goto(f"{base}/widget/demo/?channel={key}")
                widget = page.locator("[data-clinic-inbox]")
                widget.get_by_role("button", name="Чат с клиникой").click()
                box = widget.get_by_role("textbox", name="Сообщение")
                box.fill("Здравствуйте! Можно записаться?")
                box.press("Enter")
                widget.locator(".msg.visitor[data-id]").wait_for()
                page.evaluate(OBSERVE)
                time.sleep(1)
                ready.set()
                done.wait()
                deadline = time.monotonic() + WAIT  # (wait_for_function evals: the CSP refuses)
                while (page.evaluate("() => Object.keys(window.__seen).length") < messages
                       and time.monotonic() < deadline):
                    time.sleep(0.2)
                result["seen"] = page.evaluate("window.__seen")
                browser.close()
        except Exception as error:  # noqa: BLE001 — reported, the bench goes on
            result["error"] = error
            ready.set()

    thread = threading.Thread(target=browse, daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in result:
        print(f"Latency in Chromium: could not run ({result['error']})")
        return
    sent = replies(messages, admin_id, stamp=True)
    done.set()
    thread.join(WAIT + 10)
    seen = {int(n): at / 1000 for n, at in result.get("seen", {}).items()}
    trouble = f"; {result['error']}" if "error" in result else ""
    print(f"Latency in headless Chromium on /widget/demo/ (until the bubble is in the DOM, "
          f"{len(seen)}/{messages} seen{trouble}):")
    print(f"  from the message_send call:   "
          f"{summary([seen[n] - before for n, (_, before, _) in enumerate(sent) if n in seen])}")
    print(f"  from its return (committed):  "
          f"{summary([seen[n] - after for n, (_, _, after) in enumerate(sent) if n in seen])}")


# --- 3. Idle cost ---------------------------------------------------------------------------

class Sampler(threading.Thread):
    """Once a second: the bench database's connections, and the CPU of its backends."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self.baseline: dict[int, float] = {}

    def sample(self, conn: psycopg.Connection) -> None:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME])]
        self.peak = max(self.peak, len(pids))
        for pid in pids:
            self.cpu[pid] = cpu_of(pid)

    def run(self) -> None:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            self.sample(conn)
            self.baseline, self.peak = dict(self.cpu), 0
            while not self.stop.wait(1):
                self.sample(conn)
            self.sample(conn)

    def seconds(self) -> float:
        return sum(cpu - self.baseline.get(pid, 0.0) for pid, cpu in self.cpu.items())


def transactions() -> int:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        return conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                            "WHERE datname = %s", [DB_NAME]).fetchone()[0]


def redis_commands() -> int:
    import redis

    return int(redis.Redis.from_url(REDIS_URL).info("stats")["total_commands_processed"])


async def idle_visitor(api: str, origin: str, start: float, stop: float,
                       answers: list[tuple[float, float, object]],
                       gate: asyncio.Semaphore) -> None:
    headers = {"Origin": origin, "Accept": "application/json"}
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=CLIENT_TIMEOUT,
                                 limits=limits) as http:
        async with gate:  # a returning visitor: the token and a conversation exist already
            token = (await http.post("session/", json={})).json()["token"]
            http.headers["X-Visitor-Token"] = token
            await http.post("messages/", json={"text": "Добрый день", "client_id": "first"})
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        cursor, first, delay = 0, True, 0.0
        while time.monotonic() < stop:
            began = time.monotonic()
            try:
                r = await http.get("messages/",
                                   params={"after": cursor, "wait": 0 if first else WAIT})
                status: object = r.status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            answers.append((began, time.monotonic(), status))
            if status == 200:
                cursor, first, delay = max(cursor, r.json()["cursor"]), False, 0.0
                continue
            delay = min(120.0, max(delay * 2, 5.0)) if status == 429 else min(30.0, delay * 2 or 1)
            await asyncio.sleep(delay)


async def probe(api: str, origin: str, start: float, stop: float, took: list[float]) -> None:
    async with httpx.AsyncClient(base_url=api, headers={"Origin": origin},
                                 timeout=CLIENT_TIMEOUT) as http:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        while time.monotonic() < stop:
            began = time.monotonic()
            try:
                (await http.get("config/")).raise_for_status()
                took.append(time.monotonic() - began)
            except httpx.HTTPError:
                took.append(float("inf"))
            await asyncio.sleep(1)


async def idle(api: str, origin: str, visitors: int, seconds: int, server_pid: int) -> None:
    """Sessions first (10 at a time), each loop starting at a random moment of the warm-up,
    then the measured window; the loops are cancelled at its end."""
    answers: list[tuple[float, float, object]] = []
    probes: list[float] = []
    gate = asyncio.Semaphore(10)
    start = time.monotonic() + 5 + visitors * 0.05  # time enough for every session
    window_start = start + WARMUP
    window_end = window_start + seconds
    jobs = [idle_visitor(api, origin, start + random.uniform(0, WARMUP), window_end,
                         answers, gate) for _ in range(visitors)]
    jobs.append(probe(api, origin, window_start, window_end, probes))
    tasks = [asyncio.create_task(job) for job in jobs]
    await asyncio.sleep(window_start - time.monotonic())
    state = measure_start(server_pid)
    await asyncio.sleep(window_end - time.monotonic())
    measure_end(state, visitors, seconds, answers, probes, window_start, window_end)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def measure_start(server_pid: int) -> dict:
    sampler = Sampler()
    sampler.start()
    pids = pids_of(server_pid)
    return {"sampler": sampler, "pids": pids, "cpu": sum(cpu_of(p) for p in pids),
            "xact": transactions(), "redis": redis_commands(), "at": time.monotonic()}


def measure_end(state: dict, visitors: int, seconds: int,
                answers: list[tuple[float, float, object]], probes: list[float],
                window_start: float, window_end: float) -> None:
    wall = time.monotonic() - state["at"]
    cpu = sum(cpu_of(p) for p in state["pids"]) - state["cpu"]
    xact, commands = transactions() - state["xact"], redis_commands() - state["redis"]
    sampler = state["sampler"]
    sampler.stop.set()
    sampler.join()
    done = [(b, e, s) for b, e, s in answers if window_start <= e <= window_end]
    statuses = Counter(s for _, _, s in done)
    held = [e - b for b, e, s in done if s == 200 and b >= window_start - WAIT]
    print(f"Idle cost: {visitors} open widgets long-polling, {seconds} s window "
          f"after a {WARMUP} s warm-up, no messages:")
    print(f"  requests served {len(done) / wall:.1f}/s; statuses {dict(statuses)}")
    print(f"  long-poll held: {summary(held)}")
    print(f"  gunicorn CPU {cpu / wall * 100:.1f}% of one core; Postgres backends "
          f"{sampler.seconds() / wall * 100:.1f}%")
    print(f"  Postgres {xact / wall:.1f} transactions/s (= queries, autocommit); "
          f"peak connections to the bench database {sampler.peak}")
    print(f"  Redis {commands / wall:.0f} commands/s (whole server)")
    print(f"  probe GET config/ once a second: {summary(probes)}")


# --- Main -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0,
                        help="per worker; default ceil((visitors + 16) / workers)")
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--skip-idle", action="store_true")
    options = parser.parse_args()
    threads = options.threads or math.ceil((options.visitors + 16) / options.workers)

    size()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    database_recreate(DB_NAME)
    os.environ.update(LIMITS)
    server = None
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            django_on(DATABASE_URL, var_dir, redis_url=REDIS_URL)
            subprocess.run([PYTHON, str(ROOT / "manage.py"), "collectstatic", "--noinput",
                            "-v", "0"], cwd=ROOT, check=True)  # whitenoise serves widget.js
            key, admin_id = populate()
            port = free_port()
            origin = f"http://127.0.0.1:{port}"  # the site itself: CORS allows it
            api = f"{origin}/hooks/webchat/{key}/"
            log = Path(var_dir) / "gunicorn.log"
            server = start_server(port, options.workers, threads, log)
            print(f"gunicorn: {options.workers} workers x {threads} threads (gthread) = "
                  f"{options.workers * threads} slots; limits raised: {LIMITS}")
            latency(api, origin, options.messages, admin_id)
            if options.browser:
                browser_latency(origin, key, options.messages, admin_id)
            if not options.skip_idle:
                asyncio.run(idle(api, origin, options.visitors, options.seconds, server.pid))
            errors = [line for line in log.read_text().splitlines()
                      if "Error" in line or "FATAL" in line]
            if errors:
                print(f"  server log: {len(errors)} error lines, e.g. {errors[-1][:200]}")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGQUIT)  # at once: long-polls may be waiting
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        from django.db import connections

        connections.close_all()
        database_drop(DB_NAME)
        redis.Redis.from_url(REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
