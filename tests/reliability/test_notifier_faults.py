"""A notification plugin that fails or hangs: transitions over HTTP are not held up or lost, and
the outbox delivers every event once the receiver is back (docs/plugins.md, "Isolation")."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import reliability_harness as rh

PLUGINS = Path(__file__).parent / "fixtures" / "plugins"
CASES = 10


def _config(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    files = {name: tmp_path / f"flaky.{name}" for name in ("mode", "release", "deliveries")}
    settings = {f"{name}_file": str(path) for name, path in files.items()}
    config = tmp_path / "bianmin.yaml"
    config.write_text(json.dumps({"plugins": ["flaky_listener"], "plugin_dirs": [str(PLUGINS)],
                                  "plugin_settings": {"flaky_listener": settings}}), encoding="utf-8")
    return config, files


def _dispatch(db: rh.Database, config: Path, now: dt.datetime, timeout: float):
    """One run of the outbox dispatcher over the server's database, at ``now``."""
    from tortoise.backends.base import executor

    from bianmin import notify, plugins
    from bianmin.store import db as store_db

    loaded = plugins.load(plugins.load_config({"BIANMIN_CONFIG": str(config)}))

    async def go():
        await store_db.init_db(db.url, upgrade=False)
        try:
            return await notify.dispatch_due(now, 1000, plugins=loaded, timeout=timeout,
                                             backoff=notify.Backoff(base=60, jitter=0))
        finally:
            await store_db.close_db()

    executor.EXECUTOR_CACHE.clear()
    return asyncio.run(asyncio.wait_for(go(), 120))


def _event_rows(db: rh.Database) -> list[dict]:
    return db.query("SELECT id, attempts, last_error, done_at FROM outbox WHERE kind = 'event' ORDER BY id")


def test_failing_and_hanging_listener_loses_no_transition(postgres, serve, figures, tmp_path):
    """On PostgreSQL with two workers (the outbox code is the same on SQLite)."""
    any_db = postgres
    config, files = _config(tmp_path)
    files["mode"].write_text("hang")  # were the server to call it inline, every request would hang
    server = serve(any_db, env={"BIANMIN_CONFIG": str(config)})
    ids = rh.make_staff(any_db, [("rel-clerk", [("xupu", "clerk")])])
    load = rh.Load(server, rh.token(ids["rel-clerk"]), rh.promised_item()[1], "notify", cases=CASES,
                   deadline=60).run()
    assert len(load.intakes) == CASES and len(load.transitions) == 2 * CASES, load.server_errors
    events = {f"event:{r['number']}#{r['seq']}" for r in any_db.query(
        "SELECT r.number, e.seq FROM events e JOIN records r ON r.id = e.record_id")}
    assert len(events) == 3 * CASES
    start = dt.datetime.now().replace(microsecond=0) + dt.timedelta(minutes=1)

    files["mode"].write_text("fail")
    failed = _dispatch(any_db, config, start, timeout=5)
    assert failed.failed >= len(events) and failed.delivered <= failed.due - len(events), failed
    rows = _event_rows(any_db)
    assert len(rows) == len(events)
    assert all(r["attempts"] == 1 and r["done_at"] is None and "refused" in r["last_error"] for r in rows)
    figures.faults += failed.failed
    # An administrator sees them: `bianmin outbox --failed` lists them and exits 1.
    listed = subprocess.run([sys.executable, "-m", "bianmin.cli", "outbox", "--failed", "--limit", "1000",
                             "--db", any_db.url], capture_output=True, text=True, timeout=60, cwd=rh.ROOT)
    assert listed.returncode == 1 and listed.stdout.count(" event ") >= len(events), listed.stderr

    files["mode"].write_text("hang")
    try:
        hung = _dispatch(any_db, config, start + dt.timedelta(hours=1), timeout=0.5)
    finally:
        files["release"].write_text("")
    assert hung.failed >= len(events), hung
    assert all(r["attempts"] == 2 and "timed out" in r["last_error"] for r in _event_rows(any_db))
    figures.faults += hung.failed

    # The transitions are all there, whole, whatever the listener did.
    lost = load.check_stored(any_db)
    assert lost == [], "\n".join(lost)
    assert rh.half_applied(any_db) == []

    files["mode"].write_text("ok")
    delivered = _dispatch(any_db, config, start + dt.timedelta(days=1), timeout=5)
    assert delivered.failed == 0 and delivered.gave_up == 0, delivered
    lines = files["deliveries"].read_text().splitlines()
    received = [line for line in lines if line.startswith("event:")]
    assert sorted(received) == sorted(events), "an event was lost or delivered twice"
    assert all(r["done_at"] is not None for r in _event_rows(any_db))
    again = _dispatch(any_db, config, start + dt.timedelta(days=2), timeout=5)
    assert again.due == 0 and files["deliveries"].read_text().splitlines() == lines
