"""Working-hours arithmetic: when is the clinic open, and when is a reply due.

Pure stdlib, no Django. A clinic's hours are local wall-clock intervals in `ClinicHours.timezone`;
all arithmetic is done on absolute (UTC) instants, so DST days have their real length. Inputs may
be in any timezone; results are returned in the clinic's timezone.

DST rule: a wall-clock time resolves to the first instant the clinic's clock shows it; a time
skipped by a spring-forward gap resolves to the instant the gap ends. So in Europe/Berlin
01:00-04:00 lasts 2 h on 2024-03-31 and 4 h on 2024-10-27, and an interval never ends before
it starts.
"""

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = [
    "HORIZON_DAYS",
    "ClinicHours",
    "Interval",
    "NoWorkingTime",
    "add_working_minutes",
    "day_intervals",
    "is_working_time",
    "next_working_time",
    "working_minutes_between",
]

Interval = tuple[time, time]
"""Local wall-clock [start, end); end <= start runs past midnight (time(0, 0) as end = midnight)."""

Span = tuple[datetime, datetime]

HORIZON_DAYS = 400
"""Searching forward gives up after this many consecutive days without working time."""

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)


class NoWorkingTime(ValueError):
    """No working time exists within the search horizon."""


@dataclass(frozen=True)
class ClinicHours:
    """A clinic's working hours: weekly schedule, dated exceptions and an optional evening duty.

    `weekly` has 7 entries (Monday=0 ... Sunday=6), each a tuple of intervals (empty = closed;
    several = breaks between them). An `exceptions` entry replaces that whole date, weekly hours
    and evening duty alike (empty tuple = holiday). `evening_duty` is one more interval on
    `evening_duty_weekdays`. Everything combines as a union.
    """

    timezone: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]
    exceptions: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    evening_duty: Interval | None = None
    evening_duty_weekdays: frozenset[int] = frozenset(range(7))

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, tzinfo):
            raise TypeError(f"timezone must be a tzinfo, got {self.timezone!r}")
        if len(self.weekly) != 7:
            raise ValueError(f"weekly must have 7 entries (Monday..Sunday), got {len(self.weekly)}")
        if not set(self.evening_duty_weekdays) <= set(range(7)):
            raise ValueError(
                f"evening_duty_weekdays must be in 0..6: {set(self.evening_duty_weekdays)}"
            )
        days = [*self.weekly, *self.exceptions.values()]
        if self.evening_duty is not None:
            days.append((self.evening_duty,))
        for intervals in days:
            for interval in intervals:
                _check_interval(interval)


def _check_interval(interval: Interval) -> None:
    if len(interval) != 2 or not all(isinstance(t, time) and t.tzinfo is None for t in interval):
        raise ValueError(f"an interval is a pair of naive wall-clock times, got {interval!r}")


def _wall_intervals(hours: ClinicHours, day: date) -> tuple[Interval, ...]:
    """The configured wall-clock intervals starting on `day`."""
    if day in hours.exceptions:
        return hours.exceptions[day]
    weekly = hours.weekly[day.weekday()]
    if hours.evening_duty is not None and day.weekday() in hours.evening_duty_weekdays:
        return (*weekly, hours.evening_duty)
    return weekly


def _resolve(day: date, wall: time, tz: tzinfo) -> datetime:
    """The first UTC instant at which the local clock shows `day wall` (or later, in a DST gap)."""
    local = datetime.combine(day, wall, tzinfo=tz)
    first = local.replace(fold=0).astimezone(UTC)
    second = local.replace(fold=1).astimezone(UTC)
    if first <= second:  # exists once, or twice (fall back): take the first
        return first
    return _gap_end(tz, second, first)  # skipped by spring forward


def _gap_end(tz: tzinfo, before: datetime, after: datetime) -> datetime:
    """The offset transition in (before, after], found by bisection over whole seconds."""
    target = after.astimezone(tz).utcoffset()
    lo, hi = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _day_spans(hours: ClinicHours, day: date) -> list[Span]:
    """UTC spans starting on local `day`: non-empty, sorted, overlapping/adjacent ones merged."""
    tz = hours.timezone
    spans = []
    for start, end in _wall_intervals(hours, day):
        s = _resolve(day, start, tz)
        e = _resolve(day + _ONE_DAY if end <= start else day, end, tz)
        if e > s:
            spans.append((s, e))
    spans.sort()
    merged: list[Span] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _spans_from(
    hours: ClinicHours, moment: datetime, until: datetime | None = None
) -> Iterator[Span]:
    """Disjoint, sorted working spans after UTC `moment`, clipped to start at or after it.

    With `until`, stops once no further span can start at or before it; without, the walk is
    endless unless HORIZON_DAYS consecutive days pass without working time (NoWorkingTime).
    """
    tz = hours.timezone
    # Only spans of the previous local date can reach into this one (overnight intervals).
    day = moment.astimezone(tz).date() - _ONE_DAY
    last_end = moment
    idle_days = 0
    while True:
        if until is not None and _resolve(day, _MIDNIGHT, tz) > until:
            return
        idle_days += 1
        for s, e in _day_spans(hours, day):
            if e > last_end:
                yield max(s, last_end), e
                last_end = e
                idle_days = 0
        if until is None and idle_days > HORIZON_DAYS:
            raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days after {moment}")
        day += _ONE_DAY


def _as_utc(moment: datetime) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


def day_intervals(hours: ClinicHours, day: date) -> list[tuple[datetime, datetime]]:
    """Working intervals starting on local `day`, in the clinic timezone, sorted and merged.

    An interval may end on the next day (overnight duty).
    """
    tz = hours.timezone
    return [(s.astimezone(tz), e.astimezone(tz)) for s, e in _day_spans(hours, day)]


def is_working_time(hours: ClinicHours, moment: datetime) -> bool:
    """Whether `moment` lies inside a working interval (intervals are half-open)."""
    at = _as_utc(moment)
    span = next(_spans_from(hours, at, until=at), None)
    return span is not None and span[0] == at


def next_working_time(hours: ClinicHours, moment: datetime) -> datetime:
    """`moment` if it is working time, else the start of the next working interval.

    Returned in the clinic timezone. Raises NoWorkingTime past the search horizon.
    """
    start, _ = next(_spans_from(hours, _as_utc(moment)))
    return start.astimezone(hours.timezone)


def add_working_minutes(hours: ClinicHours, start: datetime, minutes: float) -> datetime:
    """The instant at which `minutes` of working time have elapsed since `start`.

    Outside working hours the clock starts at the next opening; `minutes == 0` gives
    next_working_time(start). Minutes used up exactly at a closing time give that closing time.
    Returned in the clinic timezone. Raises NoWorkingTime past the search horizon.
    """
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite non-negative number, got {minutes!r}")
    remaining = timedelta(minutes=minutes)
    spans = _spans_from(hours, _as_utc(start))
    while True:
        s, e = next(spans)
        if remaining <= e - s:
            return (s + remaining).astimezone(hours.timezone)
        remaining -= e - s


def working_minutes_between(hours: ClinicHours, start: datetime, end: datetime) -> float:
    """Working time inside [start, end) in minutes; 0 when end <= start."""
    lo, hi = _as_utc(start), _as_utc(end)
    if hi <= lo:
        return 0.0
    total = timedelta()
    for s, e in _spans_from(hours, lo, until=hi):
        if s >= hi:
            break
        total += min(e, hi) - s
    return total / timedelta(minutes=1)
