"""The default document templates: present, sandbox-safe, within their context, true to seeds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import FileSystemLoader, StrictUndefined, meta, nodes
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from bianmin.documents.contexts import COMMON, CONTEXTS
from bianmin.forms import load_forms
from bianmin.packs.loader import load_file
from bianmin.sandbox import environment

ROOT = Path(__file__).resolve().parents[2]
BASE, FORMS, TEMPLATES = ROOT / "policies" / "_base", ROOT / "forms", ROOT / "templates"
DOCUMENTS = load_file(BASE / "documents.yaml")["documents"]
BY_ID = {d["id"]: d for d in DOCUMENTS}
DOCS = (ROOT / "docs" / "documents.md").read_text(encoding="utf-8")
# The form a record variable was opened with: its answers are attributes of the record.
RECORD_FORMS = {"case": "intake", "inquiry": "inquiry", "complaint": "complaint", "report": "negative_report",
                "matter": "unresolved_matter", "agency": "agency"}


@pytest.fixture(scope="module")
def env():
    """The project's sandbox (autoescape, StrictUndefined) reading the shared templates."""
    sandbox = environment().overlay(loader=FileSystemLoader(str(TEMPLATES)))
    assert isinstance(sandbox, SandboxedEnvironment) and sandbox.autoescape is True
    assert sandbox.undefined is StrictUndefined
    return sandbox


def parse(env, name):
    return env.parse((TEMPLATES / name).read_text(encoding="utf-8"))


@pytest.fixture
def render(env, context_for):
    """Render a document of the _base pack with a full sample context, some variables replaced."""
    def render(doc_id, **changes):
        doc = BY_ID[doc_id]
        return env.get_template(doc["template"]).render(context_for(doc) | changes)

    return render


def test_one_template_per_document_of_the_base_pack():
    assert len(DOCUMENTS) == 16
    for doc in DOCUMENTS:
        assert (TEMPLATES / doc["template"]).is_file(), doc["template"]


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.j2")), ids=lambda p: p.name)
def test_every_template_compiles_in_the_sandbox(env, path):
    env.get_template(path.name)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d["id"])
def test_each_template_uses_only_its_context(env, doc):
    used = meta.find_undeclared_variables(parse(env, doc["template"]))
    assert used <= CONTEXTS[doc["context"]], used - CONTEXTS[doc["context"]]


def test_shared_files_use_only_what_every_context_has(env):
    assert meta.find_undeclared_variables(parse(env, "_layout.html.j2")) <= COMMON
    assert meta.find_undeclared_variables(parse(env, "_item.html.j2")) <= COMMON | {"item"}
    assert meta.find_undeclared_variables(parse(env, "_macros.html.j2")) == set()


def test_templates_on_the_item_layout_have_an_item(env):
    for doc in DOCUMENTS:
        if '{% extends "_item.html.j2" %}' in (TEMPLATES / doc["template"]).read_text(encoding="utf-8"):
            assert "item" in CONTEXTS[doc["context"]], doc["id"]


def test_the_context_check_catches_a_stray_variable(env):
    stray = env.parse('{% extends "_layout.html.j2" %}{% block body %}{{ case.number }}{% endblock %}')
    assert not meta.find_undeclared_variables(stray) <= CONTEXTS["inquiry"]


def test_no_template_marks_values_safe():
    for path in TEMPLATES.glob("*.j2"):
        assert "|safe" not in path.read_text(encoding="utf-8").replace(" ", ""), path.name


def _attributes(env, name):
    """`var.attr` pairs a template reads from its top-level variables."""
    found = set()
    for node in parse(env, name).find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            found.add((node.node.name, node.attr))
    return found


def test_every_attribute_a_template_reads_is_documented(env):
    forms = load_forms([FORMS])
    undocumented = set()
    for path in TEMPLATES.glob("*.j2"):
        context = COMMON.union(*CONTEXTS.values())
        for var, attr in _attributes(env, path.name):
            if var not in context or var == "data":
                continue  # loop variables, macros; `data` holds the transition form's fields
            record_form = forms.get(RECORD_FORMS.get(var, ""))
            if record_form and record_form.field(attr):
                continue
            if f"`{var}.{attr}" not in DOCS:
                undocumented.add(f"{var}.{attr}")
    assert not undocumented, sorted(undocumented)


def test_data_attributes_are_fields_of_the_issuing_form(env):
    forms = load_forms([FORMS])
    issuing = {"correction_notice": "correction", "refusal_notice": "refusal", "extension_notice": "extension",
               "special_procedure_notice": "pause", "completion_notice": "decision",
               "commitment_acceptance_notice": "commitment", "complaint_reply": "complaint_reply",
               "inquiry_receipt": "inquiry_receipt"}
    for doc_id, form_id in issuing.items():
        for var, attr in _attributes(env, BY_ID[doc_id]["template"]):
            if var == "data":
                assert forms[form_id].field(attr), f"{doc_id}: data.{attr} is not a field of {form_id}"


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d["id"])
def test_each_document_renders_with_a_full_context(render, doc):
    html = render(doc["id"])
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert doc["name"] in html and "江阴市政务服务中心" in html
    assert "JY-2026-000123" in html  # the document number
    assert "0510-86860211" in html  # the supervision phone
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="qr"></svg>' in html


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d["id"])
def test_the_paper_sets_the_page(render, doc):
    html = render(doc["id"])
    if doc["paper"] == "receipt80":
        assert "size: 80mm" in html and 'class="paper-receipt80"' in html
    else:
        assert "size: A4" in html and 'class="paper-a4"' in html


def test_a_plain_string_qr_is_escaped_not_interpreted(env, context_for):
    doc = BY_ID["receipt_slip"]
    context = context_for(doc)
    context["document"] = context["document"] | {"qr_svg": "<svg onload=alert(1)></svg>"}
    html = env.get_template(doc["template"]).render(context)
    assert "&lt;svg onload=alert(1)&gt;&lt;/svg&gt;" in html and "<svg onload" not in html


def test_a_missing_attribute_fails_the_render(env, context_for):
    doc = BY_ID["receipt_slip"]
    context = context_for(doc)
    context["case"] = {k: v for k, v in context["case"].items() if k != "number"}
    with pytest.raises(UndefinedError):
        env.get_template(doc["template"]).render(context)


def test_a_provisional_calendar_is_announced(env, context_for):
    doc = BY_ID["acceptance_notice"]
    context = context_for(doc)
    context["document"] = context["document"] | {"provisional": True}
    context["deadlines"] = context["deadlines"] | {"promised": context["deadlines"]["promised"] | {"provisional": True}}
    html = env.get_template(doc["template"]).render(context)
    assert "暂定的节假日安排" in html and "2026年1月19日(暂定" in html


def text(html):
    return re.sub(r"<[^>]+>", " ", html)


def test_inquiry_receipt_has_the_jiangyin_fields(render):
    html = text(render("inquiry_receipt"))
    for words in ("首问责任人", "张三", "联系电话", "0510-86860001", "承诺办理或答复时间", "2026年1月7日前",
                  "监督投诉电话", "0510-86860211"):
        assert words in html


def test_inquiry_register_entry_has_the_jiangyin_fields(render):
    html = text(render("inquiry_register_entry"))
    for words in ("接待时间", "2026年1月5日 09:00", "赵六", "13912345678", "咨询", "咨询个体工商户登记所需材料",
                  "身份证复印件", "首问责任人", "承办人", "服务对象签字"):
        assert words in html


def test_receipt_slip_lists_materials_pages_and_pickup_time(render):
    html = text(render("receipt_slip"))
    assert "食品经营许可申请书" in html and "营业执照复印件" in html
    assert "经营场所平面图" not in html  # not received
    assert re.search(r"页数.*3.*1.*4 页", html, re.S)
    assert "办结取件时间" in html and "2026年1月19日前" in html


def test_receipt_slip_for_an_immediate_item(render, item):
    html = text(render("receipt_slip", item=item | {"kind": "immediate"}))
    assert "当场办结" in html


def test_correction_notice_lists_every_missing_material(render):
    html = text(render("correction_notice"))
    for words in ("经营场所平面图", "未提交", "营业执照复印件", "已过有效期", "提交有效期内的营业执照",
                  "申请书第2页未签字", "一次性告知"):
        assert words in html


def test_refusal_notice_gives_reasons_basis_and_rights(render):
    html = text(render("refusal_notice"))
    for words in ("申请事项不属于本机关职权范围", "无锡市市场监督管理局", "该事项由市级部门实施",
                  "《食品经营许可管理办法》第五条", "行政复议", "行政诉讼", "江阴市人民政府"):
        assert words in html


def test_extension_notice_gives_reason_and_new_deadline(render):
    html = text(render("extension_notice"))
    assert "需要补充现场核查" in html and "2026年1月29日" in html and "李局长" in html


def test_special_procedure_notice_gives_reason_and_duration(render):
    html = text(render("special_procedure_notice"))
    assert "专家评审" in html and "5个工作日" in html and "不计算在办理时限内" in html


def test_completion_notice_on_the_spot_needs_no_form(render):
    html = text(render("completion_notice", data={}))
    assert "准予办理" in html and "不予许可的理由" not in html


def test_negative_report_register_has_the_xupu_fields(render):
    html = text(render("negative_report_register"))
    for words in ("经办科室", "审批科", "张三", "科员", "0510-86860001", "被否定事项", "申请在住宅内经营",
                  "经营场所不符合要求", "申办人", "孙八", "13612345678", "应予受理", "行政复议或行政诉讼"):
        assert words in html


def test_unresolved_matter_register_has_the_dahepin_fields(render):
    html = text(render("unresolved_matter_register"))
    for words in ("不动产登记", "不动产窗口", "周九", "13512345678", "缺少历史档案", "综合窗口",
                  "已调取档案并办结", "非常满意", "2026年1月8日 09:00"):
        assert words in html


def test_agency_ledger_has_the_taihe_columns(render):
    html = text(render("agency_ledger"))
    for words in ("代办服务对象", "联系方式", "服务责任人", "服务事项", "受理时间", "办结时间", "办理结果或回复",
                  "吴十", "新农合报销", "2026年1月5日 09:00"):
        assert words in html


def test_registers_use_the_columns_given(render):
    html = text(render("agency_ledger", columns=[{"id": "matter", "label": "事项"}]))
    assert "事项" in html and "新农合报销" in html and "服务责任人" not in html


def test_complaint_reply_and_register(render):
    reply = text(render("complaint_reply"))
    for words in ("钱七", "情况属实", "责令限期办结", "已责令窗口限期办结", "12345热线"):
        assert words in reply
    register = text(render("complaint_register"))
    assert "投诉对象" in register and "不在公开承诺的办理时限内办结的" in register


def test_service_guide_has_the_taishan_fields(render):
    html = text(render("service_guide"))
    for words in ("事项名称", "事项类型", "实施机构", "承诺办结时限", "服务对象", "服务收费", "办件类型", "物流快递",
                  "数量限制", "咨询电话", "监督电话", "窗口办理信息", "受理条件", "设定依据", "申请材料", "办理流程",
                  "常见问题", "自受理之日起10个工作日", "不收费", "承诺件", "09:00-12:00"):
        assert words in html


def test_markup_from_answers_is_escaped(render):
    data = {"reason": "<b>理由</b>", "new_deadline": "2026-01-29", "approver": "李局长"}
    html = render("extension_notice", data=data)
    assert "&lt;b&gt;理由&lt;/b&gt;" in html and "<b>理由" not in html
