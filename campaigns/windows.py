"""When an automatic message may go out: the clinic's send window, narrowed for messages that
are not about a booked visit to the patient's preferred time of day and days.

A message due outside the window is deferred to the next moment inside it, never dropped; one
that must arrive before a deadline (the visit) and cannot be deferred is pulled back to the
latest moment inside the window before the deadline instead. Wall-clock times are resolved in
the clinic's time zone on each day, so a DST change moves nothing.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SEARCH_DAYS = 14

# The patient's time of day, as wall-clock ranges; narrowed to the clinic's window.
SLOTS = {"morning": (time(8, 0), time(12, 0)), "midday": (time(12, 0), time(17, 0)),
         "evening": (time(17, 0), time(22, 0))}


@dataclass(frozen=True)
class SendWindow:
    tz: ZoneInfo
    start: time
    end: time
    days: frozenset[int] = frozenset()  # weekdays, 0 = Monday; empty = every day


def send_window(*, tz: str, send_from: time, send_until: time, transactional: bool,
                time_of_day: str = "", days: list[int] | None = None) -> SendWindow:
    """The clinic's window; for a non-transactional message also the patient's slot and days
    (where they leave no time at all, the clinic's window alone)."""
    start, end = send_from, send_until
    allowed: frozenset[int] = frozenset()
    if not transactional:
        if time_of_day in SLOTS and start < end:
            slot_start, slot_end = SLOTS[time_of_day]
            if max(start, slot_start) < min(end, slot_end):
                start, end = max(start, slot_start), min(end, slot_end)
        allowed = frozenset(d for d in (days or []) if 0 <= d <= 6)
        if len(allowed) == 7:
            allowed = frozenset()
    return SendWindow(ZoneInfo(tz), start, end, allowed)


def _wall(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The moment of a wall-clock time; a time skipped by a DST jump becomes the one after it."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _intervals(window: SendWindow, first: date, last: date):
    """The window's spans opening on these days; one that ends at or before its start runs
    overnight (21:00–07:00), and 00:00–00:00 is the whole day."""
    overnight = timedelta(days=1) if window.end <= window.start else timedelta()
    day = first
    while day <= last:
        if not window.days or day.weekday() in window.days:
            yield (_wall(day, window.start, window.tz),
                   _wall(day + overnight, window.end, window.tz))
        day += timedelta(days=1)


def next_open(window: SendWindow, moment: datetime) -> datetime | None:
    """The earliest moment at or after `moment` inside the window (None beyond SEARCH_DAYS)."""
    local = moment.astimezone(window.tz)
    for opens, closes in _intervals(window, local.date() - timedelta(days=1),
                                    local.date() + timedelta(days=SEARCH_DAYS)):
        if moment < closes:
            return max(moment, opens)
    return None


def last_open_before(window: SendWindow, deadline: datetime,
                     not_before: datetime) -> datetime | None:
    """The latest moment before `deadline` inside the window, if not before `not_before`."""
    local = deadline.astimezone(window.tz)
    spans = list(_intervals(window, local.date() - timedelta(days=SEARCH_DAYS), local.date()))
    for opens, closes in reversed(spans):
        if opens < deadline:
            latest = min(closes, deadline) - timedelta(minutes=1)
            return latest if latest >= max(opens, not_before) else None
    return None


def send_time(window: SendWindow, due: datetime, *, deadline: datetime | None = None,
              now: datetime) -> datetime | None:
    """When a message due at `due` goes out: at once when inside the window, else deferred;
    with a deadline, never at or after it (pulled back instead). None: no moment fits."""
    moment = next_open(window, max(due, now))
    if deadline is None or (moment is not None and moment < deadline):
        return moment
    return last_open_before(window, deadline, now)
