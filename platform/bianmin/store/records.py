"""The rows of a record, written inside the caller's transaction: the record with its number,
its events, and the effects that belong in the same transaction.

Each writer is a program (``db.Program``: ``write_record``, ``write_event``, ``write_effects``,
``write_document``, ``write_outbox``, ``write_child``) that ``service.py`` composes into one
transaction with ``yield from``; the coroutines of the same names without ``write_`` (``create``,
``perform``, ``issue_document`` ...) run one inside a transaction the caller holds.

``service.py`` decides when (intake, transitions) and ``sweeper.py`` for timers; this module
only writes. Effects: ``issue_document`` → a numbered :class:`Document`; ``record_violation`` →
a :class:`Violation` (once per record and violation); ``open_workflow`` → a child record with
its own start event; ``notify``, ``assign`` and actions this module does not know → the outbox.
The clock actions need no row: clocks are computed from the events (invariant 3).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from ..packs.model import Pack
from ..workflow import Actor, Effect, Instance, Outcome, start
from ..workflow import Event as FlowEvent
from ..workflow.instance import thaw
from . import db, numbering
from .models import Document, Record, dumps

# (pack, document id, context) -> the rendered text; the documents module provides the real one.
Renderer = Callable[[Pack, str, Mapping[str, Any]], str]
CLOCK_ACTIONS = frozenset({"start_clock", "pause_clock", "resume_clock", "stop_clock", "extend_clock"})
MAX_DEPTH = 4  # open_workflow may open a workflow that opens another; never a loop
SYSTEM = Actor("system", "系统", frozenset())
EPOCH = datetime(1970, 1, 1)


@dataclass
class Written:
    """What one transaction stored besides the record and its event."""

    documents: list[Document] = field(default_factory=list)
    children: list[Record] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    outbox: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    tx: BaseDBAsyncClient | None  # the caller's transaction; None inside a program
    pack: Pack
    record: Record
    instance: Instance
    actor: Actor
    now: datetime
    renderer: Renderer | None = None
    depth: int = 0


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def kind_of(pack: Pack, workflow_id: str) -> str:
    return pack.workflow(workflow_id).subject


def is_terminal(pack: Pack, workflow_id: str, state: str) -> bool:
    return pack.workflow(workflow_id).state(state).terminal


async def ensure_jurisdiction(tx: BaseDBAsyncClient, pack: Pack, now: datetime) -> str:
    """The jurisdiction's number prefix; registers the jurisdiction and the pack version."""
    return await db.run(tx, register, pack, now)


def register(pack: Pack, now: datetime) -> db.Program[str]:
    """Program: :func:`ensure_jurisdiction`."""
    yield db.Execute("INSERT INTO jurisdictions (id, name, number_prefix, created_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (id) DO NOTHING", [pack.id, pack.name, numbering.prefix_for(pack.id), now])
    yield db.Execute("INSERT INTO pack_versions (jurisdiction_id, content_hash, version, effective_from, "
                     "activated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (jurisdiction_id, content_hash) DO NOTHING",
                     [pack.id, pack.content_hash, pack.version, pack.effective_from, now])
    return (yield from prefix(pack.id))


def prefix(jurisdiction: str) -> db.Program[str]:
    rows = yield db.Fetch("SELECT number_prefix FROM jurisdictions WHERE id = ?", [jurisdiction])
    return str(rows[0]["number_prefix"])


async def create(tx: BaseDBAsyncClient, pack: Pack, workflow_id: str, *, subject: Mapping[str, Any],
                 actor: Actor, data: Mapping[str, Any], now: datetime, item_id: str | None = None,
                 parent: Record | None = None, idempotency_key: str | None = None,
                 renderer: Renderer | None = None, depth: int = 0) -> tuple[Record, Outcome, Written]:
    """Start ``workflow_id`` and store the new record, its start event and the effects."""
    return await db.run(tx, lambda: write_record(
        pack, workflow_id, subject=subject, actor=actor, data=data, now=now, item_id=item_id, parent=parent,
        idempotency_key=idempotency_key, renderer=renderer, depth=depth))


def write_record(pack: Pack, workflow_id: str, *, subject: Mapping[str, Any], actor: Actor,
                 data: Mapping[str, Any], now: datetime, item_id: str | None = None, parent: Record | None = None,
                 idempotency_key: str | None = None, renderer: Renderer | None = None,
                 depth: int = 0) -> db.Program[tuple[Record, Outcome, Written]]:
    """Program: :func:`create`. The record's number is also its subject's ``number`` (documents
    and guards read it there); ``next_check_at`` keeps its default, the epoch: the sweeper looks
    at a new record at its next run."""
    number_prefix = yield from register(pack, now)
    try:
        kind = kind_of(pack, workflow_id)
    except KeyError:
        kind = workflow_id  # start() below refuses it in words
    value = yield from numbering.take(pack.id, kind, now.year)
    number = numbering.format_number(number_prefix, kind, now.year, value)
    subject = {**thaw(subject), "number": number}
    outcome = start(pack, workflow_id, subject=subject, actor=actor, data=data, now=now, item_id=item_id)
    instance = outcome.instance
    values = {"jurisdiction_id": pack.id, "kind": kind, "workflow_id": workflow_id, "number": number,
              "year": now.year, "item_id": item_id, "pack_hash": pack.content_hash, "state": instance.state,
              "is_open": not is_terminal(pack, workflow_id, instance.state), "subject": thaw(instance.subject),
              "version": 1, "parent_id": parent.id if parent else None, "idempotency_key": idempotency_key,
              "created_at": now, "updated_at": now, "swept_at": EPOCH, "next_check_at": EPOCH}
    rows = yield db.Fetch(f"INSERT INTO records ({', '.join(values)}) VALUES ({db.marks(len(values))}) RETURNING id",
                          [dumps(v) if k == "subject" else v for k, v in values.items()])
    record = Record._init_from_db(id=rows[0]["id"], **values)
    yield from write_event(record, outcome.event, actor)
    ctx = Context(None, pack, record, instance, actor, now, renderer, depth)
    written = yield from write_effects(ctx, outcome.effects, outcome.event.seq)
    return record, outcome, written


async def append_event(tx: BaseDBAsyncClient, record: Record, event: FlowEvent, actor: Actor) -> None:
    """The only way an event reaches the database: an insert (the log is append-only)."""
    await db.run(tx, write_event, record, event, actor)


def write_event(record: Record, event: FlowEvent, actor: Actor) -> db.Program[None]:
    """Program: :func:`append_event`."""
    yield db.Execute("INSERT INTO events (record_id, seq, at, actor, actor_name, acting_for, role, transition, "
                     f"from_state, to_state, data, pack_hash, recorded_at) VALUES ({db.marks(13)})",
                     [record.id, event.seq, event.at, event.actor, actor.name if actor.id == event.actor else "",
                      event.acting_for, event.role, event.transition, event.from_state or "", event.to_state,
                      dumps(thaw(event.data)), event.pack_hash, datetime.now().replace(microsecond=0)])
    # Plugins' on_event listeners run from the outbox after the commit, never inside it.
    yield from write_outbox(record, EVENT_KIND, {
        "id": f"{record.number}#{event.seq}", "case_id": record.number, "kind": event.transition,
        "at": event.at.isoformat(), "pack_id": record.jurisdiction_id, "pack_version": event.pack_hash,
        "from_state": event.from_state or "", "to_state": event.to_state, "actor": event.actor,
        "data": thaw(event.data)}, event.at)


RECORD_COLUMNS = ("id", "jurisdiction_id", "kind", "workflow_id", "number", "year", "item_id", "pack_hash", "state",
                  "is_open", "subject", "version", "parent_id", "idempotency_key", "created_at", "updated_at",
                  "swept_at", "next_check_at")
EVENT_COLUMNS = ("seq", "at", "actor", "acting_for", "role", "transition", "from_state", "to_state", "data",
                 "pack_hash AS event_pack_hash")


def record_from_row(row: Mapping[str, Any]) -> Record:
    """A raw ``records`` row (RECORD_COLUMNS) as a model value, converted as Tortoise converts
    the rows of its own queries (a JSON subject, booleans, times)."""
    values = {c: row[c] for c in RECORD_COLUMNS if c in row}
    for c in _RECORD_TIMES:  # SQLite gives text: datetime's own parser is many times Tortoise's
        if isinstance(values.get(c), str):
            values[c] = datetime.fromisoformat(values[c])
    return Record._init_from_db(**values)


_RECORD_TIMES = ("created_at", "updated_at", "swept_at", "next_check_at")


def to_flow_event(row: Mapping[str, Any]) -> FlowEvent:
    """A stored event (a raw row of EVENT_COLUMNS) as the interpreter's value."""
    data = row["data"]
    return FlowEvent(seq=row["seq"], at=_datetime(row["at"]), actor=row["actor"], transition=row["transition"],
                     from_state=row["from_state"], to_state=row["to_state"],
                     data=json.loads(data) if isinstance(data, str) else data, pack_hash=row["event_pack_hash"],
                     acting_for=row["acting_for"], role=row["role"] or "")


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def perform(ctx: Context, effects: Iterable[Effect], seq: int, timer: str = "") -> Written:
    """Store ``effects`` of the event ``seq`` inside ``ctx.tx`` (see the module's docstring)."""
    return await db.run(ctx.tx, write_effects, ctx, effects, seq, timer)


def write_effects(ctx: Context, effects: Iterable[Effect], seq: int, timer: str = "") -> db.Program[Written]:
    """Program: :func:`perform`."""
    written = Written()
    for effect in effects:
        if effect.action in CLOCK_ACTIONS:
            continue
        if effect.action == "issue_document":
            written.documents.append((yield from write_document(ctx, str(effect.args["document"]), effect, seq)))
        elif effect.action == "record_violation":
            values = violation_values(ctx.pack, ctx.record.id, effect, seq, ctx.now,
                                      f"timer:{timer}" if timer else ctx.actor.id)
            if (yield db.Fetch(insert_violations(1), values)):
                written.violations.append(values[2])
        elif effect.action == "open_workflow":
            written.children.append((yield from write_child(ctx, effect)))
        else:  # notify, assign, and plugin actions: delivered after commit
            written.outbox.append((yield from write_outbox(ctx.record, effect.action,
                                                           {**thaw(effect.args), "event_seq": seq, "timer": timer},
                                                           ctx.now)))
    return written


async def issue_document(ctx: Context, document_id: str, effect: Effect, seq: int) -> Document:
    return await db.run(ctx.tx, write_document, ctx, document_id, effect, seq)


def write_document(ctx: Context, document_id: str, effect: Effect, seq: int) -> db.Program[Document]:
    """Program: a numbered document of ``ctx.record`` for the event ``seq``."""
    record = ctx.record
    number_prefix = yield from prefix(ctx.pack.id)
    value = yield from numbering.take(ctx.pack.id, "document", ctx.now.year)
    number = numbering.format_number(number_prefix, "document", ctx.now.year, value)
    try:
        name = ctx.pack.document(document_id).name
    except KeyError:
        name = document_id
    snapshot = {
        "document": document_id, "name": name, "number": number, "issued_at": ctx.now.isoformat(),
        "record": {"number": record.number, "kind": record.kind, "item_id": record.item_id,
                   "state": ctx.instance.state, "workflow": record.workflow_id},
        "subject": thaw(ctx.instance.subject), "args": thaw(effect.args), "pack_hash": record.pack_hash,
        "event": ctx.instance.events[-1].as_dict() if ctx.instance.events else None,
    }
    content = ctx.renderer(ctx.pack, document_id, snapshot) if ctx.renderer else ""
    digest = hashlib.sha256((content or canonical_json(snapshot)).encode()).hexdigest()
    values = {"record_id": record.id, "jurisdiction": ctx.pack.id, "document_id": document_id, "number": number,
              "year": ctx.now.year, "event_seq": seq, "data": snapshot, "content_hash": digest, "content": content,
              "issued_at": ctx.now, "issued_by": ctx.actor.id}
    rows = yield db.Fetch(f"INSERT INTO documents ({', '.join(values)}) VALUES ({db.marks(len(values))}) "
                          "RETURNING id", [dumps(v) if k == "data" else v for k, v in values.items()])
    return Document._init_from_db(id=rows[0]["id"], **values)


def violation_values(pack: Pack, record_id: int, effect: Effect, seq: int, now: datetime,
                     detected_by: str) -> list[Any]:
    """The parameters of one row of :func:`insert_violations` for a ``record_violation`` effect."""
    args = thaw(effect.args)
    violation_id = str(args.pop("violation", None) or args.pop("id", ""))
    evidence = {**args, "events": list(args.pop("evidence", None) or [seq])}
    charged = ""
    for v in pack.accountability.violations:
        if v.id == violation_id:
            charged = v.charged or next((t.charged for t in pack.accountability.tiers if t.id == v.tier), "")
    return [record_id, pack.id, violation_id, charged, dumps(evidence), now, detected_by]


def insert_violations(count: int) -> str:
    """Store ``count`` violations, each once per record: RETURNING names the new ones."""
    rows = ", ".join(["(?, ?, ?, ?, 'detected', ?, ?, ?)"] * count)
    return ("INSERT INTO violations (record_id, jurisdiction, violation_id, charged, state, evidence, detected_at, "
            f"detected_by) VALUES {rows} ON CONFLICT (record_id, violation_id) DO NOTHING RETURNING id")


EVENT_KIND = "event"  # bianmin.notify.dispatcher delivers these to on_event listeners


def outbox_values(jurisdiction: str, record_id: int | None, number: str | None, kind: str,
                  payload: Mapping[str, Any], now: datetime) -> list[Any]:
    return [jurisdiction, record_id, kind, dumps({"record": number, **payload}), now, now]


def insert_outbox(count: int) -> str:
    rows = ", ".join(["(?, ?, ?, ?, ?, 0, ?, '')"] * count)
    return ("INSERT INTO outbox (jurisdiction, record_id, kind, payload, created_at, attempts, next_attempt_at, "
            f"last_error) VALUES {rows} RETURNING id")


async def enqueue(tx: BaseDBAsyncClient, record: Record | None, kind: str, payload: Mapping[str, Any],
                  now: datetime, jurisdiction: str = "") -> int:
    """One outbox row (``notify``, ``assign`` ...), delivered after commit by bianmin.notify."""
    return await db.run(tx, write_outbox, record, kind, payload, now, jurisdiction)


def write_outbox(record: Record | None, kind: str, payload: Mapping[str, Any], now: datetime,
                 jurisdiction: str = "") -> db.Program[int]:
    """Program: :func:`enqueue`."""
    values = outbox_values(record.jurisdiction_id if record else jurisdiction, record.id if record else None,
                           record.number if record else None, kind, payload, now)
    rows = yield db.Fetch(insert_outbox(1), values)
    return int(rows[0]["id"])


async def open_child(ctx: Context, effect: Effect) -> Record:
    return await db.run(ctx.tx, write_child, ctx, effect)


def write_child(ctx: Context, effect: Effect) -> db.Program[Record]:
    """Program: the record an ``open_workflow`` effect opens, with its start event and effects."""
    if ctx.depth >= MAX_DEPTH:
        raise RuntimeError(f"open_workflow nested more than {MAX_DEPTH} deep from {ctx.record.number}")
    workflow_id = str(effect.args["workflow"])
    parent = ctx.record
    data = thaw(effect.args.get("data") or {})
    subject = {k: v for k, v in data.items() if k != "number"}
    subject["parent_number"] = parent.number
    child, _, _ = yield from write_record(ctx.pack, workflow_id, subject=subject, actor=ctx.actor, data=data,
                                          now=ctx.now, parent=parent, renderer=ctx.renderer, depth=ctx.depth + 1)
    return child
