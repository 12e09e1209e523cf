"""Timers: what happens when a clock reaches a warning level or runs out (the sweeper's part).

A workflow's timers (``timers: [{id, clock, on: warning | overdue, level?, actions}]``) are due
when their clock is running and

- ``on: warning``: its level is a warning (yellow, orange, red), or at least ``level`` if given;
- ``on: overdue``: it is past its deadline and not stopped.

Violations detected ``{clock: X, on: overdue}`` behave as one more overdue timer of clock X, with
the id ``violation.<violation id>`` and a ``record_violation`` effect (evidence: the seqs of the
clock's events).

A due timer is reported once: its ``key`` is ``<timer id>@<deadline>``, and the caller keeps the
keys it has fired (``already_fired``). An extension moves the deadline and so re-arms the
timer; a caller that stores bare timer ids instead gets "once per record".
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ..calendar import Calendar
from ..packs.model import Action, Timer
from ..timelimits import SEVERITY, ClockState
from . import actions
from .clocks import events_for, record_data, state_of
from .instance import Effect, Instance, TransitionError

_WARNINGS = ("yellow", "orange", "red")


class DueTimer(NamedTuple):
    timer: Timer
    effects: tuple[Effect, ...]
    key: str
    state: ClockState


def due_timers(instance: Instance, now: dt.datetime, calendar: Calendar | None = None,
               already_fired: set[str] | frozenset[str] = frozenset()) -> list[DueTimer]:
    """Timers due at ``now`` and not fired yet, each with its effects."""
    from .machine import compiled

    p = compiled(instance.pack, instance.workflow_id)
    timers = p.workflow.timers + p.violation_timers
    if not timers:
        return []
    calendar = calendar or Calendar.build(instance.pack.calendar)
    data = record_data(instance)
    states: dict[str, ClockState] = {}
    out = []
    for timer in timers:
        clock = next((c for c in p.clocks.clocks if c.id == timer.clock), None)
        if clock is None:
            continue
        if clock.id not in states:
            states[clock.id] = state_of(instance, p.clocks, clock, now, calendar, data, explain=False,
                                        roles=p.extension_roles)
        state = states[clock.id]
        key = f"{timer.id}@{state.deadline}"
        if key in already_fired or timer.id in already_fired or not _due(timer, state):
            continue
        out.append(DueTimer(timer, _effects(instance, timer, p.clocks, p.extension_roles, state), key, state))
    return out


def _due(timer: Timer, state: ClockState) -> bool:
    if timer.on == "overdue":
        return state.status == "overdue"
    if state.status != "running" or state.level not in _WARNINGS:
        return False
    return not timer.level or SEVERITY.index(state.level) >= SEVERITY.index(timer.level)


def _effects(instance: Instance, timer: Timer, clock_plan, roles, state: ClockState) -> tuple[Effect, ...]:
    effects: list[Effect] = []
    for a in timer.actions:
        spec = actions.lookup(a.do)
        if spec is None:
            raise TransitionError("unknown_action", f"定时规则“{timer.id}”包含未知的动作“{a.do}”")
        args = dict(a.with_)
        if a.do == "record_violation" and "evidence" not in args:
            args["evidence"] = events_for(instance, clock_plan, timer.clock, roles)[1]
            args.setdefault("clock", timer.clock)
            args.setdefault("deadline", str(state.deadline))
        effects += spec.run(instance, args, None)
    return tuple(effects)


def violation_timers(instance_pack, workflow) -> tuple[Timer, ...]:
    """The `{clock, on: overdue}` violations of the pack whose clock the workflow binds."""
    bound = {b.id for b in workflow.clocks}
    return tuple(
        Timer(id=f"violation.{v.id}", clock=v.detect.clock, on="overdue",
              actions=(Action("record_violation", (("violation", v.id),)),))
        for v in instance_pack.accountability.violations
        if v.detect.on == "overdue" and v.detect.clock in bound)
