"""The values the interpreter works on: who acts, what happened, what must follow.

All of them are frozen. Mappings handed in (a subject, form data, effect arguments) are copied
into read-only views (`types.MappingProxyType`, lists become tuples), so an event in the log
can never change after it was written; :func:`thaw` turns them back into plain JSON-ready data.

They are built on every transition, so their ``__init__`` is written by hand (:func:`_slots_init`):
the signature, the defaults and the freezing of the generated one, setting each slot directly
instead of through ``object.__setattr__`` (a frozen dataclass's way), about twice as fast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from collections.abc import Mapping
from typing import Any

from ..packs.model import Item, Pack, Workflow

START = "start"  # the reserved event that opens a record (packs.check.START_EVENT)


_SCALARS = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})


def freeze(value: Any) -> Any:
    """A read-only deep copy: mappings become MappingProxyType, lists and sets tuples."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        out = value.copy()
        for v in out.values():
            if type(v) not in _SCALARS:
                break
        else:  # scalars only (a material row, most form data): the copy is the frozen mapping
            return MappingProxyType(out)
        # (Scalars, most values, are kept without a call.)
        return MappingProxyType({k: v if type(v) in _SCALARS else freeze(v) for k, v in out.items()})
    if kind is MappingProxyType:
        return MappingProxyType({k: v if type(v) in _SCALARS else freeze(v) for k, v in value.items()})
    if kind is list or kind is tuple:  # before the ABC checks below, which cost more than the copy
        return tuple([v if type(v) in _SCALARS else freeze(v) for v in value])
    if isinstance(value, Mapping):
        return MappingProxyType({k: v if type(v) in _SCALARS else freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple([v if type(v) in _SCALARS else freeze(v) for v in value])
    return value


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _slots_init(cls: type, source: str) -> None:
    """Give the frozen slotted dataclass ``cls`` the ``__init__`` in ``source``, in which
    ``_set_<field>(self, value)`` sets a slot (the slot's own descriptor)."""
    setters = {f"_set_{f.name}": cls.__dict__[f.name].__set__ for f in dataclasses.fields(cls)}
    setters.update(MappingProxyType=MappingProxyType, freeze=freeze, _EMPTY=_EMPTY)
    # Inside a factory, so that the __init__ reads them as closure cells (faster than globals).
    names = ", ".join(setters)
    factory = f"def _make({names}):\n" + "".join(f"    {line}\n" for line in source.strip("\n").splitlines()) \
        + "    return __init__\n"
    scope: dict[str, Any] = {}
    exec(factory, scope)  # noqa: S102 - our own code
    init = scope["_make"](**setters)
    init.__qualname__ = f"{cls.__name__}.__init__"
    cls.__init__ = init  # type: ignore[misc]


def thaw(value: Any) -> Any:
    """Plain dicts and lists again (for JSON, templates, a database column)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is MappingProxyType or kind is dict:
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting, with the roles they act in.

    ``acting_for`` is set when a backup post (AB岗, xupu 七) acts for an absent colleague: the
    roles are then the union of both people's roles (see :func:`bianmin.workflow.act_for`).
    """

    id: str
    name: str
    roles: frozenset[str]
    acting_for: str | None = None


@dataclass(frozen=True, slots=True, init=False)
class Event:
    """One line of a record's append-only log: who did what, when, under which pack version.

    ``role`` is the role the actor exercised (the first of the transition's roles they hold);
    clocks read it for extensions, the audit trail for AB posts.
    """

    seq: int
    at: dt.datetime
    actor: str
    transition: str
    from_state: str
    to_state: str
    data: Mapping[str, Any]
    pack_hash: str
    acting_for: str | None = None
    role: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The event as plain data (``at`` in ISO format), e.g. for a JSON column."""
        return {"seq": self.seq, "at": self.at.isoformat(), "actor": self.actor,
                "transition": self.transition, "from_state": self.from_state,
                "to_state": self.to_state, "data": thaw(self.data), "pack_hash": self.pack_hash,
                "acting_for": self.acting_for, "role": self.role}


@dataclass(frozen=True, slots=True, init=False)
class Effect:
    """Something the caller must do once the event is stored (issue a document, notify ...).

    ``args`` is read-only at the top; nested lists stay lists, so that an effect compares equal
    to the plain data a caller writes (`Effect("notify", {"roles": ["clerk"], ...})`)."""

    action: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, init=False)
class Instance:
    """One record (a case, a complaint ...) running a workflow of a pinned pack version.

    ``subject`` holds the record's own fields that guards may read (for a case: number,
    applicant, ``materials`` received ...); ``events`` is the whole log, oldest first.
    """

    pack: Pack = field(compare=False, repr=False)
    workflow_id: str
    state: str
    subject: Mapping[str, Any]
    events: tuple[Event, ...]
    item_id: str | None = None

    @property
    def workflow(self) -> Workflow:
        return self.pack.workflow(self.workflow_id)

    @property
    def item(self) -> Item | None:
        return self.pack.item(self.item_id) if self.item_id else None


@dataclass(frozen=True, slots=True, init=False)
class Outcome:
    """The result of a transition: the new instance (new state, event appended), the event to
    store and the effects to perform, all in the same database transaction."""

    instance: Instance
    event: Event
    effects: tuple[Effect, ...]


_slots_init(Event, """
def __init__(self, seq, at, actor, transition, from_state, to_state, data, pack_hash, acting_for=None, role=""):
    _set_seq(self, seq)
    _set_at(self, at)
    _set_actor(self, actor)
    _set_transition(self, transition)
    _set_from_state(self, from_state)
    _set_to_state(self, to_state)
    if not isinstance(data, MappingProxyType):
        data = _EMPTY if type(data) is dict and not data else freeze(data)
    _set_data(self, data)
    _set_pack_hash(self, pack_hash)
    _set_acting_for(self, acting_for)
    _set_role(self, role)
""")

_slots_init(Effect, """
def __init__(self, action, args=None):
    _set_action(self, action)
    if not isinstance(args, MappingProxyType):
        args = MappingProxyType({} if args is None else dict(args))
    _set_args(self, args)
""")

_slots_init(Instance, """
def __init__(self, pack, workflow_id, state, subject, events, item_id=None):
    _set_pack(self, pack)
    _set_workflow_id(self, workflow_id)
    _set_state(self, state)
    _set_subject(self, subject if isinstance(subject, MappingProxyType) else freeze(subject))
    _set_events(self, events)
    _set_item_id(self, item_id)
""")

_slots_init(Outcome, """
def __init__(self, instance, event, effects):
    _set_instance(self, instance)
    _set_event(self, event)
    _set_effects(self, effects)
""")


class TransitionError(Exception):
    """A transition refused; ``code`` says which check failed, ``message`` says it in Chinese.

    Codes: unknown_workflow, unknown_transition, wrong_state, forbidden, invalid_form,
    guard_failed, clock_rule, unknown_action.
    """

    def __init__(self, code: str, message: str, field_errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_errors = list(field_errors or [])

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
