"""Reads of scheduling: doctors' working intervals and the free-slot finder.

A doctor works the intervals of their weekly template, replaced on a dated exception day
(vacation or sick leave: none; extra shift or changed hours: the exception's intervals), and
only inside the clinic's hours on a clinic exception day (a holiday closes every doctor; a short
day cuts every doctor to its hours). The interval arithmetic is `clinic.hours`, DST-correct.
"""

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import F, FloatField, Func, QuerySet

from clinic.hours import ClinicHours, day_intervals
from clinic.models import Clinic
from clinic.selectors import intervals_parse
from scheduling.models import (
    MAX_DURATION_MINUTES,
    Appointment,
    AppointmentStatus,
    Doctor,
    DoctorScheduleException,
    Service,
)

SLOT_STEP = timedelta(minutes=15)
"""Offered slots start on this grid, counted from the start of each working interval."""

LEAD_TIME = timedelta(minutes=60)
"""The earliest bookable start is this long after now."""

DEFAULT_SLOT_LIMIT = 20

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    doctor_id: int
    doctor_name: str
    start: datetime
    end: datetime


def doctor_list(*, clinic: Clinic, active_only: bool = True) -> QuerySet[Doctor]:
    doctors = Doctor.objects.filter(clinic=clinic).select_related("schedule")
    return doctors.filter(active=True) if active_only else doctors


def service_list(*, clinic: Clinic, active_only: bool = True) -> QuerySet[Service]:
    services = Service.objects.filter(clinic=clinic).prefetch_related("doctors")
    return services.filter(active=True) if active_only else services


def appointment_list(*, clinic: Clinic, start: datetime, end: datetime,
                     doctor: Doctor | None = None) -> QuerySet[Appointment]:
    """Appointments overlapping [start, end), cancelled ones included, for a calendar."""
    appointments = Appointment.objects.filter(clinic=clinic, start__lt=end, end__gt=start)
    if doctor is not None:
        appointments = appointments.filter(doctor=doctor)
    return appointments.select_related("patient", "doctor", "service")


class _EpochSeconds(Func):
    """A timestamptz as float8 seconds since 1970 (Postgres only).

    Loading a number is several times cheaper in Python than loading a timestamptz, and the
    finder reads thousands of them per call; float8 holds today's instants to the microsecond.
    """

    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
    output_field = FloatField()


def _busy_rows(appointments: QuerySet[Appointment]) -> Iterable[tuple[int, datetime, datetime]]:
    """(doctor_id, start, end) of each appointment, start and end aware in UTC."""
    if connections[appointments.db].vendor != "postgresql":
        yield from appointments.values_list("doctor_id", "start", "end")
        return
    epochs = appointments.annotate(
        start_s=_EpochSeconds(F("start")), end_s=_EpochSeconds(F("end"))
    ).values_list("doctor_id", "start_s", "end_s")
    from_timestamp = datetime.fromtimestamp
    for doctor_id, start, end in epochs:
        yield doctor_id, from_timestamp(start, UTC), from_timestamp(end, UTC)


def _dates(start_date: date, end_date: date) -> list[date]:
    return [start_date + timedelta(days=n) for n in range((end_date - start_date).days + 1)]


def _intersect(spans: list[Span], limits: list[Span]) -> list[Span]:
    """Parts of sorted, disjoint `spans` that lie inside sorted, disjoint `limits`."""
    result = []
    for s, e in spans:
        for ls, le in limits:
            lo, hi = max(s, ls), min(e, le)
            if lo < hi:
                result.append((lo, hi))
    return result


@dataclass(frozen=True)
class _Calendar:
    """What the slot finder needs for one clinic and date range, loaded in a fixed few queries."""

    timezone: ZoneInfo
    clinic_exceptions: dict[date, tuple]
    clinic_hours: ClinicHours
    doctor_exceptions: dict[int, dict[date, tuple]]


def _calendar(*, clinic: Clinic, doctor_ids: list[int], start_date: date,
              end_date: date) -> _Calendar:
    tz = ZoneInfo(clinic.timezone)
    clinic_exceptions = {
        e.date: intervals_parse(e.intervals)
        for e in clinic.day_exceptions.filter(date__gte=start_date, date__lte=end_date)
    }
    # Only the exception days are read from the clinic's hours, so its weekly template is moot.
    clinic_hours = ClinicHours(timezone=tz, weekly=((),) * 7, exceptions=clinic_exceptions)
    doctor_exceptions: dict[int, dict[date, tuple]] = {pk: {} for pk in doctor_ids}
    rows = DoctorScheduleException.objects.filter(
        doctor_id__in=doctor_ids, date__gte=start_date, date__lte=end_date
    ).values_list("doctor_id", "date", "intervals")
    for doctor_id, day, intervals in rows:
        doctor_exceptions[doctor_id][day] = intervals_parse(intervals)
    return _Calendar(tz, clinic_exceptions, clinic_hours, doctor_exceptions)


def _doctor_spans(doctor: Doctor, calendar: _Calendar, days: list[date]) -> list[Span]:
    """The doctor's working spans over `days`, in UTC, sorted and disjoint."""
    schedule = getattr(doctor, "schedule", None)
    if schedule is None:
        return []
    hours = ClinicHours(
        timezone=calendar.timezone,
        weekly=tuple(intervals_parse(day) for day in schedule.weekly_hours),
        exceptions=calendar.doctor_exceptions.get(doctor.pk, {}),
    )
    spans: list[Span] = []
    for day in days:
        day_spans = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in day_intervals(hours, day)]
        if day in calendar.clinic_exceptions:
            limits = [(s.astimezone(UTC), e.astimezone(UTC))
                      for s, e in day_intervals(calendar.clinic_hours, day)]
            day_spans = _intersect(day_spans, limits)
        for span in day_spans:
            if spans and span[0] <= spans[-1][1]:  # an overnight interval meets the next day
                spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
            else:
                spans.append(span)
    return spans


def _ceil_to_grid(moment: datetime, origin: datetime, step: timedelta) -> datetime:
    """The first instant origin + k * step (k >= 0) at or after `moment`."""
    if moment <= origin:
        return origin
    steps = -((origin - moment) // step)  # ceiling division of timedeltas
    return origin + steps * step


def _free_starts(spans: list[Span], busy: list[Span], duration: timedelta,
                 earliest: datetime, step: timedelta) -> Iterator[datetime]:
    """Grid starts inside `spans` where [start, start + duration) meets nothing in `busy`.

    Both lists are sorted by start; `busy` spans may overlap one another.
    """
    j = 0
    for span_start, span_end in spans:
        t = _ceil_to_grid(earliest, span_start, step)
        while t + duration <= span_end:
            end = t + duration
            while j < len(busy) and busy[j][1] <= t:
                j += 1
            # The first busy span that ends after t; any later overlap starts no earlier.
            blocker = None
            k = j
            while k < len(busy) and busy[k][0] < end:
                if busy[k][1] > t:
                    blocker = busy[k] if blocker is None or busy[k][1] > blocker[1] else blocker
                k += 1
            if blocker is None:
                yield t
                t += step
            else:
                t = _ceil_to_grid(blocker[1], span_start, step)


def doctor_working_spans(*, clinic: Clinic, doctor: Doctor, start_date: date,
                         end_date: date) -> list[tuple[datetime, datetime]]:
    """The doctor's working intervals over local dates [start_date, end_date], clinic timezone."""
    calendar = _calendar(clinic=clinic, doctor_ids=[doctor.pk], start_date=start_date,
                         end_date=end_date)
    return [(s.astimezone(calendar.timezone), e.astimezone(calendar.timezone))
            for s, e in _doctor_spans(doctor, calendar, _dates(start_date, end_date))]


def free_slots(
    *, clinic: Clinic, service: Service, doctor: Doctor | None = None, start_date: date,
    end_date: date, now: datetime, limit: int = DEFAULT_SLOT_LIMIT,
    not_before: datetime | None = None,
) -> list[Slot]:
    """The first `limit` free slots for `service` on local dates [start_date, end_date].

    Earliest first (ties by doctor name), in the clinic timezone. Only active doctors who perform
    the service; a slot starts on the SLOT_STEP grid of a working interval, at least LEAD_TIME
    after `now` (and not before `not_before`), and the whole service fits inside the interval
    without touching a live appointment. Four queries whatever the range and doctor count.
    """
    if not service.active or service.clinic_id != clinic.pk or end_date < start_date:
        return []
    doctors = list(
        Doctor.objects.filter(clinic=clinic, active=True, services=service)
        .select_related("schedule").order_by("name", "id")
    )
    if doctor is not None:
        doctors = [d for d in doctors if d.pk == doctor.pk]
    if not doctors or limit <= 0:
        return []
    tz = ZoneInfo(clinic.timezone)
    days = _dates(start_date, end_date)
    calendar = _calendar(clinic=clinic, doctor_ids=[d.pk for d in doctors],
                         start_date=start_date, end_date=end_date)
    spans = {d.pk: _doctor_spans(d, calendar, days) for d in doctors}
    all_spans = [span for doctor_spans in spans.values() for span in doctor_spans]
    if not all_spans:
        return []
    window_start = min(s for s, _ in all_spans)
    window_end = max(e for _, e in all_spans)

    busy: dict[int, list[Span]] = {d.pk: [] for d in doctors}
    appointments = Appointment.objects.filter(
        doctor_id__in=list(busy), start__lt=window_end, end__gt=window_start,
        # bounds the index range scan on (doctor, start): no appointment is longer than this
        start__gte=window_start - timedelta(minutes=MAX_DURATION_MINUTES),
    ).exclude(status=AppointmentStatus.CANCELLED)
    for doctor_id, start, end in _busy_rows(appointments):
        busy[doctor_id].append((start, end))
    for intervals in busy.values():
        intervals.sort()

    duration = timedelta(minutes=service.duration_minutes)
    earliest = now + LEAD_TIME
    if not_before is not None:
        earliest = max(earliest, not_before)
    earliest = earliest.astimezone(UTC)

    def doctor_slots(d: Doctor, rank: int) -> Iterable[tuple[datetime, int, Slot]]:
        starts = _free_starts(spans[d.pk], busy[d.pk], duration, earliest, SLOT_STEP)
        for _, start in zip(range(limit), starts, strict=False):
            yield start, rank, Slot(d.pk, d.name, start.astimezone(tz),
                                    (start + duration).astimezone(tz))

    merged = heapq.merge(*(doctor_slots(d, rank) for rank, d in enumerate(doctors)))
    return [slot for _, (_, _, slot) in zip(range(limit), merged, strict=False)]


# --- The calendar -------------------------------------------------------------------------------

CALENDAR_DEFAULT_HOURS = (9, 18)
"""The visible part of a day when nobody works and nothing is booked."""


@dataclass(frozen=True)
class CalendarSpan:
    """A doctor's (or the clinic's) working interval within one column, local times."""

    start: datetime
    end: datetime
    top: float = 0.0  # per cent of the visible day
    height: float = 0.0


@dataclass(frozen=True)
class CalendarEntry:
    """An appointment placed in a column: where (per cent of the visible day) and which lane."""

    appointment: Appointment
    start: datetime  # local, clinic timezone
    end: datetime
    top: float
    height: float
    lane: int
    lanes: int


@dataclass(frozen=True)
class CalendarColumn:
    day: date
    doctor: Doctor | None  # None: the whole clinic's day
    working: list[CalendarSpan]
    entries: list[CalendarEntry]


@dataclass(frozen=True)
class Calendar:
    """One screen of the calendar.

    A time grid (`columns`): a day with a column per doctor, or one doctor's week with a column
    per day. Or, for the whole clinic's week, a table (`rows`): per doctor, a cell per day.
    """

    timezone: ZoneInfo
    days: list[date]
    doctor: Doctor | None
    doctors: list[Doctor]  # active ones, for the filter and the booking form
    columns: list[CalendarColumn]
    rows: list[tuple[Doctor, list[CalendarColumn]]]
    first_minute: int  # the visible part of every column, minutes after local midnight
    last_minute: int
    hours: list[tuple[int, float]]  # (hour, per cent from the top) for the time axis


def _day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, datetime.min.time(), tzinfo=tz),
            datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz))


def _minute_of(moment: datetime, day: date) -> int:
    """Wall-clock minutes after the local midnight of `day` (1440 for the next midnight)."""
    return (moment.date() - day).days * 1440 + moment.hour * 60 + moment.minute


def _clip(start: datetime, end: datetime, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    day_start, day_end = _day_window(day, tz)
    return max(start.astimezone(tz), day_start), min(end.astimezone(tz), day_end)


def _lanes(items: list[tuple[datetime, datetime, Appointment]]) -> list[tuple[int, int]]:
    """Side-by-side lanes for overlapping appointments: (lane, lanes in its overlap group)."""
    result: list[tuple[int, int]] = []
    group: list[int] = []  # indexes into result of the current overlap group
    lane_ends: list[datetime] = []
    group_end: datetime | None = None
    for start, end, _appointment in items:
        if group_end is not None and start >= group_end:
            for i in group:
                result[i] = (result[i][0], len(lane_ends))
            group, lane_ends, group_end = [], [], None
        lane = next((n for n, lane_end in enumerate(lane_ends) if lane_end <= start), None)
        if lane is None:
            lane = len(lane_ends)
            lane_ends.append(end)
        else:
            lane_ends[lane] = end
        group.append(len(result))
        result.append((lane, 0))
        group_end = end if group_end is None else max(group_end, end)
    for i in group:
        result[i] = (result[i][0], len(lane_ends))
    return result


def calendar_build(
    *, clinic: Clinic, start_date: date, end_date: date, doctor: Doctor | None = None,
    by_doctor: bool, include_cancelled: bool = True,
) -> Calendar:
    """The calendar for local dates [start_date, end_date] in the clinic's timezone.

    `by_doctor`: a column per doctor for a single day (every active doctor, plus any inactive
    one with appointments shown; or just `doctor`). Otherwise a column per day with `doctor`'s
    appointments and hours, or, without a doctor, a row per doctor with a cell per day. Four
    queries whatever the number of doctors and appointments.
    """
    tz = ZoneInfo(clinic.timezone)
    days = _dates(start_date, end_date)
    active = list(doctor_list(clinic=clinic))
    range_start, range_end = _day_window(start_date, tz)[0], _day_window(end_date, tz)[1]
    appointments = appointment_list(clinic=clinic, start=range_start, end=range_end,
                                    doctor=doctor)
    if not include_cancelled:
        appointments = appointments.exclude(status=AppointmentStatus.CANCELLED)
    appointments = list(appointments.order_by("start", "end", "id"))

    by_id = {d.pk: d for d in active}
    if doctor is not None:
        doctor = by_id.get(doctor.pk, doctor)  # the one with its schedule loaded
        shown = [doctor]
    else:
        extra = {a.doctor_id: a.doctor for a in appointments if a.doctor_id not in by_id}
        shown = active + sorted(extra.values(), key=lambda d: (d.name, d.pk))
    calendar = _calendar(clinic=clinic, doctor_ids=[d.pk for d in shown], start_date=start_date,
                         end_date=end_date)

    def cell(for_doctor: Doctor, day: date) -> tuple[list[CalendarSpan], list[Appointment]]:
        spans = [CalendarSpan(*_clip(s, e, day, tz))
                 for s, e in _doctor_spans(for_doctor, calendar, [day])]
        day_start, day_end = _day_window(day, tz)
        own = [a for a in appointments if a.doctor_id == for_doctor.pk
               and a.start < day_end and a.end > day_start]
        return spans, own

    if not by_doctor and doctor is None:  # the whole clinic's week: a table, no time grid
        rows = []
        for d in shown:
            cells = []
            for day in days:
                spans, own = cell(d, day)
                cells.append(CalendarColumn(day, d, spans, [
                    CalendarEntry(a, *_clip(a.start, a.end, day, tz), 0, 0, 0, 1) for a in own]))
            rows.append((d, cells))
        return Calendar(tz, days, None, active, [], rows, 0, 0, [])

    cells = [(start_date, d, *cell(d, start_date)) for d in shown] if by_doctor else [
        (day, doctor, *cell(doctor, day)) for day in days]

    # The visible window: whole hours around every working span and appointment shown.
    minutes = [(_minute_of(s.start, day), _minute_of(s.end, day))
               for day, _d, spans, _a in cells for s in spans]
    minutes += [(_minute_of(s, day), _minute_of(e, day))
                for day, _d, _s, own in cells for s, e in (_clip(a.start, a.end, day, tz)
                                                           for a in own)]
    if minutes:
        first = min(s for s, _ in minutes) // 60 * 60
        last = -(-max(e for _, e in minutes) // 60) * 60
    else:
        first, last = CALENDAR_DEFAULT_HOURS[0] * 60, CALENDAR_DEFAULT_HOURS[1] * 60
    last = max(last, first + 60)
    total = last - first

    def place(start: datetime, end: datetime, day: date) -> tuple[float, float]:
        top = (_minute_of(start, day) - first) / total * 100
        return round(top, 3), round((_minute_of(end, day) - first) / total * 100 - top, 3)

    columns = []
    for day, d, spans, own in cells:
        placed = [(*_clip(a.start, a.end, day, tz), a) for a in own]
        entries = [CalendarEntry(a, s, e, *place(s, e, day), lane, lanes)
                   for (s, e, a), (lane, lanes) in zip(placed, _lanes(placed), strict=True)]
        columns.append(CalendarColumn(day, d, [CalendarSpan(s.start, s.end, *place(
            s.start, s.end, day)) for s in spans], entries))
    hours = [(m // 60, round((m - first) / total * 100, 3)) for m in range(first, last + 1, 60)]
    return Calendar(tz, days, doctor, active, columns, [], first, last, hours)


def appointment_get(*, clinic: Clinic, pk: int) -> Appointment | None:
    """One of the clinic's appointments with what its detail shows, or None."""
    return (Appointment.objects.filter(clinic=clinic, pk=pk)
            .select_related("patient", "doctor", "service", "created_by").first())


def patient_appointment_list(*, appointment: Appointment, now: datetime,
                             limit: int = 5) -> list[Appointment]:
    """The patient's other live visits from now on, for the appointment's detail."""
    return list(Appointment.objects.filter(
        clinic_id=appointment.clinic_id, patient_id=appointment.patient_id, end__gt=now,
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED],
    ).exclude(pk=appointment.pk).select_related("doctor", "service").order_by("start")[:limit])


def service_search(*, clinic: Clinic, search: str = "", active_only: bool = True) -> list[Service]:
    """The clinic's services whose name, category or doctor contains every word of `search`.

    Matched in Python with case folding: SQLite folds only ASCII, and a clinic has at most a
    few hundred services. Two queries.
    """
    services = list(service_list(clinic=clinic, active_only=active_only)
                    .order_by("category", "name", "id"))
    words = search.casefold().split()
    if not words:
        return services

    def haystack(service: Service) -> str:
        doctors = " ".join(d.name for d in service.doctors.all())
        return f"{service.name} {service.category} {doctors}".casefold()

    return [s for s in services if all(word in haystack(s) for word in words)]


def appointment_search(
    *, clinic: Clinic, start: datetime | None = None, end: datetime | None = None,
    doctor_id: int | None = None, patient_id: int | None = None, status: str = "",
) -> QuerySet[Appointment]:
    """The clinic's appointments starting in [start, end), filtered, for lists and the API."""
    appointments = Appointment.objects.filter(clinic=clinic)
    if start is not None:
        appointments = appointments.filter(start__gte=start)
    if end is not None:
        appointments = appointments.filter(start__lt=end)
    if doctor_id is not None:
        appointments = appointments.filter(doctor_id=doctor_id)
    if patient_id is not None:
        appointments = appointments.filter(patient_id=patient_id)
    if status:
        appointments = appointments.filter(status=status)
    return appointments.select_related("patient", "doctor", "service")


def schedule_exception_list(
    *, clinic: Clinic, doctor_id: int | None = None, start_date: date | None = None,
    end_date: date | None = None,
) -> QuerySet[DoctorScheduleException]:
    """Dated schedule exceptions of the clinic's doctors over [start_date, end_date]."""
    exceptions = DoctorScheduleException.objects.filter(doctor__clinic=clinic)
    if doctor_id is not None:
        exceptions = exceptions.filter(doctor_id=doctor_id)
    if start_date is not None:
        exceptions = exceptions.filter(date__gte=start_date)
    if end_date is not None:
        exceptions = exceptions.filter(date__lte=end_date)
    return exceptions.select_related("doctor")
