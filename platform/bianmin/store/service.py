"""The transaction boundary: intake, opening other records, and transitions.

Each call reads what it needs, asks the pure interpreter (``bianmin.workflow``) what happens,
then writes the record, its event and the effects in ONE transaction: an exception anywhere
inside leaves nothing behind, not even a used number. Transitions take an optimistic lock:
``UPDATE records ... WHERE id = ? AND version = ?`` changing no row means someone else moved
the record first (:class:`ConflictError`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from ..calendar import Calendar
from ..packs import Registry
from ..packs.model import Pack
from ..packs.registry import UnknownPack
from ..workflow import Actor, Effect, Instance, Outcome, fire
from ..workflow.instance import thaw
from . import db, records
from .models import Document, Record, dumps
from .records import Renderer, Written

CONFLICT_MESSAGE = "该办件已被他人更新, 请刷新后重试"


class StoreError(Exception):
    """A request the store cannot carry out; ``str()`` is a message for the user."""


class ConflictError(StoreError):
    """Someone else changed the record since it was read (optimistic lock)."""

    def __init__(self, number: str) -> None:
        super().__init__(CONFLICT_MESSAGE)
        self.number = number


class RecordNotFound(StoreError, LookupError):
    def __init__(self, jurisdiction: str, number: str) -> None:
        super().__init__(f"没有编号为 {number} 的记录 (jurisdiction {jurisdiction})")
        self.number = number


@dataclass(frozen=True)
class Result:
    """What a call stored: the record (after the change), the interpreter's instance and the
    effects; ``replayed`` when an intake with a known idempotency key returned the first one."""

    record: Record
    instance: Instance
    effects: tuple[Effect, ...] = ()
    documents: tuple[Document, ...] = ()
    children: tuple[Record, ...] = ()
    violations: tuple[str, ...] = ()
    outbox: tuple[int, ...] = field(default=(), repr=False)
    replayed: bool = False


@functools.cache
def default_registry() -> Registry:
    """Every pack of the project's policies folder, compiled once per process."""
    from .. import paths

    registry, _problems = Registry.load(paths.policies_dir())
    return registry


def local(now: datetime) -> datetime:
    """Stored times are naive local times of the centres (db.TIMEZONE)."""
    if now.tzinfo is not None:
        now = now.astimezone(ZoneInfo(db.TIMEZONE)).replace(tzinfo=None)
    return now


def calendar_for(registry: Registry, jurisdiction: str, now: datetime) -> Calendar:
    """The newest calendar of a jurisdiction: holidays are data, never pinned (persistence.md)."""
    return Calendar.build(registry.active(jurisdiction, now.date()).calendar)


async def intake(jurisdiction: str, item_id: str, subject: Mapping[str, Any], actor: Actor,
                 data: Mapping[str, Any], now: datetime, *, idempotency_key: str | None = None,
                 registry: Registry | None = None, renderer: Renderer | None = None) -> Result:
    """Receive an application (收件) for ``item_id``: a case under the pack version in force."""
    registry = registry or default_registry()
    now = local(now)
    pack = registry.active(jurisdiction, now.date())
    try:
        item = pack.item(item_id)
    except KeyError:
        raise StoreError(f"事项 {item_id!r} 不在 {jurisdiction} 的事项目录中") from None
    return await open_record(jurisdiction, item.workflow, subject, actor, data, now, item_id=item_id,
                             idempotency_key=idempotency_key, registry=registry, renderer=renderer, pack=pack)


async def open_record(jurisdiction: str, workflow_id: str, subject: Mapping[str, Any], actor: Actor,
                      data: Mapping[str, Any], now: datetime, *, item_id: str | None = None,
                      parent: str | None = None, idempotency_key: str | None = None,
                      registry: Registry | None = None, renderer: Renderer | None = None,
                      pack: Pack | None = None) -> Result:
    """Open a record of any workflow (complaint, inquiry, ...); ``parent`` is a record number."""
    registry = registry or default_registry()
    now = local(now)
    if idempotency_key is not None:
        done = await _by_key(jurisdiction, idempotency_key, registry)
        if done is not None:
            return done
    pack = pack or registry.active(jurisdiction, now.date())
    parent_row = await _get(jurisdiction, parent) if parent else None
    try:
        record, outcome, written = await db.atomic(lambda: records.write_record(
            pack, workflow_id, subject=subject, actor=actor, data=data, now=now, item_id=item_id,
            parent=parent_row, idempotency_key=idempotency_key, renderer=renderer))
    except IntegrityError:
        # A concurrent retry with the same key committed first: ours rolled back, number and all.
        done = await _by_key(jurisdiction, idempotency_key, registry) if idempotency_key else None
        if done is None:
            raise
        return done
    return _result(record, outcome.instance, outcome.effects, written)


async def transition(jurisdiction: str, number: str, transition_id: str, actor: Actor,
                     data: Mapping[str, Any], now: datetime, expected_version: int | None = None, *,
                     registry: Registry | None = None, renderer: Renderer | None = None) -> Result:
    """Fire ``transition_id`` on record ``number`` under its pinned pack version.

    Raises :class:`ConflictError` when the record changed since ``expected_version`` (the version
    the user's screen showed) or since it was read here; ``TransitionError`` when the rules refuse.
    """
    registry = registry or default_registry()
    now = local(now)
    record, instance = await load(jurisdiction, number, registry=registry)
    if expected_version is not None and expected_version != record.version:
        raise ConflictError(number)
    outcome = fire(instance, transition_id, actor=actor, data=data, now=now)
    written = await db.atomic(_write_transition, record, record.version, instance.pack, outcome, actor, now, renderer)
    return _result(record, outcome.instance, outcome.effects, written)


def _write_transition(record: Record, version: int, pack: Pack, outcome: Outcome, actor: Actor, now: datetime,
                      renderer: Renderer | None) -> db.Program[Written]:
    """Program: the record moved (if it is still at ``version``, the one read), its event, the
    effects. ``record`` is updated in place, to the values written. ``next_check_at`` becomes
    ``now``: the sweeper's next run examines the record's clocks again (store/sweeper.py)."""
    new = outcome.instance
    is_open = not records.is_terminal(pack, record.workflow_id, new.state)
    subject = thaw(new.subject)
    changed = yield db.Execute(
        "UPDATE records SET state = ?, is_open = ?, subject = ?, version = ?, updated_at = ?, next_check_at = ? "
        "WHERE id = ? AND version = ?", [new.state, is_open, dumps(subject), version + 1, now, now, record.id, version])
    if changed != 1:
        raise ConflictError(record.number)
    record.state, record.is_open, record.version = new.state, is_open, version + 1
    record.subject, record.updated_at, record.next_check_at = subject, now, now
    yield from records.write_event(record, outcome.event, actor)
    ctx = records.Context(None, pack, record, new, actor, now, renderer)
    return (yield from _effects(ctx, outcome.effects, outcome.event.seq))


def _effects(ctx: records.Context, effects: tuple[Effect, ...], seq: int) -> db.Program[Written]:
    """The effects of a transition, after its event is written (a seam for the crash tests)."""
    return (yield from records.write_effects(ctx, effects, seq))


async def load(jurisdiction: str, number: str, *, registry: Registry | None = None) -> tuple[Record, Instance]:
    """The record and its interpreter instance, rebuilt from its events on its pinned pack
    (one read of two statements on one snapshot: the hot path of every transition)."""
    registry = registry or default_registry()
    found = await db.read(_read_record, jurisdiction, number)
    if found is None:
        raise RecordNotFound(jurisdiction, number)
    row, events = found
    record = records.record_from_row(row)
    try:
        pack = registry.pinned(jurisdiction, record.pack_hash)
    except UnknownPack:  # a version the files no longer produce: from the store's archive
        from . import archive

        await archive.restore(registry)
        pack = registry.pinned(jurisdiction, record.pack_hash)
    instance = Instance(pack, record.workflow_id, record.state, record.subject,
                        tuple(records.to_flow_event(e) for e in events), record.item_id)
    return record, instance


def _read_record(jurisdiction: str, number: str) -> db.Program[tuple[dict[str, Any], list[dict[str, Any]]] | None]:
    # Two statements rather than a join: the record's columns (its subject) once, not per event.
    rows = yield db.Fetch(_RECORD, [jurisdiction, number])
    if not rows:
        return None
    return rows[0], (yield db.Fetch(_EVENTS, [rows[0]["id"]]))


_RECORD = f"SELECT {', '.join(records.RECORD_COLUMNS)} FROM records WHERE jurisdiction_id = ? AND number = ?"
_EVENTS = f"SELECT {', '.join(records.EVENT_COLUMNS)} FROM events WHERE record_id = ? ORDER BY seq"


async def document(jurisdiction: str, number: str) -> Document:
    """An issued document by its number: a reprint reads this row (same number, same hash)."""
    found = await Document.get_or_none(jurisdiction=jurisdiction, number=number)
    if found is None:
        raise StoreError(f"没有编号为 {number} 的文书 (jurisdiction {jurisdiction})")
    return found


async def _get(jurisdiction: str, number: str) -> Record:
    rows = await db.read(_select_record, "number", jurisdiction, number)
    if not rows:
        raise RecordNotFound(jurisdiction, number)
    return records.record_from_row(rows[0])


async def _by_key(jurisdiction: str, key: str, registry: Registry) -> Result | None:
    rows = await db.read(_select_record, "idempotency_key", jurisdiction, key)
    if not rows:
        return None
    record, instance = await load(jurisdiction, rows[0]["number"], registry=registry)
    return Result(record, instance, replayed=True)


def _select_record(column: str, jurisdiction: str, value: str) -> db.Program[list[dict[str, Any]]]:
    return (yield db.Fetch(f"SELECT {', '.join(records.RECORD_COLUMNS)} FROM records "
                           f"WHERE jurisdiction_id = ? AND {column} = ?", [jurisdiction, value]))


def _result(record: Record, instance: Instance, effects: tuple[Effect, ...], written: Written) -> Result:
    return Result(record, instance, tuple(effects), tuple(written.documents), tuple(written.children),
                  tuple(written.violations), tuple(written.outbox))
