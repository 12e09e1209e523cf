"""What the reliability tests share: databases, real server processes, a plain HTTP client, the
store's consistency checks and the figures printed at the end of the run.

Every server listens on 127.0.0.1 only; every wait has a deadline; every load is a fixed number
of requests. The conftest imports this module (conftest modules are not importable under
``--import-mode=importlib``), the tests import it as ``reliability_harness``.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SERVER = os.environ.get("BIANMIN_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SECRET = "reliability-secret-" + "r" * 32
PASSWORD = "correct horse battery staple"
PHONE = "13812345678"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0  # seconds for a server (all its workers) to answer /readyz


# -- figures ------------------------------------------------------------------------------------------

@dataclass
class Figures:
    """What the suite did, printed at the end of the run (conftest.pytest_terminal_summary)."""

    requests: int = 0  # HTTP requests sent to real servers
    held: int = 0  # acknowledged (2xx) writes found stored exactly once afterwards
    faults: int = 0  # kill -9, terminated database connections, failing or hanging notifiers
    inputs: int = 0  # fuzzed packs, API requests and injection payloads tried
    lost: int = 0  # acknowledged writes missing, duplicated or half applied: must stay 0
    notes: list[str] = field(default_factory=list)


FIGURES = Figures()


# -- databases ----------------------------------------------------------------------------------------

def _server_root() -> str:
    scheme, _, rest = SERVER.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def pg_admin(statement: str, database: str = "postgres") -> list[dict[str, Any]]:
    import asyncpg

    async def go() -> list[dict[str, Any]]:
        url = f"{_server_root()}/{database}".replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return [dict(r) for r in await conn.fetch(statement)]
        finally:
            await conn.close()

    return asyncio.run(asyncio.wait_for(go(), 30))


@dataclass
class Database:
    backend: str  # sqlite | postgres
    url: str
    name: str = ""  # the PostgreSQL database

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of one read-only statement, straight from the database (not through the app)."""
        if self.backend == "postgres":
            return pg_admin(sql, self.name)
        path = self.url.removeprefix("sqlite://")
        conn = sqlite3.connect(path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql).fetchall()]
        finally:
            conn.close()

    def terminate_connections(self) -> int:
        """What a database restart does to the app: every connection to its database is cut."""
        rows = pg_admin("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                        f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()")
        return int(rows[0]["n"])


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh database (SQLite file, or a PostgreSQL database dropped afterwards)."""
    if backend == "sqlite":
        yield Database("sqlite", f"sqlite://{tmp_path / 'reliability.sqlite3'}")
        return
    name = "bianmin_rel_" + uuid.uuid4().hex[:10]
    try:
        pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - whatever keeps us from the server
        message = f"PostgreSQL at {SERVER} is not reachable: {exc!r}"
        if os.environ.get("BIANMIN_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield Database("postgres", f"{_server_root()}/{name}", name)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- HTTP ---------------------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int | None  # None: no answer (connection refused or cut, timed out)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def request(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
            timeout: float = 15.0, raw: bytes | None = None, count: bool = True) -> Reply:
    """One request on a new connection to 127.0.0.1:``port``; never raises for a lost connection."""
    FIGURES.requests += count
    sent = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        sent.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
    except (OSError, http.client.HTTPException):
        return Reply(None)
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers ------------------------------------------------------------------------------------------

class Server:
    """``bianmin serve`` in its own process group on 127.0.0.1, with ``workers`` processes."""

    def __init__(self, db: Database, var: Path, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.db, self.var, self.workers = db, var, workers
        self.port = free_port()
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = var / f"server-{self.port}.log"
        self.starts = 0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bianmin.cli", "serve", "--db", self.db.url, "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning"]

    def start(self) -> Server:
        self.var.mkdir(parents=True, exist_ok=True)
        # A small pool: the PostgreSQL server (100 connections) is shared with every other test run.
        env = {**os.environ, "BIANMIN_SECRET_KEY": SECRET, "BIANMIN_SECRET": SECRET, "BIANMIN_VAR": str(self.var),
               "BIANMIN_SWEEP_INTERVAL": "0", "BIANMIN_DB_POOL_MAX": "4", "PYTHONUNBUFFERED": "1", **self.env}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        _watch(self.process.pid, self.db)
        self.starts += 1
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until /readyz says yes on every worker (each answers a share of the connections)."""
        deadline = time.monotonic() + timeout
        good = 0
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.tail()}")
            good = good + 1 if self.ready() else 0
            if good >= 2 * self.workers and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.1 if good else 0.3)
        raise AssertionError(f"server on port {self.port} not ready within {timeout:.0f} s:\n{self.tail()}")

    def ready(self) -> bool:
        reply = request(self.port, "GET", "/readyz", timeout=5, count=False)
        if reply.status == 404:  # a server without readiness endpoint: the home page then
            reply = request(self.port, "GET", "/", timeout=5, count=False)
        return reply.status == 200

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The worker processes: uvicorn's spawned children, or the server itself with one worker."""
        if self.process is None or self.process.poll() is not None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        found = []
        for child in _children(self.process.pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(child)
        return found

    def kill_worker(self, index: int = 0) -> int:
        """kill -9 one worker (uvicorn's supervisor starts a new one); the single process if one."""
        pids = self.worker_pids()
        assert pids, f"no worker to kill:\n{self.tail()}"
        pid = pids[index % len(pids)]
        os.kill(pid, signal.SIGKILL)
        FIGURES.faults += 1
        return pid

    def kill(self) -> None:
        """kill -9 of every process of the server at once (a crashed machine, as the app sees it)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            FIGURES.faults += 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        _reap_group(self.process.pid)

    def restart(self) -> Server:
        self.stop()
        self.port = free_port()  # the old port may linger in TIME_WAIT for its dead workers' sockets
        return self.start()

    # -- the API, as an integrator calls it

    def api(self, method: str, path: str, token: str, body: Any = None, key: str | None = None,
            timeout: float = 15.0) -> Reply:
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return request(self.port, method, path, body, headers, timeout=timeout)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _reap_group(pgid: int) -> None:
    """Workers left behind by a killed supervisor would hold the port and the database; one it
    was spawning while the group was killed can appear just after, so kill until none is left."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.1)


# Runs beside each server, in its own session: when the test run dies without its teardown
# (killed by a time limit, say), it kills the server's process group and drops its database.
_WATCHDOG = """
import asyncio, os, signal, sys, time
parent, group, admin, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
def group_alive():
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False
while alive(parent) and group_alive():
    time.sleep(1)
if group_alive():
    for _ in range(50):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    if name:
        import asyncpg
        async def drop():
            conn = await asyncpg.connect(admin, timeout=5)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()
        asyncio.run(drop())
"""


_WATCHDOGS: list[int] = []


def _watch(group: int, db: Database) -> None:
    admin = f"{_server_root()}/postgres".replace("postgres://", "postgresql://", 1)
    for pid in list(_WATCHDOGS):  # reap the ones that finished
        if os.waitpid(pid, os.WNOHANG)[0]:
            _WATCHDOGS.remove(pid)
    # posix_spawn, not Popen: a Popen still running at exit warns, and warnings are errors here.
    _WATCHDOGS.append(os.posix_spawn(sys.executable, [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(group),
                                                      admin, db.name], os.environ, setsid=True))


@dataclass
class Shared:
    """A server shared by the tests that inject no fault; a clerk's token per jurisdiction."""

    server: Server
    db: Database
    tokens: dict[str, str]


# Each fault-free test works in one of these, so its numbers start at 1 on a shared server.
JURISDICTIONS = ("xupu", "jiangyin", "dahepin", "taihe", "taishan")


# -- staff and cases ----------------------------------------------------------------------------------

def make_staff(db: Database, staff: list[tuple[str, list[tuple[str, str]]]]) -> dict[str, int]:
    """Accounts ``username -> id`` with ``(jurisdiction, role)`` pairs, written through the store
    (the server registered the jurisdictions on its first start)."""
    from tortoise.backends.base import executor

    from bianmin.store import db as store_db
    from bianmin.web.bootstrap import create_staff

    async def go() -> dict[str, int]:
        await store_db.init_db(db.url, upgrade=False)
        try:
            made = {}
            for username, roles in staff:
                row = await create_staff(username, PASSWORD, username, roles)
                made[username] = row.id
            return made
        finally:
            await store_db.close_db()

    executor.EXECUTOR_CACHE.clear()  # placeholders differ between SQLite and PostgreSQL
    return asyncio.run(asyncio.wait_for(go(), 60))


def token(staff_id: int) -> str:
    from bianmin.web.auth import issue_token

    return issue_token(SECRET, staff_id)


def promised_item(jurisdiction: str = "xupu") -> tuple[Any, Any]:
    """A promised item of the jurisdiction's pack in force, and the pack."""
    from bianmin import paths
    from bianmin.packs import Registry

    registry = _registry(paths.policies_dir())
    pack = registry.active(jurisdiction)
    return pack, next(i for i in pack.items if i.kind == "promised")


_REGISTRIES: dict[Path, Any] = {}


def _registry(policies: Path) -> Any:
    from bianmin.packs import Registry

    if policies not in _REGISTRIES:
        loaded, problems = Registry.load(policies)
        assert not problems, problems
        _REGISTRIES[policies] = loaded
    return _REGISTRIES[policies]


def intake_body(item: Any, name: str = "张三") -> dict[str, Any]:
    return {"item": item.id, "data": {
        "applicant_type": "person", "applicant_name": name, "id_number": "11010519491231002X", "phone": PHONE,
        "delivery": "window", "materials": [{"id": m.id, "received": True, "pages": 2} for m in item.materials]}}


# -- the store's invariants ---------------------------------------------------------------------------

def half_applied(db: Database) -> list[str]:
    """Records whose event log, version, state and outbox disagree: what a transition cut in half
    would leave. Empty when every transition is all there or not there at all."""
    records = {r["id"]: r for r in db.query("SELECT id, number, state, version FROM records")}
    events = db.query("SELECT record_id, seq, to_state FROM events ORDER BY record_id, seq")
    by_record: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        by_record.setdefault(e["record_id"], []).append(e)
    outbox = {r["record_id"]: r["n"] for r in db.query(
        "SELECT record_id, count(*) AS n FROM outbox WHERE kind = 'event' GROUP BY record_id")}
    wrong = []
    for rid, rec in records.items():
        log = by_record.get(rid, [])
        seqs = [e["seq"] for e in log]
        if seqs != list(range(1, rec["version"] + 1)):
            wrong.append(f"{rec['number']}: version {rec['version']} but event seqs {seqs}")
        elif log[-1]["to_state"] != rec["state"]:
            wrong.append(f"{rec['number']}: state {rec['state']} but last event went to {log[-1]['to_state']}")
        if outbox.get(rid, 0) != len(log):
            wrong.append(f"{rec['number']}: {len(log)} events but {outbox.get(rid, 0)} event outbox rows")
    orphans = set(by_record) - set(records)
    wrong += [f"events of a missing record {rid}" for rid in sorted(orphans)]
    return wrong


def number_sequence(db: Database, jurisdiction: str) -> list[int]:
    """The serial parts of the jurisdiction's case numbers (XP-2026-000042 → 42), sorted."""
    rows = db.query(f"SELECT number FROM records WHERE jurisdiction_id = '{jurisdiction}' AND kind = 'case'")
    return sorted(int(r["number"].rsplit("-", 1)[1]) for r in rows)


def run_bounded(calls: list[Callable[[], Any]], threads: int = 16, timeout: float = 120.0) -> list[Any]:
    """Run the calls on a thread pool; all of them within ``timeout`` seconds or the test fails."""
    from concurrent.futures import ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(c) for c in calls]
        done, pending = wait(futures, timeout=timeout)
        for f in pending:
            f.cancel()
        assert not pending, f"{len(pending)} of {len(calls)} requests still running after {timeout:.0f} s"
        return [f.result() for f in futures]


# -- a load of intakes and transitions ------------------------------------------------------------------

class Load:
    """``cases`` cases, each taken in through the API and then accepted and completed, on
    ``threads`` threads: about three requests per case. A request that gets no answer or a 5xx is
    retried as an integrator would — an intake with the same Idempotency-Key, a transition with
    the same ``expected_version`` — until ``deadline`` seconds have passed. Only answers with a 2xx
    are *acknowledged*; those are what must be stored exactly once."""

    STEPS = (("accept", {}), ("complete", {"data": {"outcome": "approved"}}))

    def __init__(self, server: Server, token: str, item: Any, tag: str, cases: int = 60, threads: int = 8,
                 deadline: float = 120.0) -> None:
        self.server, self.token, self.item, self.tag = server, token, item, tag
        self.cases, self.threads = cases, threads
        self.until = time.monotonic() + deadline
        self.intakes: dict[str, str] = {}  # idempotency key -> number, acknowledged
        self.transitions: list[tuple[str, str, int]] = []  # (number, transition, version), acknowledged
        self.sent = 0
        self.unanswered = 0
        self.server_errors: list[str] = []
        self.answered_at: list[float] = []  # when each 2xx came back
        self._lock = __import__("threading").Lock()

    def _send(self, method: str, path: str, body: Any = None, key: str | None = None) -> Reply:
        reply = self.server.api(method, path, self.token, body, key=key, timeout=20)
        with self._lock:
            self.sent += 1
            if reply.status is None:
                self.unanswered += 1
            elif reply.status >= 500:
                self.server_errors.append(f"{method} {path}: {reply.status} {reply.body[:300]!r}")
            elif reply.ok:
                self.answered_at.append(time.monotonic())
        return reply

    def _retrying(self, call: Callable[[], Reply]) -> Reply | None:
        while time.monotonic() < self.until:
            reply = call()
            if reply.status is not None and reply.status < 500:
                return reply
            time.sleep(0.2)
        return None

    def one_case(self, i: int) -> None:
        key = f"{self.tag}-{i}"
        path = "/api/v1/xupu/cases"
        reply = self._retrying(lambda: self._send("POST", path, intake_body(self.item, f"负载{i}"), key))
        if reply is None or not reply.ok:
            return
        number = reply.json()["number"]
        with self._lock:
            self.intakes[key] = number
        version = 1
        for name, data in self.STEPS:
            body = {"expected_version": version, **data}
            reply = self._retrying(lambda: self._send("POST", f"{path}/{number}/transitions/{name}", body))
            if reply is None:
                return
            if reply.ok:
                version = reply.json()["version"]
                with self._lock:
                    self.transitions.append((number, name, version))
                continue
            # 409: an earlier try whose answer was lost did go through; read where the case is.
            seen = self._retrying(lambda: self._send("GET", f"{path}/{number}"))
            if seen is None or not seen.ok or seen.json()["version"] <= version:
                return
            version = seen.json()["version"]

    def run(self) -> Load:
        run_bounded([lambda i=i: self.one_case(i) for i in range(self.cases)], threads=self.threads,
                    timeout=max(self.until - time.monotonic(), 1) + 30)
        return self

    def acknowledged(self) -> int:
        return len(self.answered_at)

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.acknowledged() < count and time.monotonic() < deadline:
            time.sleep(0.02)

    def check_stored(self, db: Database) -> list[str]:
        """Every acknowledged intake and transition stored exactly once; the figures updated."""
        rows = db.query("SELECT id, number, idempotency_key FROM records WHERE kind = 'case'")
        by_key = {r["idempotency_key"]: r for r in rows}
        numbers = [r["number"] for r in rows]
        events = {(e["number"], e["seq"]): e["transition"] for e in db.query(
            "SELECT r.number, e.seq, e.transition FROM events e JOIN records r ON r.id = e.record_id")}
        missing = [f"intake {k} answered {n}, stored {by_key[k]['number'] if k in by_key else 'nothing'}"
                   for k, n in self.intakes.items() if k not in by_key or by_key[k]["number"] != n]
        missing += [f"{n} stored {numbers.count(n)} times" for n in set(self.intakes.values()) if numbers.count(n) != 1]
        missing += [f"{n} {t} (version {v}) answered but the log has {events.get((n, v))!r} at seq {v}"
                    for n, t, v in self.transitions if events.get((n, v)) != t]
        FIGURES.held += len(self.intakes) + len(self.transitions) - len(missing)
        FIGURES.lost += len(missing)
        return missing


# -- a browser, as far as the tests need one ----------------------------------------------------------------

class Browser:
    """Pages with the session cookie kept, as a browser would; each request on a new connection,
    so with several workers consecutive requests land on different processes."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None  # the bianmin_session value

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookie:
            headers["Cookie"] = f"bianmin_session={self.cookie}"
        return headers

    def _keep(self, reply: Reply) -> Reply:
        cookie = reply.headers.get("set-cookie", "")
        if cookie.startswith("bianmin_session="):
            value = cookie.split(";", 1)[0].split("=", 1)[1]
            self.cookie = value if value and value != "null" else None
        return reply

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self._keep(request(self.port, "GET", path, headers=self._headers(headers)))

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        from urllib.parse import urlencode

        sent = self._headers({"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        return self._keep(request(self.port, "POST", path, headers=sent, raw=urlencode(form).encode()))

    def upload(self, path: str, fields: dict[str, str], name: str, filename: str, content: bytes) -> Reply:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        sent = self._headers({"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self._keep(request(self.port, "POST", path, headers=sent, raw=body, timeout=60))

    def csrf(self, path: str = "/staff/sign-in") -> str:
        import re

        match = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).body.decode())
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> Reply:
        token = self.csrf()
        return self.post("/staff/sign-in", {"username": username, "password": password, "csrf_token": token})
