"""When the sweeper must look at an open record next, and its due timers from clocks it computed.

Between two events a record's clocks change only with time, and only at instants that follow from
its events, the pinned pack and the calendar (docs/persistence.md, "The sweeper"):

- a **running** clock turns overdue the day after its last day (at its last moment, for hour
  limits), and its warning level rises when a threshold of ``time_limits.warnings`` is reached
  (``remaining`` left, ``used_share`` used). Both depend only on the moment, the deadline and the
  limit (with extensions), so the next change is found by evaluating the engine's own
  ``level_for`` at future instants: the level only rises with time, so a binary search over the
  days up to the overdue day (over the seconds, for hour clocks or hour warnings) finds the first
  instant it differs;
- a **paused** clock keeps its status and level (measured at the pause), but once its announced
  end (``expected_duration``) has passed, its deadline is projected from today and moves with
  each working day: it is looked at again the day after the announced end, then daily (every
  15 minutes for hour limits) until the record's next event resumes it;
- a clock that has not started, is overdue or has stopped changes only with an event.

The earliest of these instants is the record's ``next_check_at``; with none, :data:`NEVER`. A
record's timers are due only on a warning level or when overdue, so they fall due at one of those
instants too. Computing an instant too early costs one needless look; too late would delay a
warning, so wherever the engine's internals are not at hand the answer errs early.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NamedTuple

from ..calendar import Calendar
from ..timelimits import ClockState
from ..timelimits.levels import level_for
from ..timelimits.units import Due, Meter, meter_for
from .clocks import clock_states, events_for
from .instance import Instance
from .timers import DueTimer, _due, _effects

NEVER = dt.datetime(9999, 12, 31)  # no change without a new event
_DAY_UNITS = frozenset({"working_day", "natural_day", "same_day", "immediate"})
_PAUSED_HOUR_STEP = dt.timedelta(minutes=15)
_SECOND = dt.timedelta(seconds=1)


class Examined(NamedTuple):
    """A record as the sweeper sees it at ``now``: every clock's state, the timers due and not
    fired yet, and when to look again."""

    states: dict[str, ClockState]
    timers: list[DueTimer]
    next_check: dt.datetime


def examine(instance: Instance, now: dt.datetime, calendar: Calendar,
            already_fired: set[str] | frozenset[str] = frozenset()) -> Examined:
    states = clock_states(instance, now, calendar, explain=False)
    # Timers fire on a warning level or when overdue: most open records are green and have none.
    alert = any(s.status == "overdue" or (s.status == "running" and s.level != "green") for s in states.values())
    timers = due_timers_of(instance, states, already_fired) if alert else []
    return Examined(states, timers, next_check(instance, states, now, calendar))


def due_timers_of(instance: Instance, states: Mapping[str, ClockState],
                  already_fired: set[str] | frozenset[str] = frozenset()) -> list[DueTimer]:
    """``workflow.due_timers`` on clock states already computed (by :func:`clock_states` at the
    same moment and calendar), instead of computing each timer's clock again."""
    from .machine import compiled

    p = compiled(instance.pack, instance.workflow_id)
    out = []
    for timer in p.workflow.timers + p.violation_timers:
        state = states.get(timer.clock)
        if state is None:
            continue
        key = f"{timer.id}@{state.deadline}"
        if key in already_fired or timer.id in already_fired or not _due(timer, state):
            continue
        out.append(DueTimer(timer, _effects(instance, timer, p.clocks, p.extension_roles, state), key, state))
    return out


def next_check(instance: Instance, states: Mapping[str, ClockState], now: dt.datetime,
               calendar: Calendar) -> dt.datetime:
    """The earliest instant after ``now`` at which a clock's status, level or deadline may change
    with no new event (``states`` are those at ``now``); :data:`NEVER` when none can."""
    from .machine import compiled

    p = compiled(instance.pack, instance.workflow_id)
    periods = tuple(x.times for x in instance.pack.office_hours.periods) if instance.pack.office_hours else ()
    found = NEVER
    for cid, state in states.items():
        clock = p.clocks.by_id.get(cid)
        if clock is None:
            continue
        if state.status == "running":
            warnings = clock.warnings or instance.pack.time_limits.warnings
            at = _running(state, warnings, meter_for(state.limit.unit, calendar, periods), now, calendar)
        elif state.status == "paused":
            events, _ = events_for(instance, p.clocks, cid, p.extension_roles)
            at = _paused(state, events, meter_for(state.limit.unit, calendar, periods), now, calendar)
        else:  # not started, overdue, completed, stopped: only an event changes them
            continue
        if at is not None and at < found:
            found = at
    return found


def _running(state: ClockState, warnings, meter: Meter, now: dt.datetime, cal: Calendar) -> dt.datetime | None:
    assert state.deadline is not None
    due = Due(state.deadline, state.deadline, state.deadline_at)  # raw only matters to shifts
    total = _total(state)

    def level(at: dt.datetime) -> str:
        if meter.passed(at, due):
            return "overdue"
        return level_for(warnings, meter, at, due, meter.remaining(at, due), total, False, cal)[0]

    hourly = meter.unit not in _DAY_UNITS or any(
        w.remaining is not None and w.remaining.unit == "working_hour" for w in warnings)
    if not hourly:  # everything counts whole days: levels change at midnight only
        first, last = now.date() + dt.timedelta(days=1), due.day + dt.timedelta(days=1)  # last: overdue
        day = _first_change(level, state.level, first.toordinal(), last.toordinal(),
                            lambda n: dt.datetime.combine(dt.date.fromordinal(n), dt.time.min))
        return None if day is None else dt.datetime.combine(dt.date.fromordinal(day), dt.time.min)
    overdue = (due.at + dt.timedelta(microseconds=1)) if meter.unit == "working_hour" and due.at is not None \
        else dt.datetime.combine(due.day + dt.timedelta(days=1), dt.time.min)
    if overdue <= now:
        return None  # the engine would have said overdue
    base = now.replace(microsecond=0)
    seconds = _first_change(level, state.level, 1, int((overdue - base) / _SECOND) + 1,
                            lambda n: base + n * _SECOND)
    return None if seconds is None else min(base + seconds * _SECOND, overdue)


def _first_change(level, current: str, lo: int, hi: int, at) -> int | None:
    """The least n in [lo, hi] whose level differs from ``current`` (levels only rise, and the
    one at ``hi`` is overdue); None if none does."""
    if lo > hi or level(at(hi)) == current:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if level(at(mid)) != current:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _total(state: ClockState) -> float:
    """The limit with its extensions, in the clock's unit (the engine's ``used_share`` is
    ``(total - remaining) / total``). Rounded up by a hair: a share is then reached early, never late."""
    used, left = state.used_share, state.remaining
    if used is None or left is None or used >= 1 or left <= 0:
        # No share warnings, or all reached already (nothing is left): any total gives the same levels.
        return float(state.limit.value) or 1.0
    return left / (1 - used) * (1 + 1e-9)


def _paused(state: ClockState, events, meter: Meter, now: dt.datetime, cal: Calendar) -> dt.datetime | None:
    if meter.unit == "immediate":
        return None  # a pause takes nothing from a same-moment limit: its deadline stays
    pause = next((e for e in reversed(events) if e.kind == "pause"), None)
    if pause is None:
        return now + _PAUSED_HOUR_STEP  # not a pause this module knows: look again soon
    end = pause.at
    if pause.expected_days is not None:  # as the engine projects it (an extension since only delays it)
        counter = meter if meter.unit != "working_hour" else meter_for("working_day", cal, ())
        end = dt.datetime.combine(counter.end(pause.at, pause.expected_days).day, pause.at.time())
    if meter.unit == "working_hour":
        return end if end > now else now + _PAUSED_HOUR_STEP
    # Day limits: the time lost is counted in whole days, so the deadline moves at midnight.
    return dt.datetime.combine(max(now.date(), end.date()) + dt.timedelta(days=1), dt.time.min)
