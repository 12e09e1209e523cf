"""`bianmin plugins`, `bianmin outbox`, and `bianmin check` loading the same plugins."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import pytest

from bianmin import plugins
from bianmin.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SEALED = FIXTURES / "policies" / "sealed"


@pytest.fixture
def process(monkeypatch, installed):
    """A fresh process's view: plugins loaded from the environment on first use, undone after."""
    monkeypatch.setenv("BIANMIN_HOME", str(FIXTURES))
    monkeypatch.delenv("BIANMIN_CONFIG", raising=False)
    monkeypatch.delenv("BIANMIN_PLUGINS", raising=False)
    with plugins.use_plugins(None):
        yield monkeypatch


def test_plugins_lists_what_each_plugin_provides(process, capsys):
    process.setenv("BIANMIN_PLUGINS", "civic_seal")
    assert main(["plugins", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in out["plugins"]][-1] == "civic_seal"
    civic = out["plugins"][-1]
    assert civic["provides"]["actions"] == ["stamp_seal"] and civic["hooks"] == [
        "extend_pack_schema", "on_event", "register_actions", "register_field_types", "register_guard_functions",
        "register_validators"]
    assert out["available"] == ["flaky_channel"] and out["config"] == "BIANMIN_PLUGINS"


def test_plugins_text_output(process, capsys):
    process.setenv("BIANMIN_PLUGINS", "civic_seal")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "civic_seal (" in out and "  actions: stamp_seal" in out and "  channels: log" in out
    assert "available, not enabled: flaky_channel" in out


def test_a_plugin_that_cannot_load_is_exit_status_2(process, capsys):
    process.setenv("BIANMIN_PLUGINS", "civic_seel")
    assert main(["plugins"]) == 2
    assert "plugin 'civic_seel' is enabled (BIANMIN_PLUGINS)" in capsys.readouterr().err


def test_check_loads_the_same_plugins(process, capsys):
    assert main(["check", str(SEALED)]) == 1
    assert "plugin 'civic_seal' provides it but is not loaded" in capsys.readouterr().out
    with plugins.use_plugins(None):
        process.setenv("BIANMIN_PLUGINS", "civic_seal")
        assert main(["check", str(SEALED)]) == 0


def test_a_config_file_enables_plugins_too(process, tmp_path, capsys):
    config = tmp_path / "server.yaml"
    config.write_text(f"plugins: [civic_seal]\nplugin_dirs: [{FIXTURES / 'plugins'}]\n", "utf-8")
    process.setenv("BIANMIN_CONFIG", str(config))
    assert main(["check", str(SEALED)]) == 0


def test_outbox_lists_failures_retries_and_dispatches(process, tmp_path, capsys):
    from bianmin import notify
    from bianmin.store import db
    from bianmin.store.records import enqueue

    url = f"sqlite://{tmp_path / 'bianmin.sqlite3'}"
    process.setenv("BIANMIN_PLUGINS", "flaky_channel")
    flaky = plugins.import_local("flaky_channel", plugins.Config(dirs=(FIXTURES / "plugins",)))
    flaky.FAILURES[0] = 1

    async def setup():
        await db.init_db(url)
        try:
            await enqueue(db.connection(), None, "notify", {"roles": ["clerk"], "message": "x", "channels": ["flaky"]},
                          datetime(2026, 1, 1), jurisdiction="sealed")
            await notify.dispatch_due(datetime(2026, 1, 1))
        finally:
            await db.close_db()

    try:
        asyncio.run(setup())
        assert main(["outbox", "--failed", "--db", url]) == 1
        out = capsys.readouterr().out
        assert out.startswith("#1 notify sealed attempts=1 next 2026-01-01 00:00:") and "gateway down" in out
        assert main(["outbox", "--failed", "--db", url, "--format", "json"]) == 1
        assert json.loads(capsys.readouterr().out)[0]["last_error"] == "channel:flaky: ConnectionError: gateway down"
        assert main(["outbox", "--retry", "1", "--db", url]) == 0
        assert main(["outbox", "--dispatch", "--db", url]) == 0
        assert "1 delivered" in capsys.readouterr().out
        assert main(["outbox", "--failed", "--db", url]) == 0
        assert main(["outbox", "--retry", "1", "--db", url]) == 1  # delivered: nothing to retry
    finally:
        flaky.FAILURES[0] = 0
