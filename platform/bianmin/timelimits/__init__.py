"""Time limits (时限): clocks, their deadlines, warning levels and explanations.

Public surface::

    compute(clock, events, calendar, *, pack, item, data, category, now) -> ClockState
    limit_for(clock, pack, item=None, data=None, category=None) -> Duration
    steps_deadlines(item, start, calendar) -> tuple[StepDeadline, ...]
    item_clocks(pack, item), extension_targets(pack, workflow_id)
    deadline_many(start_ordinals, n, calendar, today=..., warnings=...)   # the hot path
    parse_events(loaded_yaml) -> tuple[ClockEvent, ...]
    with_extension_targets(events, extension_targets(pack, item.workflow))
    summary(state, pack) -> str                                            # one line per clock

The counting rules and their sources are in docs/time-limits.md.
"""

from __future__ import annotations

from .batch import deadline_many
from .clock import STATUSES, ClockState, compute
from .events import KINDS, ClockError, ClockEvent, parse_datetime, parse_events, with_extension_targets
from .explain import ExplainLine
from .levels import SEVERITY
from .limits import StepDeadline, extension_targets, item_clocks, limit_for, steps_deadlines
from .summary import summary

__all__ = [
    "KINDS", "SEVERITY", "STATUSES", "ClockError", "ClockEvent", "ClockState", "ExplainLine",
    "StepDeadline", "compute", "deadline_many", "extension_targets", "item_clocks", "limit_for",
    "parse_datetime", "parse_events", "steps_deadlines", "summary", "with_extension_targets",
]
