"""A clock's state as a pure function of its events, the pack and the calendar.

``compute`` replays the events in order: it finds the start (with the correction-notice rule of
行政许可法 §32), applies pauses (§45) and extensions (§42) with the pack's rules, and stops at
completion, refusal or withdrawal. Each step costs O(1) calendar arithmetic; the optional
explanation is the only part that walks day by day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..calendar import Calendar
from ..packs.model import Clock, ComplaintCategory, Duration, Item, Pack
from .events import ClockError, ClockEvent
from .explain import ExplainLine, Pause, trace
from .levels import level_for
from .limits import is_item_clock, limit_for, statutory_clock
from .start import find_start
from .units import Due, Meter, meter_for

STATUSES = ("not_started", "running", "paused", "completed_on_time", "completed_late", "overdue", "stopped")
_BEFORE_START_OK = ("start", "received", "correction_notice", "resubmitted", "accepted", "refused", "withdrawn")


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where one clock stands at ``now``. ``remaining`` is in ``unit`` (working days, natural days
    or working hours): what is left, negative once past the deadline. A paused clock keeps the
    remainder it had when it paused, and its ``deadline`` assumes the pause ends at the later of
    ``now`` and its announced end."""

    clock: str
    limit: Duration
    status: str
    level: str
    deadline: date | None = None
    deadline_at: datetime | None = None
    remaining: float | None = None
    unit: str = "working_day"
    provisional: bool = False
    start: date | None = None  # the start day (not counted, 民法典 §201)
    stopped_at: datetime | None = None
    stop: str = ""  # completed | refused | withdrawn
    paused_for: str = ""  # the pause reason id while paused
    used_share: float | None = None
    explanation: tuple[ExplainLine, ...] = ()


def compute(clock: Clock, events: Sequence[ClockEvent], calendar: Calendar, *, pack: Pack,
            item: Item | None = None, data: Mapping[str, Any] | None = None,
            category: ComplaintCategory | str | None = None, now: datetime,
            explain: bool = True) -> ClockState:
    """The state of ``clock`` after ``events`` (in time order, none after ``now``)."""
    limit = limit_for(clock, pack, item, data, category)
    return _Replay(clock, limit, calendar, pack, item, data, category).run(tuple(events), now, explain)


class _Replay:
    def __init__(self, clock: Clock, limit: Duration, calendar: Calendar, pack: Pack, item: Item | None,
                 data: Mapping[str, Any] | None, category: ComplaintCategory | str | None) -> None:
        self.clock, self.limit, self.cal, self.pack, self.item = clock, limit, calendar, pack, item
        self.data, self.category = data, category
        periods = tuple(p.times for p in pack.office_hours.periods) if pack.office_hours else ()
        self.meter: Meter = meter_for(limit.unit, calendar, periods)
        self.case = is_item_clock(clock)
        self.rules: list[ExplainLine] = []
        self.pauses: list[Pause] = []
        self.total = float(limit.value)  # the limit plus extensions, in the clock's unit
        self.extended_for_max = 0.0  # extensions of this clock, in extension.max's unit

    def rule(self, text: str, source: str = "") -> None:
        self.rules.append(ExplainLine(text, source))

    def run(self, events: tuple[ClockEvent, ...], now: datetime, explain: bool) -> ClockState:
        _check_order(events, now)
        start = find_start(self, events)
        due: Due | None = None
        pause: ClockEvent | None = None
        before_pause: Due | None = None
        stop: ClockEvent | None = None
        for i, ev in enumerate(events):
            if stop is not None and ev.kind != "delivered":
                raise _error(ev, f"{ev.kind} after the clock stopped ({stop.kind} at {_t(stop.at)})")
            if ev is start:
                due = self.meter.end(ev.at, self.limit.value)
                self.rule(f"limit {self.limit}: the period starts on the day after {ev.at.date()} and "
                          f"ends on {_due_text(due)}", "民法典 §201; 行政许可法 §82")
                continue
            if due is None:
                if ev.kind not in _BEFORE_START_OK:
                    raise _error(ev, f"{ev.kind} before the clock {self.clock.id!r} started")
                if ev.kind in ("refused", "withdrawn"):
                    stop = ev
                continue
            if ev.kind == "pause":
                if pause is not None:
                    raise _error(ev, f"pause while already paused (since {_t(pause.at)}); resume first")
                self._check_pause(ev)
                pause, before_pause = ev, due
            elif ev.kind == "resume":
                if pause is None:
                    raise _error(ev, "resume without a pause")
                due = self._resume(pause, ev.at, due)
                pause = None
            elif ev.kind == "extension":
                if pause is not None:  # settle the time paused so far; the pause then goes on
                    due = self._resume(pause, ev.at, due, how="counted up to the extension on")
                    pause = dataclasses.replace(pause, at=ev.at)
                due = self._extend(ev, due, events[: i + 1])
                before_pause = due if pause is not None else before_pause
            elif ev.kind == "completed":
                if pause is not None:
                    raise _error(ev, f"completed while paused (since {_t(pause.at)}); record resume first")
                stop = ev
            elif ev.kind in ("refused", "withdrawn"):
                if pause is not None:  # withdrawing ends the special procedure too
                    due, pause = self._resume(pause, ev.at, due), None
                stop = ev
            elif ev.kind == "delivered" and (stop is None or stop.kind != "completed"):
                raise _error(ev, "delivered before completed")
        return self._state(events, now, start, due, pause, before_pause, stop, explain)

    # -- pauses and extensions --------------------------------------------------------------

    def _check_pause(self, ev: ClockEvent) -> None:
        tl = self.pack.time_limits
        reasons = {r.id: r for r in tl.pause_reasons}
        if ev.reason not in reasons:
            raise _error(ev, f"unknown pause reason {ev.reason!r}: this pack's special procedures "
                         f"(特别程序) are {', '.join(reasons) or '(none)'}")
        item = self.item
        if item is not None and item.pausable_for and ev.reason not in item.pausable_for:
            raise _error(ev, f"item {item.id!r} may pause only for {', '.join(item.pausable_for)}, "
                         f"not {ev.reason!r} ({reasons[ev.reason].name})")
        if tl.pause and "expected_duration" in tl.pause.requires and ev.expected_days is None:
            raise _error(ev, f"a pause needs expected_days: the applicant is told how long "
                         f"{reasons[ev.reason].name} takes ({tl.pause.source})")

    def _resume(self, pause: ClockEvent, at: datetime, due: Due, how: str = "ended on") -> Due:
        """The deadline once the pause from ``pause.at`` to ``at`` is given back (O(1))."""
        name = self._reason_name(pause.reason)
        projected = how.startswith("expected")
        self.pauses.append(Pause(pause.at, at, f"{name}, expected to end {at.date()}" if projected else name))
        if self.meter.passed(pause.at, due):
            self.rule(f"paused for {name} on {pause.at.date()}, after the deadline: no time is given back",
                      self._reason_source(pause.reason))
            return due
        lost = self.meter.lost(pause.at, at)
        new = self.meter.shift(due, lost)
        self.rule(f"paused for {name} from {pause.at.date()}; {how} {at.date()}: "
                  f"{_amount(lost, self.meter.word)} not counted, the deadline moves to {_due_text(new)}",
                  self._reason_source(pause.reason))
        return new

    def _reason_name(self, reason: str) -> str:
        return next((f"{r.name} ({r.id})" for r in self.pack.time_limits.pause_reasons if r.id == reason), reason)

    def _reason_source(self, reason: str) -> str:
        return next((r.source for r in self.pack.time_limits.pause_reasons if r.id == reason), "")

    def _extend(self, ev: ClockEvent, due: Due, upto: tuple[ClockEvent, ...]) -> Due:
        if ev.clocks and self.clock.id not in ev.clocks:
            return due
        rules = self.pack.time_limits.extension
        if self.case:
            if rules is None:
                raise _error(ev, "this pack sets no extension rule (延期): a case's limits cannot be extended")
            if ev.role not in rules.approver_roles:
                who = f"role {ev.role!r}" if ev.role else "an extension without a role"
                raise _error(ev, f"{who} cannot approve an extension: approvers are "
                             f"{', '.join(rules.approver_roles)} ({rules.source})")
            if "reason" in rules.requires and not ev.reason:
                raise _error(ev, f"an extension needs a reason told to the applicant ({rules.source})")
            if rules.before_deadline and self.meter.passed(ev.at, due):
                raise _error(ev, f"extension recorded on {_t(ev.at)}, after the deadline {_due_text(due)}: it "
                             f"must be approved and told to the applicant before the deadline ({rules.source})")
        new = self.meter.extend(due, ev.by, ev.until)
        if not _later(new, due) and ev.until is not None:  # e.g. a new promised day before the statutory one
            self.rule(f"extension until {ev.until} on {ev.at.date()} leaves this clock's later deadline "
                      f"{_due_text(due)} as it is")
            return due
        cap = self._cap(ev, due, new, upto) if self.case and rules and rules.cap == "statutory_limit" else ""
        self.total += self.meter.measure(due, new)
        what = f"by {ev.by}" if ev.by is not None else f"until {ev.until}"
        who = f", approved by {ev.role}" if ev.role else ""
        self.rule(f"extended {what} on {ev.at.date()}{who}: the deadline moves to {_due_text(new)}",
                  rules.source if (self.case and rules) else self.clock.source)
        if cap:
            self.rule(cap, rules.source if rules else "")
        return new

    def _cap(self, ev: ClockEvent, due: Due, new: Due, upto: tuple[ClockEvent, ...]) -> str:
        """Check `cap: statutory_limit`; the rule applied, for the explanation."""
        rules = self.pack.time_limits.extension
        assert rules is not None
        if self.clock.limit.from_ == "item.statutory":
            if rules.max is None:
                raise _error(ev, f"the statutory limit cannot be extended: the pack gives no extension.max "
                             f"({rules.source})")
            periods = self.meter.periods
            self.extended_for_max += meter_for(rules.max.unit, self.cal, periods).measure(due, new)
            if self.extended_for_max > rules.max.value:
                raise _error(ev, f"extensions of the statutory limit add up to {_num(self.extended_for_max)} "
                             f"{rules.max.unit.replace('_', ' ')}s, more than the {rules.max} allowed "
                             f"(cap: statutory_limit; {rules.max.basis or rules.source})")
            return (f"cap: the statutory limit is extended by {_num(self.extended_for_max)} of the "
                    f"{rules.max} allowed ({rules.max.basis or rules.source})")
        statutory = statutory_clock(self.pack)
        if statutory is None:
            return ""
        cap = compute(statutory, upto, self.cal, pack=self.pack, item=self.item, data=self.data,
                      now=ev.at, explain=False)
        if cap.deadline is not None and _later(new, Due(cap.deadline, cap.deadline, cap.deadline_at)):
            raise _error(ev, f"the extended deadline {_due_text(new)} would pass the statutory deadline "
                         f"{cap.deadline}: an extension may not exceed the statutory limit "
                         f"(cap: statutory_limit; {rules.source})")
        return f"cap: the extended deadline stays within the statutory deadline {cap.deadline}"

    # -- the result -------------------------------------------------------------------------

    def _state(self, events: tuple[ClockEvent, ...], now: datetime, start: ClockEvent | None, due: Due | None,
               pause: ClockEvent | None, before_pause: Due | None, stop: ClockEvent | None,
               explain: bool) -> ClockState:
        base = dict(clock=self.clock.id, limit=self.limit, unit=_remaining_unit(self.meter))
        if start is None or due is None:
            status = "stopped" if stop is not None else "not_started"
            return ClockState(status=status, level="green", stopped_at=stop.at if stop else None,
                              stop=stop.kind if stop else "", provisional=self._provisional(events, now, None),
                              explanation=tuple(self.rules) if explain else (), **base)
        at, paused_for = now, ""
        ref = due  # the deadline the remaining time and the level are measured against
        if stop is not None:
            at = stop.at
            status = ("completed_late" if self.meter.passed(at, due) else "completed_on_time") \
                if stop.kind == "completed" else "stopped"
            remaining = self.meter.remaining(at, due)
        elif pause is not None:
            assert before_pause is not None
            at, paused_for, status = pause.at, pause.reason, "paused"
            remaining = self.meter.remaining(pause.at, before_pause)
            ref = before_pause
            due = self._resume(pause, max(now, self._expected_end(pause)), due, how="expected to end on")
        else:
            status = "overdue" if self.meter.passed(now, due) else "running"
            remaining = self.meter.remaining(now, due)
        late = status in ("overdue", "completed_late") or (status == "stopped" and self.meter.passed(at, ref))
        warnings = self.clock.warnings or self.pack.time_limits.warnings
        level, used = level_for(warnings, self.meter, at, ref, remaining, self.total, late, self.cal)
        lines = list(self.rules)
        if stop is not None:
            lines.append(ExplainLine(f"{stop.kind} on {_t(stop.at)}: {status}"))
        if explain:
            end = (stop.at if stop else now).date()
            lines += trace(self.meter, start.at, due, self.limit.value, end, self.pauses)
        return ClockState(
            status=status, level=level, deadline=due.day, deadline_at=due.at, remaining=remaining,
            provisional=self._provisional(events, now, due), start=start.at.date(),
            stopped_at=stop.at if stop else None, stop=stop.kind if stop else "", paused_for=paused_for,
            used_share=used, explanation=tuple(lines) if explain else (), **base)

    def _expected_end(self, pause: ClockEvent) -> datetime:
        if pause.expected_days is None:
            return pause.at
        end = self.meter.end(pause.at, pause.expected_days) if self.meter.unit != "working_hour" else \
            meter_for("working_day", self.cal, ()).end(pause.at, pause.expected_days)
        return datetime.combine(end.day, pause.at.timetz())

    def _provisional(self, events: tuple[ClockEvent, ...], now: datetime, due: Due | None) -> bool:
        days = [ev.at.date() for ev in events] + [now.date()] + ([due.day] if due else [])
        return any(self.cal.is_provisional(d) for d in days)


def _check_order(events: tuple[ClockEvent, ...], now: datetime) -> None:
    for a, b in zip(events, events[1:]):
        if b.at < a.at:
            raise _error(b, f"events out of time order: {b.kind} at {_t(b.at)} comes after "
                         f"{a.kind} at {_t(a.at)}")
    if events and events[-1].at > now:
        raise _error(events[-1], f"{events[-1].kind} at {_t(events[-1].at)} is after now ({_t(now)})")


def _error(ev: ClockEvent, message: str) -> ClockError:
    return ClockError(f"{ev.where}: {message}" if ev.where else message)


def _remaining_unit(meter: Meter) -> str:
    return meter.unit if meter.unit in ("natural_day", "working_hour") else "working_day"


def _later(a: Due, b: Due) -> bool:
    """Whether deadline a ends after deadline b (by the moment when both have one)."""
    return a.at > b.at if (a.at is not None and b.at is not None) else a.day > b.day


def _due_text(due: Due) -> str:
    return due.at.strftime("%Y-%m-%d %H:%M") if due.at is not None else due.day.isoformat()


def _t(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _amount(x: float, word: str) -> str:
    return f"{_num(x)} {word}" + ("" if x == 1 else "s")
