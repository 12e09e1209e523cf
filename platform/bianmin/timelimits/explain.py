"""How a deadline explains itself: the rules applied, then the days from start to deadline.

Only explanations walk day by day; the deadline itself is computed in O(1) per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..calendar import Calendar
from .units import Due, Meter, working_hours_between

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_DAYS_PAST = 31  # an old overdue case lists a month past its deadline, not every day since


@dataclass(frozen=True, slots=True)
class ExplainLine:
    """A rule applied (``day`` is None) or one day of the trace (counted or not, and why)."""

    text: str
    source: str = ""
    day: date | None = None
    counted: bool | None = None
    count: float | None = None  # the running count after this day

    def __str__(self) -> str:
        if self.day is None:
            return f"rule: {self.text}" + (f" [{self.source}]" if self.source else "")
        mark = f"#{_num(self.count)}" if self.counted else "-"
        return f"{self.day.isoformat()} {WEEKDAYS[self.day.weekday()]} {mark:>5}  {self.text}"


@dataclass(frozen=True, slots=True)
class Pause:
    """A pause as the trace needs it: days in (start, end] are not counted."""

    start: datetime
    end: datetime | None  # None: still paused
    name: str


def day_kind_text(cal: Calendar, d: date) -> str:
    kind = cal.day_kind(d)
    name = kind.partition(":")[2]
    return {
        "workday": "workday", "weekend": "weekend", "makeup_workday": "make-up workday (调休上班)",
    }.get(kind) or {"holiday": f"holiday {name}", "closure": f"closure {name}",
                    "local_holiday": f"local holiday {name}"}[kind.partition(":")[0]]


def trace(meter: Meter, start: datetime, due: Due, limit: float, until: date,
          pauses: list[Pause]) -> list[ExplainLine]:
    """One line per day after the start day up to the deadline (or ``until``, when later)."""
    cal = meter.cal
    last = min(max(due.day, until), due.day + timedelta(days=MAX_DAYS_PAST))
    if meter.unit in ("immediate", "same_day"):
        why = "当场办结: due on the start day" if meter.unit == "immediate" else "当日办结: due by the end of this working day"
        first = [ExplainLine(why, day=due.day, counted=True, count=0)]
        return first + [ExplainLine(_past(cal, d), day=d, counted=False)
                        for d in _days(due.day, last)]
    lines, count = [], 0.0
    hours = meter.unit == "working_hour"  # an hour limit counts from the start moment, that day too
    for d in _days(start.date() - timedelta(days=hours), last):
        paused = _paused(pauses, d)
        kind = day_kind_text(cal, d)
        if d > due.day:
            lines.append(ExplainLine(_past(cal, d), day=d, counted=False))
            continue
        if hours:
            spent = _hours_on(meter, start, due, pauses, d)
            count += spent
            why = f"{kind}: {_num(spent)} h" + (f"; paused for {paused}" if paused else "")
            lines.append(ExplainLine(why, day=d, counted=spent > 0, count=count))
            continue
        counts = not paused and (meter.unit == "natural_day" or cal.is_workday(d))
        if meter.unit == "natural_day" and d > due.raw:
            counts = False
            kind += ": the period's last day was a rest day, it ends on the next working day (民法典 §203)"
        count += counts
        why = kind + (f"; paused for {paused}, not counted" if paused else "")
        if counts and count > limit:
            why += "; extension (延期)"
        lines.append(ExplainLine(why, day=d, counted=counts, count=count))
    return lines


def _days(after: date, last: date) -> list[date]:
    return [after + timedelta(days=i) for i in range(1, (last - after).days + 1)]


def _paused(pauses: list[Pause], d: date) -> str:
    for p in pauses:
        if p.start.date() < d and (p.end is None or d <= p.end.date()):
            return p.name
    return ""


def _past(cal: Calendar, d: date) -> str:
    return f"{day_kind_text(cal, d)}; past the deadline"


def _hours_on(meter: Meter, start: datetime, due: Due, pauses: list[Pause], d: date) -> float:
    """Office hours counted on day d: inside the running segments, up to the deadline."""
    assert due.at is not None
    segments, begin = [], start
    for p in pauses:
        segments.append((begin, p.start))
        if p.end is None:
            break
        begin = p.end
    else:
        segments.append((begin, due.at))
    lo, hi = datetime.combine(d, time(), start.tzinfo), datetime.combine(d + timedelta(days=1), time(), start.tzinfo)
    total = 0.0
    for a, b in segments:
        a, b = max(a, lo), min(b, hi, due.at)
        if a < b:
            total += working_hours_between(meter.cal, meter.periods, a, b)
    return total


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0")
