"""Send windows in the clinic's time zone, with and without DST."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from campaigns.windows import send_time, send_window

BERLIN, MOSCOW = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/Moscow")


def window(tz: str, **kwargs):
    return send_window(tz=tz, send_from=time(9), send_until=time(21),
                       transactional=kwargs.pop("transactional", False), **kwargs)


@pytest.mark.parametrize(("day", "utc_hour"), [(28, 8), (29, 7), (30, 7)])
def test_nine_in_the_morning_stays_nine_across_the_spring_dst_change(day, utc_hour):
    due = datetime(2026, 3, day, 0, 0, tzinfo=BERLIN)
    at = send_time(window("Europe/Berlin"), due, now=due)
    assert at.astimezone(BERLIN).time() == time(9)
    assert at.astimezone(UTC).hour == utc_hour


def test_nine_in_the_morning_stays_nine_across_the_autumn_dst_change():
    due = datetime(2026, 10, 25, 3, 0, tzinfo=BERLIN)  # the night the clocks go back
    at = send_time(window("Europe/Berlin"), due, now=due)
    assert at == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_a_dst_free_zone_keeps_its_offset_all_year():
    for month in (1, 7):
        due = datetime(2026, month, 10, 22, 0, tzinfo=MOSCOW)
        at = send_time(window("Europe/Moscow"), due, now=due)
        assert at == datetime(2026, month, 11, 6, 0, tzinfo=UTC)


def test_inside_the_window_a_message_goes_at_once():
    due = datetime(2026, 11, 24, 12, 30, tzinfo=MOSCOW)
    assert send_time(window("Europe/Moscow"), due, now=due) == due


def test_the_patients_evening_and_weekend_narrow_a_non_transactional_window():
    w = window("Europe/Moscow", time_of_day="evening", days=[5, 6])
    due = datetime(2026, 11, 24, 10, 0, tzinfo=MOSCOW)  # Tuesday
    assert send_time(w, due, now=due) == datetime(2026, 11, 28, 17, 0, tzinfo=MOSCOW)


def test_the_patients_slot_does_not_narrow_a_reminder():
    w = window("Europe/Moscow", time_of_day="evening", days=[5, 6], transactional=True)
    due = datetime(2026, 11, 24, 10, 0, tzinfo=MOSCOW)
    assert send_time(w, due, now=due) == due


def test_a_message_that_cannot_be_deferred_past_its_deadline_is_pulled_back_or_dropped():
    w = window("Europe/Moscow", transactional=True)
    visit = datetime(2026, 11, 25, 8, 30, tzinfo=MOSCOW)
    due = datetime(2026, 11, 25, 6, 30, tzinfo=MOSCOW)
    evening = datetime(2026, 11, 24, 20, 59, tzinfo=MOSCOW)
    assert send_time(w, due, deadline=visit, now=datetime(2026, 11, 24, 12, tzinfo=MOSCOW)) \
        == evening
    assert send_time(w, due, deadline=visit, now=due) is None  # the evening has passed


def test_a_window_from_midnight_to_midnight_is_the_whole_day():
    w = send_window(tz="Europe/Moscow", send_from=time(0), send_until=time(0),
                    transactional=False)
    for hour in (0, 3, 23):
        due = datetime(2026, 11, 24, hour, 30, tzinfo=MOSCOW)
        assert send_time(w, due, now=due) == due


def test_an_overnight_window_is_open_after_midnight():
    w = send_window(tz="Europe/Moscow", send_from=time(21), send_until=time(7),
                    transactional=True)
    night = datetime(2026, 11, 24, 2, 0, tzinfo=MOSCOW)
    assert send_time(w, night, now=night) == night
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=MOSCOW)
    assert send_time(w, noon, now=noon) == datetime(2026, 11, 24, 21, 0, tzinfo=MOSCOW)
