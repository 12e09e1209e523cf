"""Loaders from the store for appraisal and reports: a fixed, small number of aggregate queries.

Every loader issues the same statements whatever the number of cases — aggregates grouped by
item, month, actor, kind or category, and row-per-deduction reads (deductions are counted in
thousands, not cases in hundreds of thousands) — never one query per case. ``bench/
bench_reports.py`` and ``tests/reports`` count them with :class:`QueryCounter`.

SQL is written once for both backends with ``?`` placeholders (:mod:`bianmin.store.db`); the
few dialect differences (month of a timestamp, a JSON field) are the helpers below.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from ..packs.model import Pack
from ..store import db
from ..workflow.clocks import plan as clock_plan
from .appraisal import COUNTED, Deduction, Period, Result, Subject, appraise

YEAR_DAYS = 365
PARALLEL = 3  # statements of one report in flight at once (a PostgreSQL pool has 10 connections)
# Steps the efficiency review counts besides completions (jiangyin 四(一)), by kind of record:
# extensions and correction notices of cases, first-inquiry receipts, complaint replies.
COUNTED_STEPS = {"case": ("extend", "request_correction"), "inquiry": ("issue_receipt",), "complaint": ("reply",)}


# -- dialect -------------------------------------------------------------------------------------

def _month(conn: BaseDBAsyncClient, column: str) -> str:
    """``YYYY-MM`` of a timestamp column."""
    return f"to_char({column}, 'YYYY-MM')" if db.dialect(conn) == "postgres" else f"substr({column}, 1, 7)"


def _json_text(conn: BaseDBAsyncClient, column: str, key: str) -> str:
    """A top-level text value of a JSON column (keys are engine names, never user input)."""
    assert key.isidentifier(), key
    return f"{column}->>'{key}'" if db.dialect(conn) == "postgres" else f"json_extract({column}, '$.{key}')"


def _in(values: Sequence[str]) -> tuple[str, list[str]]:
    """``IN (?, ?)`` and its parameters; never-true for an empty list."""
    if not values:
        return "IN (NULL)", []
    return f"IN ({db.marks(len(values))})", list(values)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else (value or {})


def to_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def to_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace(" ", "T", 1))


# -- counting queries ------------------------------------------------------------------------------

class QueryCounter(logging.Handler):
    """Counts the statements Tortoise sends (its ``tortoise.db_client`` debug log), as a context
    manager: ``with QueryCounter() as counter: ...; counter.count``."""

    LOGGER = "tortoise.db_client"

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self._level = logging.NOTSET

    @property
    def count(self) -> int:
        return len(self.statements)

    def emit(self, record: logging.LogRecord) -> None:
        text = str(record.args[0]) if isinstance(record.args, tuple) and record.args else record.getMessage()
        if text.lstrip().split(" ", 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            self.statements.append(text)

    def __enter__(self) -> QueryCounter:  # noqa: PYI034 - a final class
        logger = logging.getLogger(self.LOGGER)
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger(self.LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._level)


# -- what the pack says about the rows -------------------------------------------------------------

def window_of_item(pack: Pack, item_id: str | None) -> str:
    """The window that handles an item: its own, else the first window of its department."""
    if not item_id:
        return ""
    try:
        item = pack.item(item_id)
    except KeyError:
        return ""
    if item.window:
        return item.window
    return next((w.id for w in pack.windows if item.department in w.departments), "")


def completion_transitions(pack: Pack) -> list[str]:
    """The transitions that complete a case (they stop its promised clock, else its statutory
    one, as a completion rather than a refusal or withdrawal)."""
    found: list[str] = []
    for wf in pack.workflows:
        if wf.subject != "case":
            continue
        plan = clock_plan(pack, wf)
        bound = {b.id for b in wf.clocks}
        clock = "promised" if "promised" in bound else "statutory"
        found += [t.id for t in wf.transitions if (clock, "completed") in plan.kinds(t.id)]
    return list(dict.fromkeys(found))


def violations_on_clock(pack: Pack, clock: str) -> list[str]:
    """The pack's violations detected on ``clock`` (its lateness, as the log proved it)."""
    return [v.id for v in pack.accountability.violations if v.detect.clock == clock]


# -- the report's rows ------------------------------------------------------------------------------

@dataclass
class Rows:
    """What one report reads from the store, in nine statements (:func:`load`)."""

    received: list[dict[str, Any]] = field(default_factory=list)  # item, ym, n (cases opened)
    completed: list[dict[str, Any]] = field(default_factory=list)  # item, ym, actor, n, late, late_statutory
    kinds: list[dict[str, Any]] = field(default_factory=list)  # kind, ym, n (records opened)
    transitions: list[dict[str, Any]] = field(default_factory=list)  # kind, transition, n (events)
    complaints: list[dict[str, Any]] = field(default_factory=list)  # category, ym, n, late
    ratings: list[dict[str, Any]] = field(default_factory=list)  # level, ym, n, bad
    violations: list[dict[str, Any]] = field(default_factory=list)  # violation, ym, n (detected)
    deductions: list[Deduction] = field(default_factory=list)  # every state
    staff: list[dict[str, Any]] = field(default_factory=list)  # id, name, role, window_id
    late_known: bool = True  # the pack declares a violation on the promised clock
    # Appraisers' marks (德能勤绩廉) by period (kind, year, n): {("staff", id): {dimension: mark}}
    marks: dict[tuple[str, int, int], dict[tuple[str, str], dict[str, float]]] = field(default_factory=dict)


def _join(conn: BaseDBAsyncClient) -> str:
    """The join of events to their records. SQLite is told to walk the events and look each
    record up by its key (``CROSS JOIN`` fixes the loop order there); left to itself it walks the
    jurisdiction's records and seeks their events, about 1.5 times slower for a year's report."""
    return "JOIN" if db.dialect(conn) == "postgres" else "CROSS JOIN"


async def load(pack: Pack, start: dt.date, end: dt.date, conn: BaseDBAsyncClient | None = None) -> Rows:
    """The rows of a report on ``pack``'s jurisdiction for the days ``[start, end)``.

    Nine statements: records opened (by kind, item, month); the completions and the counted steps
    of cases (by transition, item, month and actor: one pass over the events); the counted steps
    of the other kinds (from their records); completions proven late (driven by the violations,
    a few thousand rows); complaints; ratings; violations; deductions; staff; and, when the pack
    weighs appraisal dimensions, the marks given (a tenth). Each
    is an aggregate or reads a row per deduction, never a row per case. They are sent
    :data:`PARALLEL` at a time: on PostgreSQL each takes a connection of the pool; SQLite and a
    transaction have one connection, whose lock makes them queue."""
    conn = conn or db.connection()
    j, lo, hi = pack.id, _at(start), _at(end)
    month = _month(conn, "e.at")
    completing = completion_transitions(pack)
    done, done_params = _in(completing)
    case_steps, case_params = _in(list(dict.fromkeys(completing + list(COUNTED_STEPS["case"]))))
    others = {k: v for k, v in COUNTED_STEPS.items() if k != "case"}
    other_kinds, kind_params = _in(list(others))
    other_steps, step_params = _in([t for steps in others.values() for t in steps])
    promised, statutory = violations_on_clock(pack, "promised"), violations_on_clock(pack, "statutory")
    late_ids, late_params = _in(promised + statutory)
    first_ids, first_params = _in(promised)
    reply, reply_params = _in(violations_on_clock(pack, "complaint_reply"))
    statements: list[tuple[str, list[Any]]] = [
        ((f"SELECT kind, item_id AS item, {_month(conn, 'created_at')} AS ym, COUNT(*) AS n FROM records "
          "WHERE jurisdiction_id = ? AND created_at >= ? AND created_at < ? GROUP BY kind, item_id, ym"), [j, lo, hi]),
        ((f"SELECT e.transition AS transition, r.item_id AS item, {month} AS ym, e.actor AS actor, COUNT(*) AS n "
          f"FROM events e {_join(conn)} records r ON r.id = e.record_id WHERE e.transition {case_steps} "
          "AND e.at >= ? AND e.at < ? AND r.jurisdiction_id = ? AND r.kind = 'case' "
          "GROUP BY e.transition, r.item_id, ym, e.actor"), [*case_params, lo, hi, j]),
        # The other kinds are few: walked from their records (index on jurisdiction and kind).
        (("SELECT r.kind AS kind, e.transition AS transition, COUNT(*) AS n FROM records r JOIN events e "
          f"ON e.record_id = r.id WHERE r.jurisdiction_id = ? AND r.kind {other_kinds} AND e.transition {other_steps} "
          "AND e.at >= ? AND e.at < ? GROUP BY r.kind, e.transition"), [j, *kind_params, *step_params, lo, hi]),
        ((f"SELECT r.item_id AS item, {month} AS ym, e.actor AS actor, "
          f"CASE WHEN v.violation_id {first_ids} THEN 'promised' ELSE 'statutory' END AS clock, "
          "COUNT(DISTINCT v.record_id) AS n "
          "FROM violations v JOIN records r ON r.id = v.record_id JOIN events e ON e.record_id = v.record_id "
          f"WHERE v.jurisdiction = ? AND v.violation_id {late_ids} AND r.kind = 'case' AND e.transition {done} "
          "AND e.at >= ? AND e.at < ? GROUP BY r.item_id, ym, e.actor, clock"),
         [*first_params, j, *late_params, *done_params, lo, hi]),
        ((f"SELECT {_json_text(conn, 'r.subject', 'category')} AS category, {_month(conn, 'r.created_at')} AS ym, "
          "COUNT(*) AS n, SUM(CASE WHEN EXISTS (SELECT 1 FROM violations v WHERE v.record_id = r.id "
          f"AND v.violation_id {reply}) THEN 1 ELSE 0 END) AS late FROM records r WHERE r.jurisdiction_id = ? "
          "AND r.kind = 'complaint' AND r.created_at >= ? AND r.created_at < ? GROUP BY category, ym"),
         [*reply_params, j, lo, hi]),
        ((f"SELECT t.level AS level, {_month(conn, 't.rated_at')} AS ym, COUNT(*) AS n, "
          "SUM(CASE WHEN t.bad THEN 1 ELSE 0 END) AS bad FROM ratings t JOIN records r ON r.id = t.record_id "
          "WHERE r.jurisdiction_id = ? AND t.rated_at >= ? AND t.rated_at < ? GROUP BY t.level, ym"), [j, lo, hi]),
        ((f"SELECT violation_id AS violation, {_month(conn, 'detected_at')} AS ym, COUNT(*) AS n FROM violations "
          "WHERE jurisdiction = ? AND detected_at >= ? AND detected_at < ? GROUP BY violation_id, ym"), [j, lo, hi]),
    ]
    gate = asyncio.Semaphore(PARALLEL)

    async def run(coroutine: Awaitable[Any]) -> Any:
        async with gate:
            return await coroutine

    # A tenth statement only for a pack that weighs dimensions: the marks given in those years.
    given = marks(j, range(start.year, (end - dt.timedelta(days=1)).year + 1), conn) \
        if pack.appraisal.dimensions else _nothing()
    *found, deducted, people, marked = await asyncio.gather(
        *(run(db.fetch(conn, sql, params)) for sql, params in statements),
        run(deductions(pack, start, end, conn)), run(staff(j, conn)), run(given))
    opened, case_rows, steps, late, complaints, ratings, violations = found
    completions = [r for r in case_rows if r["transition"] in completing]
    steps += _case_steps(r for r in case_rows if r["transition"] in COUNTED_STEPS["case"])
    return Rows(received=[r for r in opened if r["kind"] == "case"], completed=_completed(completions, late),
                kinds=opened, transitions=steps, complaints=complaints, ratings=ratings, violations=violations,
                deductions=deducted, staff=people, late_known=bool(promised), marks=marked)


async def _nothing() -> dict[Any, Any]:
    return {}


async def marks(jurisdiction: str, years: Iterable[int], conn: BaseDBAsyncClient | None = None
                ) -> dict[tuple[str, int, int], dict[tuple[str, str], dict[str, float]]]:
    """The appraisers' marks of some years, by period and staff member: one query."""
    conn = conn or db.connection()
    wanted = [int(y) for y in years]
    if not wanted:
        return {}
    rows = await db.fetch(conn, "SELECT staff_id, period_kind, year, n, dimension, mark FROM appraisal_marks "
                          f"WHERE jurisdiction_id = ? AND year IN ({db.marks(len(wanted))})", [jurisdiction, *wanted])
    out: dict[tuple[str, int, int], dict[tuple[str, str], dict[str, float]]] = {}
    for r in rows:
        period = (str(r["period_kind"]), int(r["year"]), int(r["n"]))
        out.setdefault(period, {}).setdefault(("staff", str(r["staff_id"])), {})[str(r["dimension"])] = float(r["mark"])
    return out


def _case_steps(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["transition"]] = totals.get(r["transition"], 0) + int(r["n"])
    return [{"kind": "case", "transition": t, "n": n} for t, n in totals.items()]


def _completed(completions: list[dict[str, Any]], late: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Completions per item, month and actor, with how many of them the log proved late."""
    out: dict[tuple[Any, str, str], dict[str, Any]] = {}
    for r in completions:
        key = (r["item"], r["ym"], r["actor"])
        row = out.setdefault(key, {"item": r["item"], "ym": r["ym"], "actor": r["actor"], "n": 0, "late": 0,
                                   "late_statutory": 0})
        row["n"] += int(r["n"])
    for r in late:
        row = out.get((r["item"], r["ym"], r["actor"]))
        if row is not None:
            row["late" if r["clock"] == "promised" else "late_statutory"] += int(r["n"])
    return list(out.values())


async def deductions(pack: Pack, start: dt.date, end: dt.date,
                     conn: BaseDBAsyncClient | None = None) -> list[Deduction]:
    """Every deduction record (any state) whose violation occurred in ``[start, end)``: one query.

    A record is opened on or after the day of its violation, so only records opened from
    ``start`` to a year after ``end`` are read."""
    conn = conn or db.connection()
    fields = ", ".join(f"{_json_text(conn, 'r.subject', k)} AS s_{k}" for k in _SUBJECT_KEYS)
    # One correlated subquery: a second doubles the plan's cost estimate, over PostgreSQL's JIT threshold.
    rows = await db.fetch(conn, f"SELECT r.number AS number, r.state AS state, r.created_at AS created_at, {fields}, "
                          "(SELECT e.data FROM events e WHERE e.record_id = r.id AND e.transition = 'decide' "
                          "ORDER BY e.seq DESC LIMIT 1) AS decision FROM records r WHERE r.jurisdiction_id = ? AND r.kind = 'deduction' AND r.created_at >= ? "
                          "AND r.created_at < ? ORDER BY r.id",
                          [pack.id, _at(start), _at(end + dt.timedelta(days=YEAR_DAYS + 1))])
    names = {v.id: (v.name, v.source) for v in pack.accountability.violations}
    out = [deduction_of(row, names) for row in rows]
    return [d for d in out if start <= d.occurred < end]


# The keys of a deduction record's subject a report reads (recording.py writes them); read one by
# one in SQL rather than the whole subject, evidence and all.
_SUBJECT_KEYS = ("violation", "violation_name", "source", "charged", "staff", "staff_name", "window", "department",
                 "occurred_at", "case", "parent_number")


def deduction_of(row: Mapping[str, Any], names: Mapping[str, tuple[str, str]]) -> Deduction:
    """A row of :func:`deductions` as a value; ``names``: violation id -> (name, source)."""
    def text(key: str) -> str:
        value = row[f"s_{key}"]
        return "" if value is None else str(value)

    occurred = to_date(text("occurred_at")) or to_date(row["created_at"])
    assert occurred is not None
    vid = text("violation")
    name, source = names.get(vid, (text("violation_name") or "未指明违规行为", text("source")))
    decision = json_value(row["decision"]) if row["decision"] is not None else {}
    return Deduction(
        number=row["number"], violation=vid, name=name, source=source, charged=text("charged"), staff=text("staff"),
        staff_name=text("staff_name"), window=text("window"), department=text("department"), occurred=occurred,
        state=row["state"], points=float(decision.get("points") or 0), effects=tuple(decision.get("effects") or ()),
        case=text("case") or text("parent_number"))


async def staff(jurisdiction: str, conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    """The active staff of a jurisdiction with their roles and windows: one query."""
    conn = conn or db.connection()
    return await db.fetch(conn, 'SELECT s.id AS id, s.display_name AS name, ra.role AS role, ra."window" AS window_id '
                          "FROM role_assignments ra JOIN staff s ON s.id = ra.staff_id "
                          "WHERE ra.jurisdiction_id = ? AND s.active ORDER BY s.id, ra.id", [jurisdiction])


def subjects(pack: Pack, staff_rows: Iterable[Mapping[str, Any]]) -> list[Subject]:
    """The windows of the pack and every staff member of the jurisdiction (their first window)."""
    out = [Subject("window", w.id, w.name) for w in pack.windows]
    seen: dict[str, Subject] = {}
    for row in staff_rows:
        sid = str(row["id"])
        if sid not in seen or (not seen[sid].window and row["window_id"]):
            seen[sid] = Subject("staff", sid, str(row["name"]), str(row["window_id"] or ""))
    return out + list(seen.values())


async def prior(jurisdiction: str, *, charged: str, staff: str, window: str, department: str, violation: str,
                occurred: dt.date, exclude: str = "", conn: BaseDBAsyncClient | None = None) -> tuple[int, int, int]:
    """Decided deductions in the 365 days up to ``occurred`` (this one excluded): on the same
    charged subject, the same window, the same violation. One query."""
    conn = conn or db.connection()
    since = occurred - dt.timedelta(days=YEAR_DAYS)
    states, params = _in(sorted(COUNTED))
    rows = await db.fetch(conn, "SELECT number, subject, created_at FROM records WHERE jurisdiction_id = ? "
                          f"AND kind = 'deduction' AND state {states} AND created_at >= ?",
                          [jurisdiction, *params, _at(since)])
    same_person = same_window = same_violation = 0
    me = {"staff": staff, "window_head": staff, "window": window, "department": department}.get(charged, "")
    for row in rows:
        if row["number"] == exclude:
            continue
        s = json_value(row["subject"])
        day = to_date(s.get("occurred_at")) or to_date(row["created_at"])
        if day is None or not since < day <= occurred:
            continue
        key = {"staff": "staff", "window_head": "staff", "window": "window", "department": "department"}.get(
            str(s.get("charged") or ""), "")
        if me and key and str(s.get(key) or "") == me and _same_kind(charged, str(s.get("charged") or "")):
            same_person += 1
        if window and str(s.get("window") or "") == window:
            same_window += 1
        if violation and s.get("violation") == violation:
            same_violation += 1
    return same_person, same_window, same_violation


def _same_kind(a: str, b: str) -> bool:
    people = ("staff", "window_head")
    return a == b or (a in people and b in people)


async def unproposed(jurisdiction: str, limit: int = 500,
                     conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    """Violations with no deduction record yet (the record's idempotency key is
    ``violation:<id>``), with their record: one query per batch of ``limit``."""
    conn = conn or db.connection()
    return await db.fetch(
        conn, "SELECT v.id AS id, v.violation_id AS violation, v.evidence AS evidence, v.detected_at AS detected_at, "
        "v.detected_by AS detected_by, r.id AS record_id, r.number AS number, r.kind AS kind, r.item_id AS item_id, "
        "r.workflow_id AS workflow_id, "
        "r.subject AS subject FROM violations v JOIN records r ON r.id = v.record_id "
        "LEFT JOIN records d ON d.jurisdiction_id = v.jurisdiction AND d.idempotency_key = "
        "('violation:' || CAST(v.id AS VARCHAR(20))) "
        "WHERE v.jurisdiction = ? AND d.id IS NULL ORDER BY v.id LIMIT ?", [jurisdiction, limit])


async def events_of(record_ids: Sequence[int], conn: BaseDBAsyncClient | None = None) -> dict[int, list[dict[str, Any]]]:
    """The events of some records (who acted, when), in chunks of 500 records."""
    conn = conn or db.connection()
    out: dict[int, list[dict[str, Any]]] = {}
    ids = list(dict.fromkeys(record_ids))
    for first in range(0, len(ids), 500):
        chunk = ids[first:first + 500]
        for row in await db.fetch(conn, "SELECT record_id, seq, at, actor, actor_name, acting_for, transition "
                                  f"FROM events WHERE record_id IN ({db.marks(len(chunk))}) ORDER BY record_id, seq",
                                  chunk):
            out.setdefault(row["record_id"], []).append(row)
    return out


async def register(jurisdiction: str, kind: str, start: dt.date, end: dt.date,
                   conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    """The records of one kind opened in ``[start, end)`` with all their events, in order: one
    query (a register lists its records one by one, so its rows grow with them)."""
    conn = conn or db.connection()
    return await db.fetch(conn, "SELECT r.id AS id, r.number AS number, r.state AS state, r.subject AS subject, "
                          "r.created_at AS created_at, e.transition AS transition, e.at AS at, e.data AS data "
                          "FROM records r JOIN events e ON e.record_id = r.id WHERE r.jurisdiction_id = ? "
                          "AND r.kind = ? AND r.created_at >= ? AND r.created_at < ? ORDER BY r.created_at, r.id, e.seq",
                          [jurisdiction, kind, _at(start), _at(end)])


def activity(pack: Pack, rows: Rows) -> dict[tuple[str, str], int]:
    """Cases completed in the rows' period, per window (by item) and per person who completed them."""
    out: dict[tuple[str, str], int] = {("window", w.id): 0 for w in pack.windows}
    windows: dict[str, str] = {}
    for row in rows.completed:
        item = row["item"]
        if item not in windows:
            windows[item] = window_of_item(pack, item)
        n = int(row["n"])
        if windows[item]:
            out[("window", windows[item])] = out.get(("window", windows[item]), 0) + n
        key = ("staff", str(row["actor"]))
        out[key] = out.get(key, 0) + n
    return out


def appraise_rows(pack: Pack, rows: Rows, period: Period,
                  marks: Mapping[tuple[str, str], Mapping[str, float]] | None = None, *,
                  explain: bool = True) -> Result:
    """The appraisal of ``period`` from a report's rows (which must cover the period); the marks
    are those given for exactly this period unless ``marks`` are passed."""
    names = {e.id: e.name for e in pack.accountability.effects}
    if marks is None:
        marks = rows.marks.get((period.kind, period.year, period.n))
    return appraise(pack.appraisal, subjects(pack, rows.staff), rows.deductions, period, marks=marks,
                    activity=activity(pack, rows), effect_names=names, explain=explain)
