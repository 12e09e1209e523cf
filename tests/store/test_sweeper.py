"""The deadline sweeper: exactly-once timers and violations, levels, calendar changes, pinning,
and the next check: a record is examined when its clocks can have changed, not on every run."""

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
from bianmin.workflow import Event, Instance, clock_states
from bianmin.workflow.nextcheck import NEVER, examine

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


async def next_check(number):
    return (await Record.get(number=number)).next_check_at


async def make_all_due():
    await db.execute(db.connection(), "UPDATE records SET next_check_at = ?", [sweeper.EPOCH])


def test_sweeps_fire_timers_and_violations_exactly_once(backend, registry, staff, checklist):
    late = dt.datetime(2026, 10, 30, 9, 0)  # past both the promised (10-19) and statutory (10-26) days

    async def body():
        await accepted_case(registry, staff, checklist)
        await accepted_case(registry, staff, checklist)
        # Concurrent first runs, small batches so that they interleave.
        reports = await asyncio.gather(*(sweeper.sweep(late, batch=1, registry=registry) for _ in range(3)))
        first = await counts()
        again = await sweeper.sweep(late, registry=registry)  # overdue on both clocks: nothing is due
        await make_all_due()  # examined anew (as after a new calendar): still nothing fires twice
        forced = await sweeper.sweep(late, registry=registry)
        return reports, first, again, forced, await counts()

    reports, first, again, forced, second = backend.run(body)
    # Per case: 2 overdue violations, 2 overdue notifications, 4 timer marks (2 timers, 2 violation timers).
    assert first == second == (4, 4, 8)
    assert sum(r.timers_fired for r in reports) == 8 and sum(r.violations for r in reports) == 4
    assert sum(r.processed for r in reports) == 2  # each record examined by one of the three
    assert (again.total, again.open, again.processed) == (0, 2, 0)
    assert forced.processed == 2 and forced.timers_fired == 0 and forced.violations == 0 and forced.errors == 0


def test_a_record_is_examined_exactly_when_its_level_can_change(backend, registry, staff, checklist):
    """Accepted Monday 10-12: the promised deadline is 10-19 (5 working days, jiangyin items.yaml).
    The level rises at midnight: yellow with 2 working days left (10-15), red with 1 (10-16), by
    _base time_limits.warnings (默认预警 黄色/红色); overdue the day after the last day (10-20), when
    jiangyin's violation overdue_promised (jiangyin 三(三)1, detect {clock: promised, on: overdue})
    is recorded."""

    async def body():
        number = await accepted_case(registry, staff, checklist)
        record = await Record.get(number=number)
        seen = []

        async def sweep_at(*when):
            report = await sweeper.sweep(dt.datetime(*when), registry=registry)
            mark = await ClockMark.get(record_id=record.id, clock="promised")
            violations = await Violation.filter(record_id=record.id).values_list("violation_id", flat=True)
            seen.append((report.processed, mark.level, sorted(violations), await next_check(number)))

        await sweep_at(2026, 10, 13, 9)
        await sweep_at(2026, 10, 14, 23, 59, 59)  # not due yet: not even claimed
        await sweep_at(2026, 10, 15, 0, 0)
        await sweep_at(2026, 10, 16, 0, 0)
        await sweep_at(2026, 10, 19, 23, 59, 59)
        await sweep_at(2026, 10, 20, 0, 0)
        notices = await Outbox.filter(record_id=record.id, kind="notify").values_list("payload", flat=True)
        return seen, notices

    seen, notices = backend.run(body)
    day = dt.datetime
    assert seen == [
        (1, "green", [], day(2026, 10, 15)),
        (0, "green", [], day(2026, 10, 15)),
        (1, "yellow", [], day(2026, 10, 16)),
        (1, "red", [], day(2026, 10, 20)),
        (0, "red", [], day(2026, 10, 20)),
        # the statutory clock (10 working days: 10-26) turns yellow on 10-22
        (1, "overdue", ["overdue_promised"], day(2026, 10, 22)),
    ]
    messages = [n["message"] for n in notices]
    assert messages.count("办件即将超过承诺时限") == 1 and messages.count("办件已超过承诺时限") == 1


def test_a_transition_makes_the_record_due_at_once(backend, registry, staff, checklist):
    """A pause for 现场审核 (jiangyin 三(三)5, 3 working days announced) after a sweep: the
    transition sets next_check_at to its own time, so the next sweep examines the record at once;
    paused, its deadline is next projected the day after the announced end (10-16)."""

    async def body():
        number = await accepted_case(registry, staff, checklist)
        await sweeper.sweep(dt.datetime(2026, 10, 13, 9), registry=registry)
        before = await next_check(number)
        paused_at = dt.datetime(2026, 10, 13, 10)
        await service.transition("jiangyin", number, "pause", staff,
                                 {"reason": "on_site_audit", "expected_duration": 3, "duration_unit": "working_day"},
                                 paused_at, registry=registry)
        after_transition = await next_check(number)
        report = await sweeper.sweep(dt.datetime(2026, 10, 13, 10, 5), registry=registry)
        record = await Record.get(number=number)
        mark = await ClockMark.get(record_id=record.id, clock="promised")
        return before, after_transition, paused_at, report.processed, mark.status, record.next_check_at

    before, after_transition, paused_at, processed, status, then = backend.run(body)
    assert before == dt.datetime(2026, 10, 15)
    assert after_transition <= paused_at  # needs service.transition to set next_check_at
    assert (processed, status) == (1, "paused")
    assert then == dt.datetime(2026, 10, 17)


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
        quiet = await sweeper.sweep(dt.datetime(2026, 10, 13, 8, 30), registry=registry)  # not due till 10-15
        report = await sweeper.sweep(dt.datetime(2026, 10, 13, 9, 0), registry=both)
        again = await sweeper.sweep(dt.datetime(2026, 10, 13, 9, 30), registry=both)
        record = await Record.get(number=number)
        changes = await DeadlineChange.filter(record_id=record.id).order_by("clock")
        return (quiet, report, again, record, [(c.clock, str(c.old_deadline), str(c.new_deadline)) for c in changes])

    quiet, report, again, record, changes = backend.run(body)
    assert quiet.processed == 0
    assert (report.recalendared, report.processed) == (1, 1)  # the new calendar made the case due
    assert again.recalendared == again.processed == 0  # once: the fingerprint is remembered
    assert record.pack_hash == old.content_hash  # the case keeps its rules; only the calendar is newer
    assert ("promised", "2026-10-19", "2026-10-20") in changes
    assert report.deadline_changes == len(changes) >= 2
    assert record.next_check_at == dt.datetime(2026, 10, 16)  # the closure moves the yellow day too


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
        first = await sweeper.sweep(MONDAY + dt.timedelta(days=1), registry=registry)
        again = await sweeper.sweep(MONDAY + dt.timedelta(days=1, minutes=5), registry=registry)
        return first, again

    first, again = backend.run(body)
    assert (first.processed, first.errors) == (2, 1)
    assert (again.processed, again.errors) == (1, 1)  # named again by the next run, until mended


def test_postgres_sweepers_claim_different_records(backend, registry, staff, checklist):
    if backend.name != "postgres":
        pytest.skip("SQLite has one writer at a time: there is nothing to skip")

    async def body():
        for _ in range(4):
            await accepted_case(registry, staff, checklist)
        stamp = MONDAY + dt.timedelta(days=1)
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
    assert out.startswith("swept 1 of 1 due records (1 open)") and "2 violations" in out
    assert cli.main(["sweep", "--db", backend.url, "--now", "2026-10-30T09:00"]) == 0
    assert "0 timers fired, 0 violations" in capsys.readouterr().out


def _instance(pack, workflow_id, state, item_id, steps, subject=None):
    events = tuple(Event(seq, at, "u1", transition, "", "", data, pack.content_hash)
                   for seq, (at, transition, data) in enumerate(steps, 1))
    return Instance(pack, workflow_id, state, subject or {}, events, item_id)


def _key(instance, at, calendar):
    return {c: (s.status, s.level, s.deadline) for c, s in clock_states(instance, at, calendar, explain=False).items()}


@pytest.mark.parametrize("name", ["case accepted", "case paused 3 days", "agency 40 working hours",
                                  "agency 10 natural days"])
def test_the_next_check_is_never_late_and_exact_for_running_clocks(registry, name):
    """Over three weeks of moments: nothing changes before the next check; and when every clock
    runs, something changes exactly at it (to the second for hour limits)."""
    t0 = dt.datetime(2026, 9, 28, 10, 0)  # across the National Day holidays and the make-up days
    jiangyin, taihe = registry.active("jiangyin", t0.date()), registry.active("taihe", t0.date())
    accepted = [(t0, "start", {}), (t0 + dt.timedelta(hours=1), "accept", {})]
    instance = {
        "case accepted": lambda: _instance(jiangyin, "case", "accepted", ITEM, accepted),
        "case paused 3 days": lambda: _instance(jiangyin, "case", "paused", ITEM, accepted + [
            (t0 + dt.timedelta(hours=2), "pause", {"reason": "on_site_audit", "expected_duration": 3})]),
        "agency 40 working hours": lambda: _instance(taihe, "agency", "in_progress", None, [
            (t0, "start", {}), (t0, "take_on", {"limit": {"value": 40, "unit": "working_hour"}})]),
        "agency 10 natural days": lambda: _instance(taihe, "agency", "in_progress", None, [
            (t0, "start", {}), (t0, "take_on", {"limit": {"value": 10, "unit": "natural_day"}})]),
    }[name]()
    calendar = service.calendar_for(registry, instance.pack.id, t0)
    paused = name.startswith("case paused")
    checks = 0
    for step in range(3, 21 * 24, 5):  # every 5 hours
        now = t0 + dt.timedelta(hours=step, minutes=17)
        states, _, at = examine(instance, now, calendar)
        before = {c: (s.status, s.level, s.deadline) for c, s in states.items()}
        assert at > now
        if at == NEVER:
            assert all(s.status not in ("running", "paused") for s in states.values()), (now, before)
            continue
        checks += 1
        for probe in (now + (at - now) / 2, at - dt.timedelta(seconds=1)):
            if probe > now:
                assert _key(instance, probe, calendar) == before, (now, probe, at)
        if not paused:
            assert _key(instance, at, calendar) != before, (now, at)
    assert checks > 10
