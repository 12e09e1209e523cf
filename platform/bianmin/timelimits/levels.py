"""Warning levels (预警): green until a warning's threshold is reached, ``overdue`` once past.

A warning is reached when the time left is at most its ``remaining`` duration, or when at least
its ``used_share`` of the limit (extensions included) has been used. The clock's own warnings
replace the pack's ``time_limits.warnings``; the most severe level reached wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..calendar import Calendar
from ..packs.model import Warning
from .events import ClockError
from .units import Due, Meter, working_days_left, working_hours_between

SEVERITY = ("green", "yellow", "orange", "red")


def level_for(warnings: Sequence[Warning], meter: Meter, at: datetime, due: Due, remaining: float,
              total: float, late: bool, cal: Calendar) -> tuple[str, float | None]:
    """(level, used share) at moment ``at``; ``remaining`` is in the clock's own unit."""
    used = (total - remaining) / total if total > 0 and meter.unit not in ("immediate", "same_day") else None
    if late:
        return "overdue", used
    level = "green"
    for w in warnings:
        hit = w.remaining is not None and _left(w.remaining.unit, meter, at, due, remaining, cal) <= w.remaining.value
        hit = hit or (w.used_share is not None and used is not None and used >= w.used_share)
        if hit and SEVERITY.index(w.level) > SEVERITY.index(level):
            level = w.level
    return level, used


def _left(unit: str, meter: Meter, at: datetime, due: Due, remaining: float, cal: Calendar) -> float:
    if unit == meter.unit or (unit == "working_day" and meter.unit in ("immediate", "same_day")):
        return remaining
    if unit == "working_day":
        return working_days_left(cal, at.date(), due.day)
    if unit == "natural_day":
        return (due.day - at.date()).days
    if unit == "working_hour" and meter.periods:
        end = due.at or datetime.combine(due.day, meter.periods[-1][1], at.tzinfo)
        return working_hours_between(cal, meter.periods, at, end)
    raise ClockError(f"a warning in {unit} cannot be checked on a {meter.unit} clock without office_hours")
