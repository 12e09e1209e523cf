"""The outbox dispatcher: retries with backoff, time limits, per-target progress, never raises."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import datetime, timedelta

import pytest

from bianmin import notify, plugins
from bianmin.notify import Backoff, MemoryOutbox
from bianmin.plugins import ActionSpec, Config, hookimpl

NOW = datetime(2026, 3, 2, 9, 0)


class Counting:
    def __init__(self, failures: int = 0) -> None:
        self.failures, self.sent = failures, []

    def send(self, message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("gateway down")
        self.sent.append(message)


def with_plugin(*objects: object, **config: object) -> plugins.Plugins:
    """Built-ins plus ``objects`` registered as plugins p0, p1 ..."""
    import bianmin.builtins

    loaded = plugins.Plugins(Config(entry_points=False, **config))
    loaded.register(bianmin.builtins, "builtins", "built in")
    for number, plugin in enumerate(objects):
        loaded.register(plugin, f"p{number}", "test")
    return loaded.finish()


def channels(**named: object) -> object:
    class Channels:
        @hookimpl
        def register_channels(self):
            return named
    return Channels()


def dispatch(outbox, loaded, at=NOW, **options):
    options.setdefault("rng", random.Random(7))
    return asyncio.run(notify.dispatch_due(at, outbox=outbox, plugins=loaded, **options))


def test_a_failing_channel_is_retried_with_backoff_until_it_succeeds():
    flaky, steady = Counting(failures=2), Counting()
    loaded = with_plugin(channels(flaky=flaky, steady=steady))
    outbox = MemoryOutbox()
    row_id = outbox.add("notify", {"roles": ["clerk"], "message": "请办理", "channels": ["steady", "flaky"],
                                   "record": "SE-2026-000001", "timer": "promised_warning"}, NOW)

    report = dispatch(outbox, loaded)
    row = outbox.rows[row_id]
    assert (report.failed, row.attempts, row.done_at) == (1, 1, None)
    assert row.last_error == "channel:flaky: ConnectionError: gateway down"
    assert timedelta(seconds=24) <= row.next_attempt_at - NOW <= timedelta(seconds=36)  # 30 s ± 20 %
    assert row.payload["delivered"] == ["channel:steady"]

    assert dispatch(outbox, loaded, NOW + timedelta(seconds=20)).due == 0  # not before its time
    second = row.next_attempt_at
    dispatch(outbox, loaded, second)
    row = outbox.rows[row_id]
    assert row.attempts == 2 and timedelta(seconds=48) <= row.next_attempt_at - second <= timedelta(seconds=72)

    report = dispatch(outbox, loaded, row.next_attempt_at)
    row = outbox.rows[row_id]
    assert report.delivered == 1 and row.done_at is not None and row.last_error == ""
    assert len(steady.sent) == 1, "a channel that succeeded is not repeated by the retries"
    message = flaky.sent[0]
    assert (message.id, message.text, message.roles, message.case_id) == (str(row_id), "请办理", ("clerk",),
                                                                           "SE-2026-000001")
    assert dict(message.data) == {"timer": "promised_warning"}  # what the payload says besides


def test_a_hanging_channel_is_cut_off_by_the_time_limit():
    release = threading.Event()

    class Hanging:
        def send(self, message):
            release.wait(10)

    class AsyncHanging:
        async def send(self, message):
            await asyncio.sleep(10)

    loaded = with_plugin(channels(hang=Hanging(), ahang=AsyncHanging()))
    outbox = MemoryOutbox()
    outbox.add("notify", {"roles": ["clerk"], "message": "x", "channels": ["hang"]}, NOW)
    outbox.add("notify", {"roles": ["clerk"], "message": "x", "channels": ["ahang"]}, NOW)
    started = time.perf_counter()
    try:
        report = dispatch(outbox, loaded, timeout=0.2)
    finally:
        release.set()
    assert time.perf_counter() - started < 3
    assert report.failed == 2
    assert [r.last_error for r in outbox.rows.values()] == [
        "channel:hang: no answer within 0.2 s (timed out)", "channel:ahang: no answer within 0.2 s (timed out)"]


def test_after_the_last_attempt_a_row_is_given_up_and_listed_first():
    loaded = with_plugin(channels(down=Counting(failures=99)))
    outbox = MemoryOutbox()
    backoff = Backoff(max_attempts=3)
    dead = outbox.add("notify", {"roles": ["clerk"], "message": "y", "channels": ["down"]}, NOW)
    for day in range(3):
        dispatch(outbox, loaded, NOW + timedelta(days=day), backoff=backoff)
    later = outbox.add("notify", {"roles": ["clerk"], "message": "x", "channels": ["down"]}, NOW + timedelta(days=3))
    dispatch(outbox, loaded, NOW + timedelta(days=3), backoff=backoff)
    assert outbox.rows[dead].gave_up and outbox.rows[dead].attempts == 3
    assert not outbox.rows[later].gave_up
    assert dispatch(outbox, loaded, NOW + timedelta(days=60), backoff=backoff).due == 1  # `later` only
    failing = asyncio.run(notify.failing(outbox=outbox))
    assert [(r.id, r.gave_up) for r in failing] == [(dead, True), (later, False)]
    assert asyncio.run(notify.retry(dead, NOW + timedelta(days=61), outbox=outbox))
    assert outbox.rows[dead].next_attempt_at == NOW + timedelta(days=61)


def test_the_schedule_doubles_up_to_its_cap():
    assert Backoff().schedule()[:4] == [30, 60, 120, 240]
    assert Backoff(cap=100).schedule()[:4] == [30, 60, 100, 100]
    assert Backoff(max_attempts=2).delay(2) is None
    waits = {Backoff().delay(1, random.Random(n)).total_seconds() for n in range(20)}
    assert min(waits) >= 24 and max(waits) <= 36 and len(waits) > 1  # jitter spreads them


def test_event_listeners_are_retried_one_by_one():
    calls: list[str] = []

    class Good:
        @hookimpl
        def on_event(self, event):
            calls.append(f"good:{event.kind}")

    class Bad:
        failures = 1

        @hookimpl
        def on_event(self, event, config):
            if Bad.failures:
                Bad.failures -= 1
                raise RuntimeError("platform offline")
            calls.append(f"bad:{event.kind}")

    loaded = with_plugin(Good(), Bad())
    outbox = MemoryOutbox()
    row_id = outbox.add("event", {"id": "9", "case_id": "SE-1", "kind": "accept", "at": "2026-03-02T09:00:00"}, NOW)
    dispatch(outbox, loaded)
    assert outbox.rows[row_id].last_error == ("on_event:p1: PluginError: plugin 'p1': hook on_event failed: "
                                              "RuntimeError: platform offline")
    dispatch(outbox, loaded, NOW + timedelta(minutes=5))
    assert calls == ["good:accept", "bad:accept"] and outbox.rows[row_id].done_at is not None


def test_plugin_actions_are_delivered_from_the_outbox_and_other_kinds_left_alone():
    stamped = []

    class Stamp:
        @hookimpl
        def register_actions(self):
            return {"stamp": ActionSpec(deliver=stamped.append)}

    loaded = with_plugin(Stamp())
    outbox = MemoryOutbox()
    stamp = outbox.add("stamp", {"document": "receipt", "record": "SE-1"}, NOW)
    assign = outbox.add("assign", {"role": "clerk"}, NOW)
    report = dispatch(outbox, loaded)
    assert report.delivered == 1 and stamped == [{"document": "receipt", "record": "SE-1"}]
    assert outbox.rows[stamp].done_at is not None
    assert outbox.rows[assign].attempts == 0 and outbox.rows[assign].done_at is None


def test_a_channel_no_plugin_provides_fails_visibly_and_defaults_apply():
    default = Counting()
    loaded = with_plugin(channels(office=default), default_channels=("office",))
    outbox = MemoryOutbox()
    missing = outbox.add("notify", {"roles": ["clerk"], "message": "x", "channels": ["wechat"]}, NOW)
    plain = outbox.add("notify", {"roles": ["clerk"], "message": "y"}, NOW)
    dispatch(outbox, loaded)
    assert outbox.rows[missing].last_error == ("channel:wechat: LookupError: channel 'wechat' is not provided "
                                               "by any loaded plugin")
    assert outbox.rows[plain].done_at is not None and [m.text for m in default.sent] == ["y"]


def test_two_dispatchers_never_deliver_a_row_twice():
    slow = Counting()
    original = slow.send
    slow.send = lambda message: (time.sleep(0.05), original(message))  # type: ignore[method-assign]
    loaded = with_plugin(channels(slow=slow))
    outbox = MemoryOutbox()
    for n in range(6):
        outbox.add("notify", {"roles": ["clerk"], "message": str(n), "channels": ["slow"]}, NOW)

    async def both():
        return await asyncio.gather(*(notify.dispatch_due(NOW, outbox=outbox, plugins=loaded) for _ in range(2)))

    first, second = asyncio.run(both())
    assert first.delivered + second.delivered == 6 and first.skipped + second.skipped == 6
    assert sorted(m.text for m in slow.sent) == [str(n) for n in range(6)]


class BrokenOutbox(MemoryOutbox):
    async def failed(self, *args, **kwargs):
        raise OSError("disk full")


def test_the_dispatcher_never_raises_into_its_caller():
    class Unreadable(MemoryOutbox):
        async def due(self, *args):
            raise OSError("database is locked")

    loaded = with_plugin(channels(down=Counting(failures=1)))
    assert dispatch(Unreadable(), loaded).errors == 1
    outbox = BrokenOutbox()
    outbox.add("notify", {"roles": ["clerk"], "message": "x", "channels": ["down"]}, NOW)
    assert dispatch(outbox, loaded).errors == 1
    bad_payload = MemoryOutbox()
    row_id = bad_payload.add("event", {"id": "1", "at": "yesterday"}, NOW)
    assert dispatch(bad_payload, loaded).failed == 1
    assert "ValueError" in bad_payload.rows[row_id].last_error


@pytest.mark.parametrize("attempts, seconds", [(1, 30), (5, 480), (10, 15360), (11, 21600)])
def test_nominal_waits(attempts, seconds):
    assert Backoff().nominal(attempts) == seconds
