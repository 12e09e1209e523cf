"""A pack names what plugins provide: it checks clean with them, and without them every use
fails with the place and the plugin that would provide it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bianmin import plugins
from bianmin.packs import PackError

FIXTURES = Path(__file__).parent / "fixtures"

SEALED = FIXTURES / "policies" / "sealed"


def problems_of(compiler, loaded, folder=SEALED):
    with plugins.use_plugins(loaded):
        _, problems = compiler.try_compile(folder)
    return problems


def test_the_pack_checks_clean_with_the_plugin(compiler, load_plugins):
    loaded = load_plugins("civic_seal")
    with plugins.use_plugins(loaded):
        pack = compiler.compile(SEALED)
    accept = next(t for t in pack.workflow("case").transitions if t.id == "accept")
    assert [a.do for a in accept.actions] == ["issue_document", "stamp_seal", "notify"]
    assert pack.workflow("case").transitions[-1].form == "seal"
    assert accept.guard == "seal_valid(data.seal)"


def test_without_the_plugin_each_use_names_the_plugin(compiler, load_plugins):
    problems = problems_of(compiler, load_plugins())
    found = {(Path(p.mark.file).name, p.mark.line, p.rule): p.message for p in problems}
    assert set(found) == {
        ("pack.yaml", 10, "plugin-missing"),  # plugins: civic_seal
        ("pack.yaml", 19, "dangling-reference"),  # guard: seal_valid(...)
        ("pack.yaml", 22, "dangling-reference"),  # do: stamp_seal
        ("seal.yaml", 4, "dangling-reference"),  # type: seal_number
    }, "\n".join(map(str, problems))
    for message in found.values():
        assert "plugin 'civic_seal'" in message and "BIANMIN_PLUGINS=civic_seal" in message
    assert "action 'stamp_seal' is not defined" in found[("pack.yaml", 22, "dangling-reference")]
    assert "function 'seal_valid' (called in guard) is not defined" in found[("pack.yaml", 19, "dangling-reference")]
    assert "field type 'seal_number' (form 'seal') is not defined" in found[("seal.yaml", 4, "dangling-reference")]


def test_a_plugin_nowhere_to_be_found_is_named_as_not_loaded(compiler, load_plugins):
    problems = problems_of(compiler, load_plugins(dirs=()))
    action = next(p for p in problems if "stamp_seal" in p.message)
    assert "is not defined by the engine or any loaded plugin" in action.message
    settings = next(p for p in problems if p.rule == "plugin-missing")
    assert "`plugins: civic_seal` configures a plugin that is not loaded" in settings.message


def copy_sealed(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(FIXTURES / "policies", tmp_path / "policies")
    pack = tmp_path / "policies" / "sealed" / "pack.yaml"
    text = pack.read_text("utf-8")
    assert old in text
    pack.write_text(text.replace(old, new), "utf-8")
    return pack.parent


def test_plugin_settings_are_checked_against_the_plugins_schema(compiler, load_plugins, tmp_path):
    folder = copy_sealed(tmp_path, "{issuer: 用印县政务服务中心}", "{issuer: 5, colour: red}")
    problems = problems_of(compiler, load_plugins("civic_seal"), folder)
    assert sorted((p.mark.line, p.mark.column, p.rule) for p in problems) == [
        (10, 24, "wrong-type"), (10, 27, "unknown-key")], "\n".join(map(str, problems))
    assert "plugins.civic_seal.issuer must be text" in str(problems)


def test_an_unknown_channel_is_reported_with_the_plugin_that_has_it(compiler, load_plugins, tmp_path):
    folder = copy_sealed(tmp_path, "message: 回执已用印}", "message: 回执已用印, channels: [log, sms, webhook, wechat]}")
    problems = problems_of(compiler, load_plugins("civic_seal"), folder)
    assert [(p.mark.line, p.rule) for p in problems] == [(23, "dangling-reference")] * 3
    sms, webhook, wechat = problems
    assert "channel 'sms' is not defined; plugin 'sms' provides it but is not loaded" in sms.message
    # webhook cannot register its channel without settings: named after its module instead
    assert "channel 'webhook' is not defined; plugin 'webhook' provides it" in webhook.message
    assert "channel 'wechat' is not defined by the engine or any loaded plugin; known: log" in wechat.message


def test_a_plugin_that_fails_to_load_is_one_problem_not_a_crash(compiler, monkeypatch):
    monkeypatch.setenv("BIANMIN_PLUGINS", "no_such_plugin")
    with plugins.use_plugins(None):
        with pytest.raises(PackError) as raised:
            compiler.compile(SEALED)
    problem, = raised.value.problems
    assert problem.rule == "plugin-error"
    assert "plugin 'no_such_plugin' is enabled (BIANMIN_PLUGINS) but is not installed" in problem.message


def test_required_arguments_come_from_the_action_spec(compiler, load_plugins, tmp_path):
    folder = copy_sealed(tmp_path, "{do: stamp_seal, with: {document: receipt}}", "{do: stamp_seal}")
    problems = problems_of(compiler, load_plugins("civic_seal"), folder)
    assert [(p.rule, p.message) for p in problems] == [
        ("action-argument", "action 'stamp_seal' needs `with: {document: ...}`")]


def test_action_arguments_may_name_forms_and_a_bad_section_is_the_plugins_fault(compiler, tmp_path):
    import bianmin.builtins
    from bianmin.plugins import ActionSpec, Config, hookimpl

    class Printing:
        @hookimpl
        def register_actions(self):
            return {"print_form": ActionSpec(refers={"form": "forms"}),
                    "odd": ActionSpec(refers={"x": "nonsense"})}

    loaded = plugins.Plugins(Config(entry_points=False))
    loaded.register(bianmin.builtins, "builtins", "built in")
    loaded.register(Printing(), "printing", "test")
    loaded.finish()
    folder = copy_sealed(tmp_path, "{do: stamp_seal, with: {document: receipt}}",
                         "{do: print_form, with: {form: intake}}\n          - {do: print_form, with: {form: intak}}\n"
                         "          - {do: odd, with: {x: 1}}")
    (folder / "pack.yaml").write_text((folder / "pack.yaml").read_text("utf-8").replace(
        "plugins:\n  civic_seal: {issuer: 用印县政务服务中心}\n", "").replace("guard: seal_valid(data.seal)", "guard: data.seal is defined")
        .replace("form: seal}", "form: intake}"), "utf-8")
    problems = problems_of(compiler, loaded, folder)
    assert [(p.rule, p.message) for p in problems] == [
        ("dangling-reference", "form 'intak' is not defined; did you mean 'intake'?"),
        ("action-argument", "action 'odd' (plugin 'printing') says `x` names 'nonsense', which is neither a pack "
                            "section nor a plugin registry")], "\n".join(map(str, problems))
