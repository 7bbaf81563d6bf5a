"""A real Celery worker: against Redis + Postgres, and against the embedded broker + SQLite."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from clinic.models import WorkerHeartbeat
from clinic.tasks import heartbeat_task

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(env: dict[str, str], queue: str, hostname: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clinic", "worker", "--pool", "solo",
         "--queues", queue, "--hostname", hostname, "--loglevel", "INFO",
         "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def _stop(worker: subprocess.Popen) -> str:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        output, _ = worker.communicate()
    return output


def _wait_for(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_writes_to_postgres(require_postgres, require_redis):
    db = connection.settings_dict
    test_db_url = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
                   f"{db['PORT'] or 5432}/{db['NAME']}")
    queue, hostname = f"test-{uuid.uuid4().hex[:8]}", f"pg-{uuid.uuid4().hex[:8]}@ci"
    env = {**os.environ, "DATABASE_URL": test_db_url, "REDIS_URL": settings.REDIS_URL,
           "DEBUG": "1"}
    worker = _start_worker(env, queue, hostname)
    try:
        heartbeat_task.apply_async(queue=queue)
        seen = _wait_for(lambda: WorkerHeartbeat.objects.filter(worker=hostname).exists())
    finally:
        output = _stop(worker)
    assert seen, output[-3000:]


def test_a_real_worker_on_the_embedded_broker_writes_to_sqlite(tmp_path):
    """What `make run` uses on a machine with only Python: no Redis, no Postgres."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DEBUG="1", VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="clinic.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=180)
    hostname = f"fs-{uuid.uuid4().hex[:8]}@local"
    worker = _start_worker(env, "default", hostname)
    database = tmp_path / "clinic.sqlite3"

    def heartbeat_stored() -> bool:
        with sqlite3.connect(database) as conn:
            rows = conn.execute("SELECT count(*) FROM clinic_workerheartbeat WHERE worker = ?",
                                (hostname,)).fetchone()
        return rows[0] > 0

    try:
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); "
             "from clinic.tasks import heartbeat_task; heartbeat_task.delay()"],
            cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
        seen = _wait_for(heartbeat_stored)
    finally:
        output = _stop(worker)
    assert seen, output[-3000:]
    assert any((tmp_path / "broker").iterdir())
