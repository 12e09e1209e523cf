"""Working-day calendar: the State Council's holidays plus a pack's own years and days.

Counting follows 民法典 §201/§203 and 行政许可法 §82 (docs/calendar.md): the start day is not
counted, and a natural-day period whose last day is a rest day ends on the next working day.
Every query is index arithmetic on a table built once, so deadlines for many cases stay cheap.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

PROVISIONAL_YEARS = 3  # how far past the official data a provisional deadline may reach
# 全国年节及纪念日放假办法 (2024 revision): only the fixed-date days; lunar festivals and 调休
# need the State Council's notice, so provisional data never guesses them.
_FIXED_HOLIDAYS = ((1, 1, "元旦"), (5, 1, "劳动节"), (5, 2, "劳动节"),
                   (10, 1, "国庆节"), (10, 2, "国庆节"), (10, 3, "国庆节"))
_KINDS = ("holiday", "workday", "closure")


@dataclass(frozen=True)
class CalendarDay:
    """One local override day of a pack (`calendar.overrides`; ranges expanded by the compiler)."""

    date: date
    kind: str  # "holiday" | "workday" | "closure"
    name: str
    source: str

    @classmethod
    def span(cls, first: date, last: date, kind: str, name: str, source: str) -> tuple[CalendarDay, ...]:
        """The days first..last (both included) as overrides: the YAML `{date, to}` form."""
        return tuple(cls(date.fromordinal(o), kind, name, source)
                     for o in range(first.toordinal(), last.toordinal() + 1))


@dataclass(frozen=True)
class CalendarYear:
    """A whole year's official arrangement, for a year the chinesecalendar package lacks."""

    year: int
    holidays: tuple[tuple[date, str], ...]  # each rest day with its festival name
    workdays: tuple[date, ...]  # make-up working days (调休)
    source: str


@dataclass(frozen=True)
class CalendarConfig:
    provider: str = "chinese_calendar"  # or "none": the pack gives every year itself
    years: tuple[CalendarYear, ...] = ()
    overrides: tuple[CalendarDay, ...] = ()
    provisional_allowed: bool = False


class CalendarCoverageError(LookupError):
    """A date the calendar has no holiday data for: never guess that a weekday is a working day."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year} 年的节假日安排尚未收录 (no holiday data for {year}): upgrade the "
            "chinesecalendar package, or add the year under calendar.years in the pack")


@functools.cache
def _official() -> tuple[int, int, dict[int, tuple[bool, str]]]:
    """The package's table, read once per process: (first year, last year, ordinal -> day)."""
    import chinese_calendar as cc

    # The dicts hold the English name that get_holiday_detail returns; the enum knows the Chinese.
    chinese = {h.value: h.chinese for h in cc.Holiday}
    days = {d.toordinal(): (False, "holiday:" + chinese.get(v, v)) for d, v in cc.holidays.items()}
    days.update({d.toordinal(): (True, "makeup_workday") for d in cc.workdays})
    years = [d.year for d in cc.holidays]  # the same keys the package checks its range against
    return min(years), max(years), days


class Calendar:
    """Working days over a contiguous range of years; build with `Calendar.build(config)`."""

    coverage: tuple[date, date]  # first and last day with official data
    provisional_from: date | None  # first day of provisional data; None when not allowed
    fingerprint: str  # changes whenever any deadline computed from this calendar could change

    @classmethod
    def build(cls, config: CalendarConfig) -> Calendar:
        try:
            hash(config)
        except TypeError:  # a config holding lists cannot be cached: build it anyway
            return cls(config)
        return _build_cached(config)

    def __init__(self, config: CalendarConfig) -> None:
        if config.provider not in ("chinese_calendar", "none"):
            raise ValueError(f"unknown calendar provider {config.provider!r}")
        days: dict[int, tuple[bool, str]] = {}  # ordinal -> (working?, day_kind label)
        years: set[int] = set()
        if config.provider == "chinese_calendar":
            first, last, official = _official()
            years.update(range(first, last + 1))
            days.update(official)
        pack_years = [y.year for y in config.years]
        if len(set(pack_years)) != len(pack_years):
            raise ValueError(f"calendar.years lists a year twice: {sorted(pack_years)}")
        # The pack's explicit year wins over the package's: it replaces the whole year.
        days = {o: v for o, v in days.items() if date.fromordinal(o).year not in pack_years}
        for cy in config.years:
            for d, name in cy.holidays:
                days[_in_year(d, cy.year)] = (False, f"holiday:{name}")
            for d in cy.workdays:
                days[_in_year(d, cy.year)] = (True, "makeup_workday")
        years.update(pack_years)
        if not years:
            raise ValueError("calendar provider 'none' needs calendar.years")
        lo, hi = min(years), max(years)
        gaps = sorted(set(range(lo, hi + 1)) - years)
        if gaps:  # a hole would make "no data" look like "ordinary weekdays"
            raise ValueError(f"calendar.years 不连续 (years not contiguous): {gaps[0]} is missing")
        end = hi
        self.provisional_from = None
        if config.provisional_allowed:
            self.provisional_from, end = date(hi + 1, 1, 1), hi + PROVISIONAL_YEARS
            for y in range(hi + 1, end + 1):
                for m, d, name in _FIXED_HOLIDAYS:
                    days[date(y, m, d).toordinal()] = (False, f"holiday:{name}")
        twice = sorted(str(d) for d, k in Counter(o.date for o in config.overrides).items() if k > 1)
        if twice:
            raise ValueError(f"calendar.overrides gives a day twice: {', '.join(twice)}")
        for o in config.overrides:
            if o.kind not in _KINDS:
                raise ValueError(f"calendar override {o.date}: kind must be one of {_KINDS}")
            key = o.date.toordinal()
            if o.kind == "workday":
                if not days.get(key, (_weekday_works(key), ""))[0]:  # a rest day made a working day
                    days[key] = (True, "makeup_workday")
            else:
                days[key] = (False, ("closure:" if o.kind == "closure" else "local_holiday:") + o.name)

        self._o0 = date(lo, 1, 1).toordinal()
        self._o1 = date(end, 12, 31).toordinal()
        self._cum: list[int] = [0]  # _cum[i]: working days among the first i days of the table
        self._wd: list[int] = []  # ordinals of the working days, in order
        self._labels: dict[int, str] = {}  # day_kind of the days that are not plain
        cum, wd = self._cum, self._wd
        for o in range(self._o0, self._o1 + 1):
            work, label = days.get(o, (_weekday_works(o), ""))
            if label:
                self._labels[o] = label
            if work:
                wd.append(o)
            cum.append(len(wd))
        self.coverage = (date(lo, 1, 1), date(hi, 12, 31))
        bitmap = bytes(cum[i + 1] - cum[i] for i in range(len(cum) - 1))
        h = hashlib.sha256(f"{self._o0}|{self._o1}|{self.provisional_from}|".encode() + bitmap)
        h.update(repr(sorted(self._labels.items())).encode())
        h.update(repr(sorted(config.overrides, key=lambda o: o.date)).encode())
        self.fingerprint = h.hexdigest()[:16]

    def is_provisional(self, d: date) -> bool:
        return self.provisional_from is not None and d >= self.provisional_from

    def _index(self, o: int, exclusive: bool = False) -> int:
        """Index into _cum of the day after ordinal o; an exclusive start may be the day before."""
        if not self._o0 - exclusive <= o <= self._o1:
            raise CalendarCoverageError(date.fromordinal(o).year)
        return o - self._o0 + 1

    def is_workday(self, d: date) -> bool:
        i = self._index(d.toordinal())
        return self._cum[i] != self._cum[i - 1]

    def day_kind(self, d: date) -> str:
        """workday | weekend | holiday:<name> | makeup_workday | closure:<name> | local_holiday:<name>"""
        o = d.toordinal()
        self._index(o)
        return self._labels.get(o) or ("workday" if _weekday_works(o) else "weekend")

    def next_workday(self, d: date) -> date:
        return self.add(d, 1)

    def workdays(self, start: date, end: date) -> list[date]:
        """The working days in (start, end], for day-by-day explanations."""
        if end <= start:
            return []
        a, b = self._index(start.toordinal(), True), self._index(end.toordinal())
        return [date.fromordinal(o) for o in self._wd[self._cum[a]:self._cum[b]]]

    def add_ordinal(self, start_ordinal: int, n: int) -> int:
        """Hot path of add(unit="working_day") on date ordinals: the n-th working day after start."""
        i = start_ordinal - self._o0 + 1
        if n > 0 and 0 <= i < len(self._cum):
            k = self._cum[i] + n - 1  # working days up to start, then n more
            if k < len(self._wd):
                return self._wd[k]
            raise CalendarCoverageError(date.fromordinal(self._o1 + 1).year)  # ran off the end
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:  # the start day itself when it is a working day, else the next one
            i = self._index(start_ordinal)
            return start_ordinal if self._cum[i] != self._cum[i - 1] else self.add_ordinal(start_ordinal, 1)
        raise CalendarCoverageError(date.fromordinal(start_ordinal).year)

    def add(self, start: date, n: int, unit: str = "working_day") -> date:
        """The last day of a period of n units starting after `start` (民法典 §201)."""
        if unit == "working_day":
            return date.fromordinal(self.add_ordinal(start.toordinal(), n))
        if unit != "natural_day":
            raise ValueError(f"unit must be working_day or natural_day, got {unit!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        end = start + timedelta(days=n)
        return end if self.is_workday(end) else self.add(end, 1)  # 民法典 §203

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end < start."""
        if end < start:
            return -self.between(end, start)
        a, b = self._index(start.toordinal(), True), self._index(end.toordinal())
        return self._cum[b] - self._cum[a]

    def add_working_hours(self, start: datetime, hours: float,
                          periods: tuple[tuple[time, time], ...]) -> datetime:
        """Count `hours` only inside the office-hour periods of working days."""
        spans = sorted((_us(a), _us(b)) for a, b in periods)
        if not spans or any(a >= b for a, b in spans) or any(
                p[1] > q[0] for p, q in zip(spans, spans[1:])):
            raise ValueError("office-hour periods must be non-empty and must not overlap")
        left = round(hours * 3_600_000_000)  # microseconds: no float drift at boundaries
        if left < 0:
            raise ValueError(f"hours must be >= 0, got {hours}")
        if left == 0:
            return start
        o, now = start.toordinal(), _us(start.time())
        for a, b in spans if self.is_workday(start.date()) else ():  # the rest of the start day
            begin = max(a, now)
            if begin < b:
                if left <= b - begin:
                    return _at(o, begin + left, start)
                left -= b - begin
        per_day = sum(b - a for a, b in spans)
        q, r = divmod(left, per_day)
        if r == 0:  # ends exactly at closing time, not at the next day's opening
            q, r = q - 1, per_day
        o = self.add_ordinal(o, q + 1)
        for a, b in spans[:-1]:
            if r <= b - a:
                return _at(o, a + r, start)
            r -= b - a
        return _at(o, spans[-1][0] + r, start)  # r <= per_day: this is the last period


@functools.lru_cache(maxsize=64)
def _build_cached(config: CalendarConfig) -> Calendar:
    return Calendar(config)


def _in_year(d: date, year: int) -> int:
    if d.year != year:
        raise ValueError(f"calendar.years {year}: {d} is not in {year}")
    return d.toordinal()


def _weekday_works(o: int) -> bool:
    return o % 7 not in (0, 6)  # ordinal 1 (0001-01-01) is a Monday: 6 is Saturday, 0 Sunday


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _at(o: int, us: int, like: datetime) -> datetime:
    return datetime.combine(date.fromordinal(o), time(), like.tzinfo) + timedelta(microseconds=us)
