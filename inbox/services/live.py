"""What keeps every open inbox live cheaply: a per-clinic version that changes after each commit
that alters what an inbox shows (a message, a delivery tick, an assignment, a timer).

Browsers poll the version every 2 seconds (`inbox:live`, a cache read and no list query) and
fetch the list or the thread only when it moved. The cache is Redis in production and a file
cache without it, both shared by web and worker processes.
"""

import time

from django.core.cache import cache
from django.db import transaction

TIMEOUT = 24 * 3600


def _key(clinic_id: int) -> str:
    return f"inbox-version:{clinic_id}"


def inbox_changed(clinic_id: int) -> None:
    """Announce a change once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: cache.set(_key(clinic_id), time.time_ns(), TIMEOUT))


def inbox_version(clinic_id: int) -> int:
    return cache.get(_key(clinic_id)) or 0
