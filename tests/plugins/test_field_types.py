"""A plugin's field type works end to end with no engine change: forms load with it, their JSON
Schema carries it, a submission is checked by its validator (in Chinese, by label), the HTML form
prints its control, a posted text goes through its parse, and the staff desk takes it at intake.
The engine's own field types come through the same hook."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bianmin import plugins
from bianmin.forms import FIELD_TYPES, FormError, load_form, to_json_schema, validate
from bianmin.forms import validators as form_validators
from bianmin.forms.posted import parse_submission
from bianmin.forms.render import render_form
from bianmin.plugins import Config, FieldType, PluginError, hookimpl

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
SEAL_FORM = FIXTURES / "policies" / "sealed" / "forms" / "seal.yaml"
GOOD, BAD_DIGIT = "3201000000008", "3201000000001"  # the 13th digit is a check digit


@pytest.fixture
def sealed(load_plugins):
    """The civic_seal plugin loaded as the process's plugins."""
    with plugins.use_plugins(load_plugins("civic_seal")) as loaded:
        yield loaded


def write_form(tmp_path: Path, fields: str, form_id: str = "sample") -> Path:
    path = tmp_path / f"{form_id}.yaml"
    path.write_text(f"id: {form_id}\ntitle: 示例表\nfields:\n{fields}", "utf-8")
    return path


def only(*objects: object) -> plugins.Plugins:
    """Plugins made of exactly these objects: not even the engine's own."""
    loaded = plugins.Plugins(Config(entry_points=False))
    for number, plugin in enumerate(objects):
        loaded.register(plugin, f"p{number}", "test")
    return loaded.finish()


def field_types(**named: FieldType) -> object:
    class Types:
        @hookimpl
        def register_field_types(self):
            return named
    return Types()


# --- loading forms -------------------------------------------------------------------------------

def test_a_form_with_the_type_loads_only_with_the_plugin(load_plugins, sealed):
    assert load_form(SEAL_FORM).field("seal").type == "seal_number"
    with plugins.use_plugins(load_plugins()):  # civic_seal is in the plugin folder, not enabled
        with pytest.raises(FormError) as raised:
            load_form(SEAL_FORM)
    problem, = raised.value.problems
    assert (problem.mark.line, problem.rule) == (4, "wrong-value")
    assert problem.message.startswith("field type 'seal_number' is provided by plugin 'civic_seal', which is "
                                      "not loaded: enable plugin 'civic_seal' with BIANMIN_PLUGINS=civic_seal")


def test_a_field_takes_only_the_keys_its_type_lists(sealed, tmp_path):
    path = write_form(tmp_path, "  - {id: seal, label: 印章编码, type: seal_number, placeholder: 3201-0000-0000-8, "
                                "max_length: 20, options_from: windows}\n")
    with pytest.raises(FormError) as raised:
        load_form(path)
    assert [(p.rule, p.message) for p in raised.value.problems] == [
        ("key-not-for-type", "'max_length' does not apply to field 'seal' of type seal_number; it is for: "
                             "text, long_text, address"),
        ("key-not-for-type", "'options_from' does not apply to field 'seal' of type seal_number; it is for: "
                             "enum, multi_select"),
    ]


def test_the_engines_own_types_come_through_the_same_hook(load_plugins, tmp_path):
    loaded = load_plugins()
    assert list(loaded.field_types) == list(FIELD_TYPES)  # form.schema.json lists them for editors
    assert {loaded.provider("field_types", t) for t in FIELD_TYPES} == {"builtins"}
    # Without the built-ins registered, forms know no `text`: nothing is hard-wired beside the hook.
    path = write_form(tmp_path, "  - {id: name, label: 姓名, type: text}\n")
    with plugins.use_plugins(only(field_types(plain=FieldType({"type": "string"})))):
        with pytest.raises(FormError, match="'text' is not a field type; types: plain"):
            load_form(path)


# --- JSON Schema, validation, parsing, HTML ---------------------------------------------------------

def test_the_forms_json_schema_carries_the_type(sealed):
    schema = to_json_schema(load_form(SEAL_FORM))
    assert schema["properties"]["seal"] == {
        "title": "印章编码", "x-bianmin-type": "seal_number", "type": "string", "pattern": "^[0-9]{13}$", "minLength": 1}
    assert schema["required"] == ["seal"]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(("value", "expected"), [
    (GOOD, []),
    (BAD_DIGIT, [("$.seal", "印章编码: 校验位不正确", "checksum")]),  # the plugin's validator
    ("3201", [("$.seal", "印章编码: 应为13位数字", "pattern")]),  # the type's message
    (3201000000008, [("$.seal", "印章编码: 应为13位数字", "type")]),  # the validator never sees a number
    ("", [("$.seal", "印章编码: 必须填写", "required")]),
])
def test_a_submission_is_checked_by_the_types_validator(sealed, monkeypatch, fast, value, expected):
    monkeypatch.setattr(form_validators, "FAST_PATH", fast)
    errors = validate(load_form(SEAL_FORM), {"seal": value})
    assert [(e.path, str(e), e.kind) for e in errors] == expected


def test_the_validator_runs_in_group_rows_too(sealed, tmp_path):
    form = load_form(write_form(tmp_path, "  - id: seals\n    label: 印章\n    type: group\n    fields:\n"
                                          "      - {id: number, label: 编码, type: seal_number, required: true}\n"))
    errors = validate(form, {"seals": [{"number": GOOD}, {"number": BAD_DIGIT}]})
    assert [(e.path, str(e)) for e in errors] == [("$.seals[1].number", "印章 第2项 编码: 校验位不正确")]


def test_a_posted_text_goes_through_the_types_parse(sealed):
    form = load_form(SEAL_FORM)
    assert parse_submission(form, {"seal": " 3201-0000-0000-8 ", "csrf_token": "x"}) == {"seal": GOOD}
    assert validate(form, parse_submission(form, {"seal": "3201 0000 0000 8"})) == []


def tag(html: str, id_: str) -> str:
    found = re.findall(rf'<input id="{id_}"[^>]*>', html)
    assert len(found) == 1, html
    return found[0]


def test_the_html_form_prints_the_types_control_with_its_error(sealed):
    form = load_form(SEAL_FORM)
    errors = validate(form, {"seal": BAD_DIGIT})
    html = str(render_form(form, values={"seal": BAD_DIGIT}, errors=errors, csrf_token="tok"))
    assert '<label class="bm-label" for="seal-seal">印章编码' in html
    control = tag(html, "seal-seal")
    for attribute in ('name="seal"', 'type="text"', 'inputmode="numeric"', 'maxlength="16"', 'autocomplete="off"',
                      f'value="{BAD_DIGIT}"', 'aria-invalid="true"', 'required'):
        assert attribute in control, attribute
    assert '<p class="bm-error" id="seal-seal-error"><span class="bm-visually-hidden">错误: </span>校验位不正确</p>' in html
    assert '<li><a href="#seal-seal">印章编码: 校验位不正确</a></li>' in html  # the summary at the top


def test_a_type_without_a_control_of_its_own_is_a_text_input(tmp_path):
    import bianmin.builtins

    loaded = plugins.Plugins(Config(entry_points=False))
    loaded.register(bianmin.builtins, "builtins", "built in")
    loaded.register(field_types(plain=FieldType({"type": "string"}),
                                note=FieldType({"type": "string"}, widget="textarea", attrs={"rows": "6"})), "p", "test")
    with plugins.use_plugins(loaded.finish()):
        form = load_form(write_form(tmp_path, "  - {id: code, label: 代码, type: plain}\n"
                                              "  - {id: memo, label: 备注, type: note}\n"))
        html = str(render_form(form, values={"code": "A-1", "memo": "第一行\n<b>"}))
    assert tag(html, "sample-code") == '<input id="sample-code" name="code" type="text" data-kind="text" value="A-1">'
    assert '<textarea id="sample-memo" name="memo" rows="6" data-kind="text">第一行\n&lt;b&gt;</textarea>' in html


# --- what a registration may say -----------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "message"), [
    (FieldType(widget="group"), "has widget 'group'; a field type's widget is one of: input, textarea"),
    (FieldType(keys=("placeholder", "options")), "lists keys 'options'; a plugin's field type may take: placeholder, "
                                                 "default, min_length, max_length, pattern, pattern_message"),
    (FieldType(input_type="file"), "has input_type 'file'; use one of: text, tel"),
    (FieldType(attrs={"onclick": "steal()"}), "sets attribute 'onclick', which the forms module writes itself"),
    (FieldType(attrs={"name": "other"}), "sets attribute 'name', which the forms module writes itself"),
    (FieldType({"type": "strng"}), "is not a valid JSON Schema"),
    (FieldType(validator="nowhere"), "names validator 'nowhere', which no loaded plugin registers"),
])
def test_a_bad_field_type_is_rejected_at_load_naming_plugin_and_type(spec, message):
    import bianmin.builtins

    loaded = plugins.Plugins(Config(entry_points=False))
    loaded.register(bianmin.builtins, "builtins", "built in")
    loaded.register(field_types(odd=spec), "bad", "test")
    with pytest.raises(PluginError) as raised:
        loaded.finish()
    assert str(raised.value).startswith("plugin 'bad': hook register_field_types: field type 'odd' ")
    assert message in str(raised.value)


# --- the staff desk ------------------------------------------------------------------------------------

def _web_helpers():
    """tests/web/conftest.py's helpers (conftest modules are not importable by name)."""
    name = "bianmin_tests_web_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "web" / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def desk(sealed, tmp_path):
    """The web application with xupu's intake form asking for a seal number as well."""
    from bianmin.web import create_app
    from bianmin.workflow import submission
    from tortoise.backends.base import executor

    extra = tmp_path / "forms"
    extra.mkdir()
    intake = (ROOT / "forms" / "intake.yaml").read_text("utf-8")
    (extra / "intake.yaml").write_text(
        intake + "  - {id: seal, label: 印章编码, type: seal_number, required: true, placeholder: 3201-0000-0000-8}\n", "utf-8")
    submission.use_forms_dirs(lambda pack: [*submission.default_dirs(pack), extra])
    executor.EXECUTOR_CACHE.clear()
    web = _web_helpers()
    app = create_app(web.database_url("sqlite", tmp_path), secret=web.SECRET, var=tmp_path / "var")
    try:
        with TestClient(app, base_url="http://testserver") as client:
            web.sign_in(client, web.make_staff(client, "xupu", "clerk"))
            yield client, web
    finally:
        submission.use_forms_dirs(None)


def test_the_staff_desk_takes_the_type_at_intake(desk):
    client, web = desk
    pack = client.app.state.web.pack("xupu")
    item = next(i for i in pack.items if i.kind == "promised")
    url = f"/staff/xupu/cases/new?item={item.id}"
    page = client.get(url)
    assert page.status_code == 200 and "印章编码" in page.text and 'name="seal"' in page.text

    def post(seal: str):
        data = {"csrf_token": web.csrf_of(client.get(url).text), "applicant_type": "person",
                "applicant_name": "张三", "phone": "13812345678", "id_number": "11010519491231002X",
                "delivery": "window", "materials": [m.id for m in item.materials], "seal": seal}
        data.update({f"materials.{m.id}.pages": "2" for m in item.materials})
        return client.post(url, data=data, follow_redirects=False)

    refused = post("3201-0000-0000-1")
    assert refused.status_code == 422 and "校验位不正确" in refused.text
    assert f'value="{BAD_DIGIT}"' in refused.text  # what was typed comes back, parsed
    assert post("3201").status_code == 422
    done = post("3201-0000-0000-8")
    assert done.status_code == 303, done.text
    number = done.headers["location"].split("/")[-2]
    record = client.get(f"/staff/xupu/records/{number}").text
    assert "印章编码" in record and GOOD in record  # stored parsed, shown by its label
