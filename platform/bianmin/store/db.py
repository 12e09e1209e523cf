"""Connecting to the database: SQLite (one file) or PostgreSQL (asyncpg), the same models on both.

    sqlite:///abs/path/bianmin.sqlite3     sqlite://var/bianmin.sqlite3 (relative)
    postgres://user:password@host:5432/dbname

The default is ``$BIANMIN_DB``, else ``sqlite://<home>/var/bianmin.sqlite3``. SQLite runs in WAL
mode with ``synchronous=NORMAL`` (docs/persistence.md: a power cut may lose the last commits,
never corrupt the file) and ``busy_timeout`` so that a cron sweep and the web server queue.

The few statements Tortoise cannot say (``RETURNING`` counters, ``FOR UPDATE SKIP LOCKED``,
``ON CONFLICT DO NOTHING``) go through :func:`fetch` and :func:`execute`, written with ``?``
placeholders for both backends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import require_context
from tortoise.transactions import in_transaction

TIMEZONE = "Asia/Shanghai"  # the centres' local time; stored times are naive local times
SQLITE_PRAGMAS = {"journal_mode": "WAL", "synchronous": "NORMAL", "busy_timeout": 10_000,
                  "foreign_keys": "ON", "journal_size_limit": 16384}
POOL_SIZE = 10  # PostgreSQL connections per process


class DatabaseURLError(ValueError):
    pass


def default_url() -> str:
    from .. import paths

    return os.environ.get("BIANMIN_DB") or f"sqlite://{paths.home() / 'var' / 'bianmin.sqlite3'}"


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
        connection["credentials"].setdefault("minsize", 1)
        connection["credentials"].setdefault("maxsize", POOL_SIZE)
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
    return in_transaction(_name())


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
