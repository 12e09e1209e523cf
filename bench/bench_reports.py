"""Benchmark of the report page: a jurisdiction's year with 100,000 cases and 5,000 violations.

Run:  .venv/bin/python bench/bench_reports.py [--cases 100000] [--violations 5000]
                                              [--backends postgres,sqlite] [--pg URL]

For each backend (PostgreSQL: a fresh database at --pg, default postgres://postgres@127.0.0.1:5432,
dropped at the end; SQLite: a temporary file) and for two sizes — 1,000 cases (with violations in
the same proportion) and --cases — the schema is made by the store's migrations, then a year of
xupu is bulk-loaded (COPY on PostgreSQL, executemany on SQLite) as the store writes it:

- cases over 2026 on xupu's items: start, receipt slip, accept, complete (94 %), deliver (85 %);
- violations on completed cases: overdue_promised (八(四)5) and overdue_statutory (八(五)1),
  with one deduction record each in every state of the deduction workflow (start, state_case,
  decide with points and effects, confirm/appeal/uphold/drop as the state needs);
- inquiries (5 % of the cases, a third with a receipt), complaints (1 %, replied), ratings (30 %),
  staff with roles at the windows.

Then the report page is rendered through the code path of the web route (``pages.build`` then
``pages.html``, as ``reports.web``'s index does), cold once and warm three times; printed: the
time (target < 2 s), the number of SQL statements issued (counted from Tortoise's query log),
which must be the same for both sizes (bounded, not one per case), and the page size.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from time import perf_counter
from typing import Any

from bianmin import paths
from bianmin.packs import Registry
from bianmin.packs.model import Pack
from bianmin.reports import pages
from bianmin.scoring import Period, queries
from bianmin.store import db

TARGET = 2.0
JURISDICTION = "xupu"
YEAR = 2026
PERIOD = Period("year", YEAR)
SMALL = 1_000
DEDUCTION_STATES = (("final", 0.70), ("decided", 0.10), ("under_review", 0.05), ("proposed", 0.07),
                    ("heard", 0.03), ("dropped", 0.05))
STEPS = {"final": ["state_case", "decide", "confirm"], "decided": ["state_case", "decide"],
         "under_review": ["state_case", "decide", "appeal"], "proposed": [], "heard": ["state_case"],
         "dropped": ["state_case", "drop"]}

RECORD_COLUMNS = ("id", "jurisdiction_id", "kind", "workflow_id", "number", "year", "item_id", "pack_hash", "state",
                  "is_open", "subject", "version", "parent_id", "idempotency_key", "created_at", "updated_at",
                  "swept_at")
EVENT_COLUMNS = ("record_id", "seq", "at", "actor", "actor_name", "acting_for", "role", "transition", "from_state",
                 "to_state", "data", "pack_hash", "recorded_at")
VIOLATION_COLUMNS = ("record_id", "jurisdiction", "violation_id", "charged", "state", "evidence", "detected_at",
                     "detected_by")
RATING_COLUMNS = ("record_id", "level", "score", "bad", "channel", "comment", "rated_at")


# -- the year, generated ------------------------------------------------------------------------

class Year:
    """Rows of one jurisdiction's year, generated deterministically in chunks."""

    def __init__(self, pack: Pack, cases: int, violations: int, seed: int = 7) -> None:
        self.pack, self.cases, self.violations = pack, cases, violations
        self.rng = random.Random(seed)
        self.items = [i for i in pack.items if i.workflow == "case"]
        self.windows = sorted({queries.window_of_item(pack, i.id) for i in self.items} - {""})
        self.staff: list[tuple[int, str, str, str]] = []  # id, name, role, window
        sid = 0
        for w in self.windows:
            for k in range(8):
                sid += 1
                self.staff.append((sid, f"窗口{w[:4]}{k}", "window_head" if k == 0 else "clerk", w))
        for k in range(6):
            sid += 1
            self.staff.append((sid, f"督查{k}", "supervisor", ""))
        self.clerks: dict[str, list[tuple[int, str, str, str]]] = {
            w: [s for s in self.staff if s[3] == w and s[2] == "clerk"] for w in self.windows}
        self.next_id = 0

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _when(self) -> dt.datetime:
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=self.rng.randrange(365))
        if day.weekday() >= 5:  # to the Friday before (2026-01-02 is one)
            day -= dt.timedelta(days=day.weekday() - 4)
        return dt.datetime.combine(day, dt.time(9 + self.rng.randrange(8), self.rng.randrange(60)))

    def chunks(self, size: int = 20_000) -> Iterator[tuple[list[tuple], list[tuple], list[tuple], list[tuple]]]:
        """(records, events, violations, ratings) per chunk of cases, with their deductions,
        inquiries and complaints."""
        p = self.pack
        h = p.content_hash
        epoch = dt.datetime(1970, 1, 1)
        late_every = max(self.cases // max(self.violations * 4 // 5, 1), 1)
        statutory_every = 5  # one promised-late case in five is also past the statutory limit
        late_seen = 0
        left = self.violations
        effects = {"overdue_promised": ["written_self_criticism", "rectify_within_deadline"],
                   "overdue_statutory": ["lose_monthly_excellence", "warn_window_head"]}
        ranges = {"overdue_promised": (5, 10), "overdue_statutory": (10, 15)}
        for first in range(0, self.cases, size):
            records, events, violations, ratings = [], [], [], []
            for n in range(first, min(first + size, self.cases)):
                item = self.items[n % len(self.items)]
                window = queries.window_of_item(p, item.id)
                clerk = self.rng.choice(self.clerks[window])
                at = self._when()
                rid = self._id()
                done = self.rng.random() < 0.94
                delivered = done and self.rng.random() < 0.9
                late = done and n % late_every == 0 and left > 0
                steps = [("start", "", "received", at), ("issue_receipt", "received", "received", at),
                         ("accept", "received", "accepted", at + dt.timedelta(minutes=20))]
                finish = at + dt.timedelta(days=(12 if late else self.rng.randrange(1, 6)), hours=2)
                if done:
                    steps.append(("complete", "accepted", "completed", finish))
                if delivered:
                    steps.append(("deliver", "completed", "delivered", finish + dt.timedelta(days=1)))
                state = steps[-1][2]
                subject = json.dumps({"applicant": "王五", "number": f"XP-2026-{rid:07d}"}, ensure_ascii=False)
                records.append((rid, p.id, "case", "case", f"XP-2026-{rid:07d}", YEAR, item.id, h, state,
                                state != "delivered", subject, len(steps), None, None, at, steps[-1][3], epoch))
                for seq, (t, a, b, when) in enumerate(steps, start=1):
                    events.append((rid, seq, when, str(clerk[0]), clerk[1], None, "" if t == "start" else "clerk", t,
                                   a, b, "{}" if t != "complete" else '{"outcome":"approved"}', h, when))
                if done and self.rng.random() < 0.3:
                    level = self.rng.choice(p.ratings.levels)
                    ratings.append((rid, level.id, level.score, level.bad, "on_site", "", finish + dt.timedelta(days=1)))
                if late:
                    late_seen += 1
                    kinds = ["overdue_promised"] + (["overdue_statutory"] if late_seen % statutory_every == 0 else [])
                    for vid in kinds[:left]:
                        left -= 1
                        evidence = json.dumps({"events": [1, 4], "clock": vid.split("_")[1], "deadline": str(finish.date())})
                        violations.append((rid, p.id, vid, "window" if vid == "overdue_promised" else "staff",
                                           "detected", evidence, finish, "transition"))
                        records_, events_ = self._deduction(rid, vid, clerk, window, finish, ranges[vid], effects[vid])
                        records += records_
                        events += events_
                if n % 20 == 0:
                    records_, events_ = self._inquiry(clerk, at)
                    records += records_
                    events += events_
                if n % 100 == 0:
                    records_, events_ = self._complaint(at)
                    records += records_
                    events += events_
            yield records, events, violations, ratings

    def _deduction(self, case_id: int, vid: str, clerk: tuple, window: str, at: dt.datetime,
                   span: tuple[int, int], effects: list[str]) -> tuple[list[tuple], list[tuple]]:
        rid = self._id()
        roll, state = self.rng.random(), "final"
        for s, share in DEDUCTION_STATES:
            if roll < share:
                state = s
                break
            roll -= share
        charged = "window" if vid == "overdue_promised" else "staff"
        subject = {"violation": vid, "tier": "window_monthly" if charged == "window" else "post_holder_monthly",
                   "points_from": span[0], "points_to": span[1], "charged": charged, "staff": str(clerk[0]),
                   "staff_name": clerk[1], "window": window, "occurred_at": at.isoformat(), "detected": True,
                   "case": f"XP-2026-{case_id:07d}", "number": f"XP-KF-2026-{rid:07d}"}
        sup = self.staff[-1]
        steps = [("start", "", "proposed", {})]
        here = "proposed"
        targets = {"state_case": "heard", "decide": "decided", "confirm": "final", "appeal": "under_review",
                   "drop": "dropped"}
        for t in STEPS[state]:
            data: dict[str, Any] = {}
            if t == "decide":
                data = {"points": self.rng.randint(*span), "effects": effects, "reasons": "事实清楚",
                        "statement_considered": True, "appeal_rights": "可以申诉", "circumstances": "无"}
            steps.append((t, here, targets[t], data))
            here = targets[t]
        record = (rid, self.pack.id, "deduction", "deduction", f"XP-KF-2026-{rid:07d}", YEAR, None,
                  self.pack.content_hash, state, state not in ("final", "dropped"),
                  json.dumps(subject, ensure_ascii=False), len(steps), case_id, f"violation:{rid}", at, at,
                  dt.datetime(1970, 1, 1))
        events = [(rid, seq, at + dt.timedelta(days=seq), str(sup[0]), sup[1], None, "", t, a, b,
                   json.dumps(d, ensure_ascii=False), self.pack.content_hash, at)
                  for seq, (t, a, b, d) in enumerate(steps, start=1)]
        return [record], events

    def _inquiry(self, clerk: tuple, at: dt.datetime) -> tuple[list[tuple], list[tuple]]:
        rid = self._id()
        subject = json.dumps({"visitor_name": "孙八", "visitor_phone": "13912345678", "matter_kind": "consult",
                              "matter": "咨询", "officer": clerk[1], "visitor_signed": True}, ensure_ascii=False)
        answered = rid % 3 != 0
        record = (rid, self.pack.id, "inquiry", "inquiry", f"XP-SW-2026-{rid:07d}", YEAR, None, self.pack.content_hash,
                  "answered" if answered else "registered", not answered, subject, 2, None, None, at, at,
                  dt.datetime(1970, 1, 1))
        events = [(rid, 1, at, str(clerk[0]), clerk[1], None, "", "start", "", "registered", subject,
                   self.pack.content_hash, at)]
        if answered:
            events.append((rid, 2, at, str(clerk[0]), clerk[1], None, "clerk", "answer", "registered", "answered", "{}",
                           self.pack.content_hash, at))
        return [record], events

    def _complaint(self, at: dt.datetime) -> tuple[list[tuple], list[tuple]]:
        rid = self._id()
        category = self.pack.complaints.categories[rid % len(self.pack.complaints.categories)].id \
            if self.pack.complaints.categories else ""
        subject = json.dumps({"category": category, "matter": "办事慢", "complainant_name": "吴九",
                              "complainant_phone": "13700001111"}, ensure_ascii=False)
        record = (rid, self.pack.id, "complaint", "complaint", f"XP-TS-2026-{rid:07d}", YEAR, None,
                  self.pack.content_hash, "replied", True, subject, 2, None, None, at, at, dt.datetime(1970, 1, 1))
        events = [(rid, 1, at, "system", "", None, "", "start", "", "accepted", subject, self.pack.content_hash, at),
                  (rid, 2, at + dt.timedelta(days=2), str(self.staff[-1][0]), self.staff[-1][1], None,
                   "complaint_officer", "reply", "accepted", "replied", '{"method":"written","reply":"已处理"}',
                   self.pack.content_hash, at)]
        return [record], events


# -- loading ---------------------------------------------------------------------------------------

def _header(pack: Pack, year: Year) -> tuple[list[tuple], list[tuple], list[tuple]]:
    now = dt.datetime(YEAR, 1, 1)
    jurisdictions = [(pack.id, pack.name, "XP", now)]
    staff = [(sid, f"u{sid}", name, "", "", True, now) for sid, name, _, _ in year.staff]
    roles = [(sid, pack.id, role, window, "") for sid, _, role, window in year.staff]
    return jurisdictions, staff, roles


async def load_postgres(url: str, pack: Pack, year: Year) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    rows = 0
    try:
        jurisdictions, staff, roles = _header(pack, year)
        await conn.copy_records_to_table("jurisdictions", columns=["id", "name", "number_prefix", "created_at"],
                                         records=jurisdictions)
        await conn.copy_records_to_table("staff", columns=["id", "username", "display_name", "phone", "password_hash",
                                                           "active", "created_at"], records=staff)
        await conn.copy_records_to_table("role_assignments", columns=["staff_id", "jurisdiction_id", "role", "window",
                                                                      "post"], records=roles)
        for records, events, violations, ratings in year.chunks():
            # Deductions refer to their case (parent_id): cases first within a chunk.
            records.sort(key=lambda r: r[12] is not None)
            await conn.copy_records_to_table("records", columns=list(RECORD_COLUMNS), records=records)
            await conn.copy_records_to_table("events", columns=list(EVENT_COLUMNS), records=events)
            await conn.copy_records_to_table("violations", columns=list(VIOLATION_COLUMNS), records=violations)
            await conn.copy_records_to_table("ratings", columns=list(RATING_COLUMNS), records=ratings)
            rows += len(records) + len(events) + len(violations) + len(ratings)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return rows


def load_sqlite(path: str, pack: Pack, year: Year) -> int:
    conn = sqlite3.connect(path)
    rows = 0

    def put(table: str, columns: tuple[str, ...], values: list[tuple]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
                         [tuple(_sqlite(v) for v in row) for row in values])

    try:
        jurisdictions, staff, roles = _header(pack, year)
        put("jurisdictions", ("id", "name", "number_prefix", "created_at"), jurisdictions)
        put("staff", ("id", "username", "display_name", "phone", "password_hash", "active", "created_at"), staff)
        put("role_assignments", ("staff_id", "jurisdiction_id", "role", "window", "post"), roles)
        for records, events, violations, ratings in year.chunks():
            put("records", RECORD_COLUMNS, records)
            put("events", EVENT_COLUMNS, events)
            put("violations", VIOLATION_COLUMNS, violations)
            put("ratings", RATING_COLUMNS, ratings)
            rows += len(records) + len(events) + len(violations) + len(ratings)
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return rows


def _sqlite(value: Any) -> Any:
    # As Tortoise and the store write them: times as ISO text with a space, booleans as 0/1.
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    return value


# -- the measurement ---------------------------------------------------------------------------

async def render(registry: Registry) -> tuple[float, int, int]:
    """One report page through the web route's code path: (seconds, statements, bytes)."""
    with queries.QueryCounter() as counter:
        began = perf_counter()
        report = await pages.build(JURISDICTION, PERIOD, registry=registry)
        page = pages.html(report, base=f"/desk/{JURISDICTION}/reports")
        seconds = perf_counter() - began
    return seconds, counter.count, len(page.encode())


async def measure(url: str, registry: Registry) -> dict[str, Any]:
    await db.init_db(url, upgrade=False)
    try:
        cold = await render(registry)
        warm = [await render(registry) for _ in range(3)]
    finally:
        await db.close_db()
    seconds = [cold[0]] + [w[0] for w in warm]
    counts = {cold[1]} | {w[1] for w in warm}
    return {"cold": cold[0], "warm": statistics.median(seconds[1:]), "queries": counts, "bytes": cold[2]}


async def run_postgres(server: str, pack: Pack, registry: Registry, cases: int, violations: int) -> dict[str, Any]:
    import asyncpg

    name = f"bianmin_bench_reports_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(f"{server}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    try:
        await db.init_db(url)  # the migrations
        await db.close_db()
        began = perf_counter()
        rows = await load_postgres(url, pack, Year(pack, cases, violations))
        loaded = perf_counter() - began
        return {"rows": rows, "load": loaded, **await measure(url, registry)}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run_sqlite(pack: Pack, registry: Registry, cases: int, violations: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bianmin-bench-") as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        url = f"sqlite://{path}"
        await db.init_db(url)
        await db.close_db()
        began = perf_counter()
        rows = load_sqlite(path, pack, Year(pack, cases, violations))
        loaded = perf_counter() - began
        return {"rows": rows, "load": loaded, **await measure(url, registry)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--violations", type=int, default=5_000)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    args = parser.parse_args()
    registry, problems = Registry.load(paths.policies_dir())
    if problems:
        print(f"packs with problems: {len(problems)}", file=sys.stderr)
    pack = registry.active(JURISDICTION, dt.date(YEAR, 12, 31))
    sizes = [(SMALL, max(args.violations * SMALL // max(args.cases, 1), 1)), (args.cases, args.violations)]
    ok = True
    print(f"report page of {JURISDICTION} for {PERIOD.label} (target < {TARGET:.0f} s)")
    for backend in args.backends.split(","):
        counts = []
        for cases, violations in sizes:
            try:
                if backend == "postgres":
                    got = asyncio.run(run_postgres(args.pg, pack, registry, cases, violations))
                else:
                    got = asyncio.run(run_sqlite(pack, registry, cases, violations))
            except OSError as exc:
                print(f"  {backend}: SKIPPED ({exc})")
                break
            counts.append(got["queries"])
            fast = got["cold"] < TARGET and got["warm"] < TARGET
            ok = ok and fast
            print(f"  {backend:8} {cases:>7,} cases {violations:>5,} violations ({got['rows']:>9,} rows loaded in "
                  f"{got['load']:5.1f} s): cold {got['cold']:.3f} s, warm {got['warm']:.3f} s, "
                  f"{'/'.join(map(str, sorted(got['queries'])))} SQL statements, page {got['bytes'] / 1024:.0f} KiB"
                  f"{'' if fast else '  SLOWER THAN TARGET'}")
        if len(counts) == 2:
            bounded = len(counts[0] | counts[1]) == 1
            ok = ok and bounded
            print(f"  {backend:8} statements for {SMALL:,} and {args.cases:,} cases: "
                  f"{'the same (bounded)' if bounded else 'DIFFERENT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
