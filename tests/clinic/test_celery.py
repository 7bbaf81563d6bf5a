"""A real Celery worker: against Redis + Postgres, and against the embedded broker + SQLite."""

import os
import sqlite3
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from clinic.models import WorkerHeartbeat
from clinic.tasks import heartbeat_task
from tests.workers import ROOT, celery_worker, wait_for, worker_database_url


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_writes_to_postgres(require_postgres, require_redis):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1"}
    with celery_worker(env, queue) as worker:
        heartbeat_task.apply_async(queue=queue)
        seen = wait_for(lambda: WorkerHeartbeat.objects.filter(
            worker=worker["hostname"]).exists())
    assert seen, worker["output"][-3000:]


def test_a_real_worker_on_the_embedded_broker_writes_to_sqlite(tmp_path):
    """What `make run` uses on a machine with only Python: no Redis, no Postgres."""
    env = {"DATABASE_URL": "", "REDIS_URL": "", "DEBUG": "1", "VAR_DIR": str(tmp_path),
           "CELERY_BROKER_DIR": str(tmp_path / "broker"),
           "DJANGO_SETTINGS_MODULE": "clinic.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True, timeout=180)
    database = tmp_path / "clinic.sqlite3"

    with celery_worker(env, "default") as worker:
        def heartbeat_stored() -> bool:
            with sqlite3.connect(database) as conn:
                rows = conn.execute(
                    "SELECT count(*) FROM clinic_workerheartbeat WHERE worker = ?",
                    (worker["hostname"],)).fetchone()
            return rows[0] > 0

        subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); "
             "from clinic.tasks import heartbeat_task; heartbeat_task.delay()"],
            cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True, timeout=60)
        seen = wait_for(heartbeat_stored)
    assert seen, worker["output"][-3000:]
    assert any((tmp_path / "broker").iterdir())
