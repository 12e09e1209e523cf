"""Schema migrations: an empty database upgrades, a second upgrade does nothing, and the schema
the migrations make is the one the models expect."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bianmin import cli
from bianmin.store import db, migrate, models


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'empty.sqlite3'}"
    return request.getfixturevalue("postgres_databases")()


def run(url, fn):
    async def main():
        await db.init_db(url, upgrade=False)
        try:
            return await fn()
        finally:
            await db.close_db()

    return asyncio.run(main())


async def _upgrade_twice():
    before = await migrate.applied()
    first = await migrate.upgrade()
    second = await migrate.upgrade()
    return before, [m.version for m in first], second, await migrate.applied()


def test_upgrade_an_empty_database_then_nothing(empty_url):
    before, first, second, after = run(empty_url, _upgrade_twice)
    assert before == [] and first == [m.version for m in migrate.available()] and second == []
    assert after == first and after[0] == 1


async def _columns():
    conn = db.connection()
    found = {}
    for model in models.__models__:
        table = model._meta.db_table
        if db.dialect(conn) == "sqlite":
            rows = await db.fetch(conn, f"PRAGMA table_info({table})")
            found[table] = {r["name"] for r in rows}
        else:
            rows = await db.fetch(conn, "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                  [table])
            found[table] = {r["column_name"] for r in rows}
    return found


def test_migrated_schema_matches_the_models(empty_url):
    async def body():
        await migrate.upgrade()
        return await _columns()

    found = run(empty_url, body)
    for model in models.__models__:
        expected = set(model._meta.fields_db_projection.values())
        assert found[model._meta.db_table] == expected, model.__name__


def test_concurrent_upgrades_apply_once(empty_url):
    async def body():
        results = await asyncio.gather(*(migrate.upgrade() for _ in range(3)))
        return [len(r) for r in results], await migrate.applied()

    applied_counts, versions = run(empty_url, body)
    assert sum(applied_counts) == len(versions) == len(migrate.available())


def test_cli_upgrade(empty_url, capsys):
    assert cli.main(["db", "upgrade", "--db", empty_url]) == 0
    assert capsys.readouterr().out.splitlines() == [f"applied {m.version:04d}_{m.name}" for m in migrate.available()]
    assert cli.main(["db", "upgrade", "--db", empty_url]) == 0
    assert capsys.readouterr().out.strip() == "schema is up to date"


def test_cli_rejects_an_unknown_url(capsys):
    assert cli.main(["db", "upgrade", "--db", "mysql://x/y"]) == 2
    assert "unsupported database URL" in capsys.readouterr().err


def test_pack_archive_column_is_added_to_existing_rows(empty_url):
    async def body():
        await migrate.upgrade(target=1)
        conn = db.connection()
        await db.execute(conn, "INSERT INTO jurisdictions (id, name, number_prefix, created_at) "
                         "VALUES ('jiangyin', '', 'JY', '2026-01-01 00:00:00')")
        await db.execute(conn, "INSERT INTO pack_versions (jurisdiction_id, content_hash, version, effective_from, "
                         "activated_at) VALUES ('jiangyin', 'abc', '1', '2012-02-28', '2026-01-01 00:00:00')")
        first = [m.name for m in await migrate.upgrade(target=2)]
        second = await migrate.upgrade(target=2)
        rows = await db.fetch(conn, "SELECT content_hash, archive FROM pack_versions")
        return first, second, rows

    first, second, rows = run(empty_url, body)
    assert first == ["pack_archive"] and second == []
    assert rows == [{"content_hash": "abc", "archive": None}]


def test_next_check_column_makes_existing_open_records_due(empty_url):
    """0003 on a database with records: every row gets the epoch (examined by the first sweep after
    the upgrade), the claim's partial index replaces the swept_at one."""

    async def body():
        await migrate.upgrade(target=2)
        conn = db.connection()
        await db.execute(conn, "INSERT INTO jurisdictions (id, name, number_prefix, created_at) "
                         "VALUES ('jiangyin', '', 'JY', '2026-01-01 00:00:00')")
        for number, is_open in (("JY-2026-000001", True), ("JY-2026-000002", False)):
            await db.execute(conn, "INSERT INTO records (jurisdiction_id, kind, workflow_id, number, year, pack_hash, "
                             "state, is_open, subject, created_at, updated_at, swept_at) VALUES ('jiangyin', 'case', "
                             "'case', ?, 2026, 'abc', 'accepted', ?, '{}', '2026-03-02 09:00:00', "
                             "'2026-03-02 09:00:00', '2026-03-03 09:00:00')", [number, is_open])
        await migrate.upgrade(target=3)
        rows = await db.fetch(conn, "SELECT number, next_check_at FROM records ORDER BY number")
        due = await db.fetch(conn, "SELECT number FROM records WHERE is_open AND next_check_at <= ?",
                             [datetime(2026, 3, 3, 9)])
        if db.dialect(conn) == "sqlite":
            found = await db.fetch(conn, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'")
        else:
            found = await db.fetch(conn, "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'records'")
        return rows, due, {r["name"] for r in found}

    rows, due, indexes = run(empty_url, body)
    assert [(r["number"], str(r["next_check_at"])[:19]) for r in rows] == [
        ("JY-2026-000001", "1970-01-01 00:00:00"), ("JY-2026-000002", "1970-01-01 00:00:00")]
    assert [r["number"] for r in due] == ["JY-2026-000001"]
    assert "records_next_check" in indexes and "records_sweep" not in indexes
