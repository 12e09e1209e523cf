"""Actions: what a transition or a timer sets in motion, as effects for the caller to perform.

A registry maps an action name (``do:`` in a pack) to an :class:`ActionSpec`: the function that
turns the action's ``with:`` arguments into effects, and the argument that refers to another
part of the pack (``document`` → ``documents``), which the pack checker verifies. Functions are
pure: ``run(instance, args, event) -> list[Effect]``, with ``instance`` after the transition and
``event`` the event just written (None for a timer).

Built-in actions:

================  ========================  ==============================================
action            arguments                 effect
================  ========================  ==============================================
issue_document    document                  ``issue_document {document}``
start_clock       clock                     ``start_clock {clock}``
pause_clock       clock                     ``pause_clock {clock}``
resume_clock      clock                     ``resume_clock {clock}``
stop_clock        clock                     ``stop_clock {clock}``
extend_clock      clocks                    ``extend_clock {clocks, until | by, reason}``
record_violation  violation                 ``record_violation {violation, evidence: [seq]}``
notify            roles, message            ``notify {roles, message}``
assign            role                      ``assign {role}``
open_workflow     workflow, data (optional) ``open_workflow {workflow, data}``
================  ========================  ==============================================

The clock actions' effects are informative: clocks are recomputed from the event log
(:mod:`bianmin.workflow.clocks`), never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Callable

from .instance import Effect, Event, Instance, thaw

ActionFunction = Callable[[Instance, Mapping[str, Any], "Event | None"], list[Effect]]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action: its function, and ``(argument, pack list)`` when an argument names a record
    of the pack (what `packs.check.ACTIONS` lists), else None."""

    name: str
    run: ActionFunction
    ref: tuple[str, str] | None = None
    static: bool = False  # the effects depend on the arguments alone: computed once per pack


_REGISTRY: dict[str, ActionSpec] = {}


def register(name: str, run: ActionFunction, ref: tuple[str, str] | None = None,
             static: bool = False) -> ActionSpec:
    """Add (or replace) an action; the plugin hooks call this for plugin actions.

    Register before packs are used: a workflow looks its actions up once per pack version."""
    spec = ActionSpec(name, run, ref, static)
    _REGISTRY[name] = spec
    return spec


def action(name: str, ref: tuple[str, str] | None = None,
           static: bool = False) -> Callable[[ActionFunction], ActionFunction]:
    def decorate(run: ActionFunction) -> ActionFunction:
        register(name, run, ref, static)
        return run
    return decorate


def registered_actions() -> dict[str, ActionSpec]:
    """Every action by name (a copy: registering goes through :func:`register`)."""
    return dict(_REGISTRY)


def lookup(name: str) -> ActionSpec | None:
    return _REGISTRY.get(name)


def _mapping(value: Any) -> dict[str, Any]:
    """A `with:` mapping: the compiled pack keeps it as sorted (key, value) pairs."""
    if isinstance(value, Mapping):
        return thaw(value)
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value):
        return {k: _mapping(v) if isinstance(v, tuple) and v and isinstance(v[0], tuple) else thaw(v) for k, v in value}
    return {}


# -- the built-in actions --------------------------------------------------------------------

def _seq(event: Event | None) -> list[int]:
    return [event.seq] if event is not None else []


@action("issue_document", ("document", "documents"), static=True)
def issue_document(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
    return [Effect("issue_document", {"document": args["document"]})]


def _clock_action(name: str) -> None:
    def run(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
        return [Effect(name, {"clock": args["clock"]})]
    register(name, run, ("clock", "clocks"), static=True)


for _name in ("start_clock", "pause_clock", "resume_clock", "stop_clock"):
    _clock_action(_name)


@action("extend_clock", ("clocks", "clocks"))
def extend_clock(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
    from .clocks import extension_terms  # the one place that reads an extension's data

    out: dict[str, Any] = {"clocks": list(args["clocks"])}  # with: values are frozen tuples
    if event is not None:
        out.update(extension_terms(event.data))
    return [Effect("extend_clock", out)]


@action("record_violation", ("violation", "violations"))
def record_violation(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
    out = {**thaw(args), "evidence": list(args.get("evidence") or _seq(event))}
    return [Effect("record_violation", out)]


@action("notify", ("roles", "roles"), static=True)
def notify(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
    roles = args["roles"]
    payload = {"roles": [roles] if isinstance(roles, str) else list(roles), "message": args.get("message", "")}
    if args.get("channels"):  # else the server's default channels deliver it (docs/plugins.md)
        channels = args["channels"]
        payload["channels"] = [channels] if isinstance(channels, str) else list(channels)
    return [Effect("notify", payload)]


@action("assign", ("role", "roles"), static=True)
def assign(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
    return [Effect("assign", {"role": args["role"]})]


@action("open_workflow", ("workflow", "workflows"))
def open_workflow(instance: Instance, args: Mapping[str, Any], event: Event | None) -> list[Effect]:
    """The new record's opening data: the record it comes from, the subject fields a report
    needs (number, applicant ...), the data submitted with the transition, then ``with.data``."""
    data: dict[str, Any] = {"parent": {"workflow": instance.workflow_id, "item": instance.item_id,
                                       "seq": event.seq if event else None,
                                       "transition": event.transition if event else None}}
    for key in ("number", "applicant", "applicant_name", "applicant_phone", "applicant_organisation"):
        if key in instance.subject:
            data[key] = thaw(instance.subject[key])
    if event is not None:
        data.update(thaw(event.data))
    data.update(_mapping(args.get("data")))
    return [Effect("open_workflow", {"workflow": args["workflow"], "data": data})]
