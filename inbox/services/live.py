"""What keeps every open inbox live cheaply: a per-clinic version that changes after each commit
that alters what an inbox shows (a message, a delivery tick, an assignment, a timer).

Browsers poll the version every 2 seconds (`inbox:live`, a cache read and no list query) and
fetch the list or the thread only when it moved. The cache is Redis in production and a file
cache without it, both shared by web and worker processes.

The website chat widget waits the same way, on a version per visitor (their contact, so one
conversation): bumped after the commit of every message a visitor can see (`message_send` for
the clinic's, the inbound path for the visitor's own, seen from another tab), so that a
long-poll reads the cache, not the database, until something is there to fetch.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
TIMEOUT = 24 * 3600


def _key(clinic_id: int) -> str:
    return f"inbox-version:{clinic_id}"


def _bump(key: str) -> None:
    """Move a version on. A cache outage only costs liveness: inboxes fall back to their slow
    poll, a widget's long-poll ends on time."""
    try:
        cache.set(key, time.time_ns(), TIMEOUT)
    except Exception:  # noqa: BLE001 — Redis is down
        logger.warning("could not announce a change (%s)", key, exc_info=True)


def _read(key: str) -> int | None:
    """A version (0 before any change); None when the cache cannot be read."""
    try:
        return cache.get(key) or 0
    except Exception:  # noqa: BLE001 — Redis is down
        logger.warning("could not read a version (%s)", key, exc_info=True)
        return None


_gathered: ContextVar[set[int] | None] = ContextVar("inbox_changes_gathered", default=None)


def inbox_changed(clinic_id: int) -> None:
    """Announce a change once the current transaction commits (at once outside one). A cache
    outage never fails the change itself: a webhook is stored and answered all the same."""
    gathered = _gathered.get()
    if gathered is not None:
        gathered.add(clinic_id)
    else:
        transaction.on_commit(lambda: _bump(_key(clinic_id)))


@contextmanager
def inbox_changes_gathered() -> Iterator[None]:
    """Inside, changes are gathered and each clinic is announced once at the end (after the
    commit): a batch of hundreds of messages is one version bump, not hundreds."""
    token = _gathered.set(set())
    try:
        yield
    finally:
        gathered = _gathered.get() or set()
        _gathered.reset(token)
        for clinic_id in gathered:
            inbox_changed(clinic_id)


def inbox_version(clinic_id: int) -> int:
    return _read(_key(clinic_id)) or 0  # Redis is down: "no news", the slow poll still runs


# --- The website chat: one version per visitor ---------------------------------------------

def _contact_key(contact_id: int) -> str:
    return f"webchat-version:{contact_id}"


def contact_changed(contact_id: int) -> None:
    """Announce, after the commit, that a visitor has something new to fetch."""
    transaction.on_commit(lambda: _bump(_contact_key(contact_id)))


def contact_version(contact_id: int) -> int | None:
    """The visitor's version (0 before any change); None when the cache cannot be read (the
    caller then asks the database)."""
    return _read(_contact_key(contact_id))
