"""The working-day calendar: hand-computed deadlines around the 2025/2026 holidays, pack years,
local overrides, coverage errors, provisional data and properties.

Official arrangements used below (国务院办公厅 notices, as carried by chinesecalendar 1.11):
2025 春节 01-28..02-04 off, make-up Sun 01-26 and Sat 02-08; 2025 国庆/中秋 10-01..10-08 off,
make-up Sun 09-28 and Sat 10-11; 2026 元旦 01-01..01-03 off, make-up Sun 01-04; 2026 春节
02-15..02-23 off, make-up Sat 02-14 and Sat 02-28; 2026 中秋 09-25..09-27 off; 2026 国庆
10-01..10-07 off, make-up Sun 09-20 and Sat 10-10.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bianmin.calendar import (
    PROVISIONAL_YEARS,
    Calendar,
    CalendarConfig,
    CalendarCoverageError,
    CalendarDay,
    CalendarYear,
)

D = date
NATIONAL = Calendar.build(CalendarConfig())
PROVISIONAL = Calendar.build(CalendarConfig(provisional_allowed=True))
LAST_YEAR = max(chinese_calendar.holidays).year  # 2026 with chinesecalendar 1.11
LOCAL = Calendar.build(CalendarConfig(overrides=(
    CalendarDay(D(2026, 3, 10), "closure", "系统升级停办", "test 示例"),
    *CalendarDay.span(D(2026, 4, 20), D(2026, 4, 21), "holiday", "三月三", "test 示例"),
    CalendarDay(D(2026, 3, 14), "workday", "集中办理日", "test 示例"),
)))
# Invented test data for a year the package does not know (NOT the real 2027 arrangement).
YEAR_2027 = CalendarYear(
    2027,
    holidays=((D(2027, 1, 1), "元旦"),) + tuple((d, "春节") for d in (
        D(2027, 2, 5) + timedelta(i) for i in range(7))),  # Fri 02-05 .. Thu 02-11
    workdays=(D(2027, 2, 20),),  # a Saturday
    source="test 示例(非官方)",
)
WITH_2027 = Calendar.build(CalendarConfig(years=(YEAR_2027,)))


@pytest.mark.parametrize(("start", "n", "expected"), [
    # Sat 01-25 is a rest day; Sun 01-26 is a make-up working day: the 1st.
    (D(2025, 1, 24), 1, D(2025, 1, 26)),
    # Start on a rest day: it is not counted (民法典 §201), the next working day is the 1st.
    # (chinese_calendar.find_workday(1, 2025-01-25) gives 01-27: it counts 01-26 as day 0.)
    (D(2025, 1, 25), 1, D(2025, 1, 26)),
    (D(2025, 1, 26), 1, D(2025, 1, 27)),  # Mon 01-27 is an ordinary working day
    (D(2025, 1, 27), 1, D(2025, 2, 5)),  # 01-28..02-04 off, Wed 02-05 first day back
    # 01-26 (1), 01-27 (2), 02-05 (3), 02-06 (4), 02-07 (5).
    (D(2025, 1, 24), 5, D(2025, 2, 7)),
    (D(2025, 1, 24), 6, D(2025, 2, 8)),  # Sat 02-08 is the second make-up day
    (D(2025, 1, 24), 7, D(2025, 2, 10)),  # Sun 02-09 rests, Mon 02-10
    (D(2025, 9, 26), 1, D(2025, 9, 28)),  # Sat 09-27 rests, Sun 09-28 is a make-up day
    (D(2025, 9, 30), 1, D(2025, 10, 9)),  # 10-01..10-08 off, Thu 10-09
    (D(2025, 9, 30), 3, D(2025, 10, 11)),  # 10-09 (1), 10-10 (2), Sat 10-11 make-up (3)
    (D(2025, 9, 30), 4, D(2025, 10, 13)),  # Sun 10-12 rests, Mon 10-13 (4)
    # §42's 20 days from Thu 09-25: 09-26, 09-28, 09-29, 09-30 (4); 10-09, 10-10, 10-11 (7);
    # 10-13..17 (12); 10-20..24 (17); 10-27, 10-28, 10-29 (20).
    (D(2025, 9, 25), 20, D(2025, 10, 29)),
    (D(2025, 12, 31), 1, D(2026, 1, 4)),  # 元旦 01-01..03 off, Sun 01-04 is a make-up day
    (D(2026, 1, 4), 1, D(2026, 1, 5)),
    (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Sat 02-14 is a make-up day before 春节
    (D(2026, 2, 14), 1, D(2026, 2, 24)),  # 02-15..02-23 off, Tue 02-24
    (D(2026, 2, 24), 4, D(2026, 2, 28)),  # 02-25, 02-26, 02-27, Sat 02-28 make-up
    (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Sat 09-19 rests, Sun 09-20 is a make-up day
    (D(2026, 9, 24), 1, D(2026, 9, 28)),  # 中秋 Fri 09-25..Sun 09-27 off
    (D(2026, 9, 30), 1, D(2026, 10, 8)),  # 国庆 10-01..10-07 off, Thu 10-08
    (D(2026, 9, 30), 3, D(2026, 10, 10)),  # 10-08, 10-09, Sat 10-10 make-up
    (D(2026, 9, 30), 4, D(2026, 10, 12)),  # Sun 10-11 rests
])
def test_add_working_days_around_holidays(start: date, n: int, expected: date) -> None:
    assert NATIONAL.add(start, n) == expected
    assert NATIONAL.between(start, expected) == n


@pytest.mark.parametrize(("start", "n", "expected"), [
    (D(2025, 9, 24), 7, D(2025, 10, 9)),  # last day 10-01 is 国庆: rest runs to 10-08 (§203)
    (D(2025, 2, 22), 7, D(2025, 3, 3)),  # last day Sat 03-01: ends Mon 03-03
    (D(2025, 1, 21), 5, D(2025, 1, 26)),  # last day Sun 01-26 is a make-up day: ends there
    (D(2026, 3, 2), 10, D(2026, 3, 12)),  # last day Thu 03-12, a working day
    (D(2026, 9, 16), 10, D(2026, 9, 28)),  # last day Sat 09-26 in 中秋: ends Mon 09-28
    (D(2026, 9, 20), 14, D(2026, 10, 8)),  # last day 10-04 in 国庆: ends Thu 10-08
])
def test_add_natural_days_ends_on_next_working_day(start: date, n: int, expected: date) -> None:
    assert NATIONAL.add(start, n, unit="natural_day") == expected


def test_add_zero_is_the_start_or_the_next_working_day() -> None:
    assert NATIONAL.add(D(2026, 10, 9), 0) == D(2026, 10, 9)
    assert NATIONAL.add(D(2026, 10, 3), 0) == D(2026, 10, 8)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        NATIONAL.add(D(2026, 3, 2), -1)
    with pytest.raises(ValueError):
        NATIONAL.add(D(2026, 3, 2), 1, unit="week")


def test_between_counts_after_start_up_to_end() -> None:
    # 02-14 (make-up), 02-24, 02-25, 02-26, 02-27, 02-28 (make-up) = 6
    assert NATIONAL.between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    assert NATIONAL.between(D(2025, 10, 29), D(2025, 9, 25)) == -20
    assert NATIONAL.between(D(2025, 9, 30), D(2025, 10, 8)) == 0  # all holiday
    assert NATIONAL.between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert NATIONAL.workdays(D(2026, 9, 30), D(2026, 10, 12)) == [
        D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12)]
    assert NATIONAL.next_workday(D(2026, 9, 30)) == D(2026, 10, 8)


@pytest.mark.parametrize(("day", "kind"), [
    (D(2026, 10, 3), "holiday:国庆节"),  # a Saturday inside the holiday is named as holiday
    (D(2026, 9, 25), "holiday:中秋"),
    (D(2026, 2, 17), "holiday:春节"),
    (D(2026, 1, 4), "makeup_workday"),
    (D(2026, 10, 10), "makeup_workday"),
    (D(2026, 10, 17), "weekend"),
    (D(2026, 10, 12), "workday"),
])
def test_day_kind_explains_each_day(day: date, kind: str) -> None:
    assert NATIONAL.day_kind(day) == kind
    assert NATIONAL.is_workday(day) == (kind in ("workday", "makeup_workday"))


PERIODS = ((time(8, 30), time(12)), (time(14), time(17, 30)))  # 7 office hours a day


@pytest.mark.parametrize(("start", "hours", "expected"), [
    (datetime(2026, 3, 6, 11), 2, datetime(2026, 3, 6, 15)),  # 1 h before lunch, 1 h after
    (datetime(2026, 3, 9, 12, 30), 1, datetime(2026, 3, 9, 15)),  # from lunch: counts from 14:00
    (datetime(2026, 3, 9, 8, 30), 3.5, datetime(2026, 3, 9, 12)),  # ends at 12:00, not 14:00
    # Fri 16:30: 1 h to 17:30, weekend skipped, Mon 08:30 + 3 h.
    (datetime(2026, 3, 6, 16, 30), 4, datetime(2026, 3, 9, 11, 30)),
    (datetime(2026, 3, 7, 10), 1, datetime(2026, 3, 9, 9, 30)),  # Saturday: from Mon 08:30
    (datetime(2026, 3, 6, 8, 30), 14, datetime(2026, 3, 9, 17, 30)),  # two whole days
    (datetime(2026, 3, 9, 18), 0.5, datetime(2026, 3, 10, 9)),  # after hours: next morning
    # Wed 09-30 17:00: 0.5 h, 国庆 off, Thu 10-08 7 h, Fri 10-09 0.5 h.
    (datetime(2026, 9, 30, 17), 8, datetime(2026, 10, 9, 9)),
])
def test_add_working_hours(start: datetime, hours: float, expected: datetime) -> None:
    assert NATIONAL.add_working_hours(start, hours, PERIODS) == expected


def test_add_working_hours_keeps_timezone_and_checks_periods() -> None:
    cst = timezone(timedelta(hours=8))
    assert NATIONAL.add_working_hours(datetime(2026, 3, 9, 12, tzinfo=cst), 1, PERIODS) == datetime(
        2026, 3, 9, 15, tzinfo=cst)
    with pytest.raises(ValueError):
        NATIONAL.add_working_hours(datetime(2026, 3, 9, 9), 1, ((time(9), time(12)), (time(11), time(13))))


def test_local_overrides() -> None:
    assert LOCAL.add(D(2026, 3, 9), 1) == D(2026, 3, 11)  # Tue 03-10 closed
    assert NATIONAL.add(D(2026, 3, 9), 1) == D(2026, 3, 10)
    assert LOCAL.day_kind(D(2026, 3, 10)) == "closure:系统升级停办"
    assert LOCAL.add(D(2026, 3, 13), 1) == D(2026, 3, 14)  # Sat 03-14 opened for the day
    assert LOCAL.day_kind(D(2026, 3, 14)) == "makeup_workday"
    # Fri 04-17 -> weekend 04-18/19, local holiday Mon 04-20 and Tue 04-21 -> Wed 04-22.
    assert LOCAL.add(D(2026, 4, 17), 1) == D(2026, 4, 22)
    assert LOCAL.day_kind(D(2026, 4, 21)) == "local_holiday:三月三"
    assert LOCAL.fingerprint != NATIONAL.fingerprint


def test_override_workday_on_a_national_holiday_and_duplicates() -> None:
    cal = Calendar.build(CalendarConfig(overrides=(
        CalendarDay(D(2026, 10, 2), "workday", "专项服务日", "test 示例"),)))
    assert cal.add(D(2026, 9, 30), 1) == D(2026, 10, 2)
    with pytest.raises(ValueError, match="2026-10-02"):
        Calendar.build(CalendarConfig(overrides=(
            CalendarDay(D(2026, 10, 2), "workday", "a", "test 示例"),
            CalendarDay(D(2026, 10, 2), "closure", "b", "test 示例"))))


def test_pack_year_extends_coverage() -> None:
    assert WITH_2027.coverage == (D(2004, 1, 1), D(2027, 12, 31))
    # 2026-12-20 is a Sunday: 12-21..25 (5), 12-28..31 (9); 2027-01-01 (元旦) off,
    # 01-04..08 (14), 01-11..15 (19), 01-18 (20).
    assert WITH_2027.add(D(2026, 12, 20), 20) == D(2027, 1, 18)
    assert not WITH_2027.is_provisional(D(2027, 1, 18))
    assert WITH_2027.add(D(2027, 2, 4), 1) == D(2027, 2, 12)  # 02-05..02-11 off
    assert WITH_2027.day_kind(D(2027, 2, 20)) == "makeup_workday"
    with pytest.raises(CalendarCoverageError, match="2028"):
        WITH_2027.is_workday(D(2028, 1, 3))


def test_pack_year_wins_over_the_package_for_the_whole_year() -> None:
    cal = Calendar.build(CalendarConfig(years=(
        CalendarYear(2026, ((D(2026, 10, 8), "国庆节"),), (), "test 示例"),)))
    assert not cal.is_workday(D(2026, 10, 8))
    assert cal.is_workday(D(2026, 10, 1))  # the pack's 2026 does not list it
    assert not cal.is_workday(D(2026, 10, 10))  # nor this make-up day
    assert cal.is_workday(D(2025, 10, 8)) is False  # other years still from the package


def test_bad_pack_years_are_refused() -> None:
    with pytest.raises(ValueError, match="2027"):  # 2028 without 2027 leaves a hole
        Calendar.build(CalendarConfig(years=(CalendarYear(2028, (), (), "test 示例"),)))
    with pytest.raises(ValueError, match="2026-05-01"):
        Calendar.build(CalendarConfig(years=(CalendarYear(2027, ((D(2026, 5, 1), "x"),), (), "t x"),)))
    with pytest.raises(ValueError):
        Calendar.build(CalendarConfig(provider="none"))


def test_provider_none_uses_only_the_pack_years() -> None:
    cal = Calendar.build(CalendarConfig(provider="none", years=(YEAR_2027,)))
    assert cal.coverage == (D(2027, 1, 1), D(2027, 12, 31))
    assert cal.add(D(2026, 12, 31), 1) == D(2027, 1, 4)  # start day itself needs no data
    with pytest.raises(CalendarCoverageError, match="2026"):
        cal.is_workday(D(2026, 6, 1))


def test_coverage_comes_from_the_package() -> None:
    first = min(chinese_calendar.holidays).year
    assert NATIONAL.coverage == (D(first, 1, 1), D(LAST_YEAR, 12, 31))
    assert NATIONAL.provisional_from is None


def test_running_past_the_data_names_the_missing_year() -> None:
    # 2026-12-20 (Sun) has only 9 working days left in 2026 (see above): 20 needs 2027.
    with pytest.raises(CalendarCoverageError) as info:
        NATIONAL.add(D(2026, 12, 20), 20)
    assert isinstance(info.value, LookupError) and info.value.year == 2027
    message = str(info.value)
    assert "2027 年的节假日安排尚未收录" in message and "calendar.years" in message
    assert "chinesecalendar" in message
    assert NATIONAL.add(D(2026, 12, 20), 9) == D(2026, 12, 31)


@pytest.mark.parametrize("call", [
    lambda: NATIONAL.is_workday(D(2027, 3, 1)),  # a Monday: must not be assumed a working day
    lambda: NATIONAL.add(D(2026, 12, 31), 1),
    lambda: NATIONAL.add(D(2026, 12, 25), 10, unit="natural_day"),  # ends 2027-01-04
    lambda: NATIONAL.between(D(2026, 12, 1), D(2027, 1, 5)),
    lambda: NATIONAL.day_kind(D(2027, 1, 1)),
    lambda: NATIONAL.add_working_hours(datetime(2026, 12, 31, 17), 2, PERIODS),
])
def test_everything_past_the_data_raises(call) -> None:
    with pytest.raises(CalendarCoverageError, match="2027"):
        call()


def test_before_the_data_raises_too() -> None:
    with pytest.raises(CalendarCoverageError, match="2003"):
        NATIONAL.is_workday(D(2003, 6, 2))


def test_provisional_mode() -> None:
    assert PROVISIONAL.provisional_from == D(LAST_YEAR + 1, 1, 1)
    assert PROVISIONAL.coverage == NATIONAL.coverage
    # Test dates in 2027/2028: valid while the installed package stops at 2026.
    if LAST_YEAR != 2026:
        pytest.skip("the package now knows 2027; the dates below are no longer provisional")
    # 2027-01-01 is a Friday, 2027-10-01..03 Fri..Sun; 2028-05-01/02 Mon/Tue, 2028-10-02/03 Mon/Tue.
    for rest in (D(2027, 1, 1), D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3),
                 D(2028, 5, 1), D(2028, 5, 2), D(2028, 10, 2), D(2028, 10, 3)):
        assert not PROVISIONAL.is_workday(rest), rest  # fixed-date statutory holidays
    assert PROVISIONAL.day_kind(D(2027, 1, 1)) == "holiday:元旦"
    assert PROVISIONAL.is_workday(D(2027, 10, 4))  # nothing guessed beyond the fixed dates
    # As with the pack year: 9 days in 2026, then Fri 01-01 off, ..., Mon 01-18 is the 20th.
    end = PROVISIONAL.add(D(2026, 12, 20), 20)
    assert end == D(2027, 1, 18) and PROVISIONAL.is_provisional(end)
    assert not PROVISIONAL.is_provisional(PROVISIONAL.add(D(2026, 12, 20), 9))
    assert PROVISIONAL.fingerprint != NATIONAL.fingerprint
    beyond = LAST_YEAR + PROVISIONAL_YEARS + 1
    with pytest.raises(CalendarCoverageError, match=str(beyond)):
        PROVISIONAL.is_workday(D(beyond, 1, 4))


def test_fingerprint_is_stable_and_tracks_changes() -> None:
    fresh = Calendar(CalendarConfig())  # not the cached instance
    assert fresh is not NATIONAL and fresh.fingerprint == NATIONAL.fingerprint
    moved = Calendar.build(CalendarConfig(overrides=(
        CalendarDay(D(2026, 3, 11), "closure", "系统升级停办", "test 示例"),)))
    assert len({moved.fingerprint, LOCAL.fingerprint, WITH_2027.fingerprint, NATIONAL.fingerprint}) == 4


def test_build_is_cached_and_accepts_lists() -> None:
    assert Calendar.build(CalendarConfig()) is NATIONAL
    listy = CalendarConfig(overrides=[CalendarDay(D(2026, 3, 10), "closure", "停办", "t x")])  # type: ignore[arg-type]
    assert Calendar.build(listy).add(D(2026, 3, 9), 1) == D(2026, 3, 11)


# -- properties ---------------------------------------------------------------------------------
CALENDARS = st.sampled_from([NATIONAL, LOCAL, WITH_2027, PROVISIONAL])
STARTS = st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 6, 30))
COUNTS = st.integers(min_value=1, max_value=100)  # stays inside 2026 from any start above


@given(CALENDARS, STARTS, COUNTS)
def test_add_then_between_round_trips(cal: Calendar, start: date, n: int) -> None:
    end = cal.add(start, n)
    assert cal.between(start, end) == n
    assert cal.between(end, start) == -n
    assert cal.add_ordinal(start.toordinal(), n) == end.toordinal()


@given(CALENDARS, STARTS, COUNTS)
def test_add_is_monotonic_and_lands_on_working_days(cal: Calendar, start: date, n: int) -> None:
    end = cal.add(start, n)
    assert start < end < cal.add(start, n + 1)
    assert cal.is_workday(end)
    assert cal.workdays(start, end)[-1] == end and len(cal.workdays(start, end)) == n


@given(STARTS, st.integers(min_value=1, max_value=30))
def test_add_matches_the_package_day_by_day(start: date, n: int) -> None:
    # Reference: step one day at a time from the day after start (民法典 §201).
    day, left = start, n
    while left:
        day += timedelta(days=1)
        left -= chinese_calendar.is_workday(day)
    assert NATIONAL.add(start, n) == day


@given(CALENDARS, STARTS, st.integers(min_value=0, max_value=150))
def test_natural_days_end_on_the_first_working_day_from_start_plus_n(
        cal: Calendar, start: date, n: int) -> None:
    end = cal.add(start, n, unit="natural_day")
    assert cal.is_workday(end) and end >= start + timedelta(days=n)
    day = start + timedelta(days=n)
    while day < end:  # every day skipped over is a rest day
        assert not cal.is_workday(day)
        day += timedelta(days=1)


@given(CALENDARS, st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 6, 30)),
       st.floats(min_value=0.25, max_value=200))
def test_working_hours_end_inside_office_hours(cal: Calendar, start: datetime, hours: float) -> None:
    end = cal.add_working_hours(start, hours, PERIODS)
    assert end > start and cal.is_workday(end.date())
    assert any(a < end.time() <= b for a, b in PERIODS)
    assert cal.add_working_hours(start, hours + 0.5, PERIODS) > end
