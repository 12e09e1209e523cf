"""One line per clock, as ``bianmin deadline`` prints it and scenario failures show it.

    <clock>: <deadline> <status> [<level>] (<detail>)[ provisional]

e.g. ``promised: 2026-10-20 running yellow (3 working days left)``; the level appears only while
the clock runs or is paused (otherwise the status says it). docs/time-limits.md lists every form.
"""

from __future__ import annotations

from ..packs.model import Pack
from .clock import ClockState

UNIT_WORDS = {"working_day": "working day", "natural_day": "natural day", "working_hour": "working hour"}


def summary(state: ClockState, pack: Pack | None = None) -> str:
    if state.deadline is None:
        head = f"{state.clock}: - {state.status}"
        detail = f"{state.stop} {state.stopped_at:%Y-%m-%d}" if state.stopped_at else "waiting for its start event"
    else:
        when = f"{state.deadline_at:%Y-%m-%dT%H:%M}" if state.deadline_at else state.deadline.isoformat()
        head = f"{state.clock}: {when} {state.status}"
        if state.status in ("running", "paused"):
            head += f" {state.level}"
        detail = _detail(state, pack)
    return f"{head} ({detail})" + (" provisional" if state.provisional else "")


def _detail(state: ClockState, pack: Pack | None) -> str:
    left = state.remaining or 0
    if state.status == "running":
        return f"{amount(left, state.unit)} left"
    if state.status == "paused":
        names = {r.id: r.name for r in pack.time_limits.pause_reasons} if pack else {}
        return f"{amount(left, state.unit)} left; paused for {names.get(state.paused_for, state.paused_for)}"
    if state.status == "overdue":
        return f"{amount(-left, state.unit)} late"
    assert state.stopped_at is not None
    done = f"{state.stop} {state.stopped_at:%Y-%m-%d}"
    return f"{done}, {amount(-left, state.unit)} late" if state.status == "completed_late" else done


def amount(x: float, unit: str) -> str:
    """``3 working days``, ``1 natural day``, ``2.5 working hours``."""
    number = str(int(x)) if float(x).is_integer() else f"{x:g}"
    return f"{number} {UNIT_WORDS.get(unit, unit)}" + ("" if x == 1 else "s")
