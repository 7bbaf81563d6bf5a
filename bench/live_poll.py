"""What keeping 30 inboxes live costs the server: version polls every second, lists on change.

What it measures
    30 signed-in "browsers" (threads with their own session cookies) do what static/js/live.js
    does: GET /inbox/live/ every second and, when the clinic's version moved, GET the list
    fragment (as htmx does, HX-Request + HX-Target: conversation-list). A driver announces a
    change every 5 seconds (a new message somewhere in the clinic). Over the run it prints the
    requests per second, p50/p95 latency of each kind, and the CPU the gunicorn workers used
    (per cent of one core). Then, for comparison, the naive way: every browser fetches the
    list every 2 seconds.

How it runs
    A fresh Postgres database ``clinic_bench_live`` with one clinic, 30 administrators and
    300 open conversations (20 waiting); gunicorn (3 workers × 8 threads, as the Dockerfile runs it)
    on a free 127.0.0.1 port with Redis db 13 as the cache; both dropped at the end. Timing is
    printed, never asserted.

Usage
    .venv/bin/python bench/live_poll.py [--browsers 30] [--seconds 60]
"""

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch_db import (  # noqa: E402
    PYTHON,
    ROOT,
    database_drop,
    database_recreate,
    django_on,
    free_port,
    percentile,
)

DB_NAME = "clinic_bench_live"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
POLL_SECONDS = 1  # static/js/live.js
NAIVE_SECONDS = 2
REDIS_URL = "redis://127.0.0.1:6379/13"


def populate(browsers: int) -> tuple[int, list[str]]:
    """The clinic, its administrators and their session cookies."""
    from datetime import timedelta

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from clinic.models import Clinic, Membership
    from inbox.models import Channel, ContactIdentity, Conversation
    from tests.clinic.factories import UserFactory

    clinic = Clinic.objects.create(name="Bench", weekly_hours=[[["00:00", "00:00"]]] * 7)
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="bot", bot_token="1:x")
    now = timezone.now()
    contacts = ContactIdentity.objects.bulk_create(
        [ContactIdentity(clinic=clinic, channel=channel, external_id=str(i),
                         display_name=f"Пациент {i}") for i in range(300)])
    Conversation.objects.bulk_create(
        [Conversation(clinic=clinic, channel=channel, contact=c,
                      last_message_at=now - timedelta(minutes=i), last_message_preview="Вопрос",
                      reply_due_at=now + timedelta(minutes=i) if i < 20 else None,
                      waiting_since=now if i < 20 else None)
         for i, c in enumerate(contacts)])
    cookies = []
    for _ in range(browsers):
        user = UserFactory()
        Membership.objects.create(user=user, clinic=clinic, role="administrator")
        client = Client()
        client.force_login(user)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}="
                       f"{client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return clinic.pk, cookies


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Browser(threading.Thread):
    def __init__(self, port: int, cookie: str, naive: bool, stop: threading.Event,
                 timings: dict[str, list[float]], lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie, self.naive, self.stop = port, cookie, naive, stop
        self.timings, self.lock = timings, lock

    def get(self, path: str, kind: str, headers: dict | None = None) -> bytes:
        started = time.perf_counter()
        for attempt in (1, 2):  # gunicorn closes a keep-alive connection idle for 2 s
            try:
                self.conn.request("GET", path, headers={"Cookie": self.cookie, **(headers or {})})
                response = self.conn.getresponse()
                body = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        with self.lock:
            self.timings[kind].append(time.perf_counter() - started)
            if response.status != 200:
                self.timings["errors"].append(response.status)
        return body

    def run(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        htmx = {"HX-Request": "true", "HX-Target": "conversation-list"}
        version = None
        time.sleep(2 * (hash(self.cookie) % 1000) / 1000)  # browsers do not poll in step
        while not self.stop.is_set():
            if self.naive:
                self.get("/inbox/?filter=open", "list", htmx)
            else:
                now = self.get("/inbox/live/", "live")
                if version is not None and now != version:
                    self.get("/inbox/?filter=open", "list", htmx)
                version = now
            self.stop.wait(POLL_SECONDS if not self.naive else NAIVE_SECONDS)


def run(port: int, cookies: list[str], seconds: int, naive: bool, clinic_id: int,
        workers: list[int]) -> None:
    from inbox.services.live import inbox_changed

    timings: dict[str, list[float]] = {"live": [], "list": [], "errors": []}
    lock, stop = threading.Lock(), threading.Event()
    browsers = [Browser(port, c, naive, stop, timings, lock) for c in cookies]
    cpu_before, started = cpu_seconds(workers), time.perf_counter()
    for browser in browsers:
        browser.start()
    changes = 0
    while time.perf_counter() - started < seconds:
        time.sleep(5)
        if not naive:
            inbox_changed(clinic_id)  # outside a transaction: at once
            changes += 1
    stop.set()
    for browser in browsers:
        browser.join()
    wall = time.perf_counter() - started
    cpu = cpu_seconds(workers) - cpu_before
    label = "naive: every browser fetches the list every 2 s" if naive else (
        f"live: version every second, list on change ({changes} changes)")
    print(label)
    for kind in ("live", "list"):
        values = sorted(timings[kind])
        if values:
            print(f"  {kind:5} {len(values) / wall:6.1f} req/s  p50 "
                  f"{percentile(values, .5) * 1000:6.1f} ms  p95 "
                  f"{percentile(values, .95) * 1000:6.1f} ms")
    print(f"  gunicorn CPU: {cpu / wall * 100:.1f}% of one core over {wall:.0f} s"
          f"{'; errors: ' + str(timings['errors'][:5]) if timings['errors'] else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--browsers", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=60)
    options = parser.parse_args()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    database_recreate(DB_NAME)
    server = None
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            django_on(DATABASE_URL, var_dir, redis_url=REDIS_URL)
            clinic_id, cookies = populate(options.browsers)
            port = free_port()
            server = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "clinic.wsgi:application", "--bind",
                 f"127.0.0.1:{port}", "--workers", "3", "--worker-class", "gthread",
                 "--threads", "8", "--log-level", "warning"],
                cwd=ROOT, env=os.environ.copy(), start_new_session=True)
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            time.sleep(2)  # every worker forked
            workers = children(server.pid)
            print(f"{options.browsers} browsers, {options.seconds} s each way, "
                  f"gunicorn workers {workers}")
            run(port, cookies, options.seconds, False, clinic_id, workers)
            run(port, cookies, options.seconds // 2, True, clinic_id, workers)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        database_drop(DB_NAME)
        redis.Redis.from_url(REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
