"""A bare Celery app for bench/timers.py: how late does a plain ETA task run on this broker?

The task only records its own lateness (now - eta) in a Redis list; no database, no Django.
Run by the benchmark as `celery -A bench.celery_probe worker --queues probe`.
"""

import os
import time

import redis
from celery import Celery

BROKER = os.environ["PROBE_REDIS_URL"]
LATENESS_KEY = "bench:probe:lateness"

app = Celery("probe", broker=BROKER, set_as_current=False)  # the product app stays current
app.conf.task_default_queue = "probe"
app.conf.task_ignore_result = True
app.conf.worker_hijack_root_logger = False
_results = redis.Redis.from_url(BROKER)


@app.task
def probe_task(eta_timestamp: float) -> None:
    _results.rpush(LATENESS_KEY, time.time() - eta_timestamp)
