"""From a record's event log to its clocks: which transition means what to which clock.

A workflow binds clocks to transitions (``clocks: [{id, start_on, pause_on, resume_on, stop_on}]``,
``start`` being the opening of the record) and its transitions may act on clocks
(``start_clock``, ``pause_clock``, ``resume_clock``, ``stop_clock``, ``extend_clock``). Replaying
the log through those bindings gives each clock its events, which the time-limits engine
(:func:`bianmin.timelimits.compute`) turns into a deadline, a status and a warning level.

What a transition tells a clock:

- ``start_on`` / ``start_clock``: ``start``; ``pause_on`` / ``pause_clock``: ``pause`` with the
  form's ``reason`` and ``expected_duration`` (the announced length, in the clock's days);
  ``resume_on`` / ``resume_clock``: ``resume``;
- ``stop_on`` / ``stop_clock``: ``refused`` for ``refuse``, ``withdrawn`` for ``withdraw``, else
  ``completed`` (a decision, a forwarding, a reply ...: on time or late);
- ``extend_clock {clocks}``: ``extension`` of each clock named, until the form's
  ``new_deadline`` or by its ``days`` (working days) or ``by`` ({value, unit}), with its
  ``reason`` and the approver's role (the role the actor exercised; for an event that does not
  record it, the first of the transition's roles that may approve extensions);
- the case lifecycle of ``_base`` (transition ids ``request_correction``, ``resubmit``,
  ``accept``, ``accept_on_commitment``) also tells the item's clocks (promised, statutory) of the
  correction notice (补正告知), the resubmission and the acceptance, for the start rule of
  行政许可法 §32; an acceptance after a correction notice without a resubmission counts as the
  resubmission (the case is accepted with what it has, e.g. on commitment).

Events after a clock stopped are not its events, nor, but for the item's clocks (whose start
rule reads them), events before it started: answering an inquiry stops its receipt clock only
if a receipt was issued. The data a clock's limit depends on (``by:
urgency``, ``data.limit``, a complaint's ``category``) is the record's subject overlaid with the
data of every event in order; a bare number under ``limit`` (the first-inquiry receipt's
``limit``) means that many working days.

**Plain histories, fast** (:func:`plain_state`). :func:`fire` asks the clocks two questions:
does the time-limits engine accept a pause, and did a completion come after the deadline. Most
records have a plain history for the clock asked about: it starts, is accepted, pauses and
resumes in turn and completes, with a limit of its own or the item's. For such a history the
answer is worked out here in one pass over the log, with the engine's own pieces (``limit_for``,
the unit's meter, ``level_for``) and the same calendar operations in the same order as
:func:`bianmin.timelimits.compute`, without building its clock events and state; anything else
(a correction notice, an extension, a refusal, a limit taken from the record's data, a pause the
rules refuse, events out of order, any exception) is left to the engine, which answers (or
raises) as before. ``tests/workflow/test_plain_clocks.py`` compares both on generated histories.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..calendar import Calendar, CalendarCoverageError
from ..packs.model import Clock, Duration, Item, Pack, Workflow
from ..timelimits import ClockError, ClockEvent, ClockState, compute, limit_for
from ..timelimits.levels import SEVERITY, level_for
from ..timelimits.limits import is_item_clock
from ..timelimits.units import Due, Meter, NaturalDays, meter_for
from .instance import START, Event, Instance, thaw

LIFECYCLE = {"request_correction": "correction_notice", "resubmit": "resubmitted",
             "accept": "accepted", "accept_on_commitment": "accepted"}
STOP_KINDS = {"refuse": "refused", "withdraw": "withdrawn"}
STOPS = ("completed", "refused", "withdrawn")
PLAIN_KINDS = frozenset({"start", "accepted", "pause", "resume", "completed"})  # see plain_state
_ACTION_KINDS = {"start_clock": "start", "pause_clock": "pause", "resume_clock": "resume", "stop_clock": "stop"}


@dataclass(frozen=True, slots=True)
class ClockPlan:
    """A workflow's bindings, indexed: transition id -> ((clock id, kind), ...)."""

    clocks: tuple[Clock, ...]  # every clock bound in the workflow, in binding order
    on: Mapping[str, tuple[tuple[str, str], ...]]
    item_clocks: frozenset[str]
    bound: Mapping[str, tuple[tuple[str, str], ...]]  # from the bindings alone (for effects)
    by_id: Mapping[str, Clock]
    # For plain_state, per clock: transition -> its one kind for the clock, when that kind is a
    # plain one; the transitions that tell the clock anything else (or several things).
    plain: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    odd: Mapping[str, frozenset[str]] = field(default_factory=dict)
    scans: Mapping[str, int] = field(default_factory=dict)  # clocks with one number hear the same events
    facts: PlainFacts | None = None
    # scan number -> the transitions odd for any clock of the group: a log without them is plain
    # alike for all of them, so one pass serves the group (see _plain).
    scan_odd: Mapping[int, frozenset[str]] = field(default_factory=dict)
    # (clock id, item id, calendar) -> _Setup: what _plain reads of the pack, the item and the
    # calendar before its loop, worked out once (bounded; see _setup).
    setups: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def kinds(self, transition: str) -> tuple[tuple[str, str], ...]:
        return self.on.get(transition, ())


def plan(pack: Pack, workflow: Workflow) -> ClockPlan:
    known = {c.id: c for c in pack.clocks}
    clocks = tuple(known[b.id] for b in workflow.clocks if b.id in known)
    on: dict[str, list[tuple[str, str]]] = {}

    def add(transition: str, clock: str, kind: str) -> None:
        kind = STOP_KINDS.get(transition, "completed") if kind == "stop" else kind
        pairs = on.setdefault(transition, [])
        if (clock, kind) not in pairs:
            pairs.append((clock, kind))

    for binding in workflow.clocks:
        for kind, transitions in (("start", binding.start_on), ("pause", binding.pause_on),
                                  ("resume", binding.resume_on), ("stop", binding.stop_on)):
            for t in transitions:
                add(t, binding.id, kind)
    bound = {k: tuple(v) for k, v in on.items()}
    for t in workflow.transitions:
        for a in t.actions:
            if a.do in _ACTION_KINDS:
                add(t.id, a.arg("clock"), _ACTION_KINDS[a.do])
            elif a.do == "extend_clock":
                for clock in a.arg("clocks", ()):
                    add(t.id, clock, "extension")
    items = frozenset(c.id for c in clocks if is_item_clock(c))
    for transition, kind in LIFECYCLE.items():
        for clock in items:
            add(transition, clock, kind)
    plain: dict[str, dict[str, str]] = {c.id: {} for c in clocks}
    odd: dict[str, set[str]] = {c.id: set() for c in clocks}
    for transition, pairs in on.items():
        for clock in {cid for cid, _ in pairs}:
            mine = [kind for cid, kind in pairs if cid == clock]
            if clock not in plain:
                continue
            if len(mine) == 1 and mine[0] in PLAIN_KINDS:
                plain[clock][transition] = mine[0]
            else:
                odd[clock].add(transition)
    frozen_odd = {k: frozenset(v) for k, v in odd.items()}
    signatures: dict[Any, int] = {}
    scans = {c.id: signatures.setdefault((tuple(sorted(plain[c.id].items())), c.id in items), len(signatures))
             for c in clocks}
    scan_odd: dict[int, frozenset[str]] = {}
    for c in clocks:
        scan_odd[scans[c.id]] = scan_odd.get(scans[c.id], frozenset()) | frozen_odd[c.id]
    tl = pack.time_limits
    facts = PlainFacts(
        items={i.id: i for i in pack.items},
        pause_reasons=frozenset(r.id for r in tl.pause_reasons),
        pause_needs_days=bool(tl.pause and "expected_duration" in tl.pause.requires),
        start_event=tl.clock_start.event if tl.clock_start else "received",
        periods=tuple(p.times for p in pack.office_hours.periods) if pack.office_hours else ())
    return ClockPlan(clocks, {k: tuple(v) for k, v in on.items()}, items, bound, {c.id: c for c in clocks},
                     plain, frozen_odd, scans, facts, scan_odd)


@dataclass(frozen=True, slots=True)
class PlainFacts:
    """What plain_state reads of the pack, looked up once (the same values the engine reads)."""

    items: Mapping[str, Item]
    pause_reasons: frozenset[str]
    pause_needs_days: bool  # time_limits.pause.requires expected_duration
    start_event: str  # time_limits.clock_start.event, "received" by default
    periods: tuple[Any, ...]  # office hours, for working-hour meters


# -- an event's meaning for a clock -----------------------------------------------------------

def extension_terms(data: Mapping[str, Any]) -> dict[str, Any]:
    """``until`` (the new last day) or ``by`` (a duration), and ``reason``, from a form's data."""
    out: dict[str, Any] = {}
    if data.get("new_deadline"):
        out["until"] = str(data["new_deadline"])[:10]
    elif data.get("days") is not None:
        out["by"] = {"value": data["days"], "unit": "working_day"}
    elif isinstance(data.get("by"), Mapping):
        out["by"] = thaw(data["by"])
    if data.get("reason"):
        out["reason"] = str(data["reason"])
    return out


def _clock_event(event: Event, kind: str, clock: str, role: str) -> ClockEvent:
    data = event.data
    if kind == "pause":
        expected = data.get("expected_duration", data.get("expected_days"))
        return ClockEvent(event.at, "pause", reason=str(data.get("reason") or ""),
                          expected_days=expected if isinstance(expected, int) else None)
    if kind == "extension":
        terms = extension_terms(data)
        by = terms.get("by")
        until = terms.get("until")
        try:
            return ClockEvent(event.at, "extension", reason=terms.get("reason", ""), role=role,
                              by=Duration(unit=by.get("unit", "working_day"), value=int(by["value"])) if by else None,
                              until=dt.date.fromisoformat(until) if until else None, clocks=(clock,))
        except (ValueError, TypeError, KeyError) as exc:
            raise ClockError(f"the extension's new deadline or number of days is not valid: {exc}") from None
    return ClockEvent(event.at, kind)


def events_for(instance: Instance, clock_plan: ClockPlan, clock: str,
               roles: Mapping[str, str] | None = None) -> tuple[list[ClockEvent], list[int]]:
    """The clock's events and the seqs of the log events they come from (evidence)."""
    out: list[ClockEvent] = []
    seqs: list[int] = []
    is_item = clock in clock_plan.item_clocks
    noticed = False  # a correction notice not yet followed by a resubmission
    started = is_item  # other clocks ignore what happens before they start
    for event in instance.events:
        for cid, kind in clock_plan.kinds(event.transition):
            if cid != clock or not (started or kind == "start"):
                continue
            started = True
            if kind == "accepted" and is_item and noticed:
                out.append(ClockEvent(event.at, "resubmitted"))
            if kind == "correction_notice":
                noticed = True
            elif kind in ("resubmitted", "accepted"):
                noticed = False
            role = event.role or (roles or {}).get(event.transition, "")
            out.append(_clock_event(event, kind, clock, role))
            if not seqs or seqs[-1] != event.seq:
                seqs.append(event.seq)
            if kind in STOPS:
                return out, seqs
    return out, seqs


def record_data(instance: Instance) -> dict[str, Any]:
    """What clock limits may depend on: the subject, then each event's data, latest last."""
    data = thaw(instance.subject)
    for event in instance.events:
        if event.data:
            data.update(thaw(event.data))
    if isinstance(data.get("limit"), int) and not isinstance(data.get("limit"), bool):
        data["limit"] = {"value": data["limit"], "unit": "working_day"}
    return data


def extension_roles(pack: Pack, workflow: Workflow) -> dict[str, str]:
    """For events that do not record the role exercised: the transition's approver role."""
    approvers = pack.time_limits.extension.approver_roles if pack.time_limits.extension else ()
    out = {}
    for t in workflow.transitions:
        if any(a.do == "extend_clock" for a in t.actions) and t.roles:
            out[t.id] = next((r for r in t.roles if r in approvers), t.roles[0])
    return out


# -- states -----------------------------------------------------------------------------------

def needs_data(clock: Clock) -> bool:
    """Whether the clock's limit depends on the record's data (not fixed, not the item's)."""
    return clock.limit.duration is None and clock.limit.from_ not in ("item.promised", "item.statutory")


def state_of(instance: Instance, clock_plan: ClockPlan, clock: Clock, now: dt.datetime, calendar: Calendar,
             data: Mapping[str, Any] | None = None, explain: bool = True,
             roles: Mapping[str, str] | None = None) -> ClockState:
    events, _ = events_for(instance, clock_plan, clock.id, roles)
    if data is None:
        data = record_data(instance) if needs_data(clock) else {}
    item = instance.item
    if not events:
        try:
            limit = limit_for(clock, instance.pack, item, data, data.get("category"))
        except ClockError:  # its limit is given when it starts (a receipt's promised days ...)
            limit = Duration(unit="working_day", value=0)
        return ClockState(clock=clock.id, limit=limit, status="not_started", level="green")
    return compute(clock, events, calendar, pack=instance.pack, item=item, data=data,
                   category=data.get("category"), now=now, explain=explain)


def clock_states(instance: Instance, now: dt.datetime, calendar: Calendar | None = None, *,
                 explain: bool = True) -> dict[str, ClockState]:
    """Every clock bound in the instance's workflow, at ``now`` (the pack's calendar by default)."""
    from .machine import compiled  # the per-workflow plan cache

    p = compiled(instance.pack, instance.workflow_id)
    calendar = calendar or p.calendar
    data = record_data(instance) if any(needs_data(c) for c in p.clocks.clocks) else {}
    return {c.id: state_of(instance, p.clocks, c, now, calendar, data, explain, p.extension_roles)
            for c in p.clocks.clocks}


def computable_states(instance: Instance, now: dt.datetime, calendar: Calendar | None = None, *,
                      explain: bool = True) -> tuple[dict[str, ClockState], dict[str, CalendarCoverageError]]:
    """For showing a stored record: the clocks that can be computed, and for the others the
    coverage error (a year with no holiday data in a pack that allows no provisional deadlines).
    Pages and documents show the rest rather than nothing; transitions use :func:`clock_states`,
    which refuses."""
    from .machine import compiled

    try:
        return clock_states(instance, now, calendar, explain=explain), {}
    except CalendarCoverageError:
        pass
    p = compiled(instance.pack, instance.workflow_id)
    calendar = calendar or p.calendar
    data = record_data(instance) if any(needs_data(c) for c in p.clocks.clocks) else {}
    states: dict[str, ClockState] = {}
    failed: dict[str, CalendarCoverageError] = {}
    for c in p.clocks.clocks:
        try:
            states[c.id] = state_of(instance, p.clocks, c, now, calendar, data, explain, p.extension_roles)
        except CalendarCoverageError as exc:
            failed[c.id] = exc
    return states, failed


# -- plain histories, fast ---------------------------------------------------------------------

class Plain(NamedTuple):
    """What :func:`plain_state` answers: the clock's status and deadline at ``now`` (those of
    the engine's ClockState) and the seqs of the log events it was computed from (evidence)."""

    status: str
    deadline: dt.date | None
    seqs: list[int]


def plain_state(instance: Instance, clock_plan: ClockPlan, clock: Clock, now: dt.datetime,
                calendar: Calendar, scanned: dict[int, Any] | None = None) -> Plain | None:
    """The clock's status and deadline at ``now``, as :func:`state_of` gives them, when the
    clock's history is plain (see the module docstring); None when it is not, or when anything
    raises: the caller then asks the engine, which gives the answer or the error.

    ``scanned`` (a dict the caller keeps for one instance) shares the pass over the log between
    clocks that hear the same events (a case's promised and statutory clocks)."""
    try:
        return _plain(instance, clock_plan, clock, now, calendar, scanned, True)
    except Exception:  # noqa: BLE001 - the engine raises it again, in its own order
        return None


def plain_accepts(instance: Instance, clock_plan: ClockPlan, clock: Clock, now: dt.datetime) -> bool:
    """Whether the engine accepts the clock's plain history at ``now`` (its last event a pause,
    say): the same checks as :func:`plain_state` (the order of events, the start, pauses and
    resumes in turn, the pause rules, the limit and the unit) without the deadline arithmetic,
    which a pause does not depend on. False: not plain, ask the engine. (The one thing left
    unasked is whether the calendar covers the deadlines; the clocks answer that when they
    are computed.)"""
    try:
        return _plain(instance, clock_plan, clock, now, None, None, False) is not None
    except Exception:  # noqa: BLE001
        return False


_ACCEPTED = object()  # _plain without arithmetic: the history passed every check


def _plain(instance: Instance, clock_plan: ClockPlan, clock: Clock, now: dt.datetime, calendar: Calendar | None,
           scanned: dict[int, Any] | None, arithmetic: bool) -> Any:
    cid = clock.id
    facts = clock_plan.facts
    scan = clock_plan.scans.get(cid)
    if facts is None or scan is None or needs_data(clock):
        return None
    item = None
    if instance.item_id:
        item = facts.items.get(instance.item_id)
        if item is None:
            return None  # instance.item raises
    if scanned is None:
        found = _plain_events(instance, clock_plan, cid, facts.start_event, clock_plan.odd[cid])
    else:
        found = scanned.get(scan)
        if found is None:  # one pass for the group, plain if no clock of it hears anything odd
            found = scanned[scan] = _plain_events(instance, clock_plan, cid, facts.start_event,
                                                  clock_plan.scan_odd[scan])
        if found is _NOT_PLAIN:  # perhaps odd for another clock of the group only
            found = _plain_events(instance, clock_plan, cid, facts.start_event, clock_plan.odd[cid])
    if found is _NOT_PLAIN:
        return None
    mine, start = found
    if not mine:  # state_of: not started, whatever the limit
        return Plain("not_started", None, []) if arithmetic else _ACCEPTED
    if mine[-1][1].at > now:
        return None
    # compute(): the limit and the unit's meter, as _Replay builds them
    setup = _setup(clock_plan, clock, instance.pack, item, calendar, facts.periods)
    limit, meter, warnings = setup.limit, setup.meter, setup.warnings
    if not arithmetic and not setup.levels_known:
        return None
    # _Replay.run's loop. On a meter that counts whole days, the deadline depends on the days of
    # the start and of each pause and resumption alone: those are collected (``days``) and the
    # deadline is looked up, or computed once, after the loop (_deadline).
    memo = setup.deadlines if arithmetic else None
    days: list[Any] | None = [] if memo is not None else None
    due = before = None
    pause: Event | None = None
    expected: int | None = None
    stop: Event | None = None
    for i, (kind, event) in enumerate(mine):
        if i == start:
            if days is not None:
                days.append(event.at)
                due = _ACCEPTED
            else:
                due = meter.end(event.at, limit.value) if arithmetic else _ACCEPTED
            continue
        if due is None:
            if kind not in ("start", "accepted"):
                return None  # the engine: "<kind> before the clock started"
            continue
        if kind == "pause":
            if pause is not None:
                return None  # paused twice
            expected = _pause_allowed(facts, item, event)
            if expected is _REFUSED:
                return None
            pause, before = event, due
        elif kind == "resume":
            if pause is None:
                return None
            if days is not None:
                days += (pause.at, event.at)
            elif arithmetic:
                due = _resumed(meter, pause.at, event.at, due)
            pause = None
        elif kind == "completed":
            if pause is not None:
                return None
            stop = event
    if not arithmetic:
        return _ACCEPTED
    assert calendar is not None
    if days is not None and due is not None:
        due = _deadline(memo, meter, limit.value, days)  # type: ignore[arg-type]
        if pause is not None:
            before = due  # no resumption since: the deadline as the pause found it
    seqs = [event.seq for _, event in mine]
    # _Replay._state
    if start is None or due is None:
        return Plain("not_started", None, seqs)
    ref = due
    if stop is not None:
        at = stop.at
        late = meter.passed(at, due)
        status = "completed_late" if late else "completed_on_time"
        # What is left serves level_for alone. On time, it lies within the days the deadline was
        # worked out on and cannot raise: skipped when level_for does not read it. Late, it is
        # counted as the engine does (past the calendar's data, it raises as the engine would).
        remaining = meter.remaining(at, due) if late or not setup.levels_plain else 0
    elif pause is not None:
        assert before is not None
        at, status = pause.at, "paused"
        remaining = meter.remaining(pause.at, before)
        ref = before
        end = pause.at
        if expected is not None:
            days = meter.end(pause.at, expected) if meter.unit != "working_hour" else \
                meter_for("working_day", calendar, ()).end(pause.at, expected)
            end = dt.datetime.combine(days.day, pause.at.timetz())
        due = _resumed(meter, pause.at, max(now, end), due)
    else:
        at = now
        status = "overdue" if meter.passed(now, due) else "running"
        remaining = meter.remaining(now, due)
    late = status in ("overdue", "completed_late")
    if not late and not setup.levels_plain:  # else it reads no calendar and cannot raise
        level_for(warnings, meter, at, ref, remaining, float(limit.value), late, calendar)
    return _new_plain(Plain, (status, due.day, seqs))  # Plain(...) without its __new__'s frame


def _deadline(memo: dict[tuple[int, ...], Due], meter: Meter, value: float, moments: list[dt.datetime]) -> Due:
    """The deadline after the start ``moments[0]`` and the pauses ``moments[1:]`` (paused,
    resumed, ...), as _plain's loop works it out (meter.end, then _resumed for each pause), on a
    meter of whole days: kept per those days (the meter is bound to one calendar)."""
    key = tuple([m.toordinal() for m in moments])
    found = memo.get(key)
    if found is None:
        found = meter.end(moments[0], value)
        for i in range(1, len(moments), 2):
            found = _resumed(meter, moments[i], moments[i + 1], found)
        if len(memo) >= 4096:  # bounded: the start days and pauses of some weeks of records
            memo.clear()
        memo[key] = found
    return found


class _Setup(NamedTuple):
    """What _plain reads before its loop, for one clock, item and calendar: the limit, the unit's
    meter (on that calendar), the warnings and what _levels_known and _levels_plain say of them,
    and the deadlines worked out so far (None: the meter reads more than days)."""

    pack: Pack
    limit: Duration
    meter: Meter
    warnings: tuple[Any, ...]
    levels_known: bool
    levels_plain: bool
    deadlines: dict[tuple[int, ...], Due] | None


def _setup(clock_plan: ClockPlan, clock: Clock, pack: Pack, item: Item | None, calendar: Calendar | None,
           periods: tuple[Any, ...]) -> _Setup:
    """The clock's _Setup, built once per (clock, item, calendar): the limit is the clock's own
    or the item's (never the record's data: needs_data is not plain), and the meter is bound to
    the very calendar asked about (another calendar, say with a new holiday, has its own). Raises
    what limit_for and meter_for raise (nothing is kept then)."""
    key = (clock.id, item.id if item is not None else None, calendar)
    setups = clock_plan.setups
    found = setups.get(key)
    if found is None or found.pack is not pack:
        limit = limit_for(clock, pack, item, {}, None)
        meter = meter_for(limit.unit, calendar, periods)  # type: ignore[arg-type]
        warnings = clock.warnings or pack.time_limits.warnings
        found = _Setup(pack, limit, meter, warnings, _levels_known(warnings, meter), _levels_plain(warnings, meter),
                       {} if type(meter) in _WHOLE_DAYS else None)
        if len(setups) >= 1024:  # items x clocks x calendars: bounded all the same
            setups.clear()
        setups[key] = found
    return found


# Meters whose end, lost, shift and passed read the days of their arguments alone (a Due's
# ``at`` stays None on them): working days and natural days.
_WHOLE_DAYS = (Meter, NaturalDays)
_NOT_PLAIN: Any = object()
_new_plain = tuple.__new__


def _plain_events(instance: Instance, clock_plan: ClockPlan, cid: str, start_event: str,
                  odd: frozenset[str]) -> Any:
    """events_for on a plain history: the clock's (kind, log event)s, from its start on (an item
    clock: from the opening) up to its completion, and the index of the one it counts from
    (find_start, without a correction notice); _NOT_PLAIN when the history is not plain (a
    transition in ``odd`` tells the clock something else, or events go back in time)."""
    kinds = clock_plan.plain[cid]
    item_clock = cid in clock_plan.item_clocks
    started = item_clock
    mine: list[tuple[str, Event]] = []
    receipt = accepted = None
    last_at = None
    for event in instance.events:
        kind = kinds.get(event.transition)
        if kind is None:
            if event.transition in odd:
                return _NOT_PLAIN
            continue
        if not started and kind != "start":
            continue
        started = True
        if last_at is not None and event.at < last_at:  # the engine's _check_order
            return _NOT_PLAIN
        last_at = event.at
        if kind == "start" and receipt is None:
            receipt = len(mine)
        elif kind == "accepted" and accepted is None:
            accepted = len(mine)
        mine.append((kind, event))
        if kind == "completed":
            break
    if not item_clock:
        return mine, receipt
    # a case clock starts at receipt (clock_start: received) or acceptance, else at acceptance
    start = receipt if start_event == "received" else None
    return mine, (start if start is not None else accepted)


def _levels_plain(warnings: Any, meter: Any) -> bool:
    """Whether level_for on this meter reads nothing but its arguments (every warning's level is
    known and its `remaining` is in the meter's unit, or it has none): it cannot raise."""
    return all(w.level in SEVERITY and (w.remaining is None or w.remaining.unit == meter.unit) for w in warnings)


def _levels_known(warnings: Any, meter: Any) -> bool:
    """Whether level_for can weigh every warning on this meter (its _left raises otherwise)."""
    for w in warnings:
        if w.level not in SEVERITY:
            return False
        unit = w.remaining.unit if w.remaining is not None else None
        if unit is not None and unit not in (meter.unit, "working_day", "natural_day") and \
                not (unit == "working_hour" and meter.periods):
            return False
    return True


_REFUSED: Any = object()


def _pause_allowed(facts: PlainFacts, item: Item | None, event: Event) -> Any:
    """The pause's announced days (None: not announced) when the engine's pause rules accept
    it (_Replay._check_pause, on the clock event _clock_event makes), else _REFUSED."""
    data = event.data
    expected = data.get("expected_duration", data.get("expected_days"))
    days = expected if isinstance(expected, int) else None
    if days is not None and days < 0:
        return _REFUSED  # ClockEvent refuses it
    reason = str(data.get("reason") or "")
    if reason not in facts.pause_reasons:
        return _REFUSED
    if item is not None and item.pausable_for and reason not in item.pausable_for:
        return _REFUSED
    if facts.pause_needs_days and days is None:
        return _REFUSED
    return days


def _resumed(meter: Any, paused: dt.datetime, resumed: dt.datetime, due: Any) -> Any:
    """_Replay._resume's deadline (the explanation aside)."""
    return due if meter.passed(paused, due) else meter.shift(due, meter.lost(paused, resumed))


def start_problems(instance: Instance, clock_plan: ClockPlan, transition: str) -> list[str]:
    """Clocks this transition starts whose limit cannot be known (a complaint without category)."""
    problems = []
    data: dict[str, Any] | None = None
    for cid, kind in clock_plan.kinds(transition):
        if kind != "start":
            continue
        clock = clock_plan.by_id.get(cid)
        if clock is None or not needs_data(clock):
            continue
        data = record_data(instance) if data is None else data
        try:
            limit_for(clock, instance.pack, instance.item, data, data.get("category"))
        except ClockError as exc:
            problems.append(f"{clock.name}: {in_chinese(str(exc))}")
    return problems


RULE_KINDS = ("pause", "extension", "correction_notice")

# The time-limit engine words its refusals in English for pack authors; the staff at the window
# read the rule broken in Chinese first (the engine's text follows, for the details).
_IN_CHINESE = (
    ("cannot approve an extension", "无权批准延期"),
    ("must be approved and told to the applicant before the deadline", "延期须在时限届满前批准并告知申请人"),
    ("would pass the statutory deadline", "延长后的期限不得超过法定时限"),
    ("statutory limit cannot be extended", "法定时限不得延长"),
    ("extensions of the statutory limit add up to", "法定时限的延长累计超过法律允许的期间"),
    ("a second correction notice", "补正须一次性告知全部内容, 不能再次告知"),
    ("may pause only for", "本事项不能因该特别程序暂停计时"),
    ("a pause needs expected_days", "暂停计时须告知特别程序所需时间"),
    ("unknown pause reason", "不是本政策包规定的特别程序"),
    ("needs a reason told to the applicant", "延期须说明理由"),
    ("before the clock", "时限尚未开始计算"),
    ("takes its limit from", "缺少确定时限所需的信息"),
    ("chooses its limit by", "缺少确定时限所需的信息"),
)


def in_chinese(message: str) -> str:
    """``<the rule in Chinese> (<the engine's words>)``, or the engine's words alone."""
    found = next((chinese for english, chinese in _IN_CHINESE if english in message), "")
    return f"{found} ({message})" if found else message


def rule_problems(instance: Instance, clock_plan: ClockPlan, transition: str, now: dt.datetime,
                  calendar: Calendar, roles: Mapping[str, str]) -> list[str]:
    """What the time-limit rules say against the last event (a pause reason the item does not
    allow, an extension by a non-approver or past the deadline or the cap, a second correction
    notice ...). Only events that can break a rule are checked, each on one clock (a pause and
    a notice break the same rules on every clock) or on each clock it extends."""
    checked: set[str] = set()
    problems: list[str] = []
    for cid, kind in clock_plan.kinds(transition):
        if kind not in RULE_KINDS or (kind != "extension" and kind in checked):
            continue
        checked.add(kind)
        clock = clock_plan.by_id.get(cid)
        if clock is None:
            continue
        if kind == "pause" and plain_accepts(instance, clock_plan, clock, now):
            continue  # a plain history the engine accepts: no replay
        try:
            state_of(instance, clock_plan, clock, now, calendar, explain=False, roles=roles)
        except ClockError as exc:
            problems.append(f"{clock.name}: {in_chinese(str(exc))}")
    return problems
