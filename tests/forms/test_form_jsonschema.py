"""Forms as Draft 2020-12 JSON Schemas for their submissions: one test per field type."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from bianmin.forms import OptionsUnavailable, to_json_schema
from bianmin.forms.jsonschema import (
    CREDIT_CODE_PATTERN, DATE_PATTERN, DATETIME_PATTERN, ID_NUMBER_PATTERN, PHONE_PATTERN,
)


def schema_of(make_form, field_yaml: str, **kwargs):
    schema = to_json_schema(make_form(field_yaml), **kwargs)
    Draft202012Validator.check_schema(schema)
    return schema


def prop(schema, name="f"):
    return schema["properties"][name]


def test_form_level_keywords(make_form):
    schema = schema_of(make_form, "  - {id: f, label: 名称, type: text, required: true}\n")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "示例表"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["f"]


def test_optional_fields_are_not_required(make_form):
    schema = schema_of(make_form, "  - {id: f, label: 名称, type: text}\n")
    assert "required" not in schema


@pytest.mark.parametrize("ftype", ["text", "long_text", "address"])
def test_text_types(make_form, ftype):
    s = prop(schema_of(make_form, f"  - {{id: f, label: 名称, type: {ftype}, max_length: 20, help: 说明}}\n"))
    assert s == {"title": "名称", "description": "说明", "type": "string", "minLength": 1, "maxLength": 20,
                 **({"x-bianmin-type": ftype} if ftype != "text" else {})}


def test_text_pattern_and_min_length(make_form):
    s = prop(schema_of(make_form, "  - {id: f, label: 邮编, type: text, pattern: '^[0-9]{6}$', "
                                  "pattern_message: 应为6位邮政编码, min_length: 6}\n"))
    assert s["pattern"] == "^[0-9]{6}$" and s["minLength"] == 6


@pytest.mark.parametrize("ftype, pattern", [
    ("phone", PHONE_PATTERN), ("id_number", ID_NUMBER_PATTERN), ("credit_code", CREDIT_CODE_PATTERN),
    ("datetime", DATETIME_PATTERN),
])
def test_formats_are_patterns(make_form, ftype, pattern):
    s = prop(schema_of(make_form, f"  - {{id: f, label: 号码, type: {ftype}}}\n"))
    assert s["type"] == "string" and s["pattern"] == pattern and s["x-bianmin-type"] == ftype


def test_date(make_form):
    s = prop(schema_of(make_form, "  - {id: f, label: 日期, type: date, min: today, max: '2030-12-31'}\n"))
    assert s["pattern"] == DATE_PATTERN and s["format"] == "date"
    # JSON Schema cannot compare dates: the bounds are annotations, checked by validate().
    assert s["x-bianmin-min"] == "today" and s["x-bianmin-max"] == "2030-12-31"
    assert "minimum" not in s


@pytest.mark.parametrize("ftype, json_type", [("integer", "integer"), ("decimal", "number")])
def test_numbers(make_form, ftype, json_type):
    s = prop(schema_of(make_form, f"  - {{id: f, label: 数量, type: {ftype}, min: 1, max: 99, default: 2}}\n"))
    assert s == {"title": "数量", "type": json_type, "minimum": 1, "maximum": 99, "default": 2}


def test_boolean(make_form):
    s = prop(schema_of(make_form, "  - {id: f, label: 是否, type: boolean, default: false}\n"))
    assert s == {"title": "是否", "type": "boolean", "default": False}


ENUM = """  - id: f
    label: 类别
    type: {type}
    options:
      - {{value: apply, label: 办理}}
      - {{value: consult, label: 咨询}}
"""


def test_enum(make_form):
    s = prop(schema_of(make_form, ENUM.format(type="enum")))
    assert s["type"] == "string" and s["enum"] == ["apply", "consult"]
    assert s["x-bianmin-options"] == [{"value": "apply", "label": "办理"}, {"value": "consult", "label": "咨询"}]


def test_multi_select(make_form):
    s = prop(schema_of(make_form, ENUM.format(type="multi_select") + "    max_items: 2\n    required: true\n"))
    assert s["type"] == "array" and s["uniqueItems"] is True
    assert s["items"]["enum"] == ["apply", "consult"]
    assert s["minItems"] == 1 and s["maxItems"] == 2


def test_options_from_the_pack(make_form, choices):
    form_yaml = "  - {id: f, label: 原因, type: enum, options_from: pause_reasons}\n"
    s = prop(schema_of(make_form, form_yaml, choices=choices))
    assert s["enum"][:2] == ["hearing", "tender"] and s["x-bianmin-options"][0]["label"] == "听证"
    assert s["x-bianmin-options-from"] == "pause_reasons"


def test_options_from_without_the_list_is_an_error(make_form):
    form = make_form("  - {id: f, label: 原因, type: enum, options_from: pause_reasons}\n")
    with pytest.raises(OptionsUnavailable, match="pause_reasons"):
        to_json_schema(form)


def test_options_from_item_materials(make_form, item):
    s = prop(schema_of(make_form, "  - {id: f, label: 容缺材料, type: multi_select, options_from: item_materials}\n",
                       item=item))
    assert s["items"]["enum"] == ["application", "licence", "floor_plan"]
    with pytest.raises(OptionsUnavailable, match="item"):
        to_json_schema(make_form("  - {id: f, label: 容缺材料, type: multi_select, options_from: item_materials}\n"))


GROUP = """  - id: f
    label: 所收材料
    type: group
    min_items: 1
    max_items: 5
    fields:
      - {id: name, label: 材料名称, type: text, required: true}
      - {id: count, label: 数量, type: integer, min: 1}
"""


def test_group(make_form):
    s = prop(schema_of(make_form, GROUP))
    assert s["type"] == "array" and s["minItems"] == 1 and s["maxItems"] == 5
    row = s["items"]
    assert row["type"] == "object" and row["additionalProperties"] is False
    assert row["required"] == ["name"]
    assert row["properties"]["count"] == {"title": "数量", "type": "integer", "minimum": 1}


def test_materials_without_an_item_are_generic_rows(make_form):
    s = prop(schema_of(make_form, "  - {id: f, label: 申请材料, type: materials}\n"))
    assert s["type"] == "array" and "prefixItems" not in s
    assert set(s["items"]["properties"]) == {"id", "name", "received", "form", "copies", "pages", "core", "note"}


def test_materials_from_the_item_fix_one_row_per_material(make_form, item):
    s = prop(schema_of(make_form, "  - {id: f, label: 申请材料, type: materials, required: true}\n", item=item))
    rows = s["prefixItems"]
    assert s["minItems"] == s["maxItems"] == 3
    assert [r["properties"]["id"]["const"] for r in rows] == ["application", "licence", "floor_plan"]
    assert rows[1]["properties"]["form"]["default"] == "copy"
    assert rows[2]["properties"]["core"]["const"] is False
    # A received material needs its page count (收件回执单, xupu 四(一)).
    assert rows[0]["then"] == {"required": ["pages"]}


def test_conditions_are_annotations_and_never_required(make_form):
    schema = schema_of(make_form, (
        "  - {id: through_agent, label: 委托代理人, type: boolean}\n"
        "  - {id: agent_name, label: 代理人姓名, type: text, required: true, when: data.through_agent}\n"
        "  - {id: address, label: 地址, type: address, required_when: data.through_agent}\n"
    ))
    assert "required" not in schema
    assert prop(schema, "agent_name")["x-bianmin-when"] == "data.through_agent"
    assert prop(schema, "address")["x-bianmin-required-when"] == "data.through_agent"


def test_every_shipped_form_gives_a_valid_schema(forms, item, choices):
    for form in forms.values():
        Draft202012Validator.check_schema(to_json_schema(form, item, choices=choices))
