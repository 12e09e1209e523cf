"""docs/plugins.md documents every hook with its arguments, every setting, command option and
first-party plugin, the backoff schedule the code uses; and its tutorial plugin works."""

from __future__ import annotations

import inspect
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bianmin import plugins
from bianmin.notify import Backoff

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"


def text() -> str:
    return DOC.read_text("utf-8")


def hookspecs() -> dict[str, list[str]]:
    """Every hook specification of bianmin.plugins, with its arguments."""
    found = {}
    for name, function in inspect.getmembers(plugins, inspect.isfunction):
        if getattr(function, f"{plugins.PROJECT}_spec", None) is not None:
            found[name] = list(inspect.signature(function).parameters)
    return found


def test_the_hook_scan_finds_the_specs():
    specs = hookspecs()
    assert len(specs) == 10 and specs["on_event"] == ["event", "config"]
    assert sorted(specs) == sorted(plugins.HOOKS), "HOOKS (used for 'did you mean') lists every hook"


@pytest.mark.parametrize("hook", sorted(hookspecs()))
def test_every_hook_is_documented_with_its_arguments(hook):
    arguments = hookspecs()[hook]
    heading = f"### `{hook}({', '.join(arguments)})`"
    assert heading in text(), f"docs/plugins.md needs a section {heading}"
    docstring = inspect.getdoc(getattr(plugins, hook)) or ""
    summary, *rest = docstring.splitlines()
    assert summary.endswith(".") and len(summary) <= 110, f"{hook}: a one-line docstring summary"
    for argument in arguments:
        assert any(line.strip().startswith(f"{argument}:") for line in rest), f"{hook}: document {argument!r}"


def test_every_config_key_and_variable_is_documented():
    source = inspect.getsource(plugins.load_config)
    keys = set(re.findall(r'raw\.get\("(\w+)"', source))
    variables = set(re.findall(r'env(?:\.get\(|\[)"(\w+)"', source))
    assert {"plugins", "plugin_settings"} <= keys and "BIANMIN_PLUGINS" in variables
    missing = [k for k in sorted(keys) if f"\n{k}:" not in text()] + [v for v in sorted(variables) if f"`{v}" not in text()]
    assert not missing, f"not in docs/plugins.md: {missing}"


def test_every_command_option_is_documented():
    from bianmin.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in ("plugins", "outbox"):
        options = [o for a in sub.choices[command]._actions for o in a.option_strings if o.startswith("--")]
        usage = next(line for line in text().splitlines() if line.startswith(f"bianmin {command} "))
        missing = [o for o in options if o not in usage and o != "--help"]
        assert not missing, f"`bianmin {command}` options missing from its usage line in the doc: {missing}"


def test_every_first_party_plugin_has_a_section():
    names = [p.stem if p.suffix == ".py" else p.name for p in (ROOT / "plugins").iterdir()
             if p.suffix == ".py" or (p / "__init__.py").is_file()]
    assert sorted(names) == ["csv_export", "dev_outbox", "sms", "webhook"]
    missing = [n for n in names if f"### `{n}`" not in text()]
    assert not missing, f"first-party plugins without a section in docs/plugins.md: {missing}"


def _duration(words: str) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+) (h|min|s)\b", words):
        total += int(number) * {"h": 3600, "min": 60, "s": 1}[unit]
    return total


def test_the_backoff_table_is_the_schedule_the_code_uses():
    row = next(line for line in text().splitlines() if line.startswith("| next attempt after |"))
    cells = [c.strip() for c in row.strip("|").split("|")][1:]
    assert cells[-1] == "given up" and len(cells) == Backoff().max_attempts
    assert [_duration(c) for c in cells[:-1]] == Backoff().schedule()


# --- the tutorial ------------------------------------------------------------------------------

def tutorial_plugin() -> str:
    parts = re.findall(r"```python\n# plugins/wecom\.py \(part \d\)\n(.*?)```", text(), re.S)
    assert len(parts) == 2, "the tutorial shows plugins/wecom.py in two parts"
    return "\n\n".join(parts)


class Robot(BaseHTTPRequestHandler):
    answers: list[dict] = []
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        Robot.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = json.dumps(Robot.answers.pop(0) if Robot.answers else {"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_the_tutorial_plugin_loads_and_works(tmp_path, monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    (tmp_path / "wecom.py").write_text(tutorial_plugin(), "utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        loaded = plugins.load(plugins.Config(
            enabled=("wecom",), dirs=(tmp_path,), entry_points=False,
            plugin_settings={"wecom": {"url": f"http://127.0.0.1:{server.server_address[1]}/", "timeout": 3}}))
        assert loaded.guard_functions["mainland_mobile"]("13800000000")
        assert not loaded.guard_functions["mainland_mobile"]("0510-1234567")
        loaded.channels["wecom"].send(plugins.Message(id="1", text="请尽快办理"))
        assert Robot.received[-1] == {"msgtype": "text", "text": {"content": "请尽快办理"}}
        Robot.answers.append({"errcode": 93000, "errmsg": "invalid webhook url"})
        with pytest.raises(ConnectionError, match="invalid webhook url"):
            loaded.channels["wecom"].send(plugins.Message(id="2", text="x"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    with pytest.raises(plugins.PluginError, match="plugin 'wecom': hook register_channels failed: ValueError"):
        plugins.load(plugins.Config(enabled=("wecom",), dirs=(tmp_path,), entry_points=False))


def test_every_field_of_the_field_type_is_documented():
    import dataclasses

    table = text().split("**`FieldType`** fields", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `(\w+)` \|", table, re.M)
    assert documented == [f.name for f in dataclasses.fields(plugins.FieldType)]
    for key in plugins.PLAIN_KEYS:
        assert f"`{key}`" in table
