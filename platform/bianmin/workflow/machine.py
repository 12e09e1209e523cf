"""The interpreter: open a record, take a transition, list what an actor may do now.

Pure and in memory: no I/O, no wall clock (``now`` is an argument). The persistence layer calls
:func:`start` or :func:`fire` inside one database transaction, stores ``outcome.event`` and
``outcome.instance`` (state, subject) and performs ``outcome.effects``.

:func:`fire` checks, in this order, and refuses with a :class:`TransitionError` whose ``code``
names the first check that failed:

1. ``unknown_transition``: the workflow has no such transition;
2. ``wrong_state``: the record's state is not in the transition's ``from`` (``*``: any state);
3. ``forbidden``: the actor holds none of the transition's ``roles``;
4. ``invalid_form``: the data does not fill in the transition's ``form`` (``field_errors``);
5. ``guard_failed``: the ``guard`` is false, or names something that does not exist;
6. ``unknown_action``: an action not in the registry (the pack checker rejects those first);
7. ``clock_rule``: the time-limit rules refuse the event (a pause reason the item does not
   allow, an extension by a non-approver or past the deadline or beyond the statutory limit, a
   second correction notice, a clock whose limit cannot be known).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..calendar import Calendar
from ..packs.model import Item, Pack, State, Timer, Transition, Violation, Workflow
from . import actions, record, submission
from .clocks import RULE_KINDS, STOPS, ClockPlan, extension_roles, needs_data, rule_problems, start_problems
from .clocks import plan as clock_plan
from .guards import Guard, GuardError, compile_guard
from .instance import START, Actor, Effect, Event, Instance, Outcome, TransitionError, thaw
from .timers import violation_timers
from .violations import detected, provable


@dataclass(frozen=True, slots=True)
class Plan:
    """One transition, ready to take: everything :func:`fire` needs that the pack alone decides."""

    t: Transition
    any_state: bool  # from: "*"
    states: frozenset[str]  # from
    roles: tuple[str, ...]
    approver: bool  # an extension: an approver role is preferred (_role)
    form: str
    guard: Guard | None
    # The guard's variables, when it reads them by name alone (a plain guard; see _check_guard):
    # whether it reads the record (case, record, the subject's name) and the data.
    guard_record: bool
    guard_data: bool
    actions: tuple[Effect, ...] | None  # the actions' effects when none depends on the event
    clock_effects: tuple[Effect, ...]  # the bindings' effects, but the pauses'
    pauses: tuple[str, ...]  # clocks its bindings pause (their effect carries the form's data)
    clock_rules: bool  # _check_clocks has something to check (a start, pause, extension, notice)
    clock_starts: bool  # it starts a clock whose limit depends on the record (start_problems)
    clock_checks: bool  # it pauses, extends or gives a correction notice (rule_problems)
    proofs: tuple[Violation, ...]  # the violations it may prove
    documents: bool  # one of them is a document never issued (detected reads the documents issued)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A workflow of one pack version, indexed for the interpreter (built once, cached)."""

    pack: Pack
    workflow: Workflow
    transitions: Mapping[str, Transition]
    states: Mapping[str, State]
    guards: Mapping[str, Guard]
    clocks: ClockPlan
    extension_roles: Mapping[str, str]  # transition id -> the approver role it is taken in
    approvers: frozenset[str]
    issues: Mapping[str, frozenset[str]]  # transition id -> documents it issues
    items: Mapping[str, Item]
    role_names: Mapping[str, str]
    violation_timers: tuple[Timer, ...]
    proofs: Mapping[str, tuple[Violation, ...]]  # transition id -> violations it may prove
    steps: Mapping[str, tuple[Step, ...]]  # transition id -> its actions, ready to run
    clock_effects: Mapping[str, tuple[Effect, ...]]  # transition id -> its bindings' effects
    plans: Mapping[str, Plan]  # transition id -> the transition, ready to take
    opening_rules: bool  # the opening starts a clock whose limit depends on the record (start_problems)
    opening_effects: tuple[Effect, ...] | None  # the opening's clock effects (None: one is a pause's)
    record_names: frozenset[str]  # the guard variables that are the record (case, record, <subject>)
    _calendar: list[Calendar] = field(default_factory=list, compare=False)

    @property
    def calendar(self) -> Calendar:
        if not self._calendar:
            self._calendar.append(Calendar.build(self.pack.calendar))
        return self._calendar[0]


# One action of a transition: its spec (None: not registered), its arguments, and its effects
# when they depend on the arguments alone.
Step = tuple[str, "actions.ActionSpec | None", dict[str, Any], "tuple[Effect, ...] | None"]

_cache: dict[tuple[int, str], Compiled] = {}


def compiled(pack: Pack, workflow_id: str) -> Compiled:
    """The indexed workflow; raises KeyError for an unknown workflow."""
    found = _cache.get((id(pack), workflow_id))
    if found is not None and found.pack is pack:
        return found
    if len(_cache) > 256:
        _cache.clear()
    found = _cache[(id(pack), workflow_id)] = _compile(pack, pack.workflow(workflow_id))
    return found


def _compile(pack: Pack, wf: Workflow) -> Compiled:
    rules = pack.time_limits.extension
    clocks = clock_plan(pack, wf)
    guards = {t.id: compile_guard(t.guard) for t in wf.transitions if t.guard}
    roles = extension_roles(pack, wf)
    proofs = provable(pack, wf, clocks)
    steps = {t.id: tuple(_step(a.do, dict(a.with_)) for a in t.actions) for t in wf.transitions}
    clock_effects = {t: tuple(_bound_effects(pairs)) for t, pairs in clocks.bound.items()}
    record_names = frozenset({"case", "record"} | ({wf.subject} - _VARIABLES))
    plans = {}
    for t in wf.transitions:
        guard = guards.get(t.id)
        static = [s[3] for s in steps[t.id]]
        plans[t.id] = Plan(
            t=t, any_state="*" in t.from_, states=frozenset(t.from_), roles=tuple(t.roles),
            approver=t.id in roles, form=t.form, guard=guard,
            guard_record=guard is not None and bool(guard.names & record_names),
            guard_data=guard is not None and "data" in guard.names,
            actions=tuple(e for effects in static for e in effects) if all(x is not None for x in static) else None,  # type: ignore[union-attr]
            clock_effects=clock_effects.get(t.id, ()),
            pauses=tuple(clock for clock, kind in clocks.bound.get(t.id, ()) if kind == "pause"),
            clock_rules=_has_clock_rules(clocks, t.id),
            clock_starts=any(k == "start" and cid in clocks.by_id and needs_data(clocks.by_id[cid])
                             for cid, k in clocks.kinds(t.id)),
            clock_checks=any(k in RULE_KINDS for _, k in clocks.kinds(t.id)),
            proofs=proofs.get(t.id, ()),
            documents=any(v.detect.rule == "document_missing" for v in proofs.get(t.id, ())))
    return Compiled(
        pack=pack, workflow=wf,
        transitions={t.id: t for t in wf.transitions},
        states={s.id: s for s in wf.states},
        guards=guards,
        clocks=clocks,
        extension_roles=roles,
        approvers=frozenset(rules.approver_roles if rules else ()),
        issues={t.id: frozenset(a.arg("document") for a in t.actions if a.do == "issue_document")
                for t in wf.transitions},
        items={i.id: i for i in pack.items},
        role_names={r.id: r.name for r in pack.roles},
        violation_timers=violation_timers(pack, wf),
        proofs=proofs,
        steps=steps,
        clock_effects=clock_effects,
        plans=plans,
        opening_rules=_has_clock_rules(clocks, START),
        opening_effects=None if any(kind == "pause" for _, kind in clocks.bound.get(START, ()))
        else clock_effects.get(START, ()),
        record_names=record_names,
    )


_VARIABLES = frozenset({"case", "record", "item", "data", "actor", "pack", "now"})


def _has_clock_rules(clocks: ClockPlan, transition: str) -> bool:
    """Whether _check_clocks can refuse the transition: it starts a clock whose limit depends on
    the record's data (start_problems), or pauses, extends or gives a correction notice."""
    for cid, kind in clocks.kinds(transition):
        clock = clocks.by_id.get(cid)
        if kind in RULE_KINDS or (kind == "start" and clock is not None and needs_data(clock)):
            return True
    return False


def _step(name: str, args: dict[str, Any]) -> Step:
    spec = actions.lookup(name)
    static = None
    if spec is not None and spec.static:
        static = tuple(spec.run(None, args, None))  # type: ignore[arg-type]  # static: no instance
    return name, spec, args, static


def _bound_effects(pairs: tuple[tuple[str, str], ...]) -> list[Effect]:
    """The effects of a transition's clock bindings, but a pause's (they carry its data)."""
    out = []
    for clock, kind in pairs:
        if kind == "start":
            out.append(Effect("start_clock", {"clock": clock}))
        elif kind == "resume":
            out.append(Effect("resume_clock", {"clock": clock}))
        elif kind in STOPS:
            out.append(Effect("stop_clock", {"clock": clock, "stop": kind}))
    return out


# -- opening a record -------------------------------------------------------------------------

def start(pack: Pack, workflow_id: str, *, subject: Mapping[str, Any], actor: Actor,
          data: Mapping[str, Any] | None = None, now: dt.datetime, item_id: str | None = None) -> Outcome:
    """Open a record: the reserved ``start`` event puts it in the workflow's initial state."""
    try:
        c = compiled(pack, workflow_id)
    except KeyError:
        known = "、".join(w.id for w in pack.workflows)
        raise TransitionError("unknown_workflow", f"政策包“{pack.name}”没有流程“{workflow_id}”(现有: {known})") from None
    if item_id is not None and item_id not in c.items:
        raise TransitionError("unknown_item", f"政策包“{pack.name}”没有事项“{item_id}”")
    wf = c.workflow
    event = Event(1, now, actor.id, START, "", wf.initial, data or {}, pack.content_hash, actor.acting_for)
    instance = Instance(pack, workflow_id, wf.initial, subject, (event,), item_id)
    if c.opening_rules:  # a clock it starts may lack its limit
        problems = start_problems(instance, c.clocks, START)
        if problems:
            raise TransitionError("clock_rule", f"“{wf.name}”无法开始计时: " + "; ".join(problems))
    effects = c.opening_effects if c.opening_effects is not None else tuple(_clock_effects(c, START, event))
    return Outcome(instance, event, effects)


# -- taking a transition ----------------------------------------------------------------------

def fire(instance: Instance, transition_id: str, *, actor: Actor, data: Mapping[str, Any] | None = None,
         now: dt.datetime) -> Outcome:
    """Take a transition; the checks and their codes are listed in the module docstring."""
    pack = instance.pack
    c = _cache.get((id(pack), instance.workflow_id))  # compiled(), inlined: fire is the hot path
    if c is None or c.pack is not pack:
        c = compiled(pack, instance.workflow_id)
    p = c.plans.get(transition_id)
    if p is None:
        raise TransitionError("unknown_transition", _unknown(c, transition_id))
    t = p.t
    state = instance.state
    if state not in p.states and not p.any_state:
        raise TransitionError("wrong_state", f"当前状态“{_state_name(c, state)}”不能执行“{t.name}”")
    if not p.roles:
        role: str | None = ""
    elif p.approver:
        role = _role(c, t, actor)
    else:
        held = actor.roles
        role = None
        for r in p.roles:  # the first of its roles the actor holds
            if r in held:
                role = r
                break
    if role is None:
        wanted = "、".join(c.role_names.get(r, r) for r in t.roles)
        raise TransitionError("forbidden", f"“{actor.name}”无权执行“{t.name}”(需要角色: {wanted})")
    data = data or {}
    item = c.items.get(instance.item_id) if instance.item_id else None
    subject = instance.subject
    if p.form:
        form, errors = submission.check(pack, p.form, data, subject, item, now)
        if errors:
            listed = "; ".join(str(e) for e in errors)
            raise TransitionError("invalid_form", f"“{form.title}”填写有误: {listed}", errors)
        if submission.replaces_materials(form) and "materials" in data:
            subject = {**subject, "materials": data["materials"]}
    if p.guard is not None:
        _check_guard(c, p, instance, subject, item, data, actor, now)
    events = instance.events
    last = events[-1]
    if now < last.at:
        raise ValueError(f"now ({now:%Y-%m-%d %H:%M}) is before the last event ({last.at:%Y-%m-%d %H:%M})")
    event = Event(last.seq + 1, now, actor.id, t.id, state, t.to or state, data,
                  pack.content_hash, actor.acting_for, role)
    new = Instance(pack, instance.workflow_id, event.to_state, subject, events + (event,), instance.item_id)
    effects = list(p.actions) if p.actions is not None else _action_effects(c, t, new, event)
    effects += p.clock_effects
    if p.pauses:  # _pause_effect for each, the form's answers read once
        got = event.data.get
        reason, expected = got("reason", ""), got("expected_duration")
        for clock in p.pauses:
            effects.append(Effect("pause_clock", MappingProxyType(
                {"clock": clock, "reason": reason, "expected_days": expected})))
    if p.clock_rules:
        _check_clocks(c, t, new, now, p)
    if p.proofs:
        issued = frozenset().union(*(c.issues.get(e.transition, frozenset()) for e in new.events)) \
            if p.documents else frozenset()  # only document_missing reads it
        effects += detected(new, p.proofs, c.clocks, event, c.calendar, c.extension_roles, issued)
    return Outcome(new, event, tuple(effects))


def available(instance: Instance, actor: Actor) -> list[Transition]:
    """The transitions ``actor`` may take now: from this state, with one of their roles, and
    whose guard holds. A guard that reads ``data`` is decided only when the data is submitted,
    so such a transition is listed; a guard that cannot be computed is not."""
    c = compiled(instance.pack, instance.workflow_id)
    item = c.items.get(instance.item_id) if instance.item_id else None
    out = []
    for t in c.workflow.transitions_from(instance.state):
        if _role(c, t, actor) is None:
            continue
        guard = c.guards.get(t.id)
        if guard is not None and "data" not in guard.names:
            try:
                variables = _variables(c, instance.state, instance.subject, item, {}, actor, instance.pack, None)
                if not guard.holds(variables):
                    continue
            except GuardError:
                continue
        out.append(t)
    return out


# -- the checks -------------------------------------------------------------------------------

def _unknown(c: Compiled, transition_id: str) -> str:
    hint = difflib.get_close_matches(transition_id, list(c.transitions), n=1)
    tail = f", 是否要执行“{c.transitions[hint[0]].name}”({hint[0]})?" if hint else ""
    return f"流程“{c.workflow.name}”没有“{transition_id}”这一步{tail}"


def _state_name(c: Compiled, state: str) -> str:
    found = c.states.get(state)
    return found.name if found else state


def _role(c: Compiled, t: Transition, actor: Actor) -> str | None:
    """The role the actor takes the transition in ("" if it is open to all), None if none fits.

    An actor acting for an absent colleague (AB post) carries the union of both people's roles.
    For an extension, an approver role is preferred: the time-limit rules check it."""
    if not t.roles:
        return ""
    held = [r for r in t.roles if r in actor.roles]
    if not held:
        return None
    if t.id in c.extension_roles:
        return next((r for r in held if r in c.approvers), held[0])
    return held[0]


def _variables(c: Compiled, state: str, subject: Mapping[str, Any], item: Item | None,
               data: Mapping[str, Any], actor: Actor, pack: Pack, now: dt.datetime | None) -> dict[str, Any]:
    rec = record.view(subject, state, item)
    variables = {"case": rec, "record": rec, "item": item, "data": thaw(data), "actor": actor,
                 "pack": pack, "now": now}
    variables.setdefault(c.workflow.subject, rec)
    return variables


def _check_guard(c: Compiled, p: Plan, instance: Instance, subject: Mapping[str, Any],
                 item: Item | None, data: Mapping[str, Any], actor: Actor, now: dt.datetime) -> None:
    t, guard = p.t, p.guard
    assert guard is not None
    if guard.plain is not None:
        # A plain guard reads its variables by name: give it those it names, each the same value
        # _variables gives (the record's facts are derived only if it reads the record).
        variables: dict[str, Any] = {"item": item, "actor": actor, "pack": instance.pack, "now": now}
        if p.guard_record:
            rec = record.view(subject, instance.state, item)
            for name in c.record_names:
                variables[name] = rec
        if p.guard_data:
            variables["data"] = thaw(data)
    else:  # Jinja2 runs it, and a plugin function may read any variable from its context
        variables = _variables(c, instance.state, subject, item, data, actor, instance.pack, now)
    try:
        ok = guard.holds(variables)
    except GuardError as exc:
        raise TransitionError("guard_failed", f"“{t.name}”的条件 {t.guard} 无法计算: {exc}") from None
    if not ok:
        variables = _variables(c, instance.state, subject, item, data, actor, instance.pack, now)
        raise TransitionError("guard_failed", f"不满足“{t.name}”的条件: {t.guard}" + _facts(guard, variables, item))


def _facts(guard: Guard, variables: Mapping[str, Any], item: Item | None) -> str:
    """What the guard saw, so the user knows what to change: values and missing materials."""
    shown = []
    for path in guard.paths:
        if any(other != path and other.startswith(path + ".") for other in guard.paths):
            continue
        value = _resolve(variables, path)
        if isinstance(value, (str, int, float, bool)) or value is None:
            shown.append(f"{path}={_text(value)}")
    rec = variables["case"]
    if any(p.rsplit(".", 1)[-1] in record.DERIVED[1:] for p in guard.paths) and rec["missing_materials"]:
        shown.append("缺少材料: " + record.material_names(item, rec["missing_materials"]))
        if rec["missing_core_materials"]:
            shown.append("其中核心材料: " + record.material_names(item, rec["missing_core_materials"]))
    return f"(当前 {'; '.join(shown)})" if shown else ""


def _resolve(variables: Mapping[str, Any], path: str) -> Any:
    head, *rest = path.split(".")
    value: Any = variables.get(head)
    for key in rest:
        value = value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
    return value


def _text(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _check_clocks(c: Compiled, t: Transition, new: Instance, now: dt.datetime, p: Plan | None = None) -> None:
    kinds = c.clocks.kinds(t.id)
    if not kinds:
        return
    # (The plan knows whether it starts a clock start_problems reads, and breaks rules.)
    problems = start_problems(new, c.clocks, t.id) if p is None or p.clock_starts else []
    if any(k in RULE_KINDS for _, k in kinds) if p is None else p.clock_checks:
        problems += rule_problems(new, c.clocks, t.id, now, c.calendar, c.extension_roles)
    if problems:
        raise TransitionError("clock_rule", f"“{t.name}”不符合时限规则: " + "; ".join(problems))


# -- effects ----------------------------------------------------------------------------------

def _action_effects(c: Compiled, t: Transition, new: Instance, event: Event) -> list[Effect]:
    effects: list[Effect] = []
    for name, spec, args, static in c.steps[t.id]:
        if static is not None:
            effects += static
            continue
        spec = spec or actions.lookup(name)  # registered since the workflow was indexed
        if spec is None:
            raise TransitionError("unknown_action", f"“{t.name}”包含未知的动作“{name}”")
        effects += spec.run(new, args, event)
    return effects


def _clock_effects(c: Compiled, transition: str, event: Event) -> list[Effect]:
    """What the workflow's clock bindings do on this event (clock actions speak for themselves)."""
    out = list(c.clock_effects.get(transition, ()))
    for clock, kind in c.clocks.bound.get(transition, ()):
        if kind == "pause":
            out.append(_pause_effect(clock, event))
    return out


def _pause_effect(clock: str, event: Event) -> Effect:
    return Effect("pause_clock", MappingProxyType({"clock": clock, "reason": event.data.get("reason", ""),
                                                   "expected_days": event.data.get("expected_duration")}))
