"""The plugin manager: discovery, validation at load (naming plugin and hook), registries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bianmin import builtins, plugins
from bianmin.plugins import Config, PluginError, hookimpl

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "broken_plugins"


def load_broken(name: str) -> plugins.Plugins:
    return plugins.load(Config(enabled=(name,), dirs=(BROKEN,), entry_points=False))


@pytest.mark.parametrize("name, message", [
    ("bad_argument", "plugin 'bad_argument': hook register_actions has an unknown argument 'bar'; "
                     "its arguments are: config"),
    ("typo_hook", "plugin 'typo_hook': unknown hook 'register_acions'; did you mean 'register_actions'?"),
    ("bad_return", "plugin 'bad_return': hook register_channels must return a mapping {name: channel}, not list"),
    ("steals_log", "plugin 'steals_log': hook register_channels: channel 'log' is already provided by plugin "
                   "'builtins'"),
    ("raises", "plugin 'raises': hook register_exporters failed: RuntimeError: no licence key"),
])
def test_a_broken_plugin_is_rejected_at_load_naming_plugin_and_hook(name, message):
    with pytest.raises(PluginError) as raised:
        load_broken(name)
    assert str(raised.value) == message


def test_pluggy_alone_would_also_refuse_the_unknown_argument():
    # The manager's own check words the message; pluggy's validation stays behind it.
    import pluggy

    manager = pluggy.PluginManager(plugins.PROJECT)
    manager.add_hookspecs(plugins)
    with pytest.raises(pluggy.PluginValidationError, match="bar"):
        manager.register(_BadArgument(), "bad")


class _BadArgument:
    @hookimpl
    def register_actions(self, config, bar):
        return {}


def test_implementations_may_take_a_subset_of_the_arguments(load_plugins):
    loaded = load_plugins("civic_seal")  # its hooks take no arguments at all
    assert loaded.provider("actions", "stamp_seal") == "civic_seal"
    assert loaded.field_types["seal_number"].schema["type"] == "string"


def test_an_optional_hook_for_an_unknown_spec_is_allowed():
    class Future:
        @hookimpl(optionalhook=True)
        def register_dashboards(self):
            return {}

    manager = plugins.Plugins(Config(entry_points=False))
    manager.register(Future(), "future", "test")
    manager.finish()
    assert "future" in manager.names()


@pytest.mark.parametrize("hook, name", [("register_guard_functions", "range"),
                                        ("register_template_filters", "length")])
def test_a_plugin_cannot_replace_jinjas_own_names(hook, name):
    plugin = type("Shadow", (), {hook: staticmethod(hookimpl(specname=hook)(lambda: {name: len}))})()
    manager = plugins.Plugins(Config(entry_points=False))
    manager.register(plugin, "shadow", "test")
    with pytest.raises(PluginError, match=f"'{name}' would replace Jinja2's own"):
        manager.finish()


def test_registries_know_their_provider_and_describe_lists_them(load_plugins):
    loaded = load_plugins("civic_seal", "dev_outbox")
    assert loaded.names() == ["builtins", "civic_seal", "dev_outbox"]
    assert set(loaded.channels) == {"log", "dev_outbox"}
    civic = next(p for p in loaded.describe() if p["name"] == "civic_seal")
    assert civic["provides"] == {"field_types": ["seal_number"], "validators": ["seal_number"],
                                 "guard_functions": ["seal_valid"], "actions": ["stamp_seal"],
                                 "pack_schemas": ["civic_seal"]}
    assert civic["origin"].endswith("civic_seal.py")
    assert set(loaded.available()) == {"csv_export", "flaky_channel", "sms", "webhook"}


def test_the_builtins_declare_the_interpreters_actions_as_it_knows_them():
    from bianmin.workflow import registered_actions

    interpreter = {n: s.ref for n, s in registered_actions().items() if s.run.__module__.startswith("bianmin.workflow")}
    declared = {n: next(iter(s.refers.items()), None) for n, s in builtins.ACTIONS.items()}
    assert declared == interpreter


def test_an_enabled_plugin_that_does_not_exist_suggests_the_closest(load_plugins):
    with pytest.raises(PluginError, match="plugin 'webhok' is enabled .* did you mean 'webhook'"):
        load_plugins("webhok")


# --- discovery ---------------------------------------------------------------------------------

def test_installed_packages_are_found_through_their_entry_point(tmp_path, monkeypatch):
    (tmp_path / "bianmin_hello.py").write_text(
        "from bianmin.plugins import hookimpl\n\n"
        "class Hello:\n    def export(self, events, out):\n        out.write(b'hello')\n\n"
        "@hookimpl\ndef register_exporters():\n    return {'hello': Hello()}\n", "utf-8")
    info = tmp_path / "bianmin_hello-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bianmin-hello\nVersion: 1.2\n", "utf-8")
    (info / "entry_points.txt").write_text("[bianmin]\nhello = bianmin_hello\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = plugins.load(Config())
    assert loaded.provider("exporters", "hello") == "hello"
    described = next(p for p in loaded.describe() if p["name"] == "hello")
    assert (described["origin"], described["version"]) == ("bianmin-hello (entry point)", "1.2")


def test_the_environment_variable_replaces_the_config_files_list(tmp_path):
    (tmp_path / "bianmin.yaml").write_text(
        "plugins: [sms]\nplugin_dirs: [extra]\ndefault_channels: [dev_outbox]\n"
        "plugin_settings:\n  sms: {sign: 某中心}\n", "utf-8")
    from_file = plugins.load_config({"BIANMIN_HOME": str(tmp_path)})
    assert from_file.enabled == ("sms",) and from_file.file == tmp_path / "bianmin.yaml"
    assert from_file.source == str(from_file.file)
    assert from_file.dirs == (tmp_path / "extra", tmp_path / "plugins")
    assert from_file.default_channels == ("dev_outbox",)
    assert from_file.settings("sms")["sign"] == "某中心" and from_file.settings("webhook") == {}
    from_env = plugins.load_config({"BIANMIN_HOME": str(tmp_path), "BIANMIN_PLUGINS": "webhook, dev_outbox"})
    assert (from_env.enabled, from_env.source) == (("webhook", "dev_outbox"), "BIANMIN_PLUGINS")
    assert plugins.load_config({"BIANMIN_HOME": str(tmp_path / "empty")}).file is None


def test_a_bad_config_file_is_reported_at_its_line(tmp_path):
    path = tmp_path / "server.yaml"
    path.write_text("plugins: [sms]\nplugins: [webhook]\n", "utf-8")
    with pytest.raises(PluginError, match=r"server.yaml:2:1: .*'plugins' appears twice"):
        plugins.load_config({"BIANMIN_CONFIG": str(path)})
    path.write_text("plugins: sms\n", "utf-8")
    with pytest.raises(PluginError, match="plugins: expected a list of plugin names"):
        plugins.load_config({"BIANMIN_CONFIG": str(path)})


# --- installing into the engine ----------------------------------------------------------------

def test_installed_plugins_reach_the_guards_and_the_interpreter(load_plugins, installed, compiler):
    from bianmin.workflow import Actor, TransitionError, fire, start, submission

    loaded = installed(load_plugins("civic_seal"))
    with plugins.use_plugins(loaded):
        pack = compiler.compile(FIXTURES / "policies" / "sealed")
    clerk = Actor("u1", "张三", frozenset({"clerk"}))
    now = dt.datetime(2026, 3, 2, 9, 0)
    started = start(pack, "case", subject={"number": "S-1"}, actor=clerk, data={"name": "李四"}, now=now)
    with pytest.raises(TransitionError, match="不满足.*seal_valid"):  # false, not "cannot be computed"
        fire(started.instance, "accept", actor=clerk, data={"seal": "12"}, now=now)
    outcome = fire(started.instance, "accept", actor=clerk, data={"seal": "3201000000001"}, now=now)
    assert [e.action for e in outcome.effects][:3] == ["issue_document", "stamp_seal", "notify"]
    assert dict(outcome.effects[1].args) == {"document": "receipt"}
    # The plugin's field type: the `seal` form of record_seal is checked by the plugin's validator.
    sealed = FIXTURES / "policies"
    submission.use_forms_dirs(lambda pack: [sealed / p / "forms" for p in reversed(pack.lineage)])
    try:
        with plugins.use_plugins(loaded):
            with pytest.raises(TransitionError, match="“用印”填写有误: 印章编码: 校验位不正确"):
                fire(outcome.instance, "record_seal", actor=clerk, data={"seal": "3201000000001"}, now=now)
            recorded = fire(outcome.instance, "record_seal", actor=clerk, data={"seal": "3201000000008"}, now=now)
    finally:
        submission.use_forms_dirs(None)
    assert recorded.instance.events[-1].data == {"seal": "3201000000008"}
