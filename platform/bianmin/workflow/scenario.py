"""Workflow scenarios: a pack scenario (``policies/<pack>/tests/*.yaml``) that names a
``workflow`` drives records through the interpreter instead of feeding clock events directly.

    - name: 不予受理的, 出具退回件通知单并报主管领导否定报备
      source: xupu 二(二)
      workflow: case
      item: food_business_licence            # the case's item (optional for other records)
      subject: {number: XP-0001}             # the record's fields (optional)
      missing: [safety_rules]                # a case's materials not received (default: none)
      events:
        - {at: 2026-03-02T09:00, do: start, as: clerk}         # optional: opened at the first event
        - {at: 2026-03-02T10:00, do: refuse, as: clerk, data: {ground: not_eligible, ...}}
      now: 2026-03-03T09:00                  # clocks and timers are read then (default: last event)
      expect:
        state: refused
        documents: [refusal_notice]          # documents issued, in order
        opened: [negative_report]            # records opened by open_workflow, in order
        violations: []                       # recorded by transitions and by the sweeper at `now`
        timers: []                           # timers due at `now`
        promised: {status: stopped}          # any clock of the workflow, as in clock scenarios
        error: wrong_state                   # the last event is refused: text in "code: message"

``as`` is a role id (or a list of role ids) the actor holds; ``data`` the form data. The format
is described in docs/workflows.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..packs.model import Pack
from ..timelimits import ClockError, summary
from ..timelimits.events import parse_datetime, unknown
from .clocks import clock_states
from .instance import START, Actor, Effect, Instance, TransitionError, thaw
from .machine import fire, start
from .timers import due_timers

KEYS = ("name", "source", "workflow", "item", "subject", "missing", "events", "now", "expect", "provisional", "note")
EVENT_KEYS = ("at", "do", "as", "data", "note")
LISTS = ("documents", "opened", "violations", "timers")


def run_workflow(spec: Mapping[str, Any], pack: Pack, where: str) -> None:
    from ..scenarios import ScenarioError, ScenarioFailure, _compare, _key, _mark

    for key in spec:
        if key not in KEYS:
            raise ScenarioError(f"{_key(spec, key, where)}: " + unknown("workflow scenario key", key, KEYS))
    for key in ("name", "source", "events", "expect"):
        if spec.get(key) is None:
            raise ScenarioError(f"{where}: scenario {spec.get('name')!r} needs `{key}`")
    head = f"{where}: scenario {spec['name']!r} ({spec['source']})"
    workflow_id = str(spec["workflow"])
    if workflow_id not in {w.id for w in pack.workflows}:
        raise ScenarioError(f"{_mark(spec, 'workflow', where)}: " + unknown("workflow", workflow_id,
                                                                             [w.id for w in pack.workflows]))
    item_id = spec.get("item")
    if item_id is not None and item_id not in {i.id for i in pack.items}:
        raise ScenarioError(f"{_mark(spec, 'item', where)}: " + unknown("item", item_id, [i.id for i in pack.items]))
    expect = spec["expect"]
    if not isinstance(expect, Mapping) or not expect:
        raise ScenarioError(f"{_mark(spec, 'expect', where)}: expect is a mapping such as {{state: accepted}}")
    events = _events(spec, where, ScenarioError)
    clock_ids = {b.id for b in pack.workflow(workflow_id).clocks}
    for key in expect:
        if key not in (*LISTS, "state", "error") and key not in clock_ids:
            raise ScenarioError(f"{_key(expect, key, where)}: " + unknown(
                "expect key", key, ["state", "error", *LISTS, *sorted(clock_ids)]))

    subject = thaw(spec.get("subject") or {})
    if item_id is not None and "materials" not in subject:
        missing = set(spec.get("missing") or ())
        known = [m.id for m in pack.item(item_id).materials]
        for material in sorted(missing - set(known)):
            raise ScenarioError(f"{_mark(spec, 'missing', where)}: " + unknown(f"material of item {item_id!r}", material, known))
        subject["materials"] = [{"id": m.id, "received": m.id not in missing} for m in pack.item(item_id).materials]
    instance: Instance | None = None
    effects: list[Effect] = []
    refused: TransitionError | None = None
    for i, (at, do, actor, data) in enumerate(events):
        try:
            if instance is None:
                outcome = start(pack, workflow_id, subject=subject, actor=actor, data=data if do == START else {},
                                now=at, item_id=item_id)
                instance, effects = outcome.instance, list(outcome.effects)
                if do == START:
                    continue
            outcome = fire(instance, do, actor=actor, data=data, now=at)
        except TransitionError as exc:
            if "error" in expect and i == len(events) - 1:
                refused = exc
                break
            raise ScenarioFailure(f"{head}\nevent {i + 1} ({do}) refused: {exc}"
                                  + (f"\n  {'; '.join(map(str, exc.field_errors))}" if exc.field_errors else "")
                                  + _log(instance)) from None
        instance = outcome.instance
        effects += outcome.effects
    assert instance is not None
    problems: list[str] = []
    if "error" in expect:
        if refused is None:
            problems.append(f"error: expected the last event to be refused with {expect['error']!r}, but it was taken")
        elif str(expect["error"]) not in f"{refused.code}: {refused.message}":
            problems.append(f"error: expected {expect['error']!r}, got {refused.code}: {refused.message}")
    now = parse_datetime(spec["now"], "now") if spec.get("now") is not None else instance.events[-1].at
    try:
        states = clock_states(instance, now)
        due = due_timers(instance, now, None, set())
    except ClockError as exc:
        raise ScenarioFailure(f"{head}\n{exc}{_log(instance)}") from None
    got = {
        "state": instance.state,
        "documents": [e.args["document"] for e in effects if e.action == "issue_document"],
        "opened": [e.args["workflow"] for e in effects if e.action == "open_workflow"],
        "violations": _unique([e.args["violation"] for e in effects if e.action == "record_violation"]
                              + [e.args["violation"] for d in due for e in d.effects if e.action == "record_violation"]),
        "timers": [d.timer.id for d in due if not d.timer.id.startswith("violation.")],
    }
    for key in ("state", *LISTS):
        if key in expect:
            want = expect[key] if key == "state" else list(expect[key] or [])
            if want != got[key]:
                problems.append(f"{key}: expected {want!r}, got {got[key]!r}")
    problems += [p for cid, state in states.items() if cid in expect
                 for p in _compare(cid, expect[cid], state, spec, where)]
    if problems:
        story = "\n".join(summary(s, pack) for s in states.values())
        raise ScenarioFailure(f"{head}\n" + "\n".join(problems) + _log(instance) + f"\n\n{story}")


def _events(spec: Mapping[str, Any], where: str, error: type[Exception]) -> list[tuple[dt.datetime, str, Actor, dict[str, Any]]]:
    from ..scenarios import _key, _mark

    raw = spec["events"]
    if not isinstance(raw, list) or not raw:
        raise error(f"{_mark(spec, 'events', where)}: events is a list of {{at, do, as, data}}")
    marks = getattr(raw, "item_marks", None) or [where] * len(raw)
    out = []
    for entry, mark in zip(raw, marks):
        if not isinstance(entry, Mapping) or entry.get("at") is None or entry.get("do") is None:
            raise error(f"{mark}: an event is a mapping such as {{at: 2026-03-02T10:00, do: accept, as: clerk}}")
        for key in entry:
            if key not in EVENT_KEYS:
                raise error(f"{_key(entry, key, str(mark))}: " + unknown("event key", key, EVENT_KEYS))
        try:
            at = parse_datetime(entry["at"], "at")
        except ClockError as exc:
            raise error(f"{mark}: {exc}") from None
        roles = entry.get("as") or ()
        roles = (roles,) if isinstance(roles, str) else tuple(roles)
        if entry["do"] != START and not roles:
            raise error(f"{mark}: event {entry['do']!r} needs `as: <role>` (who takes the transition)")
        actor = Actor("+".join(roles) or "system", "、".join(roles) or "system", frozenset(roles))
        data = thaw(entry.get("data") or {})
        if not isinstance(data, dict):
            raise error(f"{mark}: data is a mapping of the form's answers")
        out.append((at, str(entry["do"]), actor, data))
    return out


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _log(instance: Instance | None) -> str:
    if instance is None:
        return ""
    lines = [f"  {e.seq}. {e.at:%Y-%m-%d %H:%M} {e.transition}: {e.from_state or '-'} → {e.to_state}"
             for e in instance.events]
    return "\n\nevents taken:\n" + "\n".join(lines)
