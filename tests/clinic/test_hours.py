"""Working-hours arithmetic (clinic.hours): worked examples and properties. No Django needed."""

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clinic.hours import (
    ClinicHours,
    Interval,
    NoWorkingTime,
    add_working_minutes,
    day_intervals,
    is_working_time,
    next_working_time,
    working_minutes_between,
)

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")
ZONES = (MOSCOW, BERLIN, VLADIVOSTOK, ZoneInfo("UTC"))

DAY_10_20: tuple[Interval, ...] = ((time(10), time(20)),)
CLOSED: tuple[Interval, ...] = ()
WEEKDAYS_10_20 = (DAY_10_20,) * 5 + (CLOSED, CLOSED)

# A week in March 2024 (no DST in Moscow): Friday the 15th ... Tuesday the 19th.
FRI, SAT, MON, TUE = date(2024, 3, 15), date(2024, 3, 16), date(2024, 3, 18), date(2024, 3, 19)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = MOSCOW) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return at(day, hour, minute, tz=BERLIN)


moscow_weekdays = partial(ClinicHours, MOSCOW, WEEKDAYS_10_20)


# --- examples ----------------------------------------------------------------------------------


def test_friday_evening_message_is_due_monday_morning() -> None:
    assert add_working_minutes(moscow_weekdays(), at(FRI, 19, 58), 5) == at(MON, 10, 3)


def test_friday_evening_message_is_due_saturday_morning_when_open_on_saturday() -> None:
    saturday = ((time(10), time(16)),)
    hours = ClinicHours(MOSCOW, (DAY_10_20,) * 5 + (saturday, CLOSED))
    assert add_working_minutes(hours, at(FRI, 19, 58), 5) == at(SAT, 10, 3)


def test_lunch_break_pauses_the_clock() -> None:
    day = ((time(10), time(13)), (time(14), time(20)))
    hours = ClinicHours(MOSCOW, (day,) * 5 + (CLOSED, CLOSED))
    assert add_working_minutes(hours, at(FRI, 12, 58), 5) == at(FRI, 14, 3)
    assert not is_working_time(hours, at(FRI, 13, 30))
    assert next_working_time(hours, at(FRI, 13, 30)) == at(FRI, 14)


def test_holiday_is_skipped() -> None:
    hours = moscow_weekdays(exceptions={MON: ()})
    assert add_working_minutes(hours, at(FRI, 19, 58), 5) == at(TUE, 10, 3)
    assert not is_working_time(hours, at(MON, 12))


def test_short_day_closes_early() -> None:
    hours = moscow_weekdays(exceptions={FRI: ((time(10), time(15)),)})
    assert add_working_minutes(hours, at(FRI, 14, 58), 5) == at(MON, 10, 3)
    assert not is_working_time(hours, at(FRI, 16))
    assert day_intervals(hours, FRI) == [(at(FRI, 10), at(FRI, 15))]


def test_evening_duty_extends_the_day_instead_of_waiting_for_the_morning() -> None:
    hours = moscow_weekdays(evening_duty=(time(20), time(22)))
    assert add_working_minutes(hours, at(FRI, 19, 58), 5) == at(FRI, 20, 3)
    assert day_intervals(hours, FRI) == [(at(FRI, 10), at(FRI, 22))]


def test_evening_duty_applies_only_on_its_weekdays() -> None:
    hours = moscow_weekdays(evening_duty=(time(20), time(22)), evening_duty_weekdays=frozenset({4}))
    thursday = FRI - timedelta(days=1)
    assert add_working_minutes(hours, at(thursday, 19, 58), 5) == at(FRI, 10, 3)
    assert add_working_minutes(hours, at(FRI, 19, 58), 5) == at(FRI, 20, 3)
    # Saturday is in no weekly schedule; the duty alone would open it.
    assert not is_working_time(hours, at(SAT, 21))


def test_exception_day_replaces_the_evening_duty_too() -> None:
    hours = moscow_weekdays(
        evening_duty=(time(20), time(22)),
        evening_duty_weekdays=frozenset(range(5)),
        exceptions={FRI: DAY_10_20},
    )
    assert not is_working_time(hours, at(FRI, 21))
    assert add_working_minutes(hours, at(FRI, 19, 58), 5) == at(MON, 10, 3)


def test_overnight_duty_belongs_to_the_day_it_starts_on() -> None:
    hours = moscow_weekdays(evening_duty=(time(22), time(2)), evening_duty_weekdays=frozenset({0}))
    assert is_working_time(hours, at(TUE, 1))
    assert not is_working_time(hours, at(TUE, 2))
    assert not is_working_time(hours, at(MON, 1))  # Sunday has no duty
    assert add_working_minutes(hours, at(MON, 23, 58), 5) == at(TUE, 0, 3)
    assert add_working_minutes(hours, at(TUE, 1, 58), 5) == at(TUE, 10, 3)
    assert day_intervals(hours, MON) == [(at(MON, 10), at(MON, 20)), (at(MON, 22), at(TUE, 2))]
    assert day_intervals(hours, TUE) == [(at(TUE, 10), at(TUE, 20))]


def test_weekly_overnight_interval_until_midnight_and_beyond() -> None:
    night = ((time(18), time(0)), (time(0), time(3)))
    hours = ClinicHours(MOSCOW, (night,) * 7)
    assert working_minutes_between(hours, at(FRI, 12), at(SAT, 12)) == 9 * 60
    assert add_working_minutes(hours, at(FRI, 23, 58), 5) == at(SAT, 0, 3)


def test_overlapping_intervals_are_merged() -> None:
    day = ((time(13), time(18)), (time(10), time(14)), (time(18), time(19)))
    hours = ClinicHours(MOSCOW, (day,) * 7)
    assert day_intervals(hours, FRI) == [(at(FRI, 10), at(FRI, 19))]
    assert working_minutes_between(hours, at(FRI, 0), at(SAT, 0)) == 9 * 60


def test_minutes_used_up_exactly_at_closing_give_the_closing_time() -> None:
    hours = moscow_weekdays()
    assert add_working_minutes(hours, at(FRI, 19, 55), 5) == at(FRI, 20)
    assert add_working_minutes(hours, at(FRI, 20), 0) == at(MON, 10)
    assert not is_working_time(hours, at(FRI, 20))


def test_zero_minutes_means_the_next_working_time() -> None:
    hours = moscow_weekdays()
    assert add_working_minutes(hours, at(FRI, 12, 34), 0) == at(FRI, 12, 34)
    assert add_working_minutes(hours, at(SAT, 12), 0) == at(MON, 10)


def test_fractional_minutes_are_supported() -> None:
    hours = moscow_weekdays()
    assert add_working_minutes(hours, at(FRI, 19, 59), 1.5) == at(MON, 10) + timedelta(seconds=30)


def test_utc_input_gives_the_moscow_answer() -> None:
    result = add_working_minutes(moscow_weekdays(), datetime(2024, 3, 15, 16, 58, tzinfo=UTC), 5)
    assert result == at(MON, 10, 3)
    assert result.tzinfo is MOSCOW
    assert (result.hour, result.minute) == (10, 3)
    assert next_working_time(moscow_weekdays(), datetime(2024, 3, 16, tzinfo=UTC)).tzinfo is MOSCOW


def test_spring_forward_day_in_berlin_is_an_hour_shorter() -> None:
    spring = date(2024, 3, 31)  # 02:00 CET -> 03:00 CEST
    hours = ClinicHours(BERLIN, (((time(1), time(4)),),) * 7)
    assert working_minutes_between(hours, berlin(spring, 0), berlin(spring, 12)) == 120
    assert add_working_minutes(hours, berlin(spring, 1, 59), 2) == at(spring, 3, 1, tz=BERLIN)
    ((start, end),) = day_intervals(hours, spring)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)


def test_spring_forward_interval_starting_in_the_gap_starts_when_the_gap_ends() -> None:
    spring = date(2024, 3, 31)
    hours = ClinicHours(BERLIN, (((time(2, 30), time(5)),),) * 7)
    assert day_intervals(hours, spring) == [(berlin(spring, 3), berlin(spring, 5))]
    inside_gap = ClinicHours(BERLIN, (((time(2, 15), time(2, 45)),),) * 7)
    assert day_intervals(inside_gap, spring) == []


def test_fall_back_day_in_berlin_is_an_hour_longer() -> None:
    autumn = date(2024, 10, 27)  # 03:00 CEST -> 02:00 CET
    hours = ClinicHours(BERLIN, (((time(1), time(4)),),) * 7)
    assert working_minutes_between(hours, berlin(autumn, 0), berlin(autumn, 12)) == 240
    first_half_past_two = add_working_minutes(hours, berlin(autumn, 1), 90)
    second_half_past_two = add_working_minutes(hours, berlin(autumn, 1), 150)
    assert (first_half_past_two.hour, first_half_past_two.minute) == (2, 30)
    assert (second_half_past_two.hour, second_half_past_two.minute) == (2, 30)
    assert first_half_past_two.utcoffset() == timedelta(hours=2)
    assert second_half_past_two.utcoffset() == timedelta(hours=1)


def test_round_the_clock_clinic_counts_real_hours_across_dst() -> None:
    hours = ClinicHours(BERLIN, (((time(0), time(0)),),) * 7)
    saturday_noon = datetime(2024, 3, 30, 12, tzinfo=BERLIN)
    sunday_noon = datetime(2024, 3, 31, 12, tzinfo=BERLIN)
    assert working_minutes_between(hours, saturday_noon, sunday_noon) == 23 * 60
    assert add_working_minutes(hours, saturday_noon, 23 * 60) == sunday_noon


def test_working_minutes_between_spans_the_weekend() -> None:
    hours = moscow_weekdays()
    assert working_minutes_between(hours, at(FRI, 19), at(MON, 11)) == 120
    assert working_minutes_between(hours, at(MON, 11), at(FRI, 19)) == 0
    assert working_minutes_between(hours, at(FRI, 19), at(FRI, 19)) == 0


def test_naive_datetimes_are_rejected() -> None:
    hours = moscow_weekdays()
    naive = at(FRI, 12).replace(tzinfo=None)
    with pytest.raises(ValueError, match="aware"):
        is_working_time(hours, naive)
    with pytest.raises(ValueError, match="aware"):
        next_working_time(hours, naive)
    with pytest.raises(ValueError, match="aware"):
        add_working_minutes(hours, naive, 5)
    with pytest.raises(ValueError, match="aware"):
        working_minutes_between(hours, at(FRI, 12), naive)


def test_negative_minutes_are_rejected() -> None:
    with pytest.raises(ValueError, match="minutes"):
        add_working_minutes(moscow_weekdays(), at(FRI, 12), -1)


def test_weekly_schedule_needs_seven_days() -> None:
    with pytest.raises(ValueError, match="7 entries"):
        ClinicHours(MOSCOW, (DAY_10_20,) * 6)


def test_clinic_without_hours_raises_no_working_time() -> None:
    hours = ClinicHours(MOSCOW, (CLOSED,) * 7, exceptions={FRI: DAY_10_20})
    assert issubclass(NoWorkingTime, ValueError)
    with pytest.raises(NoWorkingTime):
        next_working_time(hours, at(SAT, 12))
    with pytest.raises(NoWorkingTime):
        add_working_minutes(hours, at(FRI, 19, 58), 5)
    assert not is_working_time(hours, at(SAT, 12))
    assert working_minutes_between(hours, at(FRI, 19), at(SAT, 19)) == 60


# --- properties --------------------------------------------------------------------------------

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
DST_CHANGES = [
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2025, 3, 30, 1, tzinfo=UTC),
    datetime(2025, 10, 26, 1, tzinfo=UTC),
]

wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    """15 min .. 12 h; crossing midnight makes it overnight."""
    start = draw(wall_times)
    end = (start.hour * 60 + start.minute + draw(st.integers(1, 48)) * 15) % (24 * 60)
    return start, time(end // 60, end % 60)


day_schedules = st.lists(intervals(), max_size=3).map(tuple)

minute_instants = st.one_of(
    st.integers(0, 2 * 365 * 24 * 4).map(lambda q: EPOCH + timedelta(minutes=15 * q)),
    st.integers(0, 2 * 365 * 24 * 60).map(lambda m: EPOCH + timedelta(minutes=m)),
    st.tuples(st.sampled_from(DST_CHANGES), st.integers(-3 * 24 * 60, 3 * 24 * 60)).map(
        lambda p: p[0] + timedelta(minutes=p[1])
    ),
)
instants = st.one_of(
    minute_instants,
    st.tuples(minute_instants, st.integers(0, 60_000_000)).map(
        lambda p: p[0] + timedelta(microseconds=p[1])
    ),
)
minutes = st.one_of(
    st.integers(0, 1500),
    st.integers(0, 1500 * 60).map(lambda s: s / 60),
)


@st.composite
def clinic_hours(
    draw: st.DrawFn, around: datetime, zones: tuple[ZoneInfo, ...] = ZONES
) -> ClinicHours:
    """Random weekly schedule (never entirely closed), exceptions near `around`, evening duty."""
    tz = draw(st.sampled_from(zones))
    weekly = draw(st.lists(day_schedules, min_size=7, max_size=7))
    if not any(weekly):
        weekly[draw(st.integers(0, 6))] = (draw(intervals()),)
    near = around.astimezone(tz).date()
    exceptions = draw(
        st.dictionaries(
            st.integers(-2, 14).map(lambda n: near + timedelta(days=n)),
            st.lists(intervals(), max_size=2).map(tuple),
            max_size=4,
        )
    )
    duty = draw(st.none() | intervals())
    duty_days = draw(st.frozensets(st.integers(0, 6)))
    return ClinicHours(tz, tuple(weekly), exceptions, duty, duty_days)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ClinicHours, datetime]:
    """Hours plus a start instant, expressed in a random one of the zones."""
    start = draw(instants)
    hours = draw(clinic_hours(start))
    return hours, start.astimezone(draw(st.sampled_from(ZONES)))


def assert_minutes_equal(actual: float, expected: float) -> None:
    assert abs(actual - expected) <= 1e-6, (actual, expected)


def utc(moment: datetime) -> datetime:
    """Compare and add in UTC: same-zone datetime arithmetic is wall-clock and ignores DST."""
    return moment.astimezone(UTC)


@settings(max_examples=250, deadline=None, database=None)
@given(scenarios(), minutes)
def test_adding_minutes_elapses_exactly_that_much_working_time(
    scenario: tuple[ClinicHours, datetime], m: float
) -> None:
    hours, start = scenario
    result = add_working_minutes(hours, start, m)
    assert utc(result) >= utc(start)
    assert result.tzinfo is hours.timezone
    assert_minutes_equal(working_minutes_between(hours, start, result), m)
    if m > 0:  # the deadline is reached while working (or exactly at a closing time)
        assert is_working_time(hours, utc(result) - timedelta(microseconds=1))


@settings(max_examples=100, deadline=None, database=None)
@given(scenarios(), minutes, minutes)
def test_adding_more_minutes_never_gives_an_earlier_deadline(
    scenario: tuple[ClinicHours, datetime], a: float, b: float
) -> None:
    hours, start = scenario
    a, b = min(a, b), max(a, b)
    assert utc(add_working_minutes(hours, start, a)) <= utc(add_working_minutes(hours, start, b))


@settings(max_examples=100, deadline=None, database=None)
@given(scenarios(), st.integers(0, 3 * 24 * 60 * 60), minutes)
def test_a_later_start_never_gives_an_earlier_deadline(
    scenario: tuple[ClinicHours, datetime], delay: int, m: float
) -> None:
    hours, start = scenario
    later = utc(start) + timedelta(seconds=delay)
    assert utc(add_working_minutes(hours, start, m)) <= utc(add_working_minutes(hours, later, m))


@settings(max_examples=100, deadline=None, database=None)
@given(scenarios(), minutes, minutes.filter(lambda b: b > 0))
def test_adding_in_two_steps_equals_adding_at_once(
    scenario: tuple[ClinicHours, datetime], a: float, b: float
) -> None:
    hours, start = scenario
    two_steps = add_working_minutes(hours, add_working_minutes(hours, start, a), b)
    assert utc(two_steps) == utc(add_working_minutes(hours, start, a + b))


@settings(max_examples=250, deadline=None, database=None)
@given(scenarios())
def test_working_time_is_exactly_where_working_minutes_accrue(
    scenario: tuple[ClinicHours, datetime],
) -> None:
    hours, t = scenario
    working = is_working_time(hours, t)
    assert working == (working_minutes_between(hours, t, utc(t) + timedelta(microseconds=1)) > 0)
    if t.second == 0 and t.microsecond == 0:  # interval bounds are whole minutes
        assert working == (working_minutes_between(hours, t, utc(t) + timedelta(seconds=1)) > 0)


@settings(max_examples=250, deadline=None, database=None)
@given(scenarios())
def test_next_working_time_is_working_and_nothing_is_skipped_before_it(
    scenario: tuple[ClinicHours, datetime],
) -> None:
    hours, t = scenario
    nxt = next_working_time(hours, t)
    assert utc(nxt) >= utc(t)
    assert is_working_time(hours, nxt)
    assert working_minutes_between(hours, t, nxt) == 0
    assert (utc(nxt) == utc(t)) == is_working_time(hours, t)
    assert utc(add_working_minutes(hours, t, 0)) == utc(nxt)


@settings(max_examples=150, deadline=None, database=None)
@given(scenarios(), st.data())
def test_within_one_interval_the_deadline_is_plain_clock_time(
    scenario: tuple[ClinicHours, datetime], data: st.DataObject
) -> None:
    hours, t = scenario
    spans = [
        (utc(start), utc(end))
        for start, end in day_intervals(hours, t.astimezone(hours.timezone).date())
    ]
    assume(spans)
    start, end = data.draw(st.sampled_from(spans))
    length = (end - start) // timedelta(microseconds=1)
    inside = start + timedelta(microseconds=data.draw(st.integers(0, length - 1)))
    m = data.draw(st.integers(0, (end - inside) // timedelta(seconds=1))) / 60
    assert is_working_time(hours, inside)
    assert utc(add_working_minutes(hours, inside, m)) == inside + timedelta(minutes=m)


@settings(max_examples=150, deadline=None, database=None)
@given(scenarios())
def test_day_intervals_are_sorted_disjoint_and_start_that_day(
    scenario: tuple[ClinicHours, datetime],
) -> None:
    hours, t = scenario
    day = t.astimezone(hours.timezone).date()
    spans = day_intervals(hours, day)
    for start, end in spans:
        assert utc(start) < utc(end)
        assert end.date() <= day + timedelta(days=1)  # merged overnight intervals end next day
        assert start.tzinfo is hours.timezone and end.tzinfo is hours.timezone
        assert start.date() == day
        assert is_working_time(hours, start)
    for (_, end), (start, _) in pairwise(spans):
        assert utc(end) < utc(start)


@settings(max_examples=100, deadline=None, database=None)
@given(scenarios(), st.sampled_from(ZONES))
def test_the_input_timezone_does_not_matter(
    scenario: tuple[ClinicHours, datetime], other: ZoneInfo
) -> None:
    hours, t = scenario
    moved = t.astimezone(other)
    assert utc(add_working_minutes(hours, moved, 30)) == utc(add_working_minutes(hours, t, 30))
    assert utc(next_working_time(hours, moved)) == utc(next_working_time(hours, t))
    assert is_working_time(hours, moved) == is_working_time(hours, t)


# A plain wall-clock model, valid where the clinic timezone has no DST transitions.

NO_DST = (MOSCOW, VLADIVOSTOK, ZoneInfo("UTC"))
QUARTER = timedelta(minutes=15)


def model_is_working(hours: ClinicHours, moment: datetime) -> bool:
    local = moment.astimezone(hours.timezone)
    for day in (local.date() - timedelta(days=1), local.date()):
        if day in hours.exceptions:
            wall = list(hours.exceptions[day])
        else:
            wall = list(hours.weekly[day.weekday()])
            if hours.evening_duty and day.weekday() in hours.evening_duty_weekdays:
                wall.append(hours.evening_duty)
        for start, end in wall:
            closing_day = day + timedelta(days=1) if end <= start else day
            opens = datetime.combine(day, start, tzinfo=hours.timezone)
            closes = datetime.combine(closing_day, end, tzinfo=hours.timezone)
            if opens <= local < closes:
                return True
    return False


@st.composite
def quarter_hour_scenarios(draw: st.DrawFn) -> tuple[ClinicHours, datetime]:
    start = EPOCH + QUARTER * draw(st.integers(0, 2 * 365 * 24 * 4))
    return draw(clinic_hours(start, zones=NO_DST)), start


@settings(max_examples=60, deadline=None, database=None)
@given(quarter_hour_scenarios(), st.integers(0, 16))
def test_results_agree_with_a_quarter_hour_wall_clock_model(
    scenario: tuple[ClinicHours, datetime], quarters: int
) -> None:
    hours, start = scenario
    t, remaining = start, quarters
    while not quarters and not model_is_working(hours, t):
        t += QUARTER
    while remaining:  # stops at the end of the last working quarter, not at the next opening
        remaining -= model_is_working(hours, t)
        t += QUARTER
    assert add_working_minutes(hours, start, 15 * quarters) == t
    window = [start + QUARTER * i for i in range(4 * 24 * 3)]
    working = sum(model_is_working(hours, q) for q in window)
    assert working_minutes_between(hours, start, start + QUARTER * len(window)) == 15 * working
    assert all(is_working_time(hours, q) == model_is_working(hours, q) for q in window[:96])
