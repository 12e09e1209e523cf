"""Connecting to the database: SQLite (one file) or PostgreSQL (asyncpg), the same models on both.

    sqlite:///abs/path/bianmin.sqlite3     sqlite://var/bianmin.sqlite3 (relative)
    postgres://user:password@host:5432/dbname

The default is ``$BIANMIN_DB``, else ``sqlite://<home>/var/bianmin.sqlite3``. SQLite runs in WAL
mode with ``synchronous=NORMAL`` (docs/persistence.md: a power cut may lose the last commits,
never corrupt the file) and ``busy_timeout`` so that a cron sweep and the web server queue.

The few statements Tortoise cannot say (``RETURNING`` counters, ``FOR UPDATE SKIP LOCKED``,
``ON CONFLICT DO NOTHING``) go through :func:`fetch` and :func:`execute`, written with ``?``
placeholders for both backends.

The write path (intake, transitions) is written as **programs**: generators that yield their
statements and receive the results, run by :func:`atomic` (a transaction of their own),
:func:`read` or :func:`run` (inside a ``transaction()`` the caller holds)::

    def bump(jurisdiction):
        rows = yield Fetch("UPDATE counters SET value = value + 1 WHERE jurisdiction = ? RETURNING value",
                           [jurisdiction])
        return rows[0]["value"]

    value = await db.atomic(bump, "jiangyin")

A program must not await or block: it computes between its statements and nothing else. A
statement the database refuses ends it (its ``finally`` blocks run) and rolls the transaction
back: the error (Tortoise's ``IntegrityError``, ``OperationalError`` ...) is raised to the
caller, never into the program, since PostgreSQL could not go on in that transaction anyway. On
PostgreSQL each statement is awaited in turn, in a Tortoise transaction; on SQLite the whole
program, ``BEGIN`` to ``COMMIT``, is one call, without a round trip to aiosqlite's thread per
statement (``store/_sqlite.py``). The statements, and so the locks, conflicts and errors, are the
same on both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient, TransactionContext
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import require_context
from tortoise.transactions import in_transaction

from . import _sqlite

TIMEZONE = "Asia/Shanghai"  # the centres' local time; stored times are naive local times
SQLITE_PRAGMAS = {"journal_mode": "WAL", "synchronous": "NORMAL", "busy_timeout": 10_000,
                  "foreign_keys": "ON", "journal_size_limit": 16384}


class DatabaseURLError(ValueError):
    pass


def default_url() -> str:
    from .. import paths

    return (os.environ.get("BIANMIN_DB_URL") or os.environ.get("BIANMIN_DB")
            or f"sqlite://{paths.home() / 'var' / 'bianmin.sqlite3'}")


def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgres``."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql", "asyncpg"):
        return "postgres"
    raise DatabaseURLError(f"unsupported database URL {_safe(url)!r}: use sqlite:///path/file.sqlite3 "
                           "or postgres://user@host:5432/dbname")


def tortoise_config(url: str | None = None) -> dict[str, Any]:
    """The Tortoise configuration for ``url``: what ``RegisterTortoise(config=...)`` takes too."""
    url = url or default_url()
    if dialect_of(url) == "sqlite":
        path = url[len("sqlite://"):].split("?", 1)[0]
        if not path:
            raise DatabaseURLError("sqlite URL without a file: use sqlite:///path/file.sqlite3")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection: dict[str, Any] = {"engine": "bianmin.store._sqlite",
                                      "credentials": {"file_path": path, **SQLITE_PRAGMAS}}
    else:
        connection = expand_db_url("postgres" + url[url.index(":"):])
        # Pool size and timeouts: the URL's ?minsize=&maxsize= win, else BIANMIN_DB_POOL_*,
        # BIANMIN_DB_*_TIMEOUT (config.py). A command timeout turns a hung statement into an
        # error; asyncpg drops the connections a restarted server closed and opens new ones.
        from ..config import pool_from_env

        for key, value in pool_from_env().items():
            connection["credentials"].setdefault(key, value)
    # The connection is named after the dialect: Tortoise caches each model's INSERT statement by
    # connection name, so one process switching backends (the tests) must not reuse a name.
    name = dialect_of(url)
    return {
        "connections": {name: connection},
        "apps": {"models": {"models": ["bianmin.store.models"], "default_connection": name}},
        "use_tz": False,
        "timezone": TIMEZONE,
    }


async def init_db(url: str | None = None, *, upgrade: bool = True) -> None:
    """Connect the models to ``url`` in the current task, and bring the schema up to date."""
    await Tortoise.init(config=tortoise_config(url))
    if upgrade:
        from .migrate import upgrade as run_upgrade

        await run_upgrade()


async def close_db() -> None:
    await Tortoise.close_connections()


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection(_name())


def transaction() -> TransactionContext:
    """One database transaction: everything inside commits together or not at all."""
    return _Reconnecting(_name())  # type: ignore[return-value]


class _Reconnecting:
    """``in_transaction`` that tries a second pooled connection when the first is found dead at
    ``BEGIN`` (PostgreSQL restarted, or the backend was terminated, while it sat in the pool):
    nothing has run yet, so trying again is safe, and the request succeeds instead of failing
    once per stale connection. Tortoise leaves the failed connection checked out and itself in
    the task's context; both are undone here, or the pool would run dry after a few failures."""

    __slots__ = ("name", "context")

    def __init__(self, name: str) -> None:
        self.name = name
        self.context: TransactionContext | None = None

    async def __aenter__(self) -> BaseDBAsyncClient:
        from tortoise.backends.base.client import TransactionContextPooled

        for attempt in (1, 2):
            self.context = in_transaction(self.name)
            try:
                return await self.context.__aenter__()
            except Exception as exc:
                if not isinstance(self.context, TransactionContextPooled):
                    raise
                lost = lost_connection(exc)
                await _abandon(self.context, expire=lost)
                if attempt == 2 or not lost:
                    raise
        raise AssertionError("unreachable")

    async def __aexit__(self, *exc_info: Any) -> Any:
        assert self.context is not None
        return await self.context.__aexit__(*exc_info)


async def _abandon(context: Any, *, expire: bool) -> None:
    from tortoise.connection import get_connections

    client = context.client
    if expire and client._parent._pool is not None:
        # One dead connection means the server went away: its pool-mates are dead too.
        await client._parent._pool.expire_connections()
    token = getattr(context, "token", None)
    if token is not None:
        get_connections().reset(token)
        context.token = None
    if client._connection is not None and client._parent._pool is not None:
        connection, client._connection = client._connection, None
        await client._parent._pool.release(connection)


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` says the PostgreSQL connection died under the statement (server restart,
    ``pg_terminate_backend``, network cut) rather than the statement being wrong."""
    import asyncpg

    kinds = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError,
             asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.CrashShutdownError,
             asyncpg.exceptions.CannotConnectNowError, ConnectionError)
    return isinstance(exc, kinds) or isinstance(exc.__cause__, kinds)


def _name() -> str:
    return require_context().default_connection or "sqlite"


def dialect(conn: BaseDBAsyncClient | None = None) -> str:
    conn = conn or connection()
    return "postgres" if conn.capabilities.dialect == "postgres" else "sqlite"


async def fetch(conn: BaseDBAsyncClient, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of ``query`` (``?`` placeholders), ``RETURNING`` included, as dicts."""
    return await conn.execute_query_dict(_placeholders(conn, query), list(params))


async def execute(conn: BaseDBAsyncClient, query: str, params: Sequence[Any] = ()) -> int:
    """Run ``query`` (``?`` placeholders); the number of rows it changed."""
    count, _ = await conn.execute_query(_placeholders(conn, query), list(params))
    return count


_QMARK = re.compile(r"\?")


def _placeholders(conn: BaseDBAsyncClient, query: str) -> str:
    if dialect(conn) != "postgres":
        return query
    numbers = iter(range(1, 10_000))
    return _QMARK.sub(lambda _: f"${next(numbers)}", query)


def _safe(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


async def execute_many(conn: BaseDBAsyncClient, query: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``query`` once per row of parameters, in one round of the driver."""
    if rows:
        await conn.execute_many(_placeholders(conn, query), [list(r) for r in rows])


def marks(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` of ``count`` values."""
    return ", ".join("?" * count)


# -- programs ---------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fetch:
    """``rows = yield Fetch(sql, params)``: the rows (``RETURNING`` included) as dicts."""

    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class Execute:
    """``count = yield Execute(sql, params)``: the number of rows the statement changed."""

    sql: str
    params: Sequence[Any] = ()


Program = Generator[Fetch | Execute, Any, T]


async def atomic(fn: Callable[..., Program[T]], *args: Any) -> T:
    """``fn(*args)`` in a write transaction of its own: everything or nothing. Inside a
    ``transaction()`` it runs in that one, under a savepoint (like a nested ``transaction()``).
    On SQLite ``fn`` may be called twice: a first attempt that found the database locked is
    rolled back and made again in aiosqlite's thread, where it waits for the lock."""
    return await _program(_sqlite.WRITE, fn, args)


async def read(fn: Callable[..., Program[T]], *args: Any) -> T:
    """``fn(*args)``, a program that only reads, on one snapshot of the database."""
    return await _program(_sqlite.READ, fn, args)


async def run(tx: BaseDBAsyncClient, fn: Callable[..., Program[T]], *args: Any) -> T:
    """``fn(*args)`` inside ``tx``, a transaction the caller opened with :func:`transaction`."""
    if isinstance(tx, _sqlite.SqliteTransactionWrapper):
        return await _sqlite.run_in_transaction(tx, fn, args, savepoint=False)
    return await _drive(tx, fn(*args))


async def _program(begin: str, fn: Callable[..., Program[T]], args: tuple[Any, ...]) -> T:
    conn = connection()
    if isinstance(conn, _sqlite.SqliteClient) and not isinstance(conn, TransactionalDBClient):
        return await conn.run_program(begin, fn, args)
    if isinstance(conn, _sqlite.SqliteTransactionWrapper):  # inside the caller's transaction()
        return await _sqlite.run_in_transaction(conn, fn, args, savepoint=True)
    async with transaction() as tx:  # a stale pooled connection is replaced at BEGIN
        return await _drive(tx, fn(*args))


async def _drive(conn: BaseDBAsyncClient, program: Program[T]) -> T:
    """A program's statements awaited one after the other (PostgreSQL)."""
    reply: Any = None
    try:
        while True:
            try:
                statement = program.send(reply)
            except StopIteration as stop:
                return stop.value
            if isinstance(statement, Fetch):
                reply = await fetch(conn, statement.sql, statement.params)
            else:
                reply = await execute(conn, statement.sql, statement.params)
    finally:
        program.close()
