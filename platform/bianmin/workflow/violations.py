"""Violations the log itself proves, found when a transition is taken.

A pack's violation says how it is detected (``accountability.violations[].detect``):

- ``{clock: X, on: completed_late}``, and ``{clock: X, on: overdue}`` as well: the transition
  stops clock X and it finished past its deadline (xupu 八(四)5, 八(五)1); a clock that ran out
  is overdue whether or not the sweeper saw it before the completion (the store keeps one
  violation of a kind per record, so finding it twice is harmless);
- ``{rule: correction_notice_late}``: the transition is a correction notice (补正告知) given later
  than ``time_limits.correction_notice.within`` after receipt (jiangyin 三(三)5);
- ``{rule: document_missing, document: D}``: the record reaches a terminal state and document D
  was never issued on it (xupu 八(四)4: no receipt slip);
- ``{clock: X, on: overdue}`` while X still runs: found by the sweeper
  (:mod:`bianmin.workflow.timers`).

Each becomes an effect ``record_violation {violation, evidence: [event seqs], clock?}``.
"""

from __future__ import annotations

import datetime as dt

from ..calendar import Calendar
from collections.abc import Mapping

from ..packs.model import Clock, Pack, Violation, Workflow
from ..timelimits.limits import period_end
from .clocks import ClockPlan, Plain, events_for, plain_state, state_of
from .instance import Effect, Event, Instance


def provable(pack: Pack, workflow: Workflow, clock_plan: ClockPlan) -> dict[str, tuple[Violation, ...]]:
    """For each transition, the violations it may prove (most transitions: none)."""
    out: dict[str, tuple[Violation, ...]] = {}
    terminal = {s.id for s in workflow.states if s.terminal}
    # A document is missing only from a workflow that issues it (a negative report or a
    # complaint never gets a case's receipt slip).
    issues = {str(dict(a.with_).get("document")) for t in workflow.transitions for a in t.actions
              if a.do == "issue_document"}
    for t in workflow.transitions:
        kinds = clock_plan.kinds(t.id)
        found = tuple(v for v in pack.accountability.violations if (
            (v.detect.on in ("completed_late", "overdue") and (v.detect.clock, "completed") in kinds)
            or (v.detect.rule == "correction_notice_late" and any(k == "correction_notice" for _, k in kinds))
            or (v.detect.rule == "document_missing" and v.detect.document in issues and t.to in terminal)))
        if found:
            out[t.id] = found
    return out


def detected(instance: Instance, violations: tuple[Violation, ...], clock_plan: ClockPlan, event: Event,
             calendar: Calendar, roles: Mapping[str, str], issued: frozenset[str]) -> list[Effect]:
    """Which of ``violations`` (see :func:`provable`) ``event`` proves; it is the last of ``instance``."""
    out: list[Effect] = []
    kinds = clock_plan.kinds(event.transition)
    # A clock several violations watch is computed once: plain_state for a plain history
    # (status, deadline and evidence in one pass), else the engine.
    states: dict[str, Plain] = {}
    scanned: dict[int, object] = {}
    for v in violations:
        d = v.detect
        if d.on in ("completed_late", "overdue") and (d.clock, "completed") in kinds:
            clock = clock_plan.by_id.get(d.clock)
            if clock is None:
                continue
            if clock.id not in states:
                states[clock.id] = _stopped(instance, clock_plan, clock, event.at, calendar, roles, scanned)
            state = states[clock.id]
            if state.status == "completed_late":
                out.append(_effect(v, state.seqs, clock=clock.id, deadline=str(state.deadline)))
        elif d.rule == "correction_notice_late" and any(k == "correction_notice" for _, k in kinds):
            late = _notice_late(instance, event, calendar)
            if late is not None:
                out.append(_effect(v, [instance.events[0].seq, event.seq], deadline=str(late)))
        elif d.rule == "document_missing" and d.document and \
                instance.workflow.state(event.to_state).terminal and d.document not in issued:
            out.append(_effect(v, [event.seq], document=d.document))
    return out


def _stopped(instance: Instance, clock_plan: ClockPlan, clock: Clock, now: dt.datetime, calendar: Calendar,
             roles: Mapping[str, str], scanned: dict[int, object]) -> Plain:
    """The clock's status and deadline as the transition leaves it, with its evidence seqs."""
    found = plain_state(instance, clock_plan, clock, now, calendar, scanned)  # type: ignore[arg-type]
    if found is not None:
        return found
    state = state_of(instance, clock_plan, clock, now, calendar, explain=False, roles=roles)
    seqs = events_for(instance, clock_plan, clock.id, roles)[1] if state.status == "completed_late" else []
    return Plain(state.status, state.deadline, seqs)


def _notice_late(instance: Instance, event: Event, calendar: Calendar) -> dt.date | None:
    """The last day the notice was due, if it came after it."""
    rule = instance.pack.time_limits.correction_notice
    if rule is None or rule.within.unit not in ("working_day", "natural_day"):
        return None
    due = period_end(calendar, instance.events[0].at.date(), rule.within)
    return due if event.at.date() > due else None


def _effect(v: Violation, seqs: list[int], **extra: str) -> Effect:
    return Effect("record_violation", {"violation": v.id, "evidence": seqs, **extra})
