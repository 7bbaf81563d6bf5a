"""Reads of the core domain."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from clinic.hours import ClinicHours, Interval
from clinic.models import (
    ApiToken,
    Clinic,
    ClinicSettingChange,
    ConsentEvent,
    ConsentTopic,
    Membership,
    Patient,
    WorkerHeartbeat,
)


def intervals_parse(raw: list[list[str]]) -> tuple[Interval, ...]:
    """[["09:00", "13:00"], ...] as stored -> ((time(9), time(13)), ...)."""
    return tuple((time.fromisoformat(start), time.fromisoformat(end)) for start, end in raw)


def clinic_hours(*, clinic: Clinic) -> ClinicHours:
    """The clinic's working hours as the pure value the working-hours arithmetic takes."""
    duty = None
    if clinic.evening_duty_start and clinic.evening_duty_end:
        duty = (clinic.evening_duty_start, clinic.evening_duty_end)
    return ClinicHours(
        timezone=ZoneInfo(clinic.timezone),
        weekly=tuple(intervals_parse(day) for day in clinic.weekly_hours),
        exceptions={e.date: intervals_parse(e.intervals) for e in clinic.day_exceptions.all()},
        evening_duty=duty,
        evening_duty_weekdays=frozenset(clinic.evening_duty_weekdays),
    )


def membership_list_for_user(*, user: object) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("clinic")


def clinic_staff_list(*, clinic: Clinic) -> QuerySet[Membership]:
    return Membership.objects.filter(clinic=clinic).select_related("user").order_by(
        "role", "user__last_name", "user__first_name")


def clinic_setting_history(*, clinic: Clinic) -> QuerySet[ClinicSettingChange]:
    return ClinicSettingChange.objects.filter(clinic=clinic).select_related("changed_by")


def patient_list(*, clinic: Clinic, search: str = "") -> QuerySet[Patient]:
    patients = Patient.objects.filter(clinic=clinic)
    for word in search.split():
        match = (Q(last_name__icontains=word) | Q(first_name__icontains=word)
                 | Q(patronymic__icontains=word))
        digits = "".join(ch for ch in word if ch.isdigit())
        if digits:
            match |= Q(phone__contains=digits)
        patients = patients.filter(match)
    return patients


def patient_consent_state(*, patient: Patient) -> dict[str, ConsentEvent | None]:
    """The current consent per topic (channel-wide rows): the latest ledger row, or None."""
    state: dict[str, ConsentEvent | None] = dict.fromkeys(ConsentTopic.values)
    for event in patient.consent_events.filter(channel="").select_related("recorded_by"):
        if state[event.topic] is None:  # rows come newest first
            state[event.topic] = event
    return state


OPT_IN_TOPICS = frozenset({ConsentTopic.BIRTHDAY, ConsentTopic.EDUCATION,
                           ConsentTopic.PROMOTIONS, ConsentTopic.DATA_PROCESSING})
"""Topics that need a consent on record. The others are about the patient's own care (38-FZ
does not count them as advertising) and are sent unless the patient withdrew."""


def consent_granted(*, events: Iterable[ConsentEvent], topic: str, channel: str) -> bool:
    """Whether messages of `topic` may reach the patient on `channel`. `events` are the
    patient's ledger rows, newest first: the newest row for the topic on this channel or on
    every channel ("") decides; with none, the topic's default (see OPT_IN_TOPICS)."""
    for event in events:
        if event.topic == topic and event.channel in ("", channel):
            return event.granted
    return topic not in OPT_IN_TOPICS


# Beat asks for a heartbeat every minute; three missed ones mean background work has stopped.
WORKER_STALE_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class WorkerStatus:
    last_seen: datetime | None
    alive: bool


def worker_status(*, now: datetime) -> WorkerStatus:
    heartbeat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    last_seen = heartbeat.seen_at if heartbeat else None
    return WorkerStatus(last_seen, last_seen is not None and now - last_seen < WORKER_STALE_AFTER)


def api_token_list(*, clinic: Clinic) -> QuerySet[ApiToken]:
    """The clinic's API tokens, live and revoked, newest first."""
    return ApiToken.objects.filter(clinic=clinic).select_related("created_by", "revoked_by")
