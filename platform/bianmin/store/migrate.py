"""Schema migrations: numbered Python modules in ``store/migrations``, applied once each, in order.

A migration ``NNNN_name.py`` defines ``statements(dialect) -> list[str]`` (``dialect`` is
``sqlite`` or ``postgres``). ``upgrade`` applies the pending ones, each in its own transaction
together with its row in ``schema_version``; running it again does nothing. Concurrent upgraders
queue: on PostgreSQL behind an advisory lock, on SQLite behind the write lock.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from . import db
from . import migrations as _package

_NAME = re.compile(r"^(\d{4})_(\w+)$")
_LOCK = 0x62_69_61_6E  # "bian": the advisory lock id of schema upgrades


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str], list[str]]


def available() -> list[Migration]:
    found = []
    for info in pkgutil.iter_modules(_package.__path__):
        match = _NAME.match(info.name)
        if match:
            module = importlib.import_module(f"{_package.__name__}.{info.name}")
            found.append(Migration(int(match[1]), match[2], module.statements))
    found.sort(key=lambda m: m.version)
    if len({m.version for m in found}) != len(found):
        raise RuntimeError("two migrations share a number in store/migrations")
    return found


async def applied() -> list[int]:
    conn = db.connection()
    await _ensure_table(conn)
    return [row["version"] for row in await db.fetch(conn, "SELECT version FROM schema_version ORDER BY version")]


async def upgrade(target: int | None = None, report: Callable[[str], None] | None = None) -> list[Migration]:
    """Apply the pending migrations up to ``target`` (all by default); the ones applied."""
    conn = db.connection()
    await _ensure_table(conn)
    done: list[Migration] = []
    for migration in available():
        if target is not None and migration.version > target:
            break
        async with db.transaction() as tx:
            await _lock(tx)
            rows = await db.fetch(tx, "SELECT 1 AS x FROM schema_version WHERE version = ?", [migration.version])
            if rows:
                continue  # applied earlier, or by a concurrent upgrader while we waited
            for statement in migration.statements(db.dialect(tx)):
                await tx.execute_query(statement)
            await db.execute(tx, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                             [migration.version, migration.name, datetime.now().replace(microsecond=0)])
        done.append(migration)
        if report:
            report(f"applied {migration.version:04d}_{migration.name}")
    return done


async def _ensure_table(conn: BaseDBAsyncClient) -> None:
    async with db.transaction() as tx:  # under the lock: concurrent CREATE IF NOT EXISTS can collide
        await _lock(tx)
        await db.execute(tx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                         "name VARCHAR(100) NOT NULL, applied_at TIMESTAMP NOT NULL)")


async def _lock(tx: BaseDBAsyncClient) -> None:
    if db.dialect(tx) == "postgres":  # SQLite: BEGIN IMMEDIATE already serialises writers
        await db.fetch(tx, "SELECT pg_advisory_xact_lock(?)", [_LOCK])
