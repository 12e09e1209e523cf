"""The deadline sweeper: warning levels, due timers and automatic violations of open records.

One run walks every open record once, in batches. A batch is one transaction: claim the records
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent sweepers take different batches; SQLite
has one writer at a time), recompute their clocks on the newest calendar, then write

- ``clock_marks``: the level, status and deadline reached (a deadline moved by a new calendar
  is logged in ``deadline_changes``);
- ``timer_marks``: a due timer (warning, overdue, and the ``{clock, on: overdue}`` violations)
  fires once per record and deadline, its effects (notify, record_violation ...) written with the
  mark, so repeated or concurrent runs never notify twice;
- ``violations``: one row per record and violation (unique), so detection is idempotent;

and stamp ``records.swept_at`` with the run's start, which is what the claim skips. Only this
module reads the wall clock (``now`` defaults to it); everything it computes is a function of the
events, the pinned pack and the calendar.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO

from tortoise.backends.base.client import BaseDBAsyncClient

from ..calendar import Calendar
from ..packs import Registry
from ..packs.model import Pack
from ..workflow import DueTimer, Instance, clock_states, due_timers, thaw
from . import archive, db, records
from .models import Record
from .service import calendar_for, default_registry, local

BATCH = 500
PROGRESS_EVERY = 10_000
EPOCH = datetime(1970, 1, 1)
_COLUMNS = "id, jurisdiction_id, kind, workflow_id, number, item_id, pack_hash, state, subject, version"


@dataclass
class SweepReport:
    total: int = 0  # open records due at the start
    processed: int = 0
    level_changes: int = 0
    timers_fired: int = 0
    violations: int = 0
    deadline_changes: int = 0
    errors: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.processed / self.seconds if self.seconds else 0.0
        return (f"swept {self.processed} of {self.total} open records in {self.seconds:.1f} s ({rate:,.0f}/s): "
                f"{self.level_changes} level changes, {self.timers_fired} timers fired, "
                f"{self.violations} violations, {self.deadline_changes} deadlines moved by the calendar, "
                f"{self.errors} errors")


def claim_query(dialect: str) -> str:
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""
    return (f"SELECT {_COLUMNS} FROM records WHERE is_open AND swept_at < ? "
            f"ORDER BY swept_at LIMIT ?{lock}")


async def sweep(now: datetime | None = None, *, batch: int = BATCH, registry: Registry | None = None,
                progress: TextIO | None = None, progress_every: int = PROGRESS_EVERY) -> SweepReport:
    """One run over the open records; ``progress`` (stderr for the CLI) gets a line every
    ``progress_every`` records."""
    registry = registry or default_registry()
    for warning in await archive.restore(registry):  # versions pinned by records, gone from the files
        print(f"sweep: {warning}", file=progress or sys.stderr, flush=True)
    now = local(now or datetime.now())
    stamp = datetime.now()  # the run's mark: a record swept by this run is not claimed again
    started = time.perf_counter()
    report = SweepReport()
    conn = db.connection()
    rows = await db.fetch(conn, "SELECT COUNT(*) AS n FROM records WHERE is_open AND swept_at < ?", [stamp])
    report.total = int(rows[0]["n"])
    sweep_batch = _Batch(registry, now, stamp, report)
    next_report = progress_every
    # Each record is claimed at most once per run (its stamp stops the claim); records opened
    # during the run may add a few batches, concurrent sweepers take some away.
    for _ in range(report.total // max(batch, 1) + 100):
        async with db.transaction() as tx:
            claimed = await db.fetch(tx, claim_query(db.dialect(tx)), [stamp, batch])
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
                       iterations: int | None = None, log: TextIO | None = None) -> None:
    """Sweep every ``interval`` seconds until cancelled (the web app runs this as a task), or
    ``iterations`` times. A failed run is reported and the next one tries again."""
    count = 0
    while iterations is None or count < iterations:
        count += 1
        try:
            report = await sweep(batch=batch, registry=registry)
            if log is not None:
                print(f"sweep: {report}", file=log, flush=True)
        except Exception as exc:  # noqa: BLE001 - a periodic task must outlive one bad run
            print(f"sweep: failed: {exc!r}", file=log or sys.stderr, flush=True)
        if iterations is None or count < iterations:
            await asyncio.sleep(interval)


class _Batch:
    def __init__(self, registry: Registry, now: datetime, stamp: datetime, report: SweepReport) -> None:
        self.registry, self.now, self.stamp, self.report = registry, now, stamp, report
        self.calendars: dict[str, Calendar] = {}

    def calendar(self, jurisdiction: str) -> Calendar:
        if jurisdiction not in self.calendars:
            self.calendars[jurisdiction] = calendar_for(self.registry, jurisdiction, self.now)
        return self.calendars[jurisdiction]

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
        for row in claimed:
            await self.record(tx, row, events[row["id"]], marks[row["id"]], fired[row["id"]], upserts, due)
        for first in range(0, len(due), _CHUNK):
            await self.fire(tx, due[first:first + _CHUNK])
        await db.execute_many(tx, "INSERT INTO clock_marks (record_id, clock, status, level, deadline, fingerprint, "
                              "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_id, clock) DO UPDATE SET "
                              "status = excluded.status, level = excluded.level, deadline = excluded.deadline, "
                              "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at", upserts)
        await db.execute(tx, f"UPDATE records SET swept_at = ? WHERE id IN ({inside})", [self.stamp, *ids])
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
            states = clock_states(instance, self.now, calendar, explain=False)
            # Timers fire on a warning level or when overdue: a record whose clocks are all green
            # has none due, and most open records are green (half the work of a steady sweep).
            alert = any(s.status == "overdue" or (s.status == "running" and s.level != "green")
                        for s in states.values())
            timers = due_timers(instance, self.now, calendar, fired) if alert else []
        except Exception as exc:  # noqa: BLE001
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
                ctx = records.Context(tx, d.pack, _record(d.row), d.instance, records.SYSTEM, self.now)
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
