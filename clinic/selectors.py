"""Reads of the core domain."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from clinic.hours import ClinicHours, Interval
from clinic.models import (
    MESSAGE_TOPICS,
    ApiToken,
    Channel,
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


OPT_IN_TOPICS = frozenset({ConsentTopic.BIRTHDAY, ConsentTopic.EDUCATION,
                           ConsentTopic.PROMOTIONS, ConsentTopic.DATA_PROCESSING})
"""Topics that need a consent on record. The others are about the patient's own care (38-FZ
does not count them as advertising) and are sent unless the patient withdrew."""


def consent_granted(*, events: Iterable[ConsentEvent], topic: str, channel: str) -> bool:
    """Whether messages of `topic` may reach the patient on `channel`. `events` are the
    patient's ledger rows, newest first: the newest row for the topic on this channel or on
    every channel ("") decides; with none, the topic's default (see OPT_IN_TOPICS)."""
    event = consent_deciding_event(events=events, topic=topic, channel=channel)
    return event.granted if event is not None else topic not in OPT_IN_TOPICS


MESSAGE_CHANNELS = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.WEBCHAT, Channel.SMS,
                    Channel.EMAIL)
"""The channels automatic messages go by (not phone calls), in the default order."""

CONSENT_COLUMNS = ("", *MESSAGE_CHANNELS)
"""Where a consent applies: every channel (""), or one channel."""


def consent_deciding_event(*, events: Iterable[ConsentEvent], topic: str,
                           channel: str) -> ConsentEvent | None:
    """The ledger row that `consent_granted` decides by; None when the topic's default does."""
    return next((e for e in events if e.topic == topic and e.channel in ("", channel)), None)


@dataclass(frozen=True)
class ConsentCell:
    """The current consent for one topic on one channel ("" = every channel)."""

    topic: str
    channel: str
    granted: bool
    event: ConsentEvent | None  # the deciding ledger row; None: the topic's default

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label if self.channel else ""

    @property
    def state(self) -> str:
        """granted, withdrawn, default_granted or default_denied."""
        if self.event is None:
            return "default_granted" if self.granted else "default_denied"
        return "granted" if self.granted else "withdrawn"


@dataclass(frozen=True)
class ConsentRow:
    topic: str
    label: str
    cells: list[ConsentCell]  # one per CONSENT_COLUMNS


@dataclass(frozen=True)
class ConsentState:
    """A patient's consents as the ledger makes them now."""

    messages: list[ConsentRow]  # MESSAGE_TOPICS, each on every channel and on each one
    data_processing: ConsentCell  # 152-FZ: a document of its own, for every channel
    history: list[ConsentEvent]  # the newest ledger rows


def consent_cell(*, events: list[ConsentEvent], topic: str, channel: str) -> ConsentCell:
    return ConsentCell(topic, channel,
                       consent_granted(events=events, topic=topic, channel=channel),
                       consent_deciding_event(events=events, topic=topic, channel=channel))


def consent_events(*, patient: Patient) -> list[ConsentEvent]:
    """The patient's whole ledger, newest first, as `consent_granted` takes it."""
    return list(patient.consent_events.select_related("recorded_by")
                .order_by("-recorded_at", "-id"))


def patient_consent_state(*, patient: Patient, history: int = 10) -> ConsentState:
    """The derived consent of every topic on every channel, and the last `history` rows."""
    events = consent_events(patient=patient)
    messages = [ConsentRow(topic, ConsentTopic(topic).label,
                           [consent_cell(events=events, topic=topic, channel=channel)
                            for channel in CONSENT_COLUMNS])
                for topic in MESSAGE_TOPICS]
    data_processing = consent_cell(events=events, topic=ConsentTopic.DATA_PROCESSING,
                                   channel="")
    return ConsentState(messages, data_processing, events[:history])


@dataclass(frozen=True)
class ChannelReach:
    channel: str
    reachable: bool  # there is an address to write to now
    ordered: bool  # in the patient's own order (the rest follow in the default order)

    @property
    def label(self) -> str:
        return Channel(self.channel).label


def patient_channels(*, patient: Patient, linked: set[str]) -> list[ChannelReach]:
    """Every message channel in the patient's order (the preferred channel, then their own
    order, then the rest in the default order) and whether it reaches them now. `linked` are
    the chat channels (Channel values) where the patient has a contact the clinic can write to
    (a Telegram bot, for one, only to someone who has written to it)."""
    reachable = {
        Channel.TELEGRAM: Channel.TELEGRAM in linked,
        Channel.WHATSAPP: Channel.WHATSAPP in linked or bool(patient.phone),
        Channel.WEBCHAT: Channel.WEBCHAT in linked,
        Channel.SMS: bool(patient.phone),
        Channel.EMAIL: bool(patient.email),
    }
    own = list(dict.fromkeys(c for c in (patient.preferred_channel, *patient.channel_order)
                             if c in reachable))
    rest = [c for c in MESSAGE_CHANNELS if c not in own]
    return ([ChannelReach(c, reachable[c], True) for c in own]
            + [ChannelReach(c, reachable[c], False) for c in rest])


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
