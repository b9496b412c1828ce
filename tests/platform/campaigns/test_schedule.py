"""Schedules over a whole year in three zones: a daily 02:30 run happens exactly once per local
day, including the day whose 02:30 does not exist (run at 03:00, when the clocks jump) and the
day whose 02:30 happens twice (run once, at the first one); weekly and monthly rules."""
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.schedule import (Schedule, ScheduleError, local_to_utc, occurrence_latest, occurrence_next,
                                occurrences_between, occurrences_preview, schedule_describe, schedule_validate)

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney"]
# (skipped 02:30 day, repeated 02:30 day) in 2026; Berlin/NY change at 02:00 local, Sydney too.
DST_DAYS = {
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Australia/Sydney": (date(2026, 10, 4), date(2026, 4, 5)),
}


def _year(schedule: Schedule, zone: ZoneInfo) -> list[datetime]:
    start = datetime(2026, 1, 1, tzinfo=zone)
    return occurrences_between(schedule, start=start - timedelta(microseconds=1),
                               end=datetime(2027, 1, 1, tzinfo=zone) - timedelta(microseconds=1), cap=400)


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("kind, expression", [("cron", "30 2 * * *"), ("rrule", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30")])
def test_daily_0230_runs_exactly_once_per_local_day_for_a_year(zone_name, kind, expression):
    zone = ZoneInfo(zone_name)
    schedule = Schedule(kind, expression, zone_name, starts_at=datetime(2025, 12, 1, tzinfo=UTC))
    runs = _year(schedule, zone)
    local = [r.astimezone(zone) for r in runs]
    days = Counter(t.date() for t in local)
    assert len(runs) == 365 and set(days.values()) == {1}
    assert days.keys() == {date(2026, 1, 1) + timedelta(days=i) for i in range(365)}
    assert runs == sorted(set(runs))  # strictly increasing, no duplicate instant
    skipped_day, repeated_day = DST_DAYS[zone_name]
    for t in local:
        if t.date() == skipped_day:
            assert t.time() == time(3, 0)  # 02:30 does not exist: the first valid instant after it
        else:
            assert t.time() == time(2, 30)
    repeated = next(t for t in local if t.date() == repeated_day)
    # The first of the two 02:30s: still on summer time (the larger UTC offset).
    assert repeated.utcoffset() == max(repeated.utcoffset(), (repeated + timedelta(hours=2)).utcoffset())
    assert repeated.fold == 0


@pytest.mark.parametrize("zone_name", ZONES)
def test_weekly_monday_0900_is_52_mondays_at_0900_local(zone_name):
    zone = ZoneInfo(zone_name)
    runs = [r.astimezone(zone) for r in _year(Schedule("cron", "0 9 * * 1", zone_name), zone)]
    assert len(runs) == 52
    assert {(t.weekday(), t.time()) for t in runs} == {(0, time(9, 0))}
    assert all((b.date() - a.date()).days == 7 for a, b in zip(runs, runs[1:]))


@pytest.mark.parametrize("kind, expression", [("cron", "0 9 31 * *"), ("rrule", "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9")])
def test_monthly_on_the_31st_skips_months_without_one(kind, expression):
    zone = ZoneInfo("Europe/Berlin")
    schedule = Schedule(kind, expression, "Europe/Berlin", starts_at=datetime(2025, 12, 1, tzinfo=UTC))
    runs = [r.astimezone(zone) for r in _year(schedule, zone)]
    assert [t.month for t in runs] == [1, 3, 5, 7, 8, 10, 12]
    assert {(t.day, t.hour) for t in runs} == {(31, 9)}


@pytest.mark.parametrize("kind, expression", [("cron", "0 9 L * *"), ("rrule", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9")])
def test_last_day_of_month_is_the_documented_alternative(kind, expression):
    zone = ZoneInfo("America/New_York")
    schedule = Schedule(kind, expression, "America/New_York", starts_at=datetime(2025, 12, 1, tzinfo=UTC))
    runs = [r.astimezone(zone) for r in _year(schedule, zone)]
    assert [(t.month, t.day) for t in runs][:3] == [(1, 31), (2, 28), (3, 31)] and len(runs) == 12


def test_hourly_rule_collapses_the_skipped_hour_and_runs_the_repeated_hour_once():
    zone = ZoneInfo("Europe/Berlin")
    schedule = Schedule("cron", "0 * * * *", "Europe/Berlin")
    spring = occurrences_between(schedule, start=datetime(2026, 3, 29, 0, tzinfo=zone),
                                 end=datetime(2026, 3, 29, 5, tzinfo=zone))
    assert [t.astimezone(zone).strftime("%H:%M%z") for t in spring] == [
        "01:00+0100", "03:00+0200", "04:00+0200", "05:00+0200"]
    autumn = occurrences_between(schedule, start=datetime(2026, 10, 25, 0, tzinfo=zone),
                                 end=datetime(2026, 10, 25, 4, tzinfo=zone))
    assert [t.astimezone(zone).strftime("%H:%M%z") for t in autumn] == [
        "01:00+0200", "02:00+0200", "03:00+0100", "04:00+0100"]


def test_local_to_utc_rules():
    zone = ZoneInfo("America/New_York")
    assert local_to_utc(datetime(2026, 3, 8, 2, 30), zone) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), zone) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # EDT


def test_catch_up_picks_the_latest_missed_occurrence():
    schedule = Schedule("cron", "*/5 * * * *", "UTC")
    now = datetime(2026, 5, 1, 12, 17, 30, tzinfo=UTC)
    assert occurrence_latest(schedule, at_or_before=now) == datetime(2026, 5, 1, 12, 15, tzinfo=UTC)
    assert occurrence_latest(schedule, at_or_before=datetime(2026, 5, 1, 12, 15, tzinfo=UTC)) == \
        datetime(2026, 5, 1, 12, 15, tzinfo=UTC)
    assert occurrence_next(schedule, after=datetime(2026, 5, 1, 12, 15, tzinfo=UTC)) == \
        datetime(2026, 5, 1, 12, 20, tzinfo=UTC)


def test_start_and_end_bound_the_occurrences():
    start, end = datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 6, 12, tzinfo=UTC)
    schedule = Schedule("cron", "0 9 * * *", "UTC", starts_at=start, ends_at=end)
    assert [t.day for t in occurrences_preview(schedule, after=datetime(2026, 1, 1, tzinfo=UTC))] == [4, 5, 6]
    assert occurrence_latest(schedule, at_or_before=datetime(2026, 5, 3, tzinfo=UTC)) is None


def test_seconds_rule_for_fast_drills():
    start = datetime(2026, 5, 1, 12, 0, 3, tzinfo=UTC)
    schedule = Schedule("rrule", "FREQ=SECONDLY;INTERVAL=10", "UTC", starts_at=start)
    assert [t.second for t in occurrences_preview(schedule, after=start, count=3)] == [13, 23, 33]


@pytest.mark.parametrize("schedule, message", [
    (Schedule("cron", "61 * * * *", "UTC"), "cron"),
    (Schedule("cron", "0 9 * * *", "Mars/Olympus"), "time zone"),
    (Schedule("rrule", "FREQ=SOMETIMES", "UTC"), "RRULE"),
    (Schedule("cron", "* * * * *", "UTC"), "at most every 3600 seconds"),
    (Schedule("cron", "0 9 * * *", "UTC", ends_at=datetime(2020, 1, 1, tzinfo=UTC)), "no future run"),
])
def test_bad_schedules_are_refused_with_a_readable_reason(schedule, message):
    with pytest.raises(ScheduleError, match=message):
        schedule_validate(schedule, now=datetime(2026, 5, 1, tzinfo=UTC), min_interval=3600)


def test_readable_preview():
    assert schedule_describe(Schedule("cron", "0 9 * * 1", "Europe/Berlin")) == \
        "At 09:00, only on Monday (Europe/Berlin)"
    assert schedule_describe(Schedule("rrule", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9", "UTC")) == \
        "Every week on MO at 09:00 (UTC)"


@pytest.mark.parametrize("expression, message", [
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never happens"),     # dateutil alone would walk to 9999
    ("FREQ=HOURLY;BYMONTH=4,6;BYMONTHDAY=31", "never happens"),
    ("FREQ=DAILY;BYYEARDAY=100", "not supported"),
    ("FREQ=MINUTELY;INTERVAL=90", "FREQ=HOURLY or longer"),
])
def test_costly_or_impossible_rules_are_refused_at_once(expression, message):
    import time

    started = time.monotonic()
    with pytest.raises(ScheduleError, match=message):
        schedule_validate(Schedule("rrule", expression, "UTC", starts_at=datetime(2026, 5, 1, tzinfo=UTC)),
                          now=datetime(2026, 5, 1, tzinfo=UTC), min_interval=60)
    assert time.monotonic() - started < 1


def test_rrule_parts_left_out_do_not_inherit_the_start_minute():
    start = datetime(2026, 5, 1, 12, 48, 13, tzinfo=UTC)
    schedule = Schedule("rrule", "FREQ=DAILY;BYHOUR=9", "UTC", starts_at=start)
    assert occurrence_next(schedule, after=start) == datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
