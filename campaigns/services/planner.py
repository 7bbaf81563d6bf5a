"""The planner: which patient gets which message of which rule, and when.

One set-based query per rule finds the occurrences due within the next PLAN_HORIZON (a visit's
step, a recall's due date and attempt, a follow-up after a visit, a birthday) and inserts one
dispatch row for each, unique on (rule, patient, occurrence key) with ON CONFLICT DO NOTHING:
re-runs and planners running side by side insert nothing twice. Nothing is decided for good
here: the dispatcher checks everything again at send time.

A moved visit has a new start and so new keys; its old pending rows are superseded
(`appointment_dispatches_supersede`). A patient with several visits on one day gets one
reminder, keyed to the first of them; a reply to it covers them all.
"""

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from campaigns.models import (
    Confirmation,
    Dispatch,
    DispatchStatus,
    Rule,
    RuleKind,
    RuleRevision,
    SkipReason,
)
from campaigns.services.rules import campaign_settings
from campaigns.windows import send_time, send_window
from clinic.models import Patient
from scheduling.models import Appointment, AppointmentStatus

PLAN_HORIZON = timedelta(hours=24)
PLAN_GRACE = timedelta(hours=2)
"""A step that fell due this recently (a visit moved to tomorrow morning) is still planned."""
REMINDER_LAST_CALL = timedelta(minutes=15)
"""A reminder is not sent later than this before the visit."""
CHUNK = 2000
LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
VISITED = (AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
"""A past appointment that was not cancelled or missed counts as a visit (many clinics never
mark visits completed)."""


@dataclass(frozen=True)
class Occurrence:
    patient_id: int
    key: str
    due_at: datetime
    step: int = 0
    appointment_id: int | None = None
    deadline: datetime | None = None  # a reminder must arrive before the visit
    booked_at: datetime | None = None


def key_start(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), the month's last day where it is shorter."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _audience(rule: Rule, now: datetime, today: date, prefix: str = "") -> Q:
    """The rule's audience filters on patients (`prefix` reaches the patient from a row)."""
    q = Q()
    if rule.age_min is not None:
        q &= Q(**{f"{prefix}birthday__lte": add_months(today, -12 * rule.age_min)})
    if rule.age_max is not None:
        q &= Q(**{f"{prefix}birthday__gt": add_months(today, -12 * (rule.age_max + 1))})
    if rule.last_visit_within_days is not None:
        q &= Q(Exists(Appointment.objects.filter(
            patient=OuterRef(f"{prefix}pk"), status__in=VISITED, end__lte=now,
            end__gte=now - timedelta(days=rule.last_visit_within_days))))
    return q


def _appointments(rule: Rule) -> QuerySet[Appointment]:
    rows = Appointment.objects.filter(clinic_id=rule.clinic_id)
    if rule.service_ids:
        rows = rows.filter(service_id__in=rule.service_ids)
    if rule.doctor_ids:
        rows = rows.filter(doctor_id__in=rule.doctor_ids)
    return rows


def _reminders(rule: Rule, now: datetime, tz: ZoneInfo, today: date, horizon: timedelta,
               appointment_ids: list[int] | None) -> Iterator[Occurrence]:
    live = _appointments(rule).filter(status__in=LIVE)
    audience = _audience(rule, now, today, prefix="patient__")
    if audience:
        live = live.filter(audience)
    for offset in rule.steps:
        lo = now - PLAN_GRACE - timedelta(minutes=offset)
        hi = now + horizon - timedelta(minutes=offset)
        candidates = live.filter(start__gte=lo, start__lte=hi)
        if appointment_ids is not None:
            candidates = candidates.filter(pk__in=appointment_ids)
        rows = list(candidates.values_list("pk", "patient_id", "start", "created_at"))
        if not rows:
            continue
        # One reminder per patient and day: the day's first visit carries it.
        first: dict[tuple[int, date], datetime] = {}
        day_lo = min(r[2] for r in rows) - timedelta(days=1)
        same_days = live.filter(patient_id__in={r[1] for r in rows}, start__gte=day_lo,
                                start__lte=max(r[2] for r in rows))
        for patient_id, start in same_days.values_list("patient_id", "start"):
            day = (patient_id, start.astimezone(tz).date())
            first[day] = min(first.get(day, start), start)
        for pk, patient_id, start, created_at in rows:
            if first.get((patient_id, start.astimezone(tz).date()), start) < start:
                continue
            yield Occurrence(patient_id, f"appt:{pk}:{key_start(start)}:{offset}",
                             start + timedelta(minutes=offset), step=offset,
                             appointment_id=pk, deadline=start - REMINDER_LAST_CALL,
                             booked_at=created_at)


def _after_visits(rule: Rule, now: datetime, today: date,
                  horizon: timedelta) -> Iterator[Occurrence]:
    """Follow-up, plan adherence, education: N minutes after a qualifying visit ended."""
    visits = _appointments(rule).filter(status__in=VISITED, end__lte=now + horizon)
    audience = _audience(rule, now, today, prefix="patient__")
    if audience:
        visits = visits.filter(audience)
    for offset in rule.steps:
        lo = now - PLAN_GRACE - timedelta(minutes=offset)
        hi = now + horizon - timedelta(minutes=offset)
        for pk, patient_id, end in (visits.filter(end__gte=lo, end__lte=hi)
                                    .values_list("pk", "patient_id", "end")
                                    .iterator(chunk_size=CHUNK)):
            due = end + timedelta(minutes=offset)
            if due >= now - PLAN_GRACE:
                yield Occurrence(patient_id, f"{rule.kind}:{pk}:{offset}", due, step=offset,
                                 appointment_id=pk)


def _recalls(rule: Rule, now: datetime, tz: ZoneInfo, today: date,
             horizon: timedelta) -> Iterator[Occurrence]:
    """N months after the last qualifying visit, then further attempts, unless booked."""
    visits = _appointments(rule).filter(status__in=VISITED, end__lte=now)
    future = Appointment.objects.filter(patient=OuterRef("patient_id"), status__in=LIVE,
                                        start__gt=now)
    lasts = (visits.values("patient_id").annotate(last=Max("end"))
             .filter(~Exists(future)))
    audience = _audience(rule, now, today, prefix="patient__")
    if audience:
        lasts = lasts.filter(audience)
    for attempt in range(rule.max_attempts):
        gap = timedelta(days=rule.attempt_gap_days * attempt)
        # The visits whose due date (+ this attempt's gap) falls within the horizon, with a
        # day on each side for month-length rounding; the exact date is checked below.
        last_day = today + timedelta(days=max(horizon.days, 1))
        earliest = add_months(today - gap - timedelta(days=1), -rule.interval_months)
        latest = add_months(last_day - gap + timedelta(days=1), -rule.interval_months)
        lo = datetime.combine(earliest - timedelta(days=3), time(), tzinfo=tz)
        hi = datetime.combine(latest + timedelta(days=4), time(), tzinfo=tz)
        for row in lasts.filter(last__gte=lo, last__lt=hi).iterator(chunk_size=CHUNK):
            base = add_months(row["last"].astimezone(tz).date(), rule.interval_months)
            due_day = base + gap
            if not today <= due_day <= last_day:
                continue
            yield Occurrence(row["patient_id"], f"recall:{base.isoformat()}:{attempt + 1}",
                             datetime.combine(due_day, time(), tzinfo=tz), step=attempt + 1)


def _birthdays(rule: Rule, now: datetime, tz: ZoneInfo, today: date,
               horizon: timedelta) -> Iterator[Occurrence]:
    patients = Patient.objects.filter(clinic_id=rule.clinic_id, birthday__isnull=False)
    audience = _audience(rule, now, today)
    if audience:
        patients = patients.filter(audience)
    for n in range(max(horizon.days, 1) + 1):
        day = today + timedelta(days=n)
        match = Q(birthday__month=day.month, birthday__day=day.day)
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            match |= Q(birthday__month=2, birthday__day=29)  # celebrated on the 28th
        for pk in patients.filter(match).values_list("pk", flat=True).iterator(chunk_size=CHUNK):
            yield Occurrence(pk, f"bday:{day.year}", datetime.combine(day, time(), tzinfo=tz))


def occurrences(rule: Rule, now: datetime, *, horizon: timedelta = PLAN_HORIZON,
                appointment_ids: list[int] | None = None) -> Iterable[Occurrence]:
    """What falls due under the rule from a little before `now` to `now + horizon`."""
    tz = ZoneInfo(rule.clinic.timezone)
    today = now.astimezone(tz).date()
    if rule.kind in (RuleKind.REMINDER, RuleKind.CONFIRMATION):
        return _reminders(rule, now, tz, today, horizon, appointment_ids)
    if appointment_ids is not None:
        return ()
    if rule.kind == RuleKind.RECALL:
        return _recalls(rule, now, tz, today, horizon)
    if rule.kind == RuleKind.BIRTHDAY:
        return _birthdays(rule, now, tz, today, horizon)
    return _after_visits(rule, now, today, horizon)


def _chunks(items: Iterable[Occurrence]) -> Iterator[list[Occurrence]]:
    chunk: list[Occurrence] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _preferences(rule: Rule, patient_ids: list[int]) -> dict[int, tuple[str, list[int]]]:
    if rule.transactional:
        return {}
    return {pk: (slot, days) for pk, slot, days in Patient.objects.filter(
        pk__in=patient_ids).values_list("pk", "preferred_time_of_day", "preferred_days")}


def rule_plan(*, rule: Rule, now: datetime, appointment_ids: list[int] | None = None) -> int:
    """Insert the rule's dispatches due within the horizon; returns how many rows were new."""
    clinic = rule.clinic
    settings = campaign_settings(clinic=clinic)
    revision = RuleRevision.objects.get(rule=rule, number=rule.revision)
    before = Dispatch.objects.filter(rule=rule).count()
    for chunk in _chunks(occurrences(rule, now, appointment_ids=appointment_ids)):
        preferences = _preferences(rule, [o.patient_id for o in chunk])
        rows = []
        for occurrence in chunk:
            slot, days = preferences.get(occurrence.patient_id, ("", []))
            window = send_window(tz=clinic.timezone, send_from=settings.send_from,
                                 send_until=settings.send_until,
                                 transactional=rule.transactional, time_of_day=slot, days=days)
            row = Dispatch(clinic=clinic, rule=rule, revision=revision,
                           patient_id=occurrence.patient_id,
                           appointment_id=occurrence.appointment_id,
                           occurrence_key=occurrence.key, step=occurrence.step,
                           due_at=occurrence.due_at, send_at=occurrence.due_at, created_at=now)
            late = (occurrence.booked_at is not None and occurrence.booked_at
                    > occurrence.due_at - timedelta(minutes=rule.do_not_send_within))
            at = None if late else send_time(window, occurrence.due_at,
                                             deadline=occurrence.deadline, now=now)
            if late or at is None:
                row.status = DispatchStatus.SKIPPED
                row.reason = SkipReason.BOOKED_LATE if late else SkipReason.WINDOW
            else:
                row.send_at = at
            rows.append(row)
        Dispatch.objects.bulk_create(rows, ignore_conflicts=True)
    # bulk_create returns every row it was given, inserted or not: count instead.
    return Dispatch.objects.filter(rule=rule).count() - before


def plan_all(*, now: datetime) -> int:
    """Beat's planner pass over every clinic's switched-on rules."""
    return sum(rule_plan(rule=rule, now=now)
               for rule in Rule.objects.filter(enabled=True).select_related("clinic"))


def appointment_dispatches_supersede(*, appointment_id: int, now: datetime) -> int:
    """A visit was moved or cancelled: its pending reminders for the old time are superseded,
    and an unanswered confirmation request is marked "the visit was changed"."""
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    pending = Dispatch.objects.filter(appointment_id=appointment_id,
                                      status=DispatchStatus.PLANNED,
                                      rule__kind__in=(RuleKind.REMINDER, RuleKind.CONFIRMATION))
    keep = (Q(occurrence_key__contains=f":{key_start(appointment.start)}:")
            if appointment is not None and appointment.status in LIVE else Q(pk__in=[]))
    with transaction.atomic():
        superseded = pending.exclude(keep).update(
            status=DispatchStatus.SUPERSEDED, claimed_at=None,
            reason=SkipReason.VISIT_MOVED if appointment is not None
            and appointment.status in LIVE else SkipReason.NOT_LIVE)
        Dispatch.objects.filter(appointment_id=appointment_id,
                                confirmation=Confirmation.PENDING).exclude(keep).update(
            confirmation=Confirmation.CHANGED, answered_at=now)
    return superseded


def appointment_plan(*, appointment_id: int, now: datetime) -> int:
    """After a booking, a move or a cancellation: supersede, then plan this visit's reminders
    under every switched-on reminder rule of its clinic."""
    appointment_dispatches_supersede(appointment_id=appointment_id, now=now)
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None or appointment.status not in LIVE:
        return 0
    rules = Rule.objects.filter(clinic_id=appointment.clinic_id, enabled=True,
                                kind__in=(RuleKind.REMINDER, RuleKind.CONFIRMATION))
    return sum(rule_plan(rule=rule, now=now, appointment_ids=[appointment_id])
               for rule in rules.select_related("clinic"))
