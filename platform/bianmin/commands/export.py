"""``bianmin export [--db URL] [--out FILE|-]``: every record of the database as JSON Lines (导出).

The backup that moves between backends (SQLite → PostgreSQL) and releases, read back by
``bianmin import`` (docs/deploy.md#backups). The file is::

    {"bianmin_export": 1, "schema_version": 5, "tables": ["jurisdictions", ...]}
    {"table": "jurisdictions", "row": {"id": "jiangyin", "name": "江阴市", ...}}
    ...
    {"end": true, "rows": {"jurisdictions": 5, ...}}

one line per row, tables parents first, rows in primary-key order; times are ISO local times,
JSON columns inline. The table list is derived from the Tortoise models (every model is exported
unless :data:`EXCLUDED_MODELS` names it with the reason), so a new model is not forgotten. The
rows are read in one snapshot: a PostgreSQL ``REPEATABLE READ`` transaction, an SQLite read
transaction, while the server keeps running.

The file holds everything the database does: applicants' personal data, and the staff's password
hashes (so that the accounts work after a restore). Keep it as safe as the database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import IO, Any

from tortoise import fields
from tortoise.models import Model

FORMAT = 1
PAGE = 1000  # rows per query
PROGRESS_EVERY = 50_000
# Models whose rows are not exported, with the reason (none yet: every table holds records).
EXCLUDED_MODELS: dict[str, str] = {}
# Tables without a model: written by the migrations themselves.
EXCLUDED_TABLES = {
    "schema_version": "written by the migrations (`bianmin db upgrade`)",
    # The calendar fingerprint per jurisdiction the last sweep saw: the first sweep after an
    # import notes it afresh (records keep their exported next checks and clock marks).
    "sweep_calendars": "the sweeper's memory, noted afresh by the next sweep",
}
WARNING = ("the export holds applicants' personal data and staff password hashes: "
           "keep it as safe as the database itself")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="all records as JSON Lines (backup, move to PostgreSQL)",
                            description="Write every row of the database as JSON Lines, for "
                            "`bianmin import`. " + WARNING[0].upper() + WARNING[1:] + ".")
    parser.add_argument("--db", metavar="URL", help="database URL (default: $BIANMIN_DB_URL, else "
                        "var/bianmin.sqlite3)")
    parser.add_argument("--out", metavar="FILE", default="-", help="where to write (default: - for stdout)")
    parser.set_defaults(func=run)


@dataclass(frozen=True)
class Column:
    name: str  # the column in the database (and the key in the file)
    kind: str  # datetime | date | json | bool | int | float | text
    field: fields.Field


@dataclass(frozen=True)
class Table:
    name: str
    model: type[Model]
    pk: str  # the primary-key column
    columns: tuple[Column, ...]
    parents: tuple[str, ...]  # tables its foreign keys point to
    serial: bool  # an integer primary key the database numbers

    def encode(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row as read by Tortoise → JSON values."""
        return {c.name: _encode(c.kind, row[c.name]) for c in self.columns}

    def decode(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row of the file → values for the database driver (raises ValueError)."""
        out = {}
        for column in self.columns:
            if column.name in row:
                out[column.name] = _decode(column, row[column.name])
        return out


def _kind(field: fields.Field) -> str:
    if isinstance(field, fields.DatetimeField):
        return "datetime"
    if isinstance(field, fields.DateField):
        return "date"
    if isinstance(field, fields.JSONField):
        return "json"
    if isinstance(field, fields.BooleanField):
        return "bool"
    if isinstance(field, (fields.IntField, fields.BigIntField, fields.SmallIntField)):
        return "int"
    if isinstance(field, fields.FloatField):
        return "float"
    return "text"


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("datetime", "date"):
        return value.isoformat()
    if kind == "bool":
        return bool(value)
    if kind == "json":
        return _sorted(value)
    return value


def _sorted(value: Any) -> Any:
    """JSON with its objects' keys in order: PostgreSQL's JSONB keeps them in its own order,
    SQLite's text as written; the same rows must export the same."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _decode(column: Column, value: Any) -> Any:
    if value is None:
        return None
    kind = column.kind
    if kind in ("datetime", "date"):
        parse = dt.datetime.fromisoformat if kind == "datetime" else dt.date.fromisoformat
        try:
            return parse(value)
        except (TypeError, ValueError):
            what = "a date and time (2026-03-02T09:15:00)" if kind == "datetime" else "a date (2026-03-02)"
            raise ValueError(f"{column.name}: expected {what}, found {value!r}") from None
    if kind == "json":
        return column.field.encoder(value)  # type: ignore[attr-defined]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{column.name}: expected true or false, found {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{column.name}: expected a whole number, found {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{column.name}: expected a number, found {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{column.name}: expected text, found {value!r}")
    return value


def all_models() -> list[type[Model]]:
    """Every model of bianmin.store.models, registered or not."""
    from ..store import models

    return [v for v in vars(models).values()
            if isinstance(v, type) and issubclass(v, Model) and v is not Model and v.__module__ == models.__name__]


def tables() -> list[Table]:
    """The exported tables, parents before children (foreign keys), from the Tortoise models."""
    found: dict[str, Table] = {}
    by_name = {m.__name__: m for m in all_models()}
    for model in all_models():
        if model.__name__ in EXCLUDED_MODELS:
            continue
        meta = model._meta
        columns = []
        for name, column in meta.fields_db_projection.items():
            field = meta.fields_map[name]
            columns.append(Column(column, _kind(field), field))
        # "models.Jurisdiction": resolved by name, so this works before Tortoise.init too
        parents = tuple(sorted({by_name[meta.fields_map[fk].model_name.split(".")[-1]]._meta.db_table
                                for fk in meta.fk_fields} - {meta.db_table}))
        pk_field = meta.pk
        found[meta.db_table] = Table(meta.db_table, model, meta.fields_db_projection[meta.pk_attr],
                                     tuple(columns), parents,
                                     serial=bool(pk_field.generated) and _kind(pk_field) == "int")
    ordered: list[Table] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in done:
            return
        if name in path:
            raise RuntimeError(f"foreign keys form a cycle: {' → '.join((*path, name))}")
        for parent in found[name].parents:
            if parent in found:
                visit(parent, (*path, name))
        done.add(name)
        ordered.append(found[name])

    for name in found:
        visit(name)
    return ordered


@asynccontextmanager
async def snapshot() -> AsyncIterator[Any]:
    """A connection that sees one consistent state of the database, not blocking writers."""
    from ..store import db

    conn = db.connection()
    if db.dialect(conn) == "postgres":
        async with db.transaction() as tx:
            await tx.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield tx
        return
    # SQLite (WAL): a deferred read transaction sees the file as it was at its first read,
    # while the web server goes on writing (bianmin's transactions begin IMMEDIATE, writers).
    await conn.execute_query("BEGIN DEFERRED")
    try:
        yield conn
    finally:
        await conn.execute_query("COMMIT")


async def rows_of(table: Table, conn: Any) -> AsyncIterator[dict[str, Any]]:
    """The table's rows in primary-key order, a page at a time."""
    names = [c.field.model_field_name for c in table.columns]
    query = table.model.all().using_db(conn).order_by(table.model._meta.pk_attr)
    last = None
    while True:
        page = query.limit(PAGE)
        if last is not None:
            page = page.filter(**{f"{table.model._meta.pk_attr}__gt": last})
        rows = await page.values(*names)
        for row in rows:
            yield {c.name: row[n] for c, n in zip(table.columns, names)}
        if len(rows) < PAGE:
            return
        last = rows[-1][table.model._meta.pk_attr]


def header_line(schema_version: int, names: list[str]) -> str:
    return _line({"bianmin_export": FORMAT, "schema_version": schema_version, "tables": names})


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


async def export(out: IO[str], progress: IO[str] | None = None) -> dict[str, int]:
    """Write the database of the current connection to ``out``; the rows written per table."""
    from ..store import migrate

    listed = tables()
    counts: dict[str, int] = {}
    written = 0
    versions = await migrate.applied()  # before the snapshot: it runs a transaction of its own
    async with snapshot() as conn:
        out.write(header_line(max(versions, default=0), [t.name for t in listed]))
        for table in listed:
            counts[table.name] = 0
            async for row in rows_of(table, conn):
                out.write(_line({"table": table.name, "row": table.encode(row)}))
                counts[table.name] += 1
                written += 1
                if progress is not None and written % PROGRESS_EVERY == 0:
                    print(f"bianmin export: {written:,} rows ({table.name})", file=progress, flush=True)
    out.write(_line({"end": True, "rows": counts}))
    return counts


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..store import db

    async def go(out: IO[str]) -> dict[str, int]:
        await db.init_db(args.db, upgrade=False)
        try:
            return await export(out, progress=sys.stderr)
        finally:
            await db.close_db()

    print(f"bianmin export: warning: {WARNING}", file=sys.stderr)
    try:
        if args.out == "-":
            counts = asyncio.run(go(sys.stdout))
            sys.stdout.flush()
        else:
            with _atomic(args.out) as out:
                counts = asyncio.run(go(out))
    except (OSError, db.DatabaseURLError, ConfigError) as exc:
        print(f"bianmin export: error: {exc}", file=sys.stderr)
        return 2
    total = sum(counts.values())
    where = "stdout" if args.out == "-" else args.out
    print(f"bianmin export: {total:,} rows of {len(counts)} tables to {where}", file=sys.stderr)
    return 0


@contextmanager
def _atomic(path: str) -> Iterator[IO[str]]:
    """A file that appears under ``path`` only when completely written (owner-only: it holds
    password hashes)."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
