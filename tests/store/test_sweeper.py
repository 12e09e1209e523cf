"""The deadline sweeper: exactly-once timers and violations, levels, calendar changes, pinning."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from bianmin import cli, paths
from bianmin.calendar import CalendarDay
from bianmin.packs import Compiler, Registry
from bianmin.store import db, service, sweeper
from bianmin.store.models import ClockMark, DeadlineChange, Outbox, Record, TimerMark, Violation
from bianmin.workflow import clock_states

MONDAY = dt.datetime(2026, 10, 12, 9, 0)
ITEM = "food_business_licence"  # jiangyin: promised 5, statutory 10 working days


async def accepted_case(registry, staff, checklist, jurisdiction="jiangyin", at=MONDAY):
    pack = registry.active(jurisdiction, at.date())
    case = await service.intake(jurisdiction, ITEM, {"materials": checklist(pack, ITEM)}, staff, {}, at,
                                registry=registry)
    await service.transition(jurisdiction, case.record.number, "accept", staff, {}, at + dt.timedelta(hours=1),
                             registry=registry)
    return case.record.number


async def counts():
    return (await Violation.all().count(), await Outbox.filter(kind="notify").count(),
            await TimerMark.all().count())


def test_sweeps_fire_timers_and_violations_exactly_once(backend, registry, staff, checklist):
    late = dt.datetime(2026, 10, 30, 9, 0)  # past both the promised (10-19) and statutory (10-26) days

    async def body():
        await accepted_case(registry, staff, checklist)
        await accepted_case(registry, staff, checklist)
        # Concurrent first runs, small batches so that they interleave.
        reports = await asyncio.gather(*(sweeper.sweep(late, batch=1, registry=registry) for _ in range(3)))
        first = await counts()
        again = await sweeper.sweep(late, registry=registry)
        return reports, first, again, await counts()

    reports, first, again, second = backend.run(body)
    # Per case: 2 overdue violations, 2 overdue notifications, 4 timer marks (2 timers, 2 violation timers).
    assert first == second == (4, 4, 8)
    assert sum(r.timers_fired for r in reports) == 8 and sum(r.violations for r in reports) == 4
    assert again.processed == 2 and again.timers_fired == 0 and again.violations == 0 and again.errors == 0


def test_levels_move_and_are_marked(backend, registry, staff, checklist):
    async def body():
        number = await accepted_case(registry, staff, checklist)
        record = await Record.get(number=number)
        seen = []
        for day in (13, 16, 20):  # green, nearing the promised day (10-19), overdue
            report = await sweeper.sweep(dt.datetime(2026, 10, day, 9, 0), registry=registry)
            marks = {m.clock: (m.status, m.level, str(m.deadline)) for m in await ClockMark.filter(record_id=record.id)}
            seen.append((report.level_changes, marks["promised"]))
        return seen

    seen = backend.run(body)
    assert seen[0] == (0, ("running", "green", "2026-10-19"))
    assert seen[1][1][1] != "green"
    assert seen[2][1] == ("overdue", "overdue", "2026-10-19") and seen[2][0] >= 1


def test_a_new_calendar_moves_open_deadlines_and_says_so(backend, registry, staff, checklist):
    old = registry.active("jiangyin", MONDAY.date())
    closure = CalendarDay(dt.date(2026, 10, 14), "closure", "停电闭馆", "test")
    newer = dataclasses.replace(old, version="2026.9", effective_from=dt.date(2026, 10, 13),
                                content_hash="f" * 64,
                                calendar=dataclasses.replace(old.calendar, overrides=(closure,)))
    both = Registry()
    both.add(old)
    both.add(newer)

    async def body():
        number = await accepted_case(registry, staff, checklist)
        await sweeper.sweep(dt.datetime(2026, 10, 13, 8, 0), registry=registry)
        report = await sweeper.sweep(dt.datetime(2026, 10, 13, 9, 0), registry=both)
        record = await Record.get(number=number)
        changes = await DeadlineChange.filter(record_id=record.id).order_by("clock")
        return report, record.pack_hash, [(c.clock, str(c.old_deadline), str(c.new_deadline)) for c in changes]

    report, pinned, changes = backend.run(body)
    assert pinned == old.content_hash  # the case keeps its rules; only the calendar is newer
    assert ("promised", "2026-10-19", "2026-10-20") in changes
    assert report.deadline_changes == len(changes) >= 2


def test_pinned_version_survives_a_pack_change(backend, staff, checklist, tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(paths.policies_dir(), policies)
    _edit(policies / "jiangyin" / "items.yaml", "promised: {value: 5, unit: working_day}",
          "promised: {value: 8, unit: working_day}")
    _edit(policies / "jiangyin" / "pack.yaml", 'version: "2012.1"\neffective_from: 2012-02-28',
          'version: "2026.2"\neffective_from: 2026-10-13')
    compiler = Compiler(policies)
    first = Compiler().compile(paths.policies_dir() / "jiangyin")
    second = compiler.compile(policies / "jiangyin")
    registry = Registry()
    registry.add(first)
    registry.add(second)
    assert first.content_hash != second.content_hash

    async def body():
        old = await accepted_case(registry, staff, checklist)  # 10-12: the 2012 pack is in force
        new = await accepted_case(registry, staff, checklist, at=dt.datetime(2026, 10, 13, 9, 0))
        now = dt.datetime(2026, 10, 14, 9, 0)
        out = {}
        for number in (old, new):
            record, instance = await service.load("jiangyin", number, registry=registry)
            out[number] = (record.pack_hash, clock_states(instance, now)["promised"].deadline.isoformat())
        return out[old], out[new]

    (old_hash, old_deadline), (new_hash, new_deadline) = backend.run(body)
    assert (old_hash, old_deadline) == (first.content_hash, "2026-10-19")  # 5 working days after 10-12
    assert (new_hash, new_deadline) == (second.content_hash, "2026-10-23")  # 8 working days after 10-13


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_progress_and_periodic_runs(backend, registry, staff, checklist):
    async def body():
        for _ in range(3):
            await accepted_case(registry, staff, checklist)
        progress = io.StringIO()
        report = await sweeper.sweep(MONDAY + dt.timedelta(days=1), batch=1, registry=registry, progress=progress,
                                     progress_every=2)
        log = io.StringIO()
        await sweeper.run_periodic(0.01, registry=registry, iterations=2, log=log)
        return report, progress.getvalue(), log.getvalue()

    report, progress, log = backend.run(body)
    assert (report.total, report.processed, report.errors) == (3, 3, 0)
    assert "sweep: 2/3 records" in progress
    assert log.count("sweep: swept") == 2


def test_a_record_that_cannot_be_computed_does_not_stop_the_sweep(backend, registry, staff, checklist):
    async def body():
        number = await accepted_case(registry, staff, checklist)
        await accepted_case(registry, staff, checklist)
        await db.execute(db.connection(), "UPDATE records SET pack_hash = 'gone' WHERE number = ?", [number])
        return await sweeper.sweep(MONDAY + dt.timedelta(days=1), registry=registry)

    report = backend.run(body)
    assert (report.processed, report.errors) == (2, 1)


def test_postgres_sweepers_claim_different_records(backend, registry, staff, checklist):
    if backend.name != "postgres":
        pytest.skip("SQLite has one writer at a time: there is nothing to skip")

    async def body():
        for _ in range(4):
            await accepted_case(registry, staff, checklist)
        stamp = dt.datetime.now()
        query = sweeper.claim_query("postgres")
        holding = asyncio.Event()
        done = asyncio.Event()

        async def first():
            async with db.transaction() as tx:
                rows = await db.fetch(tx, query, [stamp, 2])
                holding.set()
                await asyncio.wait_for(done.wait(), 10)
                return {r["id"] for r in rows}

        async def second():
            await asyncio.wait_for(holding.wait(), 10)
            async with db.transaction() as tx:
                rows = await db.fetch(tx, query, [stamp, 4])
            done.set()
            return {r["id"] for r in rows}

        return await asyncio.gather(first(), second())

    mine, theirs = backend.run(body)
    assert len(mine) == 2 and len(theirs) == 2 and not mine & theirs


def test_cli_sweep(backend, registry, staff, checklist, capsys):
    backend.run(accepted_case, registry, staff, checklist)
    assert cli.main(["sweep", "--db", backend.url, "--now", "2026-10-30T09:00", "--batch", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("swept 1 of 1 open records") and "2 violations" in out
    assert cli.main(["sweep", "--db", backend.url, "--now", "2026-10-30T09:00"]) == 0
    assert "0 timers fired, 0 violations" in capsys.readouterr().out
