"""Workflows: the pure, in-memory interpreter of a pack's states, transitions, guards, actions,
clocks and timers (docs/workflows.md).

Public surface::

    start(pack, workflow_id, *, subject, actor, data, now, item_id=None) -> Outcome
    fire(instance, transition_id, *, actor, data, now) -> Outcome
    available(instance, actor) -> list[Transition]
    clock_states(instance, now, calendar) -> dict[str, ClockState]
    due_timers(instance, now, calendar, already_fired) -> list[DueTimer]   # (timer, effects, key, state)
    rate(instance, level, *, data, now) -> tuple[Effect, ...]                # 好差评
    act_for(backup, absent, handover) -> Actor                               # AB post
    registered_actions() -> dict[str, ActionSpec]
"""

from __future__ import annotations

from .actions import ActionSpec, register, registered_actions
from .backup import act_for
from .clocks import clock_states
from .instance import Actor, Effect, Event, Instance, Outcome, TransitionError, freeze, thaw
from .machine import available, fire, start
from .ratings import rate
from .timers import DueTimer, due_timers

__all__ = [
    "ActionSpec", "Actor", "DueTimer", "Effect", "Event", "Instance", "Outcome", "TransitionError",
    "act_for", "available", "clock_states", "due_timers", "fire", "freeze", "rate", "register",
    "registered_actions", "start", "thaw",
]
