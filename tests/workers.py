"""Real Celery workers as subprocesses, for the tests that prove the background loop works."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def worker_database_url() -> str:
    """The URL of the database pytest-django created, so a worker writes where the test reads."""
    db = connection.settings_dict
    return (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")


@contextmanager
def celery_worker(env: dict[str, str], queues: str) -> Iterator[dict]:
    """Run `celery worker` until the block ends; yields {"hostname", "output"} (output at exit)."""
    hostname = f"test-{uuid.uuid4().hex[:8]}@ci"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clinic", "worker", "--pool", "solo",
         "--queues", queues, "--hostname", hostname, "--loglevel", "INFO",
         "--without-mingle", "--without-gossip"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    info = {"hostname": hostname, "output": "", "process": process}
    try:
        yield info
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            info["output"], _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            info["output"], _ = process.communicate()


def wait_for(predicate: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
