"""The web app under load on loopback, against bare Starlette + Tortoise endpoints doing the same work.

    python bench/bench_web.py [--requests N] [--seconds S] [--concurrency C] [--db sqlite|URL]

Two measurements, each run against two servers started here on 127.0.0.1 (one uvicorn worker
each; only one is loaded at a time, in alternating rounds, and the median round is kept):

* **intake POST**: bianmin's ``POST /api/v1/{j}/cases`` (token, JSON, form validation, store
  intake, the receipt, the audit entry, the case as JSON) against a bare Starlette endpoint that
  parses the same JSON and calls the same ``bianmin.store.intake`` and ``issue_receipt`` (the same
  inserts: record, numbering, event, and the receipt rendered and stored as the desk issues it);
* **form GET**: bianmin's ``GET /staff/{j}/cases/new?item=...`` (session, authorization, form
  view) against a bare endpoint rendering the same template with the same form.

The load generator is asyncio with raw HTTP/1.1 keep-alive connections, bounded by a request
count and a time limit, and stops by itself. Target: bianmin ≥ 70% of the bare throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

TARGET = 0.70
JURISDICTION = "xupu"
SECRET = "bench-secret-" + "z" * 32
PASSWORD = "bench-password"


# --- the bare servers ------------------------------------------------------------------------

def bare_app(db_url: str):
    import datetime as dt
    import itertools

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route
    from tortoise.contrib.starlette import RegisterTortoise

    from bianmin.store import intake, tortoise_config, upgrade
    from bianmin.store.service import default_registry
    from bianmin.web import formview
    from bianmin.web.rendering import environment
    from bianmin.web.services import issue_receipt, renderer
    from bianmin.web.i18n import Translator
    from bianmin.workflow import Actor

    registry = default_registry()
    pack = registry.active(JURISDICTION)
    item = next(i for i in pack.items if i.kind == "promised")
    actor = Actor("1", "bench", frozenset({"clerk"}))
    counter = itertools.count()

    async def post(request: Request):
        body = json.loads(await request.body())
        now = dt.datetime.now().replace(microsecond=0)
        base = str(request.base_url).rstrip("/")
        result = await intake(JURISDICTION, body["item"], body["data"], actor, body["data"], now, registry=registry,
                              renderer=renderer(base, actor))
        await issue_receipt(result, actor, base)  # the same rows: the case, its event and its receipt
        return JSONResponse({"number": result.record.number, "n": next(counter)}, status_code=201)

    template = environment().get_template("staff/new_case.html")
    form = formview.form_of(pack, item.form)

    async def get(request: Request):
        html = template.render(request=request, _=Translator(), lang="zh-CN", csrf_token="x" * 43, principal=None,
                               pack=pack, item=item, fv=formview.view(pack, form, item))
        return HTMLResponse(html)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        async with RegisterTortoise(app, config=tortoise_config(db_url), generate_schemas=False):
            await upgrade()
            yield

    return Starlette(routes=[Route("/intake", post, methods=["POST"]), Route("/form", get)], lifespan=lifespan)


def serve(kind: str, db_url: str, port: int) -> None:
    import uvicorn

    if kind == "bare":
        app = bare_app(db_url)
    else:
        from bianmin.web import create_app

        app = create_app(db_url, secret=SECRET, var=Path(tempfile.mkdtemp(prefix="bianmin-bench-")))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the load generator ----------------------------------------------------------------------

async def _request(reader, writer, raw: bytes) -> int:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    await reader.readexactly(length)
    return status


async def load(port: int, make: callable, total: int, seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    issued = 0
    stop_at = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors, issued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while issued < total and time.monotonic() < stop_at:
                n = issued
                issued += 1
                t0 = time.perf_counter()
                status = await _request(reader, writer, make(n))
                latencies.append(time.perf_counter() - t0)
                errors += status >= 400
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": 1000 * statistics.median(latencies),
            "p99": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "n": len(latencies), "errors": errors}


def http(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- one run ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, db_url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--db", db_url, "--port", str(port)],
                            env={**os.environ, "BIANMIN_SECRET": SECRET})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


async def prepare(db_url: str) -> int:
    import datetime as dt

    from bianmin.store import close_db, db, init_db, records
    from bianmin.store.service import default_registry
    from bianmin.web.bootstrap import create_staff

    await init_db(db_url)
    async with db.transaction() as tx:
        await records.ensure_jurisdiction(tx, default_registry().active(JURISDICTION), dt.datetime.now())
    staff = await create_staff("bench-clerk", PASSWORD, "压测窗口", [(JURISDICTION, "clerk")])
    await close_db()
    return staff.id


def sign_in(port: int) -> str:
    """The session cookie of the bench clerk (sign-in form with its CSRF token)."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(f"http://127.0.0.1:{port}/staff/sign-in").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = f"username=bench-clerk&password={PASSWORD}&csrf_token={token}".encode()
    opener.open(f"http://127.0.0.1:{port}/staff/sign-in", data=data)
    jar = opener.handlers[[type(h).__name__ for h in opener.handlers].index("HTTPCookieProcessor")].cookiejar
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def database(kind: str, tmp: Path, name: str) -> str:
    """A fresh database: a file, or a new PostgreSQL database on the server of the URL given."""
    if kind == "sqlite":
        return f"sqlite://{tmp / (name + '.sqlite3')}"
    scheme, _, rest = kind.partition("://")
    server = f"{scheme}://{rest.split('/', 1)[0]}"
    name = f"{name}_{os.getpid()}"
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    return f"{server}/{name}"


def drop(url: str) -> None:
    if not url.startswith("sqlite"):
        server, name = url.rsplit("/", 1)
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1) + "/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measurement (median kept)")
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL (a database is made and dropped)")
    parser.add_argument("--serve", choices=("bianmin", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.db, args.port)
        return 0

    from bianmin.store.service import default_registry
    from bianmin.web.auth import issue_token

    pack = default_registry().active(JURISDICTION)
    item = next(i for i in pack.items if i.kind == "promised")
    data = {"applicant_type": "person", "applicant_name": "张三", "id_number": "11010519491231002X",
            "phone": "13812345678", "delivery": "window",
            "materials": [{"id": m.id, "received": True, "pages": 1} for m in item.materials]}
    body = json.dumps({"item": item.id, "data": data}, ensure_ascii=False).encode()
    # Both servers run at once but only one is loaded at a time; the rounds alternate between
    # them, so a change in the machine's load (a shared machine) hits both alike. Median of rounds.
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    makers: dict[str, dict[str, object]] = {}
    procs, urls = [], []
    with tempfile.TemporaryDirectory(prefix="bianmin-bench-") as tmp:
        try:
            for kind in ("bianmin", "bare"):
                url = database(args.db, Path(tmp), f"bench_{kind}")
                urls.append(url)
                staff_id = asyncio.run(prepare(url))
                proc, port = start(kind, url)
                procs.append(proc)
                if kind == "bianmin":
                    token, cookie = issue_token(SECRET, staff_id), sign_in(port)
                    post = lambda n, t=token: http("POST", f"/api/v1/{JURISDICTION}/cases", {  # noqa: E731
                        "Authorization": f"Bearer {t}", "Content-Type": "application/json"}, body)
                    get = lambda n, c=cookie: http("GET", f"/staff/{JURISDICTION}/cases/new?item={item.id}",  # noqa: E731
                                                   {"Cookie": c})
                else:
                    post = lambda n: http("POST", "/intake", {"Content-Type": "application/json"}, body)  # noqa: E731
                    get = lambda n: http("GET", "/form", {})  # noqa: E731
                makers[kind] = {"port": port, "form GET": get, "intake POST": post}
                for name in ("form GET", "intake POST"):  # warm-up
                    asyncio.run(load(port, makers[kind][name], 100, 5, 4))
            per_round = max(1, args.requests // args.rounds)
            for _ in range(args.rounds):
                for name in ("form GET", "intake POST"):
                    for kind in ("bianmin", "bare"):
                        m = makers[kind]
                        samples.setdefault((name, kind), []).append(asyncio.run(
                            load(m["port"], m[name], per_round, args.seconds / args.rounds, args.concurrency)))
        finally:
            for proc in procs:
                stop(proc)
            for url in urls:
                drop(url)
    results = {}
    for key, runs in samples.items():
        runs.sort(key=lambda r: r["rps"])
        middle = runs[len(runs) // 2]
        results[key] = {**middle, "n": sum(r["n"] for r in runs), "errors": sum(r["errors"] for r in runs)}
    print(f"{'':14}{'server':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'n':>7}{'errors':>8}")
    ok = True
    for name in ("intake POST", "form GET"):
        for kind in ("bianmin", "bare"):
            r = results[(name, kind)]
            print(f"{name:14}{kind:>9}{r['rps']:>10.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['n']:>7}{r['errors']:>8}")
        ratio = results[(name, "bianmin")]["rps"] / results[(name, "bare")]["rps"]
        ok &= ratio >= TARGET
        print(f"{name:14}{'ratio':>9}{ratio:>10.0%}   target ≥ {TARGET:.0%}: {'met' if ratio >= TARGET else 'NOT met'}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
