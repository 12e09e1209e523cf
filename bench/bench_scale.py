"""Scale on PostgreSQL: worker processes on this host, and a simulated province (docs/scale.md).

Run:  .venv/bin/python bench/bench_scale.py [--part workers|province|both] [--pg URL]

(1) workers: for N = 1, 2, 4, ``bianmin serve --db URL --workers N`` on 127.0.0.1 (a fresh
    database, the periodic sweep off) is loaded with intake POSTs (``POST /api/v1/xupu/cases``,
    bearer token, 16 connections, --seconds each), then --sweep-cases open cases (loaded with
    COPY) are swept by N sweeper processes at once (SKIP LOCKED). Prints requests/s, records/s and
    the speed-up over one process: where it stops on this machine's cores.
(2) province: --jurisdictions jurisdictions (default 100) and --cases cases (default 10,000,000)
    over two years, generated with COPY in chunks (progress printed; loading stops at
    --max-load-seconds and says how far it got), then ANALYZE and EXPLAIN (ANALYZE, BUFFERS) of
    the app's hot queries as the app sends them: the sweeper's claim, the staff queue of one
    jurisdiction, a status lookup by number (service.load), and a year's report aggregates of one
    jurisdiction (scoring.queries.load). Prints each plan, its time, and whether it is index-bound
    (no sequential scan of a large table).

Both parts make their own databases and drop them at the end. Everything runs on this machine
(loopback only); every load loop is bounded by a count and a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_store  # noqa: E402 - the COPY loader and the multi-process sweep of (b)
import bench_web  # noqa: E402 - the loopback load generator

from bianmin import paths  # noqa: E402
from bianmin.packs import Registry  # noqa: E402

SECRET = "scale-bench-" + "k" * 32
JURISDICTION = "xupu"
WORKERS = (1, 2, 4)
BIG_TABLES = ("records", "events", "violations")


# -- (1) worker processes ------------------------------------------------------------------------

def serve(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = bench_web.free_port()
    var = Path(f"/tmp/bianmin-scale-{port}")  # the uploads and logs of this run, not the checkout's var/
    env = {**os.environ, "BIANMIN_SECRET_KEY": SECRET, "BIANMIN_VAR": str(var)}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("bianmin")), "serve", "--db", url, "--workers",
                             str(workers), "--port", str(port), "--sweep-interval", "0", "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bianmin serve --workers {workers} exited with {proc.returncode}")
        try:
            bench_web.socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"bianmin serve --workers {workers} did not start in 90 s")


def intake_body() -> bytes:
    from bianmin.store.service import default_registry

    pack = default_registry().active(JURISDICTION)
    item = next(i for i in pack.items if i.kind == "promised")
    data = {"applicant_type": "person", "applicant_name": "张三", "id_number": "11010519491231002X",
            "phone": "13812345678", "delivery": "window",
            "materials": [{"id": m.id, "received": True, "pages": 1} for m in item.materials]}
    return json.dumps({"item": item.id, "data": data}, ensure_ascii=False).encode()


def bench_workers(server: str, seconds: float, sweep_cases: int, registry: Registry) -> None:
    from bianmin.web.auth import issue_token

    body = intake_body()
    print(f"(1) worker processes on {os.cpu_count()} cores: intake POST for {seconds:.0f} s (16 connections), "
          f"then a sweep of {sweep_cases:,} open cases by as many sweeper processes")
    print(f"    {'N':>3} {'intake req/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'x':>6}"
          f" {'sweep rec/s':>12} {'x':>6}")
    base: dict[str, float] = {}
    for workers in WORKERS:
        url = bench_web.database(server, Path("/tmp"), f"bianmin_scale_w{workers}_{secrets.token_hex(2)}")
        try:
            staff_id = asyncio.run(bench_web.prepare(url))
            proc, port = serve(url, workers)
            try:
                token = issue_token(SECRET, staff_id)
                post = lambda n: bench_web.http("POST", f"/api/v1/{JURISDICTION}/cases", {  # noqa: E731
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json"}, body)
                asyncio.run(bench_web.load(port, post, 50, 10, 4))  # warm-up: every worker imports, compiles
                web = asyncio.run(bench_web.load(port, post, 1_000_000, seconds, 16))
            finally:
                bench_web.stop(proc)
            sweep = asyncio.run(_sweep_rate(url, sweep_cases, workers, registry))
        finally:
            bench_web.drop(url)
        base.setdefault("web", web["rps"])
        base.setdefault("sweep", sweep)
        print(f"    {workers:>3} {web['rps']:>13,.0f} {web['p50']:>8.1f} {web['p99']:>8.1f} {web['errors']:>7}"
              f" {web['rps'] / base['web']:>5.2f}x {sweep:>12,.0f} {sweep / base['sweep']:>5.2f}x", flush=True)


async def _sweep_rate(url: str, cases: int, processes: int, registry: Registry) -> float:
    await bench_store._load(url, cases, registry)
    report = await bench_store._sweep(url, bench_store.SWEEP_AT, processes, cases)
    return report.processed / report.seconds if report.seconds else 0.0


# -- (2) the province ---------------------------------------------------------------------------

OPEN_DAYS = 21  # cases received in the last three weeks are still open
START = dt.datetime(2025, 1, 1, 8, 0)
NOW = dt.datetime(2026, 12, 31, 9, 0)


def province_ids(count: int, registry: Registry) -> list[str]:
    """The packs' own jurisdictions first (so the report queries have a pack), then p007, p008 ..."""
    real = sorted(registry.jurisdictions())
    return (real + [f"p{i:03d}" for i in range(len(real) + 1, count + 1)])[:count]


async def load_province(url: str, jurisdictions: list[str], cases: int, max_seconds: float,
                        registry: Registry) -> int:
    """``cases`` records spread evenly over the jurisdictions and over two years (2 events each,
    a violation for 3% of them), sent with COPY in text format in chunks of 200,000 (the rows are
    written as text here: a tuple per value costs Python several times more). The count loaded."""
    import io

    import asyncpg

    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    try:
        pack = registry.active("jiangyin", NOW.date())
        await conn.copy_records_to_table("jurisdictions", columns=["id", "name", "number_prefix", "created_at"],
                                         records=[(j, j, j[:2].upper() + j[-3:], START) for j in jurisdictions])
        span = int((NOW - START).total_seconds())
        open_from = NOW - dt.timedelta(days=OPEN_DAYS)
        items = [i.id for i in pack.items][:20]
        ph = pack.content_hash
        prefixes = [j.upper() for j in jurisdictions]
        chunk = 200_000
        loaded = 0
        for first in range(1, cases + 1, chunk):
            last = min(first + chunk, cases + 1)
            records, events, violations = [], [], []
            for i in range(first, last):
                n = i % len(jurisdictions)
                j = jurisdictions[n]
                at = START + dt.timedelta(seconds=span * ((i * 7919) % cases) // cases)
                turn = i // len(jurisdictions)  # not i: each jurisdiction gets every kind and item
                kind = "case" if turn % 20 > 1 else ("complaint" if turn % 20 == 1 else "inquiry")
                item = items[turn % len(items)] if kind == "case" else "\\N"
                t = at.isoformat(" ")
                head = f"{i}\t{j}\t{kind}\t{kind}\t{prefixes[n]}-{at.year}-{i:08d}\t{at.year}\t{item}\t{ph}\t"
                if at >= open_from:
                    check = (at + dt.timedelta(days=3 + i % 9)).isoformat(" ")
                    records.append(f"{head}accepted\tt\t{{}}\t2\t{t}\t{t}\t1970-01-01\t{check}\n")
                    second, step, state = at + dt.timedelta(hours=1), "accept", "accepted"
                else:
                    records.append(f"{head}completed\tf\t{{}}\t3\t{t}\t{t}\t1970-01-01\t1970-01-01\n")
                    second, step, state = at + dt.timedelta(days=1 + i % 6), "complete", "completed"
                events.append(f"{2 * i - 1}\t{i}\t1\t{t}\t1\t\tstart\t\treceived\t{{}}\t{ph}\t{t}\n"
                              f"{2 * i}\t{i}\t2\t{second.isoformat(' ')}\t1\tclerk\t{step}\treceived\t{state}\t{{}}\t"
                              f"{ph}\t{t}\n")
                if i % 33 == 0:
                    violations.append(f"{i // 33}\t{i}\t{j}\toverdue_promised\t\tdetected\t{{}}\t"
                                      f"{second.isoformat(' ')}\tsweeper\n")
            for table, columns, rows in (
                    ("records", ["id", "jurisdiction_id", "kind", "workflow_id", "number", "year", "item_id",
                                 "pack_hash", "state", "is_open", "subject", "version", "created_at", "updated_at",
                                 "swept_at", "next_check_at"], records),
                    ("events", ["id", "record_id", "seq", "at", "actor", "role", "transition", "from_state", "to_state",
                                "data", "pack_hash", "recorded_at"], events),
                    ("violations", ["id", "record_id", "jurisdiction", "violation_id", "charged", "state", "evidence",
                                    "detected_at", "detected_by"], violations)):
                await conn.copy_to_table(table, source=io.BytesIO("".join(rows).encode()), columns=columns,
                                         format="text")
            loaded = last - 1
            elapsed = time.perf_counter() - started
            if loaded % 1_000_000 == 0 or loaded == cases:
                print(f"    loaded {loaded:,} cases in {elapsed:.0f} s ({loaded / elapsed:,.0f}/s)", flush=True)
            if elapsed > max_seconds and loaded < cases:
                print(f"    stopped loading at {loaded:,} cases: --max-load-seconds {max_seconds:.0f} reached",
                      flush=True)
                break
        for table in ("records", "events", "violations"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        return loaded
    finally:
        await conn.close()


async def without_secondary_indexes(conn: Any) -> list[str]:
    """Drop the foreign keys, unique constraints and indexes of the big tables (not their primary
    keys) before a bulk load, as PostgreSQL's "Populating a Database" advises; the statements that
    make them again, to run after it. Built in one pass, an index costs a fraction of keeping it
    up to date row by row, and a foreign key is checked once instead of per row."""
    tables = list(BIG_TABLES)
    restore: list[str] = []
    drop: list[str] = []
    for row in await conn.fetch(
            "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def, contype "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY($1::text[]) AND contype IN ('f', 'u') "
            "ORDER BY contype DESC", tables):
        drop.append(f'ALTER TABLE {row["t"]} DROP CONSTRAINT "{row["conname"]}"')
        restore.append(f'ALTER TABLE {row["t"]} ADD CONSTRAINT "{row["conname"]}" {row["def"]}')
    for row in await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY($1::text[]) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", tables):
        drop.append(f'DROP INDEX "{row["indexname"]}"')
        restore.append(row["indexdef"])
    for statement in drop:
        await conn.execute(statement)
    # Unique constraints before the foreign keys that may lean on them.
    return sorted(restore, key=lambda s: "FOREIGN KEY" in s)


class _Explaining:
    """A connection that EXPLAINs every statement it is given instead of running it (the plans
    are kept), so the app's own code builds its queries as it would."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.plans: list[tuple[str, list[str]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        rows = await self._conn.execute_query_dict("EXPLAIN (ANALYZE, BUFFERS) " + query, values)
        self.plans.append((query, [r["QUERY PLAN"] for r in rows]))
        return []


def index_bound(plan: list[str]) -> bool:
    """No sequential scan of a big table (small tables and per-jurisdiction heaps are fine)."""
    return not any(re.search(rf"Seq Scan on {t}\b", line) for line in plan for t in BIG_TABLES)


async def explain_hot_queries(url: str, jurisdiction: str, number: str,
                              registry: Registry) -> list[tuple[str, list[str]]]:
    from bianmin.scoring import queries
    from bianmin.store import db, service, sweeper
    from bianmin.store.models import Record

    await db.init_db(url, upgrade=False)
    try:
        conn = db.connection()
        spy = _Explaining(conn)
        found: list[tuple[str, list[str]]] = []
        await db.fetch(spy, sweeper.claim_query("postgres"), [NOW, sweeper.BATCH])
        found.append(("sweeper claim (500 due records)", spy.plans[-1][1]))
        queue = Record.filter(jurisdiction_id=jurisdiction, kind="case", is_open=True).order_by("created_at").limit(200)
        await db.fetch(spy, queue.sql(params_inline=True))
        found.append((f"staff queue of {jurisdiction} (open cases, oldest first, 200)", spy.plans[-1][1]))
        if hasattr(service, "_RECORD"):  # service.load's two statements: the record, then its events
            await db.fetch(spy, service._RECORD, [jurisdiction, number])
            found.append((f"status lookup by number ({number}): the record", spy.plans[-1][1]))
            rows = await db.fetch(conn, "SELECT id FROM records WHERE jurisdiction_id = ? AND number = ?",
                                  [jurisdiction, number])
            await db.fetch(spy, service._EVENTS, [rows[0]["id"]])
            found.append((f"status lookup by number ({number}): its events", spy.plans[-1][1]))
        else:  # one join, as service.load read it before
            await db.fetch(spy, service._LOAD, [jurisdiction, number])
            found.append((f"status lookup by number ({number}: record and events)", spy.plans[-1][1]))
        before = len(spy.plans)
        try:
            await queries.load(registry.active(jurisdiction, NOW.date()), dt.date(2026, 1, 1), dt.date(2027, 1, 1),
                               conn=spy)
        except Exception:  # noqa: BLE001 - the EXPLAIN rows are not report rows: only the plans matter
            pass
        for query, plan in spy.plans[before:]:
            found.append((f"report aggregate: {' '.join(query.split())[:110]} ...", plan))
        return found
    finally:
        await db.close_db()


async def bench_province(server: str, jurisdictions: int, cases: int, max_seconds: float, registry: Registry) -> None:
    import asyncpg

    from bianmin.store import db

    name = f"bianmin_province_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(f"{server}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    try:
        await db.init_db(url)
        await db.close_db()
        ids = province_ids(jurisdictions, registry)
        print(f"(2) a province: {len(ids)} jurisdictions, {cases:,} cases over two years, COPY")
        conn = await asyncpg.connect(url)
        try:
            restore = await without_secondary_indexes(conn)
        finally:
            await conn.close()
        began = time.perf_counter()
        loaded = await load_province(url, ids, cases, max_seconds, registry)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("SET maintenance_work_mem = '512MB'")
            t1 = time.perf_counter()
            for statement in restore:
                await conn.execute(statement)
            print(f"    {len(restore)} indexes and constraints made again in {time.perf_counter() - t1:.0f} s",
                  flush=True)
            t0 = time.perf_counter()
            await conn.execute("ANALYZE")
            sizes = await conn.fetch("SELECT relname, n_live_tup, pg_total_relation_size(relid) AS bytes "
                                     "FROM pg_stat_user_tables WHERE relname = ANY($1::text[]) ORDER BY relname",
                                     list(BIG_TABLES))
            number = await conn.fetchval("SELECT number FROM records WHERE jurisdiction_id = 'jiangyin' "
                                         "ORDER BY id DESC LIMIT 1")
            open_count = await conn.fetchval("SELECT COUNT(*) FROM records WHERE is_open")
        finally:
            await conn.close()
        print(f"    {loaded:,} cases loaded and indexed in {t0 - began:.0f} s, "
              f"ANALYZE {time.perf_counter() - t0:.0f} s; "
              f"{open_count:,} open")
        for row in sizes:
            print(f"    {row['relname']:<11} {row['n_live_tup']:>12,} rows "
                  f"{row['bytes'] / 2**30:>7.2f} GiB with indexes")
        for what, plan in await explain_hot_queries(url, "jiangyin", number, registry):
            took = next((line.split(":")[1].strip() for line in plan if line.startswith("Execution Time")), "?")
            print(f"    -- {what}: {took}, {'index-bound' if index_bound(plan) else 'NOT index-bound (seq scan)'}")
            print("       " + "\n       ".join(plan))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("workers", "province", "both"), default="both")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--seconds", type=float, default=20.0, help="(1): intake load per worker count")
    parser.add_argument("--sweep-cases", type=int, default=20_000, help="(1): open cases swept per worker count")
    parser.add_argument("--jurisdictions", type=int, default=100, help="(2): jurisdictions")
    parser.add_argument("--cases", type=int, default=10_000_000, help="(2): cases")
    parser.add_argument("--max-load-seconds", type=float, default=1800, help="(2): stop loading after this")
    args = parser.parse_args()
    registry, _ = Registry.load(paths.policies_dir())
    try:
        if args.part in ("workers", "both"):
            bench_workers(args.pg, args.seconds, args.sweep_cases, registry)
        if args.part in ("province", "both"):
            asyncio.run(bench_province(args.pg, args.jurisdictions, args.cases, args.max_load_seconds, registry))
    except OSError as exc:
        print(f"SKIPPED: PostgreSQL at {args.pg} is not reachable: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
