"""Shared fixtures: personas, a fixed clock, and the rules for tests that need real services.

Tests marked `services` need real Postgres / Redis and `browser` tests need Chromium. Locally
they skip when those are missing; with REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 (CI) a missing
service fails the test, and any skipped test fails the run.
"""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.clinic.factories import ClinicFactory, MembershipFactory, PatientFactory

MOSCOW = ZoneInfo("Europe/Moscow")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


def _unavailable(reason: str, required: bool) -> None:
    if required:
        pytest.fail(f"{reason} (required here: REQUIRE_SERVICES/REQUIRE_BROWSER is set)")
    pytest.skip(reason)


@pytest.fixture
def require_postgres() -> None:
    if connection.vendor != "postgresql":
        _unavailable("needs Postgres (set DATABASE_URL)", REQUIRE_SERVICES)


@pytest.fixture
def require_redis() -> str:
    if not settings.REDIS_URL:
        _unavailable("needs Redis (set REDIS_URL)", REQUIRE_SERVICES)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis at {settings.REDIS_URL} does not answer: {error}", REQUIRE_SERVICES)
    return settings.REDIS_URL


@pytest.fixture
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(path):
        _unavailable(f"needs Chromium at {path}", REQUIRE_BROWSER)
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not (REQUIRE_SERVICES or REQUIRE_BROWSER):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"FAILED: {len(skipped)} tests skipped in a run that requires "
                            "every service", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings) -> None:
    """Each test counts rate limits from zero, in memory (never flushing a shared Redis)."""
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": os.urandom(8).hex()}}
    settings.RATELIMIT_USE_CACHE = "ratelimit"


@pytest.fixture
def now() -> datetime:
    """A fixed, aware 'now': Tuesday 2026-11-24 11:00 in Moscow."""
    return datetime(2026, 11, 24, 11, 0, tzinfo=MOSCOW)


ROUND_THE_CLOCK = [[["00:00", "00:00"]]] * 7


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Клиника А")


@pytest.fixture
def open_around_the_clock(clinic):
    """For tests with a real worker, which reads the real clock: no out-of-hours replies."""
    clinic.weekly_hours = ROUND_THE_CLOCK
    clinic.save(update_fields=["weekly_hours"])
    return clinic


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Клиника Б")


@pytest.fixture
def owner(clinic):
    return MembershipFactory(clinic=clinic, role="owner").user


@pytest.fixture
def manager(clinic):
    return MembershipFactory(clinic=clinic, role="manager").user


@pytest.fixture
def administrator(clinic):
    return MembershipFactory(clinic=clinic, role="administrator").user


@pytest.fixture
def outsider(other_clinic):
    """An owner, but of another clinic."""
    return MembershipFactory(clinic=other_clinic, role="owner").user


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic)
