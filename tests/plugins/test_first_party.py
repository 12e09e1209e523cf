"""The first-party plugins of plugins/: sms, csv_export and dev_outbox."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from bianmin import notify, plugins
from bianmin.notify import MemoryOutbox
from bianmin.plugins import Event, Message, PluginError

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 3, 2, 9, 0)


def first_party(name: str):
    return plugins.import_local(name, plugins.Config(dirs=(ROOT / "plugins",)))


# --- sms ---------------------------------------------------------------------------------------

def sms_channel(load_plugins, **settings):
    return load_plugins("sms", sms={"provider": "fake", "sign": "江阴市政务服务中心",
                                    "role_phones": {"window_head": ["13800000001", "13800000002"]}, **settings}
                        ).channels["sms"]


def test_sms_goes_to_the_role_phones_through_the_provider(load_plugins):
    channel = sms_channel(load_plugins)
    channel.send(Message(id="5", text="办件即将超过承诺时限", roles=("window_head",)))
    assert [(phone, text) for phone, text, _ in channel.provider.sent] == [
        ("13800000001", "【江阴市政务服务中心】办件即将超过承诺时限"),
        ("13800000002", "【江阴市政务服务中心】办件即将超过承诺时限")]
    channel.send(Message(id="6", text="x", roles=("window_head",), recipients=("13900000009", "u17")))
    assert channel.provider.sent[-1][0] == "13900000009"  # recipients the engine resolved come first


def test_sms_retry_after_a_partial_failure_texts_nobody_twice(load_plugins):
    channel = sms_channel(load_plugins)
    channel.provider.fail_next = 0
    original = channel.provider.send
    calls = []

    def second_fails(phone, text):
        calls.append(phone)
        if len(calls) == 2:
            raise ConnectionError("gateway busy")
        return original(phone, text)

    channel.provider.send = second_fails
    message = Message(id="8", text="x", roles=("window_head",))
    with pytest.raises(ConnectionError):
        channel.send(message)
    channel.send(message)
    assert calls == ["13800000001", "13800000002", "13800000002"]


def test_sms_templates_are_sandboxed_and_strict(load_plugins):
    channel = sms_channel(load_plugins, template="{{ sign }}: {{ message.text }} {{ message.data.due | cn_date }}")
    message = Message(id="1", text="请补正", roles=("window_head",), data={"due": "2026-03-05"})
    assert channel.text(message) == "江阴市政务服务中心: 请补正 2026年3月5日"
    escaping = sms_channel(load_plugins, template="{{ message.__class__.__init__.__globals__ }}")
    with pytest.raises(Exception, match="unsafe|__class__|attribute"):
        escaping.text(message)
    missing = sms_channel(load_plugins, template="{{ message.nothing_here }}")
    with pytest.raises(Exception, match="nothing_here"):
        missing.text(message)
    text_not_html = sms_channel(load_plugins, template="{{ message.text }}")
    assert text_not_html.text(Message(id="1", text="A & B <办结>")) == "A & B <办结>"


def test_sms_without_any_number_fails_visibly(load_plugins):
    channel = sms_channel(load_plugins)
    with pytest.raises(LookupError, match="no mobile number for roles clerk"):
        channel.send(Message(id="1", text="x", roles=("clerk",)))


def test_sms_settings_are_checked_at_load(load_plugins):
    with pytest.raises(PluginError, match="plugin 'sms': hook register_channels failed: .*unexpected"):
        sms_channel(load_plugins, template="{{ message.text ")
    with pytest.raises(PluginError, match="write `fake` or `module:factory`"):
        sms_channel(load_plugins, provider="aliyun")


def test_sms_provider_protocol_is_what_the_fake_implements():
    providers = plugins.import_local("sms", plugins.Config(dirs=(ROOT / "plugins",))).providers
    fake: providers.SmsProvider = providers.FakeSmsProvider()
    assert fake.send("13800000001", "x") == "fake-1"
    fake.fail_next = 1
    with pytest.raises(ConnectionError):
        fake.send("13800000001", "x")


# --- csv_export --------------------------------------------------------------------------------

EVENTS = [
    Event(id="1", case_id="JY-2026-000001", kind="start", at=dt.datetime(2026, 3, 2, 9, 0, 5), pack_id="jiangyin",
          pack_version="2012.1", to_state="received", actor="u1", data={"applicant_name": "李四"}),
    Event(id="2", case_id="JY-2026-000001", kind="accept", at=dt.datetime(2026, 3, 2, 9, 30), pack_id="jiangyin",
          pack_version="2012.1", from_state="received", to_state="accepted", actor="u1",
          data={"note": "=HYPERLINK(\"http://x\")"}),
]


def export(load_plugins, **settings) -> bytes:
    exporter = load_plugins("csv_export", csv_export=settings).exporters["csv"]
    out = io.BytesIO()
    exporter.export(EVENTS, out)
    assert not out.closed
    return out.getvalue()


def test_csv_is_utf8_with_bom_and_the_documented_columns(load_plugins):
    data = export(load_plugins)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["id", "case_id", "kind", "at", "pack_id", "pack_version", "from_state", "to_state", "actor",
                       "data"]
    assert rows[1] == ["1", "JY-2026-000001", "start", "2026-03-02 09:00:05", "jiangyin", "2012.1", "", "received",
                       "u1", '{"applicant_name": "李四"}']
    documented = first_party("csv_export").__doc__
    assert all(f"\n{key} " in documented for key in rows[0]), "every column is documented in the module"


def test_csv_labels_and_formula_guard(load_plugins):
    rows = list(csv.reader(io.StringIO(export(load_plugins, header="labels").decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["事件编号", "办件编号", "环节"]
    guarded = list(csv.reader(io.StringIO(export(load_plugins).decode("utf-8-sig"), newline="")))
    assert guarded[2][9].startswith('{"note"')  # JSON starts with {, safe as it is
    risky = Event(id="3", case_id="=cmd|' /C calc'!A0", kind="x", at=NOW)
    exporter = load_plugins("csv_export").exporters["csv"]
    out = io.BytesIO()
    exporter.export([risky], out)
    assert "'=cmd" in out.getvalue().decode("utf-8-sig")
    with pytest.raises(PluginError, match="header is 'chinese'"):
        export(load_plugins, header="chinese")


# --- dev_outbox --------------------------------------------------------------------------------

def test_dev_outbox_keeps_messages_and_events_pageable(load_plugins, tmp_path):
    loaded = load_plugins("dev_outbox", dev_outbox={"path": str(tmp_path / "dev.jsonl")})
    outbox = MemoryOutbox()
    for n in range(3):
        outbox.add("notify", {"roles": ["clerk"], "message": f"第{n}条", "channels": ["dev_outbox"]}, NOW)
    outbox.add("event", EVENTS[1].as_json(), NOW)
    report = asyncio.run(notify.dispatch_due(NOW, outbox=outbox, plugins=loaded, concurrency=1))
    assert report.delivered == 4
    channel = loaded.channels["dev_outbox"]
    page, total = channel.page(1, size=2)
    assert total == 4 and [e["type"] for e in page] == ["event", "message"]
    assert channel.page(2, size=2)[0][1]["text"] == "第0条"
    lines = (tmp_path / "dev.jsonl").read_text("utf-8").splitlines()
    assert json.loads(lines[0])["text"] == "第0条"


def test_dev_outbox_path_is_relative_to_the_home(load_plugins):
    loaded = load_plugins("dev_outbox")
    assert loaded.channels["dev_outbox"].path == loaded.config.home / "var" / "dev_outbox.jsonl"
