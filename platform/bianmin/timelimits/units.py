"""Counting in each unit of a limit: where a period ends, how much a pause takes, what is left.

One small class per unit (working_day, natural_day, working_hour, same_day, immediate), each
built on the calendar's O(1) arithmetic, so a deadline costs a few index lookups however long
the period and however many pauses it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from ..calendar import Calendar
from ..packs.model import Duration
from .events import ClockError

_US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True, slots=True, init=False)
class Due:
    """A deadline: ``day`` is its last day; ``raw`` the unrolled end of a natural-day period
    (before 民法典 §203 moves it off a rest day); ``at`` the moment, for hour limits."""

    day: date
    raw: date
    at: datetime | None = None


def _due_init() -> Any:
    # A frozen dataclass's __init__ sets each field through object.__setattr__; every deadline
    # step builds a Due, so this one sets the slots directly (about twice as fast).
    set_day, set_raw, set_at = (Due.__dict__[f].__set__ for f in ("day", "raw", "at"))

    def __init__(self: Due, day: date, raw: date, at: datetime | None = None) -> None:
        set_day(self, day)
        set_raw(self, raw)
        set_at(self, at)

    __init__.__qualname__ = "Due.__init__"
    return __init__


Due.__init__ = _due_init()  # type: ignore[method-assign]


class Meter:
    """Working days (行政许可法 §82): the base class; the others change what differs."""

    unit = "working_day"
    word = "working day"

    def __init__(self, calendar: Calendar, periods: tuple[tuple[time, time], ...] = ()) -> None:
        self.cal = calendar
        self.periods = periods

    def end(self, start: datetime, value: float) -> Due:
        day = self.cal.add(start.date(), int(value))
        return Due(day, day)

    def lost(self, paused: datetime, resumed: datetime) -> float:
        """Units that a pause from ``paused`` to ``resumed`` takes out of the count."""
        return self.cal.between(paused.date(), resumed.date())

    def shift(self, due: Due, amount: float) -> Due:
        day = self.cal.add(due.day, int(amount)) if amount else due.day
        return Due(day, day, _same_time(due.at, day))

    def passed(self, now: datetime, due: Due) -> bool:
        return now.date() > due.day

    def remaining(self, now: datetime, due: Due) -> float:
        return working_days_left(self.cal, now.date(), due.day)

    def measure(self, old: Due, new: Due) -> float:
        return self.cal.between(old.day, new.day)

    def extend(self, due: Due, by: Duration | None, until: date | None) -> Due:
        if until is not None:
            day = self.cal.add(until, 0)  # a rest day as the new last day moves to the next working day
            return Due(day, day, _same_time(due.at, day))
        assert by is not None
        if by.unit == "working_day":
            return self.shift(due, by.value)
        if by.unit == "natural_day":
            day = self.cal.add(due.day, by.value, "natural_day")
            return Due(day, day, _same_time(due.at, day))
        raise ClockError(f"an extension of a {self.word} limit is given in days, not {by.unit}")


class NaturalDays(Meter):
    """Calendar days; a period whose last day is a rest day ends on the next working day (§203)."""

    unit, word = "natural_day", "natural day"

    def _roll(self, raw: date) -> Due:
        return Due(raw if self.cal.is_workday(raw) else self.cal.add(raw, 1), raw)

    def end(self, start: datetime, value: float) -> Due:
        return self._roll(start.date() + timedelta(days=int(value)))

    def lost(self, paused: datetime, resumed: datetime) -> float:
        return (resumed.date() - paused.date()).days

    def shift(self, due: Due, amount: float) -> Due:
        return self._roll(due.raw + timedelta(days=int(amount)))

    def remaining(self, now: datetime, due: Due) -> float:
        return (due.day - now.date()).days

    def measure(self, old: Due, new: Due) -> float:
        return (new.raw - old.raw).days

    def extend(self, due: Due, by: Duration | None, until: date | None) -> Due:
        if until is not None:
            return self._roll(until)
        assert by is not None
        if by.unit == "natural_day":
            return self.shift(due, by.value)
        if by.unit == "working_day":
            day = self.cal.add(due.day, by.value)
            return Due(day, day)
        raise ClockError(f"an extension of a natural-day limit is given in days, not {by.unit}")


class WorkingHours(Meter):
    """Office hours of working days (``pack.office_hours``), across lunch, nights and rest days."""

    unit, word = "working_hour", "working hour"

    def __init__(self, calendar: Calendar, periods: tuple[tuple[time, time], ...]) -> None:
        if not periods:
            raise ClockError("a working_hour limit counts office hours, but the pack has no office_hours")
        super().__init__(calendar, periods)

    def _at(self, moment: datetime) -> Due:
        return Due(moment.date(), moment.date(), moment)

    def end(self, start: datetime, value: float) -> Due:
        return self._at(self.cal.add_working_hours(start, value, self.periods))

    def lost(self, paused: datetime, resumed: datetime) -> float:
        return working_hours_between(self.cal, self.periods, paused, resumed)

    def shift(self, due: Due, amount: float) -> Due:
        assert due.at is not None
        return self._at(self.cal.add_working_hours(due.at, amount, self.periods))

    def passed(self, now: datetime, due: Due) -> bool:
        assert due.at is not None
        return now > due.at

    def remaining(self, now: datetime, due: Due) -> float:
        assert due.at is not None
        return round(working_hours_between(self.cal, self.periods, now, due.at), 2)

    def measure(self, old: Due, new: Due) -> float:
        assert old.at is not None and new.at is not None
        return working_hours_between(self.cal, self.periods, old.at, new.at)

    def extend(self, due: Due, by: Duration | None, until: date | None) -> Due:
        if until is not None:
            day = self.cal.add(until, 0)
            return self._at(datetime.combine(day, self.periods[-1][1], (due.at or datetime.min).tzinfo))
        assert by is not None
        if by.unit == "working_hour":
            return self.shift(due, by.value)
        if by.unit == "working_day":
            return self.shift(due, by.value * hours_per_day(self.periods))
        raise ClockError("an extension of a working-hour limit is given in working hours or working days")


class SameDay(Meter):
    """当日办结: by the end of the start day, or of the next working day when it is a rest day."""

    unit, word = "same_day", "working day"

    def end(self, start: datetime, value: float) -> Due:
        day = self.cal.add(start.date(), 0)
        close = self.periods[-1][1] if self.periods else None
        return Due(day, day, datetime.combine(day, close, start.tzinfo) if close else None)


class Immediate(Meter):
    """当场办结: due on the start day itself; a pause does not move it (nothing is left to pause)."""

    unit, word = "immediate", "working day"

    def end(self, start: datetime, value: float) -> Due:
        return Due(start.date(), start.date())

    def lost(self, paused: datetime, resumed: datetime) -> float:
        return 0

    def remaining(self, now: datetime, due: Due) -> float:
        return working_days_left(self.cal, now.date(), due.day)


METERS: dict[str, type[Meter]] = {
    "working_day": Meter, "natural_day": NaturalDays, "working_hour": WorkingHours,
    "same_day": SameDay, "immediate": Immediate,
}


def meter_for(unit: str, calendar: Calendar, periods: tuple[tuple[time, time], ...]) -> Meter:
    return METERS[unit](calendar, periods)


def working_days_left(cal: Calendar, today: date, last: date) -> int:
    """Working days after ``today`` up to ``last``; once past, minus the working days late, the one
    under way included (so a Saturday after a Friday deadline is already 1 day late, not 0)."""
    if today <= last:
        return cal.between(today, last)
    return -cal.between(last, cal.add(today, 0))


def hours_per_day(periods: tuple[tuple[time, time], ...]) -> float:
    return sum(_us(b) - _us(a) for a, b in periods) / _US_PER_HOUR


def working_hours_between(cal: Calendar, periods: tuple[tuple[time, time], ...],
                          a: datetime, b: datetime) -> float:
    """Office hours in (a, b] on working days; negative when b < a. O(1) in the span."""
    if b < a:
        return -working_hours_between(cal, periods, b, a)
    spans = [(_us(p), _us(q)) for p, q in periods]
    if a.date() == b.date():
        us = _inside(spans, _us(a.time()), _us(b.time())) if cal.is_workday(a.date()) else 0
        return us / _US_PER_HOUR
    day = 24 * _US_PER_HOUR
    us = _inside(spans, _us(a.time()), day) if cal.is_workday(a.date()) else 0
    us += _inside(spans, 0, _us(b.time())) if cal.is_workday(b.date()) else 0
    whole = cal.between(a.date(), b.date() - timedelta(days=1))  # working days strictly between
    return (us + whole * sum(q - p for p, q in spans)) / _US_PER_HOUR


def _inside(spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    return sum(max(0, min(q, hi) - max(p, lo)) for p, q in spans)


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _same_time(at: datetime | None, day: date) -> datetime | None:
    return None if at is None else datetime.combine(day, at.timetz())
