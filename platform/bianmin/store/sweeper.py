"""The deadline sweeper: warning levels, due timers and automatic violations of open records.

One run examines the open records that are due (``next_check_at <= now``), in batches. A batch is
one transaction: claim the records (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
sweepers take different batches; SQLite has one writer at a time), recompute their clocks on the
newest calendar, then write

- ``clock_marks``: the level, status and deadline reached (a deadline moved by a new calendar
  is logged in ``deadline_changes``);
- ``timer_marks``: a due timer (warning, overdue, and the ``{clock, on: overdue}`` violations)
  fires once per record and deadline, its effects (notify, record_violation ...) written with the
  mark, so repeated or concurrent runs never notify twice;
- ``violations``: one row per record and violation (unique), so detection is idempotent;

and set each record's ``next_check_at`` to the next instant at which a clock's status, level or
deadline would change with no new event (workflow/nextcheck.py; a transition sets it to its own
time), and ``swept_at`` to the run's start. A record is therefore examined when something can have
changed, not on every run. A new calendar can move every deadline: when a jurisdiction's calendar
fingerprint differs from the one the last run saw (``sweep_calendars``), all its open records are
made due first.

Only this module reads the wall clock (``now`` defaults to it); everything it computes is a
function of the events, the pinned pack and the calendar.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from tortoise.backends.base.client import BaseDBAsyncClient

from ..calendar import Calendar
from ..packs import Registry
from ..packs.model import Pack
from ..workflow import DueTimer, Instance, thaw
from ..workflow.nextcheck import examine
from . import archive, db, records
from .models import Record
from .service import calendar_for, default_registry, local

BATCH = 500
PROGRESS_EVERY = 10_000
EPOCH = datetime(1970, 1, 1)  # next_check_at: at once
RETRY = timedelta(seconds=1)  # a record that could not be computed: again at the next run
_COLUMNS = "id, jurisdiction_id, kind, workflow_id, number, item_id, pack_hash, state, subject, version"


@dataclass
class SweepReport:
    total: int = 0  # open records due at the start
    open: int = 0  # open records at the start, due or not
    recalendared: int = 0  # open records made due by a new calendar
    processed: int = 0
    level_changes: int = 0
    timers_fired: int = 0
    violations: int = 0
    deadline_changes: int = 0
    errors: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.processed / self.seconds if self.seconds else 0.0
        return (f"swept {self.processed} of {self.total} due records ({self.open} open) in {self.seconds:.1f} s "
                f"({rate:,.0f}/s): "
                f"{self.level_changes} level changes, {self.timers_fired} timers fired, "
                f"{self.violations} violations, {self.deadline_changes} deadlines moved by the calendar, "
                f"{self.errors} errors")


def claim_query(dialect: str) -> str:
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""
    return (f"SELECT {_COLUMNS} FROM records WHERE is_open AND next_check_at <= ? "
            f"ORDER BY next_check_at LIMIT ?{lock}")


async def sweep(now: datetime | None = None, *, batch: int = BATCH, registry: Registry | None = None,
                progress: TextIO | None = None, progress_every: int = PROGRESS_EVERY) -> SweepReport:
    """One run over the open records; ``progress`` (stderr for the CLI) gets a line every
    ``progress_every`` records."""
    registry = registry or default_registry()
    for warning in await archive.restore(registry):  # versions pinned by records, gone from the files
        print(f"sweep: {warning}", file=progress or sys.stderr, flush=True)
    now = local(now or datetime.now())
    stamp = datetime.now().replace(microsecond=0)  # swept_at: when the record was last examined
    started = time.perf_counter()
    report = SweepReport()
    sweep_batch = _Batch(registry, now, stamp, report)
    report.recalendared = await sweep_batch.new_calendars()
    conn = db.connection()
    rows = await db.fetch(conn, "SELECT COUNT(*) AS n FROM records WHERE is_open AND next_check_at <= ?", [now])
    report.total = int(rows[0]["n"])
    rows = await db.fetch(conn, "SELECT COUNT(*) AS n FROM records WHERE is_open")
    report.open = int(rows[0]["n"])
    next_report = progress_every
    # Each record is claimed at most once per run: its next check is after ``now`` once examined.
    # Records opened or moved during the run may add a few batches, concurrent sweepers take some.
    for _ in range(report.total // max(batch, 1) + 100):
        async with db.transaction() as tx:
            claimed = await db.fetch(tx, claim_query(db.dialect(tx)), [now, batch])
            if not claimed:
                break
            await sweep_batch.run(tx, claimed)
        if progress is not None and report.processed >= next_report:
            elapsed = time.perf_counter() - started
            print(f"sweep: {report.processed}/{report.total} records, {report.processed / elapsed:,.0f}/s",
                  file=progress, flush=True)
            next_report += progress_every
    report.seconds = time.perf_counter() - started
    return report


async def run_periodic(interval: float, *, registry: Registry | None = None, batch: int = BATCH,
                       iterations: int | None = None, log: TextIO | None = None,
                       after: Callable[[SweepReport], Awaitable[object]] | None = None) -> None:
    """Sweep every ``interval`` seconds until cancelled (the web app runs this as a task), or
    ``iterations`` times. A failed run is reported and the next one tries again. ``after`` runs
    on each run's report (e.g. proposing deductions for the violations just found)."""
    count = 0
    while iterations is None or count < iterations:
        count += 1
        try:
            report = await sweep(batch=batch, registry=registry)
            if log is not None:
                print(f"sweep: {report}", file=log, flush=True)
            if after is not None:
                await after(report)
        except Exception as exc:  # noqa: BLE001 - a periodic task must outlive one bad run
            print(f"sweep: failed: {exc!r}", file=log or sys.stderr, flush=True)
        if iterations is None or count < iterations:
            await asyncio.sleep(interval)


class _Batch:
    def __init__(self, registry: Registry, now: datetime, stamp: datetime, report: SweepReport) -> None:
        self.registry, self.now, self.stamp, self.report = registry, now, stamp, report
        self.calendars: dict[str, Calendar] = {}

        self.next_checks: dict[int, datetime] = {}

    def calendar(self, jurisdiction: str) -> Calendar:
        if jurisdiction not in self.calendars:
            self.calendars[jurisdiction] = calendar_for(self.registry, jurisdiction, self.now)
        return self.calendars[jurisdiction]

    async def new_calendars(self) -> int:
        """Make due every open record of a jurisdiction whose calendar is not the one the last run
        saw: any of its deadlines may have moved. The records first, in slices of ids (each its
        own short statement, however many records), the fingerprint last: a run stopped half-way
        leaves the old fingerprint, so the next run makes them due again. A jurisdiction seen for
        the first time needs nothing: no record of it has marks from another calendar (the
        migration made every existing record due). The open records made due."""
        made_due = 0
        conn = db.connection()
        seen = {r["jurisdiction_id"]: r["fingerprint"]
                for r in await db.fetch(conn, "SELECT jurisdiction_id, fingerprint FROM sweep_calendars")}
        for row in await db.fetch(conn, "SELECT id FROM jurisdictions ORDER BY id"):
            jurisdiction = row["id"]
            try:
                fingerprint = self.calendar(jurisdiction).fingerprint
            except Exception:  # noqa: BLE001 - no pack in force: its records are reported one by one
                continue
            if jurisdiction not in seen:
                await db.execute(conn, "INSERT INTO sweep_calendars (jurisdiction_id, fingerprint, seen_at) "
                                 "VALUES (?, ?, ?) ON CONFLICT (jurisdiction_id) DO NOTHING",
                                 [jurisdiction, fingerprint, self.stamp])
                continue
            if seen[jurisdiction] == fingerprint:
                continue  # the usual case: nothing to write
            top = (await db.fetch(conn, "SELECT MAX(id) AS n FROM records"))[0]["n"] or 0
            for low in range(0, top, _RESET_SLICE):
                made_due += await db.execute(
                    conn, "UPDATE records SET next_check_at = ? WHERE id > ? AND id <= ? AND jurisdiction_id = ? "
                    "AND is_open AND next_check_at > ?", [EPOCH, low, low + _RESET_SLICE, jurisdiction, EPOCH])
            await db.execute(conn, "UPDATE sweep_calendars SET fingerprint = ?, seen_at = ? WHERE jurisdiction_id = ?",
                             [fingerprint, self.stamp, jurisdiction])
        return made_due

    async def run(self, tx: BaseDBAsyncClient, claimed: list[dict[str, Any]]) -> None:
        ids = [row["id"] for row in claimed]
        inside = db.marks(len(ids))
        events: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await db.fetch(tx, f"SELECT record_id, {', '.join(records.EVENT_COLUMNS)} FROM events "
                                  f"WHERE record_id IN ({inside}) ORDER BY record_id, seq", ids):
            events[row["record_id"]].append(row)
        marks: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
        for row in await db.fetch(tx, "SELECT record_id, clock, status, level, deadline, fingerprint FROM clock_marks "
                                  f"WHERE record_id IN ({inside})", ids):
            marks[row["record_id"]][row["clock"]] = row
        fired: dict[int, set[str]] = defaultdict(set)
        for row in await db.fetch(tx, f"SELECT record_id, timer FROM timer_marks WHERE record_id IN ({inside})", ids):
            fired[row["record_id"]].add(row["timer"])
        upserts: list[list[Any]] = []
        due: list[_Due] = []
        self.next_checks = {}
        for row in claimed:
            await self.record(tx, row, events[row["id"]], marks[row["id"]], fired[row["id"]], upserts, due)
        for first in range(0, len(due), _CHUNK):
            await self.fire(tx, due[first:first + _CHUNK])
        await db.execute_many(tx, "INSERT INTO clock_marks (record_id, clock, status, level, deadline, fingerprint, "
                              "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_id, clock) DO UPDATE SET "
                              "status = excluded.status, level = excluded.level, deadline = excluded.deadline, "
                              "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at", upserts)
        await db.execute_many(tx, "UPDATE records SET swept_at = ?, next_check_at = ? WHERE id = ?",
                              [[self.stamp, self.next_checks.get(i, self.now + RETRY), i] for i in ids])
        self.report.processed += len(ids)

    async def record(self, tx: BaseDBAsyncClient, row: dict[str, Any], events: list[dict[str, Any]],
                     marks: Mapping[str, Mapping[str, Any]], fired: set[str], upserts: list[list[Any]],
                     due: list[_Due]) -> None:
        jurisdiction = row["jurisdiction_id"]
        try:  # the pure part: a record that cannot be computed is reported, never stops the run
            pack = self.registry.pinned(jurisdiction, row["pack_hash"])
            subject = row["subject"]
            instance = Instance(pack, row["workflow_id"], row["state"],
                                json.loads(subject) if isinstance(subject, str) else subject,
                                tuple(records.to_flow_event(e) for e in events), row["item_id"])
            calendar = self.calendar(jurisdiction)
            states, timers, self.next_checks[row["id"]] = examine(instance, self.now, calendar, fired)
        except Exception as exc:  # noqa: BLE001 - looked at again by the next run (RETRY)
            self.report.errors += 1
            print(f"sweep: {jurisdiction} {row['number']}: {exc}", file=sys.stderr, flush=True)
            return
        fingerprint = calendar.fingerprint
        for clock, state in states.items():
            if state.status == "not_started" and clock not in marks:
                continue
            deadline = state.deadline.isoformat() if state.deadline else None
            old = marks.get(clock)
            if old is not None and (old["status"], old["level"], _iso(old["deadline"]), old["fingerprint"]) == \
                    (state.status, state.level, deadline, fingerprint):
                continue
            if old is not None and old["level"] != state.level:
                self.report.level_changes += 1
            if old is not None and old["fingerprint"] != fingerprint and _iso(old["deadline"]) != deadline:
                await db.execute(tx, "INSERT INTO deadline_changes (record_id, clock, old_deadline, new_deadline, "
                                 "old_fingerprint, new_fingerprint, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [row["id"], clock, _date(old["deadline"]), state.deadline, old["fingerprint"],
                                  fingerprint, self.now])
                self.report.deadline_changes += 1
            upserts.append([row["id"], clock, state.status, state.level, state.deadline, fingerprint, self.now])
        due.extend(_Due(row, pack, instance, timer) for timer in timers)

    async def fire(self, tx: BaseDBAsyncClient, due: list[_Due]) -> None:
        """Fire due timers: their marks first, in one statement; the effects only of the timers
        whose mark this sweeper inserted (a concurrent one may have fired the others)."""
        values = [v for d in due for v in (d.row["id"], d.timer.key, self.now)]
        rows = ", ".join(["(?, ?, ?)"] * len(due))
        won = {(r["record_id"], r["timer"]) for r in await db.fetch(
            tx, f"INSERT INTO timer_marks (record_id, timer, fired_at) VALUES {rows} "
            "ON CONFLICT (record_id, timer) DO NOTHING RETURNING record_id, timer", values)}
        violations: list[list[Any]] = []
        outbox: list[list[Any]] = []
        for d in due:
            if (d.row["id"], d.timer.key) not in won:
                continue
            self.report.timers_fired += 1
            seq = d.instance.events[-1].seq if d.instance.events else 0
            name = d.timer.timer.id
            if any(e.action in _ONE_BY_ONE for e in d.timer.effects):  # documents, child records
                from ..documents.issue import renderer_for  # documents build on the store: import late

                record = _record(d.row)
                ctx = records.Context(tx, d.pack, record, d.instance, records.SYSTEM, self.now,
                                      await renderer_for(tx, d.pack, record))
                written = await records.perform(ctx, d.timer.effects, seq, timer=name)
                self.report.violations += len(written.violations)
                continue
            for effect in d.timer.effects:
                if effect.action == "record_violation":
                    violations.append(records.violation_values(d.pack, d.row["id"], effect, seq, self.now,
                                                               f"timer:{name}"))
                elif effect.action not in records.CLOCK_ACTIONS:
                    outbox.append(records.outbox_values(d.row["jurisdiction_id"], d.row["id"], d.row["number"],
                                                        effect.action, {**thaw(effect.args), "event_seq": seq,
                                                                        "timer": name}, self.now))
        if violations:
            added = await db.fetch(tx, records.insert_violations(len(violations)), [v for r in violations for v in r])
            self.report.violations += len(added)
        if outbox:
            await db.fetch(tx, records.insert_outbox(len(outbox)), [v for r in outbox for v in r])


@dataclass(frozen=True)
class _Due:
    row: dict[str, Any]
    pack: Pack
    instance: Instance
    timer: DueTimer


_RESET_SLICE = 50_000  # record ids per statement when a new calendar makes records due
_CHUNK = 200  # timers per statement: 3 parameters each, well under SQLite's and asyncpg's limits
_ONE_BY_ONE = frozenset({"issue_document", "open_workflow"})


def _record(row: Mapping[str, Any]) -> Record:
    """The claimed row as a model value for the effects (never saved from here)."""
    subject = row["subject"]
    return Record(id=row["id"], jurisdiction_id=row["jurisdiction_id"], kind=row["kind"],
                  workflow_id=row["workflow_id"], number=row["number"], item_id=row["item_id"],
                  pack_hash=row["pack_hash"], state=row["state"], version=row["version"],
                  subject=json.loads(subject) if isinstance(subject, str) else subject)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else (str(value) if value else None)


def _date(value: Any) -> date | None:
    return value if isinstance(value, date) or value is None else date.fromisoformat(str(value))
