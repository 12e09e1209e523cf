"""The outbox as the dispatcher sees it: due rows, claims, outcomes, and the failing list.

The store writes a row (``kind``, JSON ``payload``) in the same transaction as the transition
that caused it (``store/records.py``); this module only reads due rows and records what became
of them. :class:`DatabaseOutbox` works on the ``outbox`` table (SQLite and PostgreSQL);
:class:`MemoryOutbox` is the same contract in memory, for tests and for a dispatcher without a
database.

A claim increments ``attempts`` and moves ``next_attempt_at`` past the delivery's time limit, in
one conditional update: two dispatchers never deliver the same row at once, and a dispatcher
that dies mid-delivery leaves a row that comes due again (delivery is at least once; the row id
travels with each message so receivers can drop duplicates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping, Protocol, Sequence


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    kind: str
    payload: Mapping[str, Any]
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    done_at: datetime | None = None
    created_at: datetime | None = None
    jurisdiction: str = ""

    @property
    def gave_up(self) -> bool:
        """Undelivered and no longer retried: waits for an administrator."""
        return self.done_at is None and self.next_attempt_at is None

    def as_json(self) -> dict[str, Any]:
        iso = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"id": self.id, "kind": self.kind, "jurisdiction": self.jurisdiction, "attempts": self.attempts,
                "next_attempt_at": iso(self.next_attempt_at), "last_error": self.last_error,
                "done_at": iso(self.done_at), "created_at": iso(self.created_at), "gave_up": self.gave_up,
                "payload": dict(self.payload)}


class OutboxStore(Protocol):
    async def due(self, now: datetime, limit: int, kinds: Sequence[str]) -> list[OutboxRow]:
        """Undelivered rows of ``kinds`` whose next attempt is at or before ``now``, oldest first."""

    async def claim(self, row: OutboxRow, until: datetime) -> bool:
        """Count an attempt and hide the row until ``until``; False if another dispatcher has it."""

    async def succeeded(self, row: OutboxRow, now: datetime, payload: Mapping[str, Any]) -> None: ...

    async def failed(self, row: OutboxRow, next_attempt_at: datetime | None, error: str,
                     payload: Mapping[str, Any]) -> None: ...

    async def failing(self, limit: int) -> list[OutboxRow]:
        """Undelivered rows whose last attempt failed, those given up first."""

    async def pending(self, limit: int) -> list[OutboxRow]:
        """Every undelivered row, oldest first."""

    async def retry(self, row_id: int, now: datetime) -> bool:
        """Make an undelivered row due at ``now`` (an administrator's retry)."""


def _failing_order(row: OutboxRow) -> tuple[bool, int, int]:
    return (not row.gave_up, -row.attempts, row.id)


@dataclass
class MemoryOutbox:
    """The outbox contract over a list: what tests and a database-less dispatcher use."""

    rows: dict[int, OutboxRow] = field(default_factory=dict)

    def add(self, kind: str, payload: Mapping[str, Any], now: datetime) -> int:
        row_id = len(self.rows) + 1
        self.rows[row_id] = OutboxRow(row_id, kind, dict(payload), 0, now, "", None, now)
        return row_id

    async def due(self, now: datetime, limit: int, kinds: Sequence[str]) -> list[OutboxRow]:
        due = [r for r in self.rows.values() if r.done_at is None and r.next_attempt_at is not None
               and r.next_attempt_at <= now and r.kind in kinds]
        return sorted(due, key=lambda r: (r.next_attempt_at, r.id))[:limit]

    async def claim(self, row: OutboxRow, until: datetime) -> bool:
        current = self.rows[row.id]
        if current.done_at is not None or current.attempts != row.attempts:
            return False
        self.rows[row.id] = replace(current, attempts=current.attempts + 1, next_attempt_at=until)
        return True

    async def succeeded(self, row: OutboxRow, now: datetime, payload: Mapping[str, Any]) -> None:
        self.rows[row.id] = replace(self.rows[row.id], done_at=now, last_error="", payload=dict(payload))

    async def failed(self, row: OutboxRow, next_attempt_at: datetime | None, error: str,
                     payload: Mapping[str, Any]) -> None:
        self.rows[row.id] = replace(self.rows[row.id], next_attempt_at=next_attempt_at, last_error=error,
                                    payload=dict(payload))

    async def failing(self, limit: int) -> list[OutboxRow]:
        rows = [r for r in self.rows.values() if r.done_at is None and r.last_error]
        return sorted(rows, key=_failing_order)[:limit]

    async def pending(self, limit: int) -> list[OutboxRow]:
        rows = [r for r in self.rows.values() if r.done_at is None]
        return sorted(rows, key=lambda r: r.id)[:limit]

    async def retry(self, row_id: int, now: datetime) -> bool:
        row = self.rows.get(row_id)
        if row is None or row.done_at is not None:
            return False
        self.rows[row_id] = replace(row, next_attempt_at=now)
        return True


_COLUMNS = "id, jurisdiction, kind, payload, attempts, next_attempt_at, last_error, done_at, created_at"


class DatabaseOutbox:
    """The ``outbox`` table of the store (``bianmin.store``), on the default connection."""

    def __init__(self, connection: Any = None) -> None:
        self._connection = connection

    def _conn(self) -> Any:
        from ..store import db

        return self._connection or db.connection()

    async def due(self, now: datetime, limit: int, kinds: Sequence[str]) -> list[OutboxRow]:
        from ..store import db

        if not kinds:
            return []
        rows = await db.fetch(self._conn(), f"SELECT {_COLUMNS} FROM outbox WHERE done_at IS NULL AND "
                              f"next_attempt_at <= ? AND kind IN ({db.marks(len(kinds))}) "
                              "ORDER BY next_attempt_at, id LIMIT ?", [_local(now), *kinds, limit])
        return [_row(r) for r in rows]

    async def claim(self, row: OutboxRow, until: datetime) -> bool:
        from ..store import db

        changed = await db.execute(self._conn(), "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? "
                                   "WHERE id = ? AND done_at IS NULL AND attempts = ?",
                                   [_local(until), row.id, row.attempts])
        return changed == 1

    async def succeeded(self, row: OutboxRow, now: datetime, payload: Mapping[str, Any]) -> None:
        from ..store import db

        await db.execute(self._conn(), "UPDATE outbox SET done_at = ?, last_error = '', payload = ? WHERE id = ?",
                         [_local(now), _dumps(payload), row.id])

    async def failed(self, row: OutboxRow, next_attempt_at: datetime | None, error: str,
                     payload: Mapping[str, Any]) -> None:
        from ..store import db

        await db.execute(self._conn(), "UPDATE outbox SET next_attempt_at = ?, last_error = ?, payload = ? "
                         "WHERE id = ?", [_local(next_attempt_at) if next_attempt_at else None, error,
                                          _dumps(payload), row.id])

    async def failing(self, limit: int) -> list[OutboxRow]:
        from ..store import db

        rows = await db.fetch(self._conn(), f"SELECT {_COLUMNS} FROM outbox WHERE done_at IS NULL AND "
                              "last_error <> '' ORDER BY CASE WHEN next_attempt_at IS NULL THEN 0 ELSE 1 END, "
                              "attempts DESC, id LIMIT ?", [limit])
        return [_row(r) for r in rows]

    async def pending(self, limit: int) -> list[OutboxRow]:
        from ..store import db

        rows = await db.fetch(self._conn(), f"SELECT {_COLUMNS} FROM outbox WHERE done_at IS NULL "
                              "ORDER BY id LIMIT ?", [limit])
        return [_row(r) for r in rows]

    async def retry(self, row_id: int, now: datetime) -> bool:
        from ..store import db

        changed = await db.execute(self._conn(), "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND "
                                   "done_at IS NULL", [_local(now), row_id])
        return changed == 1


def _dumps(payload: Mapping[str, Any]) -> str:
    return json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"), default=str)


def _local(moment: datetime) -> datetime:
    """Stored times are naive local times of the centres (store/db.py)."""
    if moment.tzinfo is None:
        return moment
    from zoneinfo import ZoneInfo

    from ..store.db import TIMEZONE

    return moment.astimezone(ZoneInfo(TIMEZONE)).replace(tzinfo=None)


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _row(raw: Mapping[str, Any]) -> OutboxRow:
    payload = raw["payload"]
    return OutboxRow(
        id=int(raw["id"]), kind=raw["kind"], payload=json.loads(payload) if isinstance(payload, (str, bytes)) else payload,
        attempts=int(raw["attempts"]), next_attempt_at=_when(raw["next_attempt_at"]), last_error=raw["last_error"] or "",
        done_at=_when(raw["done_at"]), created_at=_when(raw["created_at"]), jurisdiction=raw.get("jurisdiction") or "",
    )
