"""The compiled pack: frozen dataclasses, the only form of a pack the engine sees.

Field names follow the YAML keys (``from`` is spelled ``from_``). ``build`` turns a checked,
merged document into these values; nothing downstream of the compiler touches raw dicts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Optional

from ..calendar import CalendarConfig


def _key(name: str) -> dict[str, str]:
    return {"key": name}


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    kind: str = "policy"
    number: str = ""
    issuer: str = ""
    date: Optional[dt.date] = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Duration:
    unit: str
    value: int = 0
    basis: str = ""

    def __str__(self) -> str:
        words = {"working_day": "个工作日", "natural_day": "日", "working_hour": "个工作小时"}
        if self.unit == "immediate":
            return "当场办结"
        if self.unit == "same_day":
            return "当日办结"
        return f"{self.value}{words[self.unit]}"


@dataclass(frozen=True, slots=True)
class LimitRef:
    """A clock's limit: fixed, taken from the record (`from_`), or chosen by a data field."""

    duration: Optional[Duration] = None
    from_: str = field(default="", metadata=_key("from"))
    by: str = ""
    cases: tuple[tuple[str, Duration], ...] = ()


@dataclass(frozen=True, slots=True)
class Warning:
    level: str
    source: str
    name: str = ""
    remaining: Optional[Duration] = None
    used_share: Optional[float] = None


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    name: str
    phone: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    name: str
    kind: str
    departments: tuple[str, ...] = ()
    phone: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: str
    description: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    name: str
    role: str
    window: str = ""
    backup: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class BackupPosts:
    source: str
    handover: str = "logged"
    changes_filed_with_centre: bool = False


@dataclass(frozen=True, slots=True)
class Material:
    id: str
    name: str
    form: str
    core: bool
    copies: int = 1
    pages: Optional[int] = None
    basis: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    name: str
    department: str
    limit: Duration


@dataclass(frozen=True, slots=True)
class Limits:
    statutory: Duration
    promised: Duration
    lead_department: str = ""
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class Fee:
    free: bool
    standard: str = ""
    basis: str = ""


@dataclass(frozen=True, slots=True)
class Phones:
    consult: str = ""
    supervise: str = ""


@dataclass(frozen=True, slots=True)
class Faq:
    q: str
    a: str


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    code: str
    name: str
    type: str
    kind: str
    department: str
    limits: Limits
    materials: tuple[Material, ...]
    legal_basis: tuple[str, ...]
    window: str = ""
    subject: str = ""
    conditions: tuple[str, ...] = ()
    fee: Fee = Fee(free=True)
    result: str = ""
    phones: Phones = Phones()
    pausable_for: tuple[str, ...] = ()
    form: str = "intake"
    workflow: str = "case"
    accept_on_commitment: bool = False
    agency: bool = False
    online: bool = False
    visits: Optional[int] = None
    delivery: tuple[str, ...] = ()
    quantity_limit: str = ""
    faq: tuple[Faq, ...] = ()

    @property
    def core_materials(self) -> tuple[Material, ...]:
        return tuple(m for m in self.materials if m.core)


@dataclass(frozen=True, slots=True)
class PauseReason:
    id: str
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class ClockStart:
    event: str
    source: str


@dataclass(frozen=True, slots=True)
class CorrectionNotice:
    within: Duration
    if_late: str
    source: str
    complete_list: bool = True


@dataclass(frozen=True, slots=True)
class PausePolicy:
    source: str
    tell_applicant: bool = True
    notice: str = ""
    requires: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Extension:
    approver_roles: tuple[str, ...]
    source: str
    before_deadline: bool = True
    cap: str = "statutory_limit"
    max: Optional[Duration] = None
    notice: str = ""
    requires: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SameDay:
    source: str
    written_reason_if_not: bool = False


@dataclass(frozen=True, slots=True)
class CompletionEvents:
    events: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class NoReply:
    outcome: str
    source: str


@dataclass(frozen=True, slots=True)
class TimeLimits:
    clock_start: Optional[ClockStart] = None
    correction_notice: Optional[CorrectionNotice] = None
    pause_reasons: tuple[PauseReason, ...] = ()
    pause: Optional[PausePolicy] = None
    extension: Optional[Extension] = None
    same_day: Optional[SameDay] = None
    completion_events: Optional[CompletionEvents] = None
    no_reply_means: Optional[NoReply] = None
    warnings: tuple[Warning, ...] = ()


@dataclass(frozen=True, slots=True)
class Period:
    from_: str = field(metadata=_key("from"))
    to: str = ""

    @property
    def times(self) -> tuple[dt.time, dt.time]:
        return dt.time.fromisoformat(self.from_), dt.time.fromisoformat(self.to)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    periods: tuple[Period, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Clock:
    id: str
    name: str
    limit: LimitRef
    source: str
    warnings: tuple[Warning, ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    id: str
    name: str
    terminal: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    do: str
    with_: tuple[tuple[str, Any], ...] = field(default=(), metadata=_key("with"))

    def arg(self, name: str, default: Any = None) -> Any:
        return dict(self.with_).get(name, default)


@dataclass(frozen=True, slots=True)
class Transition:
    id: str
    name: str
    from_: tuple[str, ...] = field(metadata=_key("from"))
    to: str = ""
    roles: tuple[str, ...] = ()
    guard: str = ""
    form: str = ""
    actions: tuple[Action, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class ClockBinding:
    id: str
    start_on: tuple[str, ...]
    stop_on: tuple[str, ...] = ()
    pause_on: tuple[str, ...] = ()
    resume_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Timer:
    id: str
    clock: str
    on: str
    actions: tuple[Action, ...]
    level: str = ""


@dataclass(frozen=True, slots=True)
class Workflow:
    id: str
    name: str
    subject: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    source: str
    clocks: tuple[ClockBinding, ...] = ()
    timers: tuple[Timer, ...] = ()

    def state(self, state_id: str) -> State:
        return next(s for s in self.states if s.id == state_id)

    def transitions_from(self, state_id: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if "*" in t.from_ or state_id in t.from_)


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    name: str
    template: str
    context: str
    paper: str = "a4"
    source: str = ""


@dataclass(frozen=True, slots=True)
class ComplaintCategory:
    id: str
    name: str
    route_to: str
    limit: Duration
    source: str


@dataclass(frozen=True, slots=True)
class ReplyRule:
    oral: str
    written: str
    source: str


@dataclass(frozen=True, slots=True)
class Confidential:
    visible_to: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Elsewhere:
    name: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Complaints:
    categories: tuple[ComplaintCategory, ...] = ()
    channels: tuple[str, ...] = ()
    written_required_when: str = ""
    reply_rule: Optional[ReplyRule] = None
    confidential: Optional[Confidential] = None
    elsewhere: tuple[Elsewhere, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class Deduct:
    from_: float = field(metadata=_key("from"))
    to: float = 0


@dataclass(frozen=True, slots=True)
class Tier:
    id: str
    name: str
    charged: str
    source: str
    deduct: Optional[Deduct] = None
    effects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Detect:
    manual: bool = False
    clock: str = ""
    on: str = ""
    rule: str = ""
    document: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    id: str
    name: str
    tier: str
    detect: Detect
    source: str
    deduct: Optional[Deduct] = None
    charged: str = ""
    effects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Effect:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Adjust:
    points: Optional[float] = None
    factor: Optional[float] = None
    waive: bool = False
    effects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Circumstance:
    id: str
    name: str
    source: str
    adjust: Adjust = Adjust()
    when: str = ""


@dataclass(frozen=True, slots=True)
class Hearing:
    required: bool
    source: str
    appeal: bool = False


@dataclass(frozen=True, slots=True)
class SettleWithin:
    limit: Duration
    source: str


@dataclass(frozen=True, slots=True)
class Accountability:
    tiers: tuple[Tier, ...] = ()
    effects: tuple[Effect, ...] = ()
    violations: tuple[Violation, ...] = ()
    aggravating: tuple[Circumstance, ...] = ()
    mitigating: tuple[Circumstance, ...] = ()
    hearing: Optional[Hearing] = None
    settle_within: Optional[SettleWithin] = None

    def tier(self, tier_id: str) -> Tier:
        return next(t for t in self.tiers if t.id == tier_id)


@dataclass(frozen=True, slots=True)
class Dimension:
    id: str
    name: str
    weight: float
    source: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Selection:
    id: str
    name: str
    subject: str
    period: str
    source: str
    count: Optional[int] = None
    disqualify: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Appraisal:
    source: str = ""
    base_score: float = 100
    periods: tuple[str, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    selections: tuple[Selection, ...] = ()
    counts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RatingLevel:
    id: str
    name: str
    score: int
    bad: bool


@dataclass(frozen=True, slots=True)
class Rectification:
    within: Duration
    source: str
    callback: bool = True


@dataclass(frozen=True, slots=True)
class Ratings:
    source: str = ""
    levels: tuple[RatingLevel, ...] = ()
    rectification: Optional[Rectification] = None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Commitment:
    id: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Hotline:
    id: str
    name: str
    number: str
    source: str
    hours: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    source: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Centre:
    name: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Inquiry:
    source: str
    register_fields: tuple[str, ...] = ()
    receipt_fields: tuple[str, ...] = ()
    receipt_when_not_on_spot: bool = False
    applicant_signs: bool = False
    referral: str = ""
    phone_inquiries: bool = False


@dataclass(frozen=True, slots=True)
class Ground:
    id: str
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class NegativeReport:
    source: str
    grounds: tuple[Ground, ...] = ()
    review_roles: tuple[str, ...] = ()
    appeal_rights: str = ""


@dataclass(frozen=True, slots=True)
class UnresolvedMatter:
    source: str
    scope: tuple[Ground, ...] = ()
    excluded: str = ""
    register_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Agency:
    free: bool
    source: str
    ledger_fields: tuple[str, ...] = ()
    home_visits_for: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pack:
    """One jurisdiction's rules, merged with what it extends, checked and immutable."""

    id: str
    name: str
    level: str
    version: str
    effective_from: dt.date
    content_hash: str
    lineage: tuple[str, ...]  # this pack's id, then the ids it extends, nearest first
    sources: tuple[Source, ...] = ()
    centre: Centre = Centre()
    calendar: CalendarConfig = CalendarConfig()
    office_hours: Optional[OfficeHours] = None
    departments: tuple[Department, ...] = ()
    windows: tuple[Window, ...] = ()
    roles: tuple[Role, ...] = ()
    posts: tuple[Post, ...] = ()
    backup_posts: Optional[BackupPosts] = None
    items: tuple[Item, ...] = ()
    time_limits: TimeLimits = TimeLimits()
    clocks: tuple[Clock, ...] = ()
    inquiry: Optional[Inquiry] = None
    negative_report: Optional[NegativeReport] = None
    unresolved_matter: Optional[UnresolvedMatter] = None
    agency: Optional[Agency] = None
    complaints: Complaints = Complaints()
    accountability: Accountability = Accountability()
    appraisal: Appraisal = Appraisal()
    ratings: Ratings = Ratings()
    commitments: tuple[Commitment, ...] = ()
    hotlines: tuple[Hotline, ...] = ()
    workflows: tuple[Workflow, ...] = ()
    documents: tuple[Document, ...] = ()
    rules: tuple[Rule, ...] = ()
    # Settings of plugins by plugin name, checked against each plugin's schema fragment.
    plugins: tuple[tuple[str, Any], ...] = ()

    def item(self, item_id: str) -> Item:
        return _by_id(self.items, item_id, "item")

    def workflow(self, workflow_id: str) -> Workflow:
        return _by_id(self.workflows, workflow_id, "workflow")

    def clock(self, clock_id: str) -> Clock:
        return _by_id(self.clocks, clock_id, "clock")

    def document(self, document_id: str) -> Document:
        return _by_id(self.documents, document_id, "document")

    def role(self, role_id: str) -> Role:
        return _by_id(self.roles, role_id, "role")


def _by_id(records: tuple[Any, ...], record_id: str, kind: str) -> Any:
    for record in records:
        if record.id == record_id:
            return record
    raise KeyError(f"no {kind} {record_id!r}")


# --- building values from a checked document ----------------------------------------------

def build(cls: type, raw: Any) -> Any:
    """Turn checked YAML data into ``cls``; the schema has already vouched for the shapes."""
    return _converter(cls)(raw)


Converter = Callable[[Any], Any]


@lru_cache(maxsize=None)
def _converter(tp: Any) -> Converter:
    """A function converting raw data to ``tp``, worked out once per type from its hints."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = _converter(next(a for a in typing.get_args(tp) if a is not type(None)))
        return lambda raw: None if raw is None else inner(raw)
    if tp is LimitRef:
        return _limit_ref
    if tp is Detect:
        plain = _dataclass_converter(Detect)
        return lambda raw: Detect(manual=True) if raw == "manual" else plain(raw)
    if origin is tuple:
        element = _converter(typing.get_args(tp)[0])
        # A mapping where a tuple is expected holds free-form arguments (an action's `with`).
        return lambda raw: _freeze(raw) if isinstance(raw, dict) else tuple(map(element, raw))
    if dataclasses.is_dataclass(tp):
        return _dataclass_converter(tp)
    if tp is dt.date:
        return dt.date.fromisoformat
    if tp is float:
        return float
    return _identity


def _identity(raw: Any) -> Any:
    return raw


def _dataclass_converter(cls: type) -> Converter:
    hints = typing.get_type_hints(cls)
    fields = [(f.name, f.metadata.get("key", f.name), hints[f.name]) for f in dataclasses.fields(cls)]
    resolved: list[tuple[str, str, Converter]] = []

    def convert(raw: dict[str, Any]) -> Any:
        if not resolved:  # resolve lazily: dataclasses may refer to each other
            resolved.extend((name, key, _converter(tp)) for name, key, tp in fields)
        kwargs = {}
        for name, key, conv in resolved:
            value = raw.get(key)
            if value is not None:
                # `from: "*"` (any state) is the one place a single value stands for a list
                kwargs[name] = ("*",) if value == "*" and cls is Transition else conv(value)
        return cls(**kwargs)

    return convert


def _freeze(raw: Any) -> Any:
    if isinstance(raw, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in raw.items()))
    if isinstance(raw, list):
        return tuple(_freeze(v) for v in raw)
    return raw


def _limit_ref(raw: dict[str, Any]) -> LimitRef:
    if "from" in raw:
        return LimitRef(from_=raw["from"])
    if "by" in raw:
        duration = _converter(Duration)
        return LimitRef(by=raw["by"], cases=tuple((k, duration(v)) for k, v in raw["cases"].items()))
    return LimitRef(duration=_converter(Duration)(raw))
