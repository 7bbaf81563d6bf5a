"""Real Celery workers as subprocesses, for the tests that prove the background loop works."""

import os
import signal
import socket
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
def background(command: list[str], env: dict[str, str]) -> Iterator[dict]:
    """Run a process in its own group until the block ends; yields {"process", "output"}."""
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    info: dict = {"process": process, "output": ""}
    try:
        yield info
    finally:
        kill(process, signal.SIGTERM)
        try:
            info["output"], _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process, signal.SIGKILL)
            info["output"], _ = process.communicate()


def kill(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass  # already gone


@contextmanager
def celery_worker(env: dict[str, str], queues: str,
                  beat_schedule: Path | None = None) -> Iterator[dict]:
    """Run `celery worker` until the block ends; yields {"hostname", "process", "output"}.

    With `beat_schedule` (a file path) the worker runs beat too, as `make run` does."""
    hostname = f"test-{uuid.uuid4().hex[:8]}@ci"
    beat = ["--beat", "--schedule", str(beat_schedule)] if beat_schedule else []
    with background([sys.executable, "-m", "celery", "-A", "clinic", "worker", "--pool", "solo",
                     "--queues", queues, "--hostname", hostname, "--loglevel", "INFO",
                     "--without-mingle", "--without-gossip", *beat], env) as info:
        info["hostname"] = hostname
        yield info


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def queued_tasks(callbacks: list) -> list:
    """The after-commit callbacks that queue Celery work (not the live inbox's version bump)."""
    return [c for c in callbacks if not c.__qualname__.startswith("inbox_changed.")]
