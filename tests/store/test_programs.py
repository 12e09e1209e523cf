"""db.atomic / db.read / db.run: a transaction's statements run as one program (store/_sqlite.py
on SQLite: inline, or in aiosqlite's thread when the database is locked), the same on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest
from tortoise.exceptions import IntegrityError

from bianmin.store import db, service
from bianmin.store.models import Event, Record

MONDAY = dt.datetime(2026, 10, 12, 9, 0)


def _counter(jurisdiction: str, fail: bool = False) -> db.Program[int]:
    yield db.Execute("INSERT INTO counters (jurisdiction, kind, year, value) VALUES (?, 'test', 2026, 0) "
                     "ON CONFLICT (jurisdiction, kind, year) DO NOTHING", [jurisdiction])
    rows = yield db.Fetch("UPDATE counters SET value = value + 1 WHERE jurisdiction = ? AND kind = 'test' "
                          "RETURNING value", [jurisdiction])
    if fail:
        raise RuntimeError("after the update")
    return int(rows[0]["value"])


def _value(jurisdiction: str) -> db.Program[int | None]:
    rows = yield db.Fetch("SELECT value FROM counters WHERE jurisdiction = ? AND kind = 'test'", [jurisdiction])
    return int(rows[0]["value"]) if rows else None


def test_a_failing_program_leaves_nothing(backend):
    async def body():
        first = await db.atomic(_counter, "j1")
        with pytest.raises(RuntimeError, match="after the update"):
            await db.atomic(_counter, "j1", True)
        return first, await db.read(_value, "j1")

    assert backend.run(body) == (1, 1)


def test_a_refused_statement_ends_the_program_with_tortoises_error(backend):
    finished = []

    def duplicate() -> db.Program[None]:
        try:
            for _ in range(2):
                yield db.Execute("INSERT INTO jurisdictions (id, name, number_prefix, created_at) "
                                 "VALUES ('j', '', 'J', ?)", [MONDAY])
            finished.append("after the second insert")
        finally:
            finished.append("finally")

    async def body():
        with pytest.raises(IntegrityError):
            await db.atomic(duplicate)
        return await db.fetch(db.connection(), "SELECT id FROM jurisdictions")

    assert backend.run(body) == [] and finished == ["finally"]


def test_a_program_inside_a_transaction_goes_with_it(backend):
    async def body():
        with pytest.raises(RuntimeError, match="later"):
            async with db.transaction() as tx:
                assert await db.run(tx, _counter, "j2") == 1
                assert await db.atomic(_counter, "j2") == 2  # nested: a savepoint of tx
                raise RuntimeError("later in the same transaction")
        return await db.read(_value, "j2")

    assert backend.run(body) is None


def test_a_nested_program_that_fails_rolls_back_alone(backend):
    async def body():
        async with db.transaction():
            await db.atomic(_counter, "j3")
            with pytest.raises(RuntimeError):
                await db.atomic(_counter, "j3", True)
        return await db.read(_value, "j3")

    assert backend.run(body) == 1


def test_a_transition_waits_for_a_locked_database_without_blocking_the_loop(tmp_path, registry, staff, checklist):
    """Another process holds SQLite's write lock: the transition queues off the event loop (other
    tasks keep running) and goes through when the lock is released."""
    path = tmp_path / "locked.sqlite3"
    url = f"sqlite://{path}"
    pack = registry.active("jiangyin", MONDAY.date())

    async def body():
        await db.init_db(url)
        try:
            subject = {"materials": checklist(pack, "food_business_licence")}
            case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY,
                                        registry=registry)
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            running = asyncio.create_task(ticker())
            moving = asyncio.create_task(service.transition("jiangyin", case.record.number, "accept", staff, {},
                                                            MONDAY + dt.timedelta(hours=1), registry=registry))
            await asyncio.sleep(0.3)
            waited = not moving.done()
            other.execute("COMMIT")
            other.close()
            result = await moving
            running.cancel()
            return waited, ticks, result.record.version, await Event.filter(record_id=case.record.id).count()
        finally:
            await db.close_db()

    waited, ticks, version, events = asyncio.run(body())
    assert waited and ticks >= 10  # the loop ran other tasks while the transition waited
    assert (version, events) == (2, 2)


def test_a_transition_sets_the_records_next_check_to_its_time(backend, registry, staff, checklist):
    """The sweeper's contract (store/sweeper.py): a record a transition wrote is examined again."""
    pack = registry.active("jiangyin", MONDAY.date())
    at = MONDAY + dt.timedelta(hours=2)

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        opened = (await Record.get(id=case.record.id)).next_check_at
        done = await service.transition("jiangyin", case.record.number, "accept", staff, {}, at, registry=registry)
        stored = await Record.get(id=case.record.id)
        return opened, stored.next_check_at, done.record.next_check_at, stored.version

    opened, stored, returned, version = backend.run(body)
    assert opened == dt.datetime(1970, 1, 1)  # a new record is due at the sweeper's next run
    assert stored == returned == at and version == 2
