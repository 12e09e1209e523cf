"""Fixtures of the web tests: an app on a fresh database (SQLite and PostgreSQL), a client,
staff of any jurisdiction and role, and what tests need to sign in and post forms."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bianmin.web import create_app

SECRET = "test-secret-" + "x" * 32
PASSWORD = "correct horse battery staple"
# The store's convention (tests/store/conftest.py): a PostgreSQL server at $BIANMIN_TEST_POSTGRES,
# default postgres://postgres@127.0.0.1:5432; unreachable → skipped, or failed when
# BIANMIN_REQUIRE_POSTGRES=1 (CI).
SERVER = os.environ.get("BIANMIN_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
BACKENDS = ["sqlite", "postgres"]


def _server_root() -> str:
    """The server URL without a database name."""
    scheme, _, rest = SERVER.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def database_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'web.sqlite3'}"
    name = "bianmin_web_" + uuid.uuid4().hex[:10]
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - whatever keeps us from the server
        message = f"PostgreSQL at {SERVER} is not reachable: {exc!r}"
        if os.environ.get("BIANMIN_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return f"{_server_root()}/{name}"


def _admin(statement: str) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(f"{_server_root()}/postgres".replace("postgres://", "postgresql://", 1),
                                     timeout=5)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(backend: str, tmp_path: Path):
    from tortoise.backends.base import executor

    # Tortoise caches insert statements per model and connection name: two backends in one test
    # process (never in a server) would share a cache entry with the other's placeholders.
    executor.EXECUTOR_CACHE.clear()
    url = database_url(backend, tmp_path)
    yield create_app(url, secret=SECRET, var=tmp_path / "var")
    if backend == "postgres":
        _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def run(client: TestClient, coro_fn, *args, **kwargs):
    """Run an async store call on the app's event loop (where Tortoise lives)."""
    return client.portal.call(lambda: coro_fn(*args, **kwargs))


@dataclass
class Staff:
    id: int
    username: str
    jurisdiction: str
    role: str


def make_staff(client: TestClient, jurisdiction: str, role: str, username: str | None = None) -> Staff:
    from bianmin.web.bootstrap import create_staff

    username = username or f"{jurisdiction}-{role}-{uuid.uuid4().hex[:6]}"
    row = run(client, create_staff, username, PASSWORD, f"{role}@{jurisdiction}", [(jurisdiction, role)])
    return Staff(row.id, username, jurisdiction, role)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, staff: Staff) -> None:
    token = csrf_of(client.get("/staff/sign-in").text)
    response = client.post("/staff/sign-in", data={"username": staff.username, "password": PASSWORD,
                                                   "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def token_for(client: TestClient, staff: Staff) -> str:
    from bianmin.web.auth import issue_token

    return issue_token(SECRET, staff.id)


NOW = dt.datetime.now().replace(microsecond=0)


class Helpers:
    """What tests need besides the client (conftest is not importable under importlib mode)."""

    PASSWORD = PASSWORD
    SECRET = SECRET
    csrf_of = staticmethod(csrf_of)

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def run(self, coro_fn, *args, **kwargs):
        return run(self.client, coro_fn, *args, **kwargs)

    def staff(self, jurisdiction: str, role: str, username: str | None = None) -> Staff:
        return make_staff(self.client, jurisdiction, role, username)

    def sign_in(self, staff: Staff) -> None:
        sign_in(self.client, staff)

    def token(self, staff: Staff) -> str:
        return token_for(self.client, staff)

    def bearer(self, staff: Staff) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(self.client, staff)}"}

    def csrf(self, path: str = "/") -> str:
        return csrf_of(self.client.get(path).text) if "csrf_token" in self.client.get(path).text else ""


@pytest.fixture
def h(client: TestClient) -> Helpers:
    return Helpers(client)
