"""The forms shipped in forms/: every one the _base workflows name, each true to its seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bianmin.forms import FIELD_TYPES, OPTION_SOURCES, to_json_schema, validate
from bianmin.forms.choices import PACK_LISTS
from bianmin.forms.definitions import SCHEMA_PATH
from bianmin.packs.loader import load_file

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = load_file(ROOT / "policies" / "_base" / "workflows.yaml")["workflows"]
TIME_LIMITS = load_file(ROOT / "policies" / "_base" / "time_limits.yaml")["time_limits"]
RECORD_FORMS = {"intake", "inquiry", "complaint", "negative_report", "unresolved_matter", "agency", "rating"}
# Forms only jurisdiction workflows name (not _base's): an agreed limit when a matter is taken on.
PACK_WORKFLOW_FORMS = {"time_limit"}
WORKFLOW_FORMS = {t["form"] for w in WORKFLOWS for t in w["transitions"] if "form" in t}
SEED_SOURCES = {"jiangyin", "xupu", "taihe", "dahepin", "taishan"}


def labels(form):
    return [f.label for f in form.fields]


def test_every_form_a_workflow_names_is_shipped(forms):
    assert len(WORKFLOW_FORMS) == 21
    assert WORKFLOW_FORMS | RECORD_FORMS | PACK_WORKFLOW_FORMS == set(forms)


@pytest.mark.parametrize("path", sorted((ROOT / "forms").glob("*.yaml")), ids=lambda p: p.stem)
def test_each_file_names_its_schema(path):
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "# yaml-language-server: $schema=../platform/bianmin/forms/schema/form.schema.json")


def test_sources_cite_declared_documents(forms):
    declared = {s["id"] for s in load_file(ROOT / "policies" / "_base" / "pack.yaml")["sources"]} | SEED_SOURCES
    for form in forms.values():
        assert form.source and form.source.split(" ")[0] in declared, form.id


def test_every_required_answer_is_asked_for(forms, item, choices):
    """An empty submission misses exactly the unconditionally required fields (conditional ones
    are left out: `not data.anonymous` holds while anonymous is unanswered)."""
    for form in forms.values():
        expected = [f"$.{f.id}" for f in form.fields if f.required and not f.conditional]
        conditional = {f"$.{f.id}" for f in form.fields if f.conditional}
        got = [e.path for e in validate(form, {}, item, choices=choices)
               if e.kind == "required" and e.path not in conditional]
        assert got == expected, form.id


def test_pause_and_extension_ask_what_the_pack_requires(forms):
    assert set(TIME_LIMITS["pause"]["requires"]) <= {f.id for f in forms["pause"].fields}
    assert set(TIME_LIMITS["extension"]["requires"]) <= {f.id for f in forms["extension"].fields}
    assert forms["pause"].field("reason").options_from == "pause_reasons"
    assert forms["extension"].field("new_deadline").type == "date"


def test_pause_offers_the_pack_pause_reasons(forms, choices):
    schema = to_json_schema(forms["pause"], choices=choices)
    assert schema["properties"]["reason"]["enum"] == [r["id"] for r in TIME_LIMITS["pause_reasons"]]


def test_rating_offers_the_five_levels(forms, choices):
    options = to_json_schema(forms["rating"], choices=choices)["properties"]["level"]["x-bianmin-options"]
    assert [o["label"] for o in options] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [str(e) for e in validate(forms["rating"], {"case_number": "JY-1", "level": "very_dissatisfied",
                                                       "channel": "online"}, choices=choices)] == ["评价内容: 必须填写"]


def test_inquiry_register_has_the_jiangyin_fields(forms):
    # jiangyin 三(二)7: 接待时间, 服务对象的姓名和联系方式, 办理、咨询或投诉事项, 所收材料的名称和数量,
    # 首问责任人和承办人; 由服务对象签字认可.
    form = forms["inquiry"]
    assert labels(form) == ["接待时间", "服务对象姓名", "联系方式", "事项类别", "办理、咨询或投诉事项",
                            "所收材料", "首问责任人", "承办人", "服务对象已签字认可"]
    assert [f.label for f in form.field("materials_received").fields] == ["材料名称", "数量"]


def test_inquiry_receipt_has_the_jiangyin_fields(forms):
    assert labels(forms["inquiry_receipt"])[:2] == ["首问责任人联系电话", "承诺办理或答复时限(工作日)"]


def test_complaint_has_the_dahepin_fields(forms):
    assert labels(forms["complaint"]) == ["投诉对象", "投诉事项", "发生时间", "发生地点", "投诉类别", "投诉方式",
                                          "匿名投诉", "投诉人姓名", "投诉人联系电话"]
    assert forms["complaint"].field("category").options_from == "complaint_categories"


def test_negative_report_has_the_xupu_fields(forms):
    assert labels(forms["negative_report"]) == [
        "经办科室", "经办人姓名", "经办人职务", "经办人联系电话",
        "被否定事项", "否定报备情形", "被否定事项基本情况", "否定原因",
        "申办人单位", "申办人姓名", "申办人联系电话",
    ]


def test_unresolved_matter_has_the_dahepin_fields(forms):
    assert labels(forms["unresolved_matter"]) == ["事项名称", "涉及单位(窗口)", "反映类型", "反映人姓名",
                                                  "反映人联系方式", "未成功办理原因"]


def test_agency_has_the_taihe_ledger_fields(forms):
    assert labels(forms["agency"])[:7] == ["代办服务对象姓名", "代办服务对象联系方式", "服务责任人", "服务事项",
                                          "受理时间", "办结时间", "办理结果或回复"]


def test_refusal_states_reasons_basis_and_rights(forms):
    form = forms["refusal"]
    assert {"reasons", "legal_basis", "rights"} <= {f.id for f in form.fields if f.required}
    assert "行政复议" in form.field("rights").default and "行政诉讼" in form.field("rights").default


def test_intake_identifies_people_and_organisations(forms, item):
    form = forms["intake"]
    assert form.field("id_number").when == 'data.applicant_type == "person"'
    assert form.field("credit_code").when == 'data.applicant_type == "organisation"'
    assert form.field("materials").type == "materials"


def test_the_schema_describes_every_key():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description") or "$ref" in sub and schema_ref(sub).get("description"), f"{where}.{key}"
        for name, sub in node.get("$defs", {}).items():
            walk(sub, name)

    def schema_ref(sub):
        return schema["$defs"][sub["$ref"].split("/")[-1]]

    walk(schema, "form")
    assert schema["$defs"]["field"]["properties"]["type"]["enum"] == list(FIELD_TYPES)
    assert schema["$defs"]["field"]["properties"]["options_from"]["enum"] == list(OPTION_SOURCES)


def test_the_docs_name_every_key_type_and_source():
    docs = (ROOT / "docs" / "forms.md").read_text(encoding="utf-8")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    keys = set(schema["properties"]) | set(schema["$defs"]["field"]["properties"]) | {"value", "label"}
    missing = [k for k in [*keys, *FIELD_TYPES, *OPTION_SOURCES] if f"`{k}`" not in docs]
    assert not missing
    assert set(PACK_LISTS) | {"item_materials"} == set(OPTION_SOURCES)
