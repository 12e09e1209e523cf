"""Through the store on SQLite: a transition commits whatever its notifications do afterwards."""

from __future__ import annotations

import asyncio
import importlib
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bianmin import notify, plugins
from bianmin.packs import Compiler, Registry
from bianmin.store import db, open_record, transition
from bianmin.workflow import Actor

FIXTURES = Path(__file__).parent / "fixtures"
LOCAL = FIXTURES / "plugins"
NOW = datetime(2026, 3, 2, 9, 0)
CLERK = Actor("u1", "张三", frozenset({"clerk"}))


@pytest.fixture
def flaky_world(installed):
    """civic_seal and flaky_channel loaded and installed; notifications go to `flaky`."""
    loaded = installed(plugins.load(plugins.Config(enabled=("civic_seal", "flaky_channel"), dirs=(LOCAL,),
                                                   default_channels=("flaky",), entry_points=False)))
    flaky = importlib.import_module(f"{plugins.LOCAL_PACKAGE}.flaky_channel")
    seal = importlib.import_module(f"{plugins.LOCAL_PACKAGE}.civic_seal")
    flaky.SENT.clear()
    seal.STAMPED.clear()
    seal.HEARD.clear()
    with plugins.use_plugins(loaded):
        registry, problems = Registry.load(FIXTURES / "policies", Compiler(FIXTURES / "policies"))
    assert not problems, problems
    yield loaded, registry, flaky, seal
    flaky.FAILURES[0] = 0


def run(coroutine_function, url):
    async def main():
        await db.init_db(url)
        try:
            return await coroutine_function()
        finally:
            await db.close_db()
    return asyncio.run(main())


def test_a_failing_channel_never_affects_the_committed_transition(flaky_world, tmp_path):
    loaded, registry, flaky, seal = flaky_world
    flaky.FAILURES[0] = 2
    url = f"sqlite://{tmp_path / 'bianmin.sqlite3'}"
    rng = random.Random(3)

    async def scenario():
        opened = await open_record("sealed", "case", {"applicant_name": "李四"}, CLERK, {"name": "李四"}, NOW,
                                   registry=registry)
        number = opened.record.number
        moved = await transition("sealed", number, "accept", CLERK, {"seal": "3201000000001"}, NOW,
                                 registry=registry)
        assert moved.record.state == "accepted" and len(moved.outbox) == 2  # stamp_seal, notify
        assert flaky.SENT == [] and seal.STAMPED == []  # nothing ran inside the transaction

        first = await notify.dispatch_due(NOW, plugins=loaded, rng=rng)
        failing = await notify.failing()
        rows = await db.fetch(db.connection(), "SELECT state, version FROM records WHERE number = ?", [number])
        events = await db.fetch(db.connection(), "SELECT transition FROM events ORDER BY seq")
        second = await notify.dispatch_due(NOW + timedelta(minutes=1), plugins=loaded, rng=rng)
        third = await notify.dispatch_due(NOW + timedelta(minutes=5), plugins=loaded, rng=rng)
        left = await notify.pending()
        return number, first, failing, rows, events, second, third, left

    number, first, failing, rows, events, second, third, left = run(scenario, url)
    # the two events (heard by civic_seal's on_event) and the stamp delivered; the notification not
    assert (first.delivered, first.failed) == (3, 1)
    assert rows == [{"state": "accepted", "version": 2}]
    assert [e["transition"] for e in events] == ["start", "accept"]
    row, = failing
    assert (row.kind, row.attempts, row.jurisdiction) == ("notify", 1, "sealed")
    assert row.last_error == "channel:flaky: ConnectionError: gateway down"
    assert NOW + timedelta(seconds=24) <= row.next_attempt_at <= NOW + timedelta(seconds=36)
    assert (second.failed, third.delivered, left) == (1, 1, [])
    assert [m.text for m in flaky.SENT] == ["回执已用印"] and flaky.SENT[0].case_id == number
    assert seal.STAMPED[0]["document"] == "receipt" and seal.STAMPED[0]["record"] == number
    # on_event heard each committed event once, from the outbox, after the commit
    assert seal.HEARD == [(number, "start"), (number, "accept")]


def test_the_admin_list_and_retry_work_on_the_table(flaky_world, tmp_path):
    loaded, registry, flaky, _ = flaky_world
    flaky.FAILURES[0] = 99
    url = f"sqlite://{tmp_path / 'bianmin.sqlite3'}"

    async def scenario():
        opened = await open_record("sealed", "case", {}, CLERK, {"name": "李四"}, NOW, registry=registry)
        await transition("sealed", opened.record.number, "accept", CLERK, {"seal": "3201000000001"}, NOW,
                         registry=registry)
        backoff = notify.Backoff(max_attempts=2)
        await notify.dispatch_due(NOW, plugins=loaded, backoff=backoff)
        await notify.dispatch_due(NOW + timedelta(hours=1), plugins=loaded, backoff=backoff)
        given_up = await notify.failing()
        retried = await notify.retry(given_up[0].id, NOW + timedelta(hours=2))
        due = await notify.dispatch_due(NOW + timedelta(hours=2), plugins=loaded, backoff=backoff)
        return given_up, retried, due

    given_up, retried, due = run(scenario, url)
    assert [(r.kind, r.attempts, r.gave_up) for r in given_up] == [("notify", 2, True)]
    assert retried and due.due == 1
