"""Database fixtures: every test taking ``backend`` runs on SQLite and on PostgreSQL.

SQLite: a new file per test. PostgreSQL: one fresh database per test session at
``$BIANMIN_TEST_POSTGRES`` (default ``postgres://postgres@127.0.0.1:5432``), created through the
``postgres`` database, emptied before each test and dropped at the end. When the server cannot be
reached the PostgreSQL cases are skipped, unless ``BIANMIN_REQUIRE_POSTGRES=1`` (CI), where they
fail.

Tests are plain functions that run their coroutine with ``backend.run(fn)``: ``asyncio.run`` with
the Tortoise context opened on the backend and closed after, so no async plugin is needed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bianmin import paths
from bianmin.packs import Registry
from bianmin.store import db
from bianmin.workflow import Actor

T = TypeVar("T")
SERVER = os.environ.get("BIANMIN_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
TABLES = ("counters", "deadline_changes", "timer_marks", "clock_marks", "outbox", "ratings", "violations",
          "documents", "events", "backup_assignments", "records", "role_assignments", "staff", "pack_versions",
          "jurisdictions")

STAFF = Actor("u1", "张三", frozenset({"clerk", "back_office", "chief_representative", "window_head",
                                      "unit_head", "leader", "supervisor"}))


@dataclass
class Backend:
    name: str
    url: str

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        async def main() -> T:
            await db.init_db(self.url)
            try:
                return await asyncio.wait_for(fn(*args), timeout=120)
            finally:
                await db.close_db()

        return asyncio.run(main())


async def admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{SERVER}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _unreachable(exc: BaseException) -> None:
    message = f"PostgreSQL at {SERVER} is not reachable: {exc!r}"
    if os.environ.get("BIANMIN_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Callable[[], str]]:
    """A factory of fresh PostgreSQL databases (URLs), all dropped at the end of the session."""
    made: list[str] = []

    def make() -> str:
        name = f"bianmin_test_{os.getpid()}_{secrets.token_hex(3)}"
        try:
            asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # refused, timed out, no asyncpg, a PostgresError
            _unreachable(exc)
        made.append(name)
        return f"{SERVER}/{name}"

    yield make
    for name in made:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url(postgres_databases: Callable[[], str]) -> str:
    url = postgres_databases()
    Backend("postgres", url).run(_noop)  # migrate once
    return url


async def _noop() -> None:
    return None


async def _empty() -> None:
    await db.execute(db.connection(), f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", f"sqlite://{tmp_path / 'bianmin.sqlite3'}")
    found = Backend("postgres", request.getfixturevalue("postgres_url"))
    found.run(_empty)
    return found


@pytest.fixture(scope="session")
def registry() -> Registry:
    loaded, problems = Registry.load(paths.policies_dir())
    assert not problems, problems
    return loaded


@pytest.fixture
def staff() -> Actor:
    """Someone holding every role the case workflows ask for."""
    return STAFF


@pytest.fixture
def checklist() -> Callable[..., list[dict[str, Any]]]:
    """checklist(pack, item_id, missing=0): the item's materials, all received but the first
    ``missing``, as the `materials` form takes them."""

    def make(pack: Any, item_id: str, missing: int = 0) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [{"id": m.id, "received": True, "pages": 1} for m in pack.item(item_id).materials]
        for row in rows[:missing]:
            row["received"] = False
            del row["pages"]
        return rows

    return make
