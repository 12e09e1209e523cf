"""Health and readiness, request ids and JSON logs, and the database going away under the app:
a clean 503 while PostgreSQL is down, success again without a restart once it is back, and no
failed request after the server drops the app's connections (pg_terminate_backend)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import uuid

import pytest
from starlette.testclient import TestClient

from bianmin import logs
from bianmin.web import create_app
from bianmin.web.auth import issue_token
from bianmin.web.bootstrap import create_staff

SECRET = "test-secret-" + "x" * 32
PASSWORD = "correct horse battery staple"


def test_healthz_needs_no_database(app):
    # Not even started: no database connection exists yet.
    response = TestClient(app).get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz(app, monkeypatch):
    assert TestClient(app).get("/readyz").json()["reason"].startswith("starting")
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        from bianmin.store import migrate

        newer = [*migrate.available(), migrate.Migration(9999, "from_the_future", lambda dialect: [])]
        monkeypatch.setattr(migrate, "available", lambda: newer)
        behind = client.get("/readyz")
        assert behind.status_code == 503
        assert "needs 9999: run `bianmin db upgrade`" in behind.json()["reason"]


def test_readyz_gives_up_on_a_slow_database(app, monkeypatch):
    from bianmin.store import db
    from bianmin.web.routes import health

    async def hung(*args, **kwargs):
        await asyncio.sleep(30)

    with TestClient(app) as client:
        monkeypatch.setattr(health, "READY_TIMEOUT", 0.2)
        monkeypatch.setattr(db, "fetch", hung)
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database did not answer within 0.2 s"}


def test_health_routes_are_public_and_outside_csrf(client):
    # No session, no token, no CSRF field, many times over: never refused, never rate limited.
    for _ in range(30):
        assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.post("/healthz").status_code == 405  # read-only


def test_request_id_in_and_out(client):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert given.headers["x-request-id"] == "lb-7f3a.42"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["x-request-id"] != "bad id\twith spaces" and len(made.headers["x-request-id"]) == 32
    assert client.get("/").headers["x-request-id"] != made.headers["x-request-id"]


def test_json_logs_carry_the_request_and_mask_personal_data(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JSONFormatter())
    handler.addFilter(logs.RequestContext())
    logger = logging.getLogger("bianmin")
    level = logger.level
    logger.setLevel(logging.INFO)  # setLevel, not the attribute: it clears the children's caches
    logger.addHandler(handler)
    try:
        client.get("/xupu/status?number=XP-2026-000001&digits=5678", headers={"X-Request-ID": "req-1"})
        logging.getLogger("bianmin.test").warning("applicant %s phoned from %s", "11010519491231002X", "13812345678")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = next(e for e in lines if e["logger"] == "bianmin.access")
    assert access["request_id"] == "req-1" and access["jurisdiction"] == "xupu"
    assert access["message"].startswith("GET /xupu/status 200 ")
    assert set(access) >= {"time", "level", "logger", "message"}
    outside = lines[-1]
    assert outside["message"] == "applicant 110105********002X phoned from 138****5678"
    assert "request_id" not in outside  # written outside any request


def test_oversized_body_limit_is_configurable(tmp_path):
    app = create_app(f"sqlite://{tmp_path / 'db.sqlite3'}", secret=SECRET, var=tmp_path / "var", max_body=2048)
    with TestClient(app) as client:
        response = client.post("/xupu/status", content=b"x" * 4096,
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "2 KiB" in response.json()["error"]["message"]


# --- the database going away ---------------------------------------------------------------------

class Proxy:
    """A TCP relay to PostgreSQL that can be cut, like a database restart: while down, every
    connection through it is dropped and new ones are refused."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.up()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def up(self) -> None:
        async def start() -> None:
            self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
            self.port = self.server.sockets[0].getsockname()[1]
        self._call(start())

    def down(self) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        self._call(stop())

    def close(self) -> None:
        self.down()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def _sign_in(client: TestClient, username: str) -> None:
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/sign-in").text)[1]
    response = client.post("/staff/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def _case_and_token(client: TestClient) -> tuple[str, dict[str, str], str]:
    import datetime as dt

    from bianmin.store import intake
    from bianmin.web.auth import load_principal

    web = client.app.state.web
    pack = web.pack("xupu")
    item = next(i for i in pack.items if i.kind == "promised")
    staff = client.portal.call(lambda: create_staff(f"clerk-{uuid.uuid4().hex[:6]}", PASSWORD, "clerk",
                                                    [("xupu", "clerk")]))
    actor = client.portal.call(lambda: load_principal(staff.id)).actor("xupu")
    subject = {"applicant_name": "张三", "phone": "13812345678",
               "materials": [{"id": m.id, "received": True, "pages": 1} for m in item.materials]}
    number = client.portal.call(lambda: intake("xupu", item.id, subject, actor, {},
                                               dt.datetime.now().replace(microsecond=0), registry=web.registry)).record.number
    return number, {"Authorization": f"Bearer {issue_token(SECRET, staff.id)}"}, staff.username


@pytest.mark.parametrize("backend", ["postgres"])  # a database server to lose
def test_database_outage_gives_503_then_recovers(app, backend, tmp_path):
    url = app.state.web.db_url
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    proxy = Proxy(int(host_port.rsplit(":", 1)[1]) if ":" in host_port else 5432)
    try:
        proxied = create_app(url.replace(host_port, f"127.0.0.1:{proxy.port}"), secret=SECRET, var=tmp_path / "p")
        with TestClient(proxied, raise_server_exceptions=False) as client:
            number, bearer, username = _case_and_token(client)
            _sign_in(client, username)
            assert client.get(f"/api/v1/xupu/cases/{number}", headers=bearer).status_code == 200
            assert client.get(f"/staff/xupu/records/{number}").status_code == 200
            proxy.down()
            api = client.get(f"/api/v1/xupu/cases/{number}", headers=bearer)
            assert api.status_code == 503, api.text
            assert api.json()["error"]["code"] == "unavailable" and "Traceback" not in api.text
            assert api.headers["retry-after"] and api.headers["x-request-id"]
            page = client.get(f"/staff/xupu/records/{number}")
            assert page.status_code == 503 and "text/html" in page.headers["content-type"]
            assert "请稍后再试" in page.text and "Traceback" not in page.text
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["reason"].startswith("database unreachable")
            assert client.get("/healthz").status_code == 200  # alive: no restart wanted
            proxy.up()
            for _ in range(3):  # no manual action: every request after the outage succeeds
                assert client.get(f"/api/v1/xupu/cases/{number}", headers=bearer).status_code == 200
            assert client.get("/readyz").status_code == 200
    finally:
        proxy.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_terminated_connections_cost_no_request(app, backend):
    """The server ends every connection of the app (as a restart or a failover does) between
    requests: reads and writes that follow all succeed, on fresh connections."""
    import asyncpg

    database = app.state.web.db_url.rsplit("/", 1)[1]
    server = app.state.web.db_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1)

    async def terminate() -> int:
        conn = await asyncpg.connect(f"{server}/postgres", timeout=5)
        try:
            return await conn.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE datname = $1 AND pid <> pg_backend_pid()", database)
        finally:
            await conn.close()

    with TestClient(app) as client:
        number, bearer, _ = _case_and_token(client)
        web = app.state.web
        item = next(i for i in web.pack("xupu").items if i.kind == "promised")
        body = {"item": item.id, "data": {"applicant_type": "person", "applicant_name": "李四",
                                          "id_number": "11010519491231002X", "phone": "13987654321",
                                          "delivery": "window",
                                          "materials": [{"id": m.id, "received": True, "pages": 1}
                                                        for m in item.materials]}}
        terminated = 0
        for round_ in range(8):
            # On the app's own event loop: the next request can come before the loop has seen
            # the connections close, and meets a dead one.
            terminated += client.portal.call(terminate)
            read = client.get(f"/api/v1/xupu/cases/{number}", headers=bearer)
            assert read.status_code == 200, (round_, read.text)
            terminated += client.portal.call(terminate)
            write = client.post("/api/v1/xupu/cases", json=body,
                                headers={**bearer, "Idempotency-Key": f"after-terminate-{round_}"})
            assert write.status_code == 201, (round_, write.text)
        assert terminated >= 8  # the app really had connections to lose


def test_in_app_sweeper_runs_in_the_background(tmp_path, caplog):
    """BIANMIN_SWEEP_INTERVAL > 0: each worker sweeps on its own (0, the tests' default, does not)."""
    import time

    from bianmin.store.models import ClockMark

    caplog.set_level(logging.INFO, logger="bianmin.sweep")
    app = create_app(f"sqlite://{tmp_path / 'db.sqlite3'}", secret=SECRET, var=tmp_path / "var", sweep_interval=1)
    with TestClient(app) as client:
        _case_and_token(client)
        deadline = time.monotonic() + 20
        while not client.portal.call(ClockMark.exists) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.portal.call(ClockMark.exists), "no sweep ran within 20 s"
    assert any(r.getMessage().startswith("sweep: swept ") for r in caplog.records)
