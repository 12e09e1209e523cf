"""The webhook plugin against a receiver on 127.0.0.1 that checks every signature."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from bianmin import notify, plugins
from bianmin.notify import MemoryOutbox
from bianmin.plugins import Event, Message, PluginError

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-共享"


class Receiver(ThreadingHTTPServer):
    """Answers with the next of ``statuses`` (then 200); keeps what arrived and whether it verified."""

    def __init__(self, webhook) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.webhook = webhook
        self.statuses: list[int] = []
        self.received: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = self.server.webhook.verify(SECRET, body, self.headers.get("X-Bianmin-Signature"),
                                        self.headers.get("X-Bianmin-Timestamp"))
        self.server.received.append({"body": body, "headers": dict(self.headers), "verified": ok})
        status = self.server.statuses.pop(0) if self.server.statuses else (200 if ok else 401)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    webhook = plugins.import_local("webhook", plugins.Config(dirs=(ROOT / "plugins",)))
    server = Receiver(webhook)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def webhook_plugins(load_plugins, receiver, monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    return load_plugins("webhook", webhook={"url": receiver.url, "secret_env": "TEST_WEBHOOK_SECRET",
                                            "timeout": 3, "use_proxy": False})


def test_a_message_arrives_signed(webhook_plugins, receiver):
    webhook_plugins.channels["webhook"].send(Message(id="41", text="请于3日内补正", roles=("clerk",), case_id="JY-1"))
    arrived, = receiver.received
    assert arrived["verified"]
    assert arrived["headers"]["X-Bianmin-Delivery"] == "41"
    assert arrived["headers"]["X-Bianmin-Signature"].startswith("sha256=")
    assert arrived["headers"]["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(arrived["body"].decode("utf-8"))
    assert document["type"] == "message" and document["message"]["text"] == "请于3日内补正"


def test_a_receiver_rejects_tampering_replay_and_the_wrong_secret(webhook_plugins, receiver):
    webhook = receiver.webhook
    webhook_plugins.channels["webhook"].send(Message(id="1", text="x"))
    arrived, = receiver.received
    body, signature = arrived["body"], arrived["headers"]["X-Bianmin-Signature"]
    stamp = arrived["headers"]["X-Bianmin-Timestamp"]
    assert webhook.verify(SECRET, body, signature, stamp)
    assert not webhook.verify(SECRET, body.replace(b'"x"', b'"y"'), signature, stamp)
    assert not webhook.verify("other", body, signature, stamp)
    assert not webhook.verify(SECRET, body, signature, str(int(stamp) + 1))  # the timestamp is signed too
    assert not webhook.verify(SECRET, body, signature, stamp, now=int(stamp) + 301)  # a replay, later
    assert webhook.verify(SECRET, body, signature, stamp, now=int(stamp) + 299)
    assert not webhook.verify(SECRET, body, None, stamp)


def test_committed_events_are_posted_when_enabled(webhook_plugins, receiver):
    event = Event(id="7", case_id="JY-1", kind="accept", at=dt.datetime(2026, 3, 2, 9, 30), to_state="accepted")
    (plugin, listener), = webhook_plugins.event_listeners()
    listener(event)
    arrived, = receiver.received
    assert plugin == "webhook" and arrived["verified"] and arrived["headers"]["X-Bianmin-Delivery"] == "event-7"
    assert json.loads(arrived["body"])["event"]["at"] == "2026-03-02T09:30:00"


@pytest.mark.parametrize("status", [500, 302, 401])
def test_anything_but_2xx_is_a_failure(webhook_plugins, receiver, status):
    receiver.statuses.append(status)
    with pytest.raises(ConnectionError, match=f"answered {status}"):
        webhook_plugins.channels["webhook"].send(Message(id="1", text="x"))


def test_the_outbox_retries_with_the_same_delivery_id(webhook_plugins, receiver):
    receiver.statuses.append(503)
    outbox = MemoryOutbox()
    now = dt.datetime(2026, 3, 2, 9, 0)
    row_id = outbox.add("notify", {"roles": ["clerk"], "message": "x", "channels": ["webhook"]}, now)
    asyncio.run(notify.dispatch_due(now, outbox=outbox, plugins=webhook_plugins))
    assert "answered 503" in outbox.rows[row_id].last_error
    asyncio.run(notify.dispatch_due(now + dt.timedelta(hours=1), outbox=outbox, plugins=webhook_plugins))
    assert outbox.rows[row_id].done_at is not None
    assert [r["headers"]["X-Bianmin-Delivery"] for r in receiver.received] == [str(row_id)] * 2


def test_a_receiver_that_does_not_answer_is_cut_off(load_plugins, monkeypatch):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        loaded = load_plugins("webhook", webhook={"url": f"http://127.0.0.1:{silent.getsockname()[1]}/",
                                                  "secret": SECRET, "timeout": 0.3, "use_proxy": False})
        started = time.perf_counter()
        with pytest.raises(OSError):
            loaded.channels["webhook"].send(Message(id="1", text="x"))
        assert time.perf_counter() - started < 3
    finally:
        silent.close()


@pytest.mark.parametrize("settings, words", [
    ({}, "url must be an http:// or https:// address"),
    ({"url": "http://127.0.0.1:9/"}, "needs `secret_env` (or `secret`)"),
    ({"url": "http://127.0.0.1:9/", "secret_env": "UNSET_WEBHOOK_SECRET"}, "UNSET_WEBHOOK_SECRET"),
])
def test_missing_settings_fail_at_load_naming_plugin_and_hook(load_plugins, settings, words, monkeypatch):
    monkeypatch.delenv("UNSET_WEBHOOK_SECRET", raising=False)
    with pytest.raises(PluginError, match="plugin 'webhook': hook register_channels failed") as raised:
        load_plugins("webhook", webhook=settings)
    assert words in str(raised.value)
