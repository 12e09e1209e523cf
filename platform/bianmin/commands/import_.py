"""``bianmin import [--db URL] FILE``: load a ``bianmin export`` into an empty database (导入).

    bianmin import --db postgres://bianmin@db.internal/bianmin backup.jsonl
    bianmin export --db sqlite:///var/bianmin.sqlite3 | bianmin import --db postgres://... -

The schema is brought up to date first; then every row goes in within one transaction, so a
failure leaves the database as empty as it was. The database must hold no records (a clear
error otherwise: an import never merges). Primary keys and the counters (numbering.py) are
kept, and PostgreSQL's id sequences moved past them, so case numbers go on without a gap or a
duplicate. The append-only triggers stay in force: rows are only inserted. Every error names the
line of the file; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from .export import FORMAT, Table, tables

BATCH = 500
PROGRESS_EVERY = 50_000


class ImportError_(Exception):  # noqa: N801 - ``ImportError`` is a builtin
    """A problem with the file or the target database, with the file's line when it has one."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line

    def where(self, name: str) -> str:
        return f"{name}:{self.line}: {self.message}" if self.line else f"{name}: {self.message}"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("import", help="load a `bianmin export` file into an empty database",
                            description="Load every row of a `bianmin export` file into an empty "
                            "database, in one transaction, keeping ids and case numbering.")
    parser.add_argument("--db", metavar="URL", help="database URL (default: $BIANMIN_DB_URL, else "
                        "var/bianmin.sqlite3)")
    parser.add_argument("file", metavar="FILE", help="the export (- for stdin)")
    parser.set_defaults(func=run)


def _lines(source: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(source, 1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportError_(f"not JSON: {exc.msg} (column {exc.colno})", number) from None
        if not isinstance(value, dict):
            raise ImportError_("expected a JSON object per line", number)
        yield number, value


async def import_(source: IO[str], progress: IO[str] | None = None) -> dict[str, int]:
    """Load ``source`` into the (empty) database of the current connection; rows per table."""
    from ..store import db, migrate

    known = {t.name: t for t in tables()}
    lines = _lines(source)
    first = next(lines, None)
    if first is None:
        raise ImportError_("the file is empty: not a `bianmin export`")
    number, header = first
    if header.get("bianmin_export") != FORMAT:
        raise ImportError_(f"not a `bianmin export` file of format {FORMAT} (first line: "
                           f"{json.dumps(header, ensure_ascii=False)[:80]})", number)
    latest = migrate.available()[-1].version
    version = header.get("schema_version")
    if not isinstance(version, int) or version > latest:
        raise ImportError_(f"the export is of schema version {version}, this release knows up to "
                           f"{latest}: import it with the release that exported it, or a newer one", number)
    counts: dict[str, int] = {}
    conn = db.connection()
    postgres = db.dialect(conn) == "postgres"
    async with db.transaction() as tx:
        if postgres:
            # Nobody writes while the import runs (it would make the database non-empty anyway).
            await tx.execute_script("LOCK TABLE " + ", ".join(known) + " IN EXCLUSIVE MODE")
        await _must_be_empty(tx, known.values())
        pending: list[tuple[int, dict[str, Any]]] = []
        current: Table | None = None
        ended = False
        done = 0
        for number, entry in lines:
            if ended:
                raise ImportError_("a line after the end marker: the file was put together wrongly", number)
            if entry.get("end") is True:
                await _flush(tx, current, pending)
                _check_end(entry, counts, number)
                ended = True
                continue
            name, row = entry.get("table"), entry.get("row")
            if name not in known:
                raise ImportError_(f"unknown table {name!r} (this release has: {', '.join(known)})", number)
            if not isinstance(row, dict):
                raise ImportError_(f"{name}: expected \"row\": {{column: value, ...}}", number)
            table = known[name]
            unknown = set(row) - {c.name for c in table.columns}
            if unknown:
                raise ImportError_(f"{name}: unknown column(s) {', '.join(sorted(unknown))}", number)
            if table is not current:
                await _flush(tx, current, pending)
                current = table
            pending.append((number, row))
            counts[name] = counts.get(name, 0) + 1
            done += 1
            if len(pending) >= BATCH:
                await _flush(tx, current, pending)
            if progress is not None and done % PROGRESS_EVERY == 0:
                print(f"bianmin import: {done:,} rows ({name})", file=progress, flush=True)
        if not ended:
            raise ImportError_("the file ends without its end marker: it was cut short "
                               "(nothing was imported)", number)
        if postgres:
            for table in known.values():
                if table.serial:
                    # The next id the database gives follows the largest imported one.
                    await db.fetch(tx, f"SELECT setval(pg_get_serial_sequence('{table.name}', '{table.pk}'), "
                                   f"COALESCE((SELECT MAX({table.pk}) FROM {table.name}), 0) + 1, false)")
    return counts


async def _must_be_empty(tx: Any, listed: Iterable[Table]) -> None:
    from ..store import db

    filled = []
    for table in listed:
        if await db.fetch(tx, f"SELECT 1 AS x FROM {table.name} LIMIT 1"):
            filled.append(table.name)
    if filled:
        raise ImportError_("the database is not empty (rows in " + ", ".join(filled) + "): import only "
                           "into a new database, made with `bianmin db upgrade` and never served from")


def _check_end(entry: dict[str, Any], counts: dict[str, int], number: int) -> None:
    expected = entry.get("rows")
    if not isinstance(expected, dict):
        raise ImportError_("the end marker lacks its row counts", number)
    wrong = {k: (v, counts.get(k, 0)) for k, v in expected.items() if counts.get(k, 0) != v}
    wrong.update({k: (0, n) for k, n in counts.items() if k not in expected})
    if wrong:
        raise ImportError_("rows missing or extra: " + ", ".join(
            f"{k} {found} (the export wrote {want})" for k, (want, found) in sorted(wrong.items())), number)


async def _flush(tx: Any, table: Table | None, pending: list[tuple[int, dict[str, Any]]]) -> None:
    """Insert the pending rows of ``table``; on a refusal find and name the row's line."""
    from ..store import db

    if table is None or not pending:
        return
    decoded = []
    for number, row in pending:
        try:
            decoded.append((number, table.decode(row)))
        except ValueError as exc:
            raise ImportError_(f"{table.name}: {exc}", number) from None
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for number, row in decoded:  # rows of an older export may lack newer columns: their defaults
        groups.setdefault(tuple(row), []).append((number, row))
    for columns, rows in groups.items():
        names = ", ".join(f'"{c}"' for c in columns)  # quoted: "window" is a keyword
        query = f'INSERT INTO "{table.name}" ({names}) VALUES ({db.marks(len(columns))})'
        try:
            async with db.transaction() as savepoint:
                await db.execute_many(savepoint, query, [list(r.values()) for _, r in rows])
        except Exception:  # noqa: BLE001 - find which row the database refused
            for number, row in rows:
                try:
                    async with db.transaction() as savepoint:
                        await db.execute(savepoint, query, list(row.values()))
                except Exception as exc:  # noqa: BLE001 - the database's reason, with the line
                    raise ImportError_(f"{table.name}: refused by the database: {_reason(exc)}", number) from None
            raise
    pending.clear()


def _reason(exc: Exception) -> str:
    cause = exc.__cause__ or exc
    return str(cause).splitlines()[0] if str(cause) else type(cause).__name__


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..store import db

    name = "<stdin>" if args.file == "-" else args.file

    async def go(source: IO[str]) -> dict[str, int]:
        await db.init_db(args.db)
        try:
            return await import_(source, progress=sys.stderr)
        finally:
            await db.close_db()

    try:
        if args.file == "-":
            counts = asyncio.run(go(sys.stdin))
        else:
            with open(args.file, encoding="utf-8") as source:
                counts = asyncio.run(go(source))
    except ImportError_ as exc:
        print(f"bianmin import: error: {exc.where(name)}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as exc:
        print(f"bianmin import: error: {name}: not UTF-8 text ({exc.reason})", file=sys.stderr)
        return 1
    except (OSError, db.DatabaseURLError, ConfigError) as exc:
        print(f"bianmin import: error: {exc}", file=sys.stderr)
        return 2
    print(f"bianmin import: {sum(counts.values()):,} rows into {len(counts)} tables from {name}", file=sys.stderr)
    return 0
