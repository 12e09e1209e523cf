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
from typing import Any

from ..calendar import Calendar
from ..packs.model import Item, Pack, State, Timer, Transition, Violation, Workflow
from . import actions, record, submission
from .clocks import STOPS, ClockPlan, extension_roles, rule_problems, start_problems
from .clocks import plan as clock_plan
from .guards import Guard, GuardError, compile_guard
from .instance import START, Actor, Effect, Event, Instance, Outcome, TransitionError, thaw
from .timers import violation_timers
from .violations import detected, provable


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
    return Compiled(
        pack=pack, workflow=wf,
        transitions={t.id: t for t in wf.transitions},
        states={s.id: s for s in wf.states},
        guards={t.id: compile_guard(t.guard) for t in wf.transitions if t.guard},
        clocks=clocks,
        extension_roles=extension_roles(pack, wf),
        approvers=frozenset(rules.approver_roles if rules else ()),
        issues={t.id: frozenset(a.arg("document") for a in t.actions if a.do == "issue_document")
                for t in wf.transitions},
        items={i.id: i for i in pack.items},
        role_names={r.id: r.name for r in pack.roles},
        violation_timers=violation_timers(pack, wf),
        proofs=provable(pack, wf, clocks),
        steps={t.id: tuple(_step(a.do, dict(a.with_)) for a in t.actions) for t in wf.transitions},
        clock_effects={t: tuple(_bound_effects(pairs)) for t, pairs in clocks.bound.items()},
    )


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
    problems = start_problems(instance, c.clocks, START)
    if problems:
        raise TransitionError("clock_rule", f"“{wf.name}”无法开始计时: " + "; ".join(problems))
    return Outcome(instance, event, tuple(_clock_effects(c, START, event)))


# -- taking a transition ----------------------------------------------------------------------

def fire(instance: Instance, transition_id: str, *, actor: Actor, data: Mapping[str, Any] | None = None,
         now: dt.datetime) -> Outcome:
    """Take a transition; the checks and their codes are listed in the module docstring."""
    c = compiled(instance.pack, instance.workflow_id)
    t = c.transitions.get(transition_id)
    if t is None:
        raise TransitionError("unknown_transition", _unknown(c, transition_id))
    state = instance.state
    if state not in t.from_ and "*" not in t.from_:
        raise TransitionError("wrong_state", f"当前状态“{_state_name(c, state)}”不能执行“{t.name}”")
    role = _role(c, t, actor)
    if role is None:
        wanted = "、".join(c.role_names.get(r, r) for r in t.roles)
        raise TransitionError("forbidden", f"“{actor.name}”无权执行“{t.name}”(需要角色: {wanted})")
    data = data or {}
    item = c.items.get(instance.item_id) if instance.item_id else None
    subject = instance.subject
    if t.form:
        form, errors = submission.check(instance.pack, t.form, data, subject, item, now)
        if errors:
            listed = "; ".join(str(e) for e in errors)
            raise TransitionError("invalid_form", f"“{form.title}”填写有误: {listed}", errors)
        materials = form.field("materials")
        if materials is not None and materials.type == "materials" and "materials" in data:
            subject = {**subject, "materials": data["materials"]}
    guard = c.guards.get(t.id)
    if guard is not None:
        _check_guard(c, t, guard, instance, subject, item, data, actor, now)
    last = instance.events[-1]
    if now < last.at:
        raise ValueError(f"now ({now:%Y-%m-%d %H:%M}) is before the last event ({last.at:%Y-%m-%d %H:%M})")
    event = Event(last.seq + 1, now, actor.id, t.id, state, t.to or state, data,
                  instance.pack.content_hash, actor.acting_for, role)
    new = Instance(instance.pack, instance.workflow_id, event.to_state, subject,
                   instance.events + (event,), instance.item_id)
    effects = _action_effects(c, t, new, event)
    effects += _clock_effects(c, t.id, event)
    _check_clocks(c, t, new, now)
    proofs = c.proofs.get(t.id)
    if proofs:
        issued = frozenset().union(*(c.issues.get(e.transition, frozenset()) for e in new.events))
        effects += detected(new, proofs, c.clocks, event, c.calendar, c.extension_roles, issued)
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
                if not guard(**_variables(c, instance.state, instance.subject, item, {}, actor, instance.pack, None)):
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


def _check_guard(c: Compiled, t: Transition, guard: Guard, instance: Instance, subject: Mapping[str, Any],
                 item: Item | None, data: Mapping[str, Any], actor: Actor, now: dt.datetime) -> None:
    variables = _variables(c, instance.state, subject, item, data, actor, instance.pack, now)
    try:
        ok = guard(**variables)
    except GuardError as exc:
        raise TransitionError("guard_failed", f"“{t.name}”的条件 {t.guard} 无法计算: {exc}") from None
    if not ok:
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


def _check_clocks(c: Compiled, t: Transition, new: Instance, now: dt.datetime) -> None:
    kinds = c.clocks.kinds(t.id)
    if not kinds:
        return
    problems = start_problems(new, c.clocks, t.id)
    if any(k in ("pause", "extension", "correction_notice") for _, k in kinds):
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
            out.append(Effect("pause_clock", {"clock": clock, "reason": event.data.get("reason", ""),
                                              "expected_days": event.data.get("expected_duration")}))
    return out
