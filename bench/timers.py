"""Response-timer benchmark: the backstop sweep on a big table, and breach lag with a real worker.

What it measures
    1. The sweep (inbox.services.timers.timers_sweep) with 100,000 open conversations, each
       waiting on an open timer, 1% of them past due: the first sweep, which breaches those
       1,000 (total and per breach: notices, the conditional update), then the steady state
       the beat sees every few seconds (nothing newly due) over 200 runs, p50/p95; and the
       sweep's own query alone, answered from the partial index ``timer_open_due``.
    2. With a real Celery worker on Redis (the Procfile's thread pool), 1,000 timers due
       within one minute, each with its exact-time breach task queued as the product queues
       it: the lag between each due time and its recorded breach (p50/p95/max). Beside it, in
       the same run, the lateness of 1,000 bare Celery ETA tasks (bench/celery_probe.py, no
       database) on the same broker and window, run by a second worker.

How it runs
    A fresh Postgres database ``clinic_bench_timers`` (dropped at the end), Redis db 14
    (flushed before and after). Rows are bulk-inserted with one clinic open around the clock.
    Nothing leaves 127.0.0.1; timing is printed, never asserted.

Usage
    .venv/bin/python bench/timers.py [--conversations 100000] [--lag-timers 1000]
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch_db import (  # noqa: E402
    PYTHON,
    ROOT,
    database_drop,
    database_recreate,
    django_on,
    percentile,
)

DB_NAME = "clinic_bench_timers"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/14"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def populate(n: int, due_share: float):
    from django.utils import timezone

    from clinic.models import Clinic
    from inbox.models import Channel, ContactIdentity, Conversation, ResponseTimer

    now = timezone.now()
    clinic = Clinic.objects.create(name="Bench", weekly_hours=[[["00:00", "00:00"]]] * 7)
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="bot", bot_token="1:x")
    contacts = ContactIdentity.objects.bulk_create(
        [ContactIdentity(clinic=clinic, channel=channel, external_id=str(i)) for i in range(n)],
        batch_size=5000)
    past = int(n * due_share)
    dues = [now - timedelta(seconds=1 + i % 600) if i < past
            else now + timedelta(minutes=1 + i % 600) for i in range(n)]
    conversations = Conversation.objects.bulk_create(
        [Conversation(clinic=clinic, channel=channel, contact=c, last_message_at=now,
                      waiting_since=due - timedelta(minutes=5), reply_due_at=due,
                      waiting_rule="first_reply") for c, due in zip(contacts, dues, strict=True)],
        batch_size=5000)
    ResponseTimer.objects.bulk_create(
        [ResponseTimer(clinic=clinic, conversation=c, kind="first_reply",
                       started_at=due - timedelta(minutes=5), due_at=due, eta_queued_at=now)
         for c, due in zip(conversations, dues, strict=True)], batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return clinic, channel, past


def measure_sweep(n: int) -> None:
    from django.utils import timezone

    from inbox.models import OPEN_TIMER, ResponseTimer
    from inbox.services.timers import timers_sweep

    started = time.perf_counter()
    clinic, _, past = populate(n, 0.01)
    print(f"populated: {n} open conversations and timers, {past} past due "
          f"({time.perf_counter() - started:.1f} s)")

    def due_query():
        return list(ResponseTimer.objects.filter(OPEN_TIMER, breached_at__isnull=True,
                                                 due_at__lte=timezone.now())
                    .order_by("due_at").values_list("pk", "clinic_id")[:500])

    query_times = []
    for _ in range(50):
        t = time.perf_counter()
        found = due_query()
        query_times.append(time.perf_counter() - t)
    query_times.sort()
    print(f"sweep query alone ({len(found)} due rows, batch 500): "
          f"p50 {ms(percentile(query_times, .5))}, p95 {ms(percentile(query_times, .95))}")

    t = time.perf_counter()
    breached = 0
    while True:  # the sweep takes 500 a run; the interval is reset to let it go on
        type(clinic).objects.filter(pk=clinic.pk).update(timers_swept_at=None)
        result = timers_sweep(now=timezone.now())
        breached += result.breached
        if not result.breached:
            break
    first = time.perf_counter() - t
    print(f"first sweeps: breached {breached} in {ms(first)} "
          f"({ms(first / max(breached, 1))} a breach)")

    steady = []
    for _ in range(200):
        t = time.perf_counter()
        timers_sweep(now=timezone.now())
        steady.append(time.perf_counter() - t)
    steady.sort()
    print(f"steady sweep ({n} open, nothing newly due): p50 {ms(percentile(steady, .5))}, "
          f"p95 {ms(percentile(steady, .95))}  (target p95 <= 20 ms)")


def start_worker(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-m", "celery", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def measure_lag(count: int, var_dir: str) -> None:
    import redis
    from django.utils import timezone

    from clinic.models import Clinic
    from inbox.models import Channel, ContactIdentity, Conversation, ResponseTimer
    from inbox.tasks import enqueue, timer_breach_task

    sys.path.insert(0, str(ROOT))
    os.environ["PROBE_REDIS_URL"] = REDIS_URL
    from bench.celery_probe import LATENESS_KEY, probe_task

    broker = redis.Redis.from_url(REDIS_URL)
    env = {"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "DEBUG": "0",
           "LOG_LEVEL": "WARNING", "VAR_DIR": var_dir, "PROBE_REDIS_URL": REDIS_URL}
    workers = [
        start_worker(["-A", "clinic", "worker", "--pool", "threads", "--concurrency", "4",
                      "--queues", "inbound", "--hostname", "bench-timers@%h", "--without-mingle",
                      "--without-gossip", "--loglevel", "WARNING"], env,
                     Path(var_dir) / "worker.log"),
        start_worker(["-A", "bench.celery_probe", "worker", "--pool", "threads",
                      "--concurrency", "4", "--queues", "probe", "--hostname", "bench-probe@%h",
                      "--without-mingle", "--without-gossip", "--loglevel", "WARNING"], env,
                     Path(var_dir) / "probe.log"),
    ]
    try:
        time.sleep(4)  # both workers up
        clinic = Clinic.objects.first()
        channel = Channel.objects.get(clinic=clinic)
        later = timezone.now() + timedelta(hours=1)
        timers = []
        for i in range(count):
            contact = ContactIdentity.objects.create(clinic=clinic, channel=channel,
                                                     external_id=f"lag-{i}")
            conversation = Conversation.objects.create(clinic=clinic, channel=channel,
                                                       contact=contact, reply_due_at=later)
            timers.append(ResponseTimer(clinic=clinic, conversation=conversation,
                                        kind="first_reply", started_at=later, due_at=later,
                                        eta_queued_at=later))
        # Due times start once everything is queued (a few ms a task; more on a busy machine).
        start = timezone.now() + timedelta(seconds=10 + count * 0.01)
        for i, timer in enumerate(timers):
            timer.due_at = start + timedelta(seconds=60 * i / count)
            timer.started_at = timer.due_at - timedelta(minutes=5)
        ResponseTimer.objects.bulk_create(timers)
        queued = time.perf_counter()
        for timer in timers:
            enqueue(timer_breach_task, timer.pk, eta=timer.due_at)
            probe_task.apply_async((timer.due_at.timestamp(),), eta=timer.due_at)
        print(f"queued {count} breach tasks and {count} bare probes in "
              f"{time.perf_counter() - queued:.1f} s; due {start:%H:%M:%S}..+60 s")
        deadline = time.monotonic() + 150
        ids = [t.pk for t in timers]
        while time.monotonic() < deadline:
            done = ResponseTimer.objects.filter(pk__in=ids, breached_at__isnull=False).count()
            if done == count and broker.llen(LATENESS_KEY) >= count:
                break
            time.sleep(1)
        rows = ResponseTimer.objects.filter(pk__in=ids, breached_at__isnull=False)
        lags = sorted((t.breached_at - t.due_at).total_seconds() for t in rows)
        bare = sorted(float(x) for x in broker.lrange(LATENESS_KEY, 0, -1))
        print(f"breach lag ({len(lags)}/{count} breached): p50 {ms(percentile(lags, .5))}, "
              f"p95 {ms(percentile(lags, .95))}, max {ms(lags[-1] if lags else float('nan'))}"
              f"  (target p95 <= 250 ms)")
        print(f"bare Celery ETA lateness ({len(bare)}/{count}): p50 {ms(percentile(bare, .5))}, "
              f"p95 {ms(percentile(bare, .95))}, max {ms(bare[-1] if bare else float('nan'))}")
        if len(lags) < count:
            print((Path(var_dir) / "worker.log").read_text()[-3000:])
    finally:
        for worker in workers:
            stop(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--lag-timers", type=int, default=1000)
    options = parser.parse_args()
    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    database_recreate(DB_NAME)
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            django_on(DATABASE_URL, var_dir, redis_url=REDIS_URL)
            measure_sweep(options.conversations)
            measure_lag(options.lag_timers, var_dir)
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(DB_NAME)
        broker.flushdb()


if __name__ == "__main__":
    main()
