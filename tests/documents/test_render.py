"""Rendering documents: golden files of every document of every pack, what each must print
(the seeds' field lists), template lookup, strictness, the QR code and reprints."""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from bianmin.documents.render import DocumentError, any_provisional, render_document, template_dirs
from bianmin.packs import Compiler

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
PACKS = ("_base", "jiangyin", "xupu", "taihe", "dahepin", "taishan")
UPDATE = os.environ.get("BIANMIN_UPDATE_GOLDEN") == "1"


def _documents() -> list[tuple[str, str]]:
    compiler = Compiler(ROOT / "policies", ROOT / "forms", ROOT / "templates")
    return [(p, d.id) for p in PACKS for d in compiler.compile(ROOT / "policies" / p).documents]


DOCUMENTS = _documents()


def text(html: str) -> str:
    """What a reader sees: tags and the QR drawing removed, spaces collapsed."""
    html = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def render(contexts):
    def render(pack_id: str, doc_id: str, **changes):
        pack, context, kwargs = contexts.context(pack_id, doc_id)
        context.update(changes)
        return render_document(pack, doc_id, context, **kwargs)

    return render


# -- golden files ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pack_id", "doc_id"), DOCUMENTS, ids=[f"{p}-{d}" for p, d in DOCUMENTS])
def test_golden(render, pack_id, doc_id):
    rendered = render(pack_id, doc_id)
    path = GOLDEN / pack_id / f"{doc_id}.html"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered.html.encode("utf-8"))
    assert path.is_file(), f"no golden file {path.relative_to(ROOT)}: run with BIANMIN_UPDATE_GOLDEN=1 and review it"
    expected = path.read_bytes().decode("utf-8")
    if rendered.html != expected:
        diff = "\n".join(list(difflib.unified_diff(expected.splitlines(), rendered.html.splitlines(),
                                                   "golden", "rendered", lineterm=""))[:60])
        pytest.fail(f"{pack_id}/{doc_id} differs from its golden file (BIANMIN_UPDATE_GOLDEN=1 to accept):\n{diff}")
    # A reprint in another process (the golden file was written by one) hashes the same.
    assert rendered.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_stale_golden_files():
    on_disk = {(p.parent.name, p.stem) for p in GOLDEN.glob("*/*.html")}
    assert on_disk == set(DOCUMENTS), sorted(on_disk ^ set(DOCUMENTS))


def test_golden_files_are_reviewed():
    readme = (GOLDEN / "README.md").read_text(encoding="utf-8")
    for _, doc_id in DOCUMENTS:
        assert f"`{doc_id}`" in readme, f"golden/README.md says nothing of {doc_id}"


# -- what each document must print (the seeds) --------------------------------------------------------

def test_inquiry_receipt_prints_the_jiangyin_receipt_fields(render):
    # jiangyin 三(二)7: 首问责任人姓名及其联系电话、承诺办理或答复时间、监督投诉电话
    page = text(render("jiangyin", "inquiry_receipt").html)
    for words in ("首问责任人 陈晓燕", "联系电话 0510-86861234", "承诺办理或答复时间 2026年1月7日前",
                  "监督投诉电话 12345(江阴市社会求助服务热线)", "0510-86860211(江阴市效能办)"):
        assert words in page


def test_inquiry_register_prints_the_jiangyin_register_fields(render):
    # 接待时间, 姓名和联系方式, 办理、咨询或投诉事项, 所收材料的名称和数量, 首问责任人和承办人, 签字认可
    page = text(render("jiangyin", "inquiry_register_entry").html)
    for words in ("接待时间 2026年1月5日 09:10", "服务对象姓名 周志强", "联系方式 13807451122", "咨询",
                  "咨询“个体工商户设立登记”需要提交的材料和办理时限", "个体工商户登记(备案)申请书 1",
                  "首问责任人 陈晓燕", "承办人 顾局长", "服务对象签字"):
        assert words in page


def test_receipt_slip_prints_names_pages_and_pickup_time(render):
    # xupu 四(一): 收件回执单, 写明所收材料名称、页数、办结取件时间
    page = text(render("xupu", "receipt_slip").html)
    assert "个体工商户登记(备案)申请书 原件 1 3" in page and "经营者身份证明 复印件 1 1" in page
    assert "共 4 件 10 页" in page  # 3 + 1 + 2 + 4
    assert "办结取件时间 当场办结" in page  # an immediate item


def test_receipt_slip_of_a_promised_item_gives_the_date(render, contexts):
    page = text(render("taishan", "acceptance_notice").html)
    assert "承诺办结日期 2026年1月19日(承诺时限 10个工作日)" in page
    assert "法定办结时限 2026年2月2日(法定时限 20个工作日)" in page


def test_refusal_notice_of_xupu_gives_reasons_basis_and_rights(render):
    # xupu 二(二): 一次性告知不能办理的理由和依据, 出具退回件通知单; 六(六): 行政复议或行政诉讼
    html = render("xupu", "refusal_notice").html
    page = text(html)
    assert "<h1>退回件通知单</h1>" in html
    for words in ("不予受理的理由", "不能证明其符合“个体工商户设立登记”的法定条件", "依据", "中华人民共和国市场主体登记管理条例 第十九条",
                  "行政复议", "行政诉讼", "行政复议机关 溆浦县人民政府", "人民法院 溆浦县人民法院"):
        assert words in page


def test_negative_report_register_prints_the_xupu_fields(render):
    # xupu 六(三): 经办科室人员姓名、职务及联系电话; 被否定事项基本情况及原因; 申办人的单位、姓名及联系电话
    page = text(render("xupu", "negative_report_register").html)
    for words in ("经办科室 溆浦县市场监督管理局", "经办人 舒建军", "职务 科员", "联系电话 0745-86861234",
                  "被否定事项 个体工商户设立登记", "基本情况 申请人向秀兰", "否定原因 不符合“个体工商户设立登记”的法定条件",
                  "申办人单位 个人", "申办人姓名 向秀兰", "联系电话 13907451234", "同意(审核人 张主任",
                  "申请行政复议或者提起行政诉讼"):
        assert words in page


def test_commitment_notice_of_taihe_lists_the_missing_non_core_materials(render):
    # taihe 三(四)1: 对非核心材料缺失的事项, 在申请人书面承诺条件的真实性后实行容缺办理
    page = text(render("taihe", "commitment_acceptance_notice").html)
    assert "食品经营许可(新办)" in page and "承诺补齐日期 2026年1月12日" in page
    assert "1 食品安全自查" in page and "2 从业人员健康证明" in page
    assert "营业执照或者其他主体资格证明文件" not in page  # core and received


def test_correction_notice_lists_every_missing_material_once(render):
    page = text(render("dahepin", "correction_notice").html)
    assert page.count("残疾证、重大疾病诊断证明等特殊困难证明") == 1  # the missing one
    assert "未提交" in page and "内容不完整" in page and "申请人应在申请书末页签名并注明日期" in page
    assert "户口簿" not in page  # received and in order


def test_unresolved_matter_register_prints_the_dahepin_fields(render):
    # dahepin 六.二.1 事项名称、涉及单位(窗口)、反映人联系方式及未成功办理原因; 2~4 流转, 结果, 回访, 满意度, 归档
    page = text(render("dahepin", "unresolved_matter_register").html)
    for words in ("事项名称 农村居民最低生活保障申请", "涉及单位(窗口)", "反映人 杨光辉", "联系方式 13707453344",
                  "未成功办理原因 窗口称需到上级部门办理", "办理期限 2026年1月6日", "办理结果 已协调业务科室当场受理并办结",
                  "回访时间 2026年1月7日 09:00", "满意度评价 非常满意", "归档日期 2026年1月8日"):
        assert words in page


def test_agency_ledger_prints_the_taihe_ledger_fields(render):
    # taihe 三(三)1: 代办服务对象姓名及联系方式、服务责任人、服务事项、受理和办结时间、办理结果或回复
    page = text(render("taihe", "agency_ledger").html)
    for words in ("代办服务对象", "联系方式", "服务责任人", "服务事项", "受理时间", "办结时间", "办理结果或回复",
                  "萧桂香 13574561234 康小梅 城乡居民医疗保险缴费 2026年1月5日 09:00 2026年1月5日 11:30 已代缴并交回缴费凭证"):
        assert words in page


def test_service_guide_prints_the_taishan_article_6_fields(render):
    # taishan 第六条: 事项名称、事项类型、实施机构、承诺办结时限、服务对象、服务收费、结果样本、办件类型、物流快递、
    # 数量限制、咨询电话、监督电话、窗口办理信息、受理条件、设定依据、申请材料、填报须知、受理标准、办理流程、常见问题
    page = text(render("taishan", "service_guide").html)
    for words in ("事项名称 食品经营许可(新办)", "事项类型 行政许可", "实施机构", "承诺办结时限 自受理之日起10个工作日",
                  "服务对象 从事食品销售、餐饮服务的企业法人", "服务收费 不收费", "办件类型 承诺件", "物流快递 支持邮寄送达",
                  "数量限制 无数量限制", "咨询电话 0750-5521163", "监督电话 12345", "窗口办理信息", "受理条件", "设定依据",
                  "申请材料", "食品经营许可申请书", "办理流程", "常见问题", "许可证可以邮寄吗?"):
        assert words in page


def test_complaint_reply_names_the_complainant_and_where_else_to_complain(render):
    page = text(render("dahepin", "complaint_reply").html)
    assert "向东:" in page and "情况属实" in page and "已责令窗口限期办结" in page


# -- the page ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pack_id", "doc_id"), [("xupu", "receipt_slip"), ("jiangyin", "inquiry_receipt"),
                                                 ("taihe", "acceptance_notice")])
def test_paper_and_page_size(render, pack_id, doc_id):
    rendered = render(pack_id, doc_id)
    if rendered.paper == "receipt80":
        assert "@page { size: 80mm 297mm" in rendered.html and 'class="paper-receipt80"' in rendered.html
    else:
        assert rendered.paper == "a4" and "@page { size: A4" in rendered.html


def test_header_has_centre_number_date_and_window(render):
    page = text(render("taihe", "receipt_slip").html)
    assert "泰和县行政服务中心 收件回执单 编号: TH-2026-000122 日期: 2026年1月5日 窗口: 市场准入专窗" in page


def test_qr_code_encodes_the_status_url(render):
    html = render("taishan", "receipt_slip").html
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "viewBox" in svg and "<title>扫码查询办理进度</title>" in svg
    assert _qr_matrix(svg) == _expected_matrix("https://bianmin.example.cn/taishan/s/TS-2026-000122")


def test_no_status_url_no_qr_code(contexts):
    pack, context, kwargs = contexts.context("taishan", "receipt_slip")
    html = render_document(pack, "receipt_slip", context, **{**kwargs, "status_url": None}).html
    assert "<svg" not in html and "扫码查询" not in html


def test_a_provisional_deadline_is_announced(contexts):
    pack, context, kwargs = contexts.context("taishan", "acceptance_notice")
    context["deadlines"]["promised"] = {**context["deadlines"]["promised"], "provisional": True}
    page = text(render_document(pack, "acceptance_notice", context, **kwargs).html)
    assert "依据暂定的节假日安排计算" in page and "(暂定, 以国务院公布的节假日安排为准)" in page
    assert any_provisional([{"inquiry": {"reply_due": {"date": date(2027, 1, 4), "provisional": True}}}])
    assert not any_provisional([{"deadlines": {"promised": {"date": date(2026, 1, 4), "provisional": False}}}])


def test_answers_are_escaped(contexts):
    pack, context, kwargs = contexts.context("jiangyin", "extension_notice")
    context["data"] = {**context["data"], "reason": '<script>alert("x")</script>'}
    html = render_document(pack, "extension_notice", context, **kwargs).html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html and '<script>alert("x")' not in html


# -- reprints ---------------------------------------------------------------------------------------------

def test_reprint_from_a_copy_of_the_inputs_is_identical(contexts):
    pack, context, kwargs = contexts.context("taihe", "acceptance_notice")
    first = render_document(pack, "acceptance_notice", context, **kwargs)
    again = render_document(pack, "acceptance_notice", copy.deepcopy(context), **dict(kwargs))
    assert again.html.encode() == first.html.encode() and again.content_hash == first.content_hash


def test_reprint_in_another_process_with_another_hash_seed_is_identical(render):
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import conftest; "
        "from bianmin.documents.render import render_document; "
        "p, c, k = conftest.Contexts().context('xupu', 'receipt_slip'); "
        "print(render_document(p, 'receipt_slip', c, **k).content_hash)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True,
                         text=True, env=env, check=True)
    assert out.stdout.strip() == render("xupu", "receipt_slip").content_hash


def test_a_changed_input_changes_the_hash(contexts):
    pack, context, kwargs = contexts.context("xupu", "receipt_slip")
    first = render_document(pack, "receipt_slip", context, **kwargs)
    context["materials"][0] = {**context["materials"][0], "pages": 4}
    assert render_document(pack, "receipt_slip", context, **kwargs).content_hash != first.content_hash


# -- lookup and strictness ----------------------------------------------------------------------------------

def test_templates_are_looked_up_pack_then_ancestors_then_shared(contexts, tmp_path):
    pack, context, kwargs = contexts.context("jiangyin", "receipt_slip")
    assert template_dirs(pack, policies=tmp_path, shared=ROOT / "templates") == (
        tmp_path / "jiangyin" / "templates", tmp_path / "_base" / "templates", ROOT / "templates")
    base = tmp_path / "_base" / "templates"
    base.mkdir(parents=True)
    (base / "receipt_slip.html.j2").write_text(
        '{% extends "_layout.html.j2" %}{% block body %}BASE {{ case.number }}{% endblock %}', encoding="utf-8")
    html = render_document(pack, "receipt_slip", context, **kwargs, policies=tmp_path).html
    assert "BASE JY-2026-000031" in html and "江阴市行政服务中心" in html  # the shared layout still serves
    own = tmp_path / "jiangyin" / "templates"
    own.mkdir(parents=True)
    (own / "receipt_slip.html.j2").write_text(
        '{% extends "_layout.html.j2" %}{% block body %}JIANGYIN {{ case.number }}{% endblock %}', encoding="utf-8")
    html = render_document(pack, "receipt_slip", context, **kwargs, policies=tmp_path).html
    assert "JIANGYIN JY-2026-000031" in html and "BASE" not in html


def test_a_misspelt_attribute_fails_instead_of_printing_a_blank(contexts, tmp_path):
    pack, context, kwargs = contexts.context("jiangyin", "receipt_slip")
    own = tmp_path / "jiangyin" / "templates"
    own.mkdir(parents=True)
    (own / "receipt_slip.html.j2").write_text("{{ case.numbr }}", encoding="utf-8")
    with pytest.raises(DocumentError, match="numbr"):
        render_document(pack, "receipt_slip", context, **kwargs, policies=tmp_path)


def test_a_template_cannot_reach_python_internals(contexts, tmp_path):
    pack, context, kwargs = contexts.context("jiangyin", "receipt_slip")
    own = tmp_path / "jiangyin" / "templates"
    own.mkdir(parents=True)
    (own / "receipt_slip.html.j2").write_text("{{ case.__class__.__mro__ }}", encoding="utf-8")
    with pytest.raises(DocumentError):
        render_document(pack, "receipt_slip", context, **kwargs, policies=tmp_path)


def test_missing_and_unknown_variables_are_named(contexts):
    pack, context, kwargs = contexts.context("jiangyin", "receipt_slip")
    with pytest.raises(DocumentError, match="missing deadlines"):
        render_document(pack, "receipt_slip", {k: v for k, v in context.items() if k != "deadlines"}, **kwargs)
    with pytest.raises(DocumentError, match="not in the context: inquiry"):
        render_document(pack, "receipt_slip", {**context, "inquiry": {}}, **kwargs)
    with pytest.raises(DocumentError, match="built by render_document"):
        render_document(pack, "receipt_slip", {**context, "today": date(2026, 1, 5)}, **kwargs)


def test_an_unknown_document_or_window_is_named(contexts):
    pack, context, kwargs = contexts.context("jiangyin", "receipt_slip")
    with pytest.raises(DocumentError, match="no document 'receit_slip'"):
        render_document(pack, "receit_slip", context, **kwargs)
    with pytest.raises(DocumentError, match="no window 'nowhere'"):
        render_document(pack, "receipt_slip", context, **{**kwargs, "window": "nowhere"})


# -- a QR code read back from its SVG -------------------------------------------------------------------------

def _qr_matrix(svg: str) -> list[list[bool]]:
    """Dark modules of segno's SVG path (`M x y` moves, `h n` dark runs, `m dx dy` relative moves)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    grid = [[False] * size for _ in range(size)]
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = 0.0
    for op, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", path):
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if op == "M":
            x, y = nums
        elif op == "m":
            x, y = x + nums[0], y + nums[1]
        elif op == "h":
            for col in range(int(x), int(x + nums[0])):
                grid[int(y)][col] = True
            x += nums[0]
    return grid


def _expected_matrix(url: str) -> list[list[bool]]:
    import segno

    code = segno.make(url, error="m", micro=False)
    return [[bool(v) for v in row] for row in code.matrix_iter(border=2)]
