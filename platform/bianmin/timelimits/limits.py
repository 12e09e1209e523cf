"""Which limit a clock runs against, and which clocks a case has.

A clock's ``limit`` (packs.model.LimitRef) is fixed, taken from the record (the item's promised or
statutory limit, a complaint category's limit, the ``limit`` written on the record), or chosen by
a data field (``by``/``cases``). Joint items (联办) also have per-step limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..calendar import Calendar
from ..packs.model import Clock, ComplaintCategory, Duration, Item, Pack, Step
from .events import ClockError, parse_duration

ITEM_LIMITS = {"item.promised": "promised", "item.statutory": "statutory"}


def limit_for(clock: Clock, pack: Pack, item: Item | None = None, data: Mapping[str, Any] | None = None,
              category: ComplaintCategory | str | None = None) -> Duration:
    """The Duration that ``clock`` runs against for this item, record data or complaint category."""
    ref = clock.limit
    if ref.duration is not None:
        return ref.duration
    if ref.from_ in ITEM_LIMITS:
        if item is None:
            raise ClockError(f"clock {clock.id!r} takes its limit from the item ({ref.from_}): name the item")
        return getattr(item.limits, ITEM_LIMITS[ref.from_])
    if ref.from_ == "category.limit":
        return _category(clock, pack, category).limit
    if ref.from_ == "data.limit":
        if not data or data.get("limit") is None:
            raise ClockError(f"clock {clock.id!r} takes its limit from the record (data.limit): "
                             "give data: {limit: {value: N, unit: working_day}}")
        raw = data["limit"]
        if isinstance(raw, int) and not isinstance(raw, bool):  # forms ask for a number of working days
            return Duration(unit="working_day", value=raw)
        return parse_duration(raw, f"clock {clock.id!r}: data.limit")
    if ref.by:
        cases = dict(ref.cases)
        value = (data or {}).get(ref.by)
        if value not in cases:
            found = "is missing" if value is None else f"is {value!r}"
            raise ClockError(f"clock {clock.id!r} chooses its limit by data.{ref.by}, which {found}; "
                             f"expected one of: {', '.join(cases)}")
        return cases[value]
    raise ClockError(f"clock {clock.id!r} has no limit")  # pragma: no cover - the schema forbids it


def _category(clock: Clock, pack: Pack, category: ComplaintCategory | str | None) -> ComplaintCategory:
    if isinstance(category, ComplaintCategory):
        return category
    known = {c.id: c for c in pack.complaints.categories}
    if category is None or category not in known:
        what = "no category was given" if category is None else f"there is no category {category!r}"
        raise ClockError(f"clock {clock.id!r} takes its limit from the complaint category, but {what}; "
                         f"categories: {', '.join(known) or '(none in this pack)'}")
    return known[category]


def is_item_clock(clock: Clock) -> bool:
    return clock.limit.from_ in ITEM_LIMITS


def statutory_clock(pack: Pack) -> Clock | None:
    return next((c for c in pack.clocks if c.limit.from_ == "item.statutory"), None)


def item_clocks(pack: Pack, item: Item) -> tuple[Clock, ...]:
    """The clocks of the item's workflow that run on the item's own limits (promised, statutory)."""
    try:
        bound = [b.id for b in pack.workflow(item.workflow).clocks]
    except KeyError:
        bound = [c.id for c in pack.clocks]
    by_id = {c.id: c for c in pack.clocks}
    return tuple(by_id[i] for i in bound if i in by_id and is_item_clock(by_id[i]))


def extension_targets(pack: Pack, workflow_id: str) -> tuple[str, ...]:
    """The clocks the workflow's `extend_clock` actions extend (empty: the workflow names none)."""
    try:
        workflow = pack.workflow(workflow_id)
    except KeyError:
        return ()
    targets: list[str] = []
    for transition in workflow.transitions:
        for action in transition.actions:
            if action.do == "extend_clock":
                targets += [c for c in action.arg("clocks", ()) if c not in targets]
    return tuple(targets)


@dataclass(frozen=True, slots=True)
class StepDeadline:
    step: Step
    deadline: date


def steps_deadlines(item: Item, start: date, calendar: Calendar) -> tuple[StepDeadline, ...]:
    """Each step's last day for a joint item (联办, jiangyin 三(三)4), steps run one after another.

    ``start`` is the clock's start day (not counted); the steps' sum never exceeds the item's
    limit (the pack checker enforces it), so the last step ends on or before the promised deadline.
    """
    out: list[StepDeadline] = []
    day = start
    for step in item.limits.steps:
        day = period_end(calendar, day, step.limit)
        out.append(StepDeadline(step, day))
    return tuple(out)


def period_end(calendar: Calendar, start: date, limit: Duration) -> date:
    """Last day of a day-counted period starting after ``start`` (民法典 §201, §203)."""
    if limit.unit in ("working_day", "natural_day"):
        return calendar.add(start, limit.value, limit.unit)
    if limit.unit == "same_day":
        return calendar.add(start, 0)
    if limit.unit == "immediate":
        return start
    raise ClockError(f"a {limit.unit} limit has no day-counted end; use the clock engine")
