"""Checking submissions: every error at once, each naming its field in Chinese."""

from __future__ import annotations

from datetime import date

from markupsafe import escape

from bianmin.forms import Choice, clean, labelled, validate

TODAY = date(2026, 1, 5)


def errors(form, data, **kwargs):
    return [(e.path, str(e)) for e in validate(form, data, today=TODAY, **kwargs)]


def good_intake():
    return {
        "applicant_type": "person", "applicant_name": "张三", "id_number": "11010519491231002X",
        "phone": "13812345678", "delivery": "window",
        "materials": [
            {"id": "application", "received": True, "pages": 3},
            {"id": "licence", "received": True, "pages": 1},
            {"id": "floor_plan", "received": False},
        ],
    }


def test_a_valid_intake_has_no_errors(forms, item):
    assert errors(forms["intake"], good_intake(), item=item) == []


def test_every_error_is_returned_in_field_order_with_chinese_labels(forms, item):
    data = good_intake() | {
        "applicant_name": "   ",
        "id_number": "110105194912310021",
        "phone": "12345",
        "delivery": "drone",
        "through_agent": True,
        "agent_phone": "0510-86860211",
        "surprise": 1,
    }
    data["materials"][0] = {"id": "application", "received": True}
    assert errors(forms["intake"], data, item=item) == [
        ("$.applicant_name", "申请人姓名或名称: 必须填写"),
        ("$.id_number", "身份证号码: 校验位不正确"),
        ("$.phone", "联系电话: 应为11位手机号码或带区号的固定电话(如 0510-86860211)"),
        ("$.delivery", "结果领取方式: 「drone」不是可选项, 可选: 窗口领取、邮寄送达、网上领取"),
        ("$.agent_name", "代理人姓名: 必须填写"),
        ("$.agent_id_number", "代理人身份证号码: 必须填写"),
        ("$.materials[0].pages", "申请材料 第1项(食品经营许可申请书) 页数: 必须填写"),
        ("$.surprise", "「surprise」: 不是本表的填写项"),
    ]


def test_when_hides_a_field_and_drops_its_answer(forms, item):
    data = good_intake() | {"credit_code": "not checked: hidden for a person"}
    assert errors(forms["intake"], data, item=item) == []
    assert "credit_code" not in clean(forms["intake"], data, item)


def test_when_shows_a_required_field(forms, item):
    data = good_intake() | {"applicant_type": "organisation"}
    assert errors(forms["intake"], data, item=item) == [
        ("$.credit_code", "统一社会信用代码: 必须填写"),
        ("$.legal_representative", "法定代表人(负责人): 必须填写"),
    ]
    data |= {"credit_code": "91350100M000100Y44", "legal_representative": "王五"}
    assert errors(forms["intake"], data, item=item) == [("$.credit_code", "统一社会信用代码: 校验位不正确")]


def test_required_when(forms, item):
    data = good_intake() | {"delivery": "post"}
    assert errors(forms["intake"], data, item=item) == [("$.address", "联系地址: 必须填写")]
    assert errors(forms["intake"], data | {"address": "江阴市澄江中路1号"}, item=item) == []


def test_required_when_inside_a_group_reads_the_row(make_form):
    form = make_form(
        "  - id: agents\n    label: 代理人\n    type: group\n    fields:\n"
        "      - {id: kind, label: 身份, type: text}\n"
        "      - {id: phone, label: 电话, type: phone, required_when: row.kind == \"lawyer\"}\n"
        "      - {id: firm, label: 律师事务所, type: text, when: row.kind == \"lawyer\", required: true}\n"
    )
    data = {"agents": [{"kind": "relative"}, {"kind": "lawyer"}, {"kind": "relative", "firm": "hidden"}]}
    assert errors(form, data) == [
        ("$.agents[1].firm", "代理人 第2项 律师事务所: 必须填写"),
        ("$.agents[1].phone", "代理人 第2项 电话: 必须填写"),
    ]


def test_condition_that_cannot_be_computed_is_false(make_form):
    form = make_form(
        "  - {id: amount, label: 金额, type: decimal}\n"
        "  - {id: reason, label: 理由, type: text, required_when: data.amount > 100}\n"
    )
    assert errors(form, {}) == []
    assert errors(form, {"amount": 101}) == [("$.reason", "理由: 必须填写")]


def test_empty_answers_are_no_answers(forms):
    form = forms["inquiry_receipt"]
    assert errors(form, {"officer_phone": "", "limit": None, "reason": "  "}) == [
        ("$.officer_phone", "首问责任人联系电话: 必须填写"),
        ("$.limit", "承诺办理或答复时限(工作日): 必须填写"),
    ]


def test_types_bounds_and_lengths(make_form):
    form = make_form(
        "  - {id: count, label: 数量, type: integer, min: 1, max: 9}\n"
        "  - {id: amount, label: 金额, type: decimal}\n"
        "  - {id: note, label: 说明, type: text, max_length: 3}\n"
        "  - {id: flag, label: 是否, type: boolean}\n"
        "  - {id: postcode, label: 邮编, type: text, pattern: '^[0-9]{6}$', pattern_message: 应为6位邮政编码}\n"
    )
    assert errors(form, {"count": 1.5, "amount": "十", "note": "四个字呀", "flag": "yes", "postcode": "2144"}) == [
        ("$.count", "数量: 应为整数"),
        ("$.amount", "金额: 应为数字"),
        ("$.note", "说明: 不能超过 3 个字"),
        ("$.flag", "是否: 应为“是”或“否”"),
        ("$.postcode", "邮编: 应为6位邮政编码"),
    ]
    assert errors(form, {"count": 0}) == [("$.count", "数量: 不能小于 1")]
    assert errors(form, {"count": 10}) == [("$.count", "数量: 不能大于 9")]


def test_dates_are_real_days_within_their_bounds(make_form):
    form = make_form(
        "  - {id: by, label: 承诺补齐日期, type: date, min: today}\n"
        "  - {id: done, label: 完成日期, type: date, max: '2026-12-31'}\n"
        "  - {id: at, label: 发生时间, type: datetime, min: '2026-01-01T00:00'}\n"
    )
    assert errors(form, {"by": "2026-01-05", "done": "2026-12-31", "at": "2026-01-04T09:30"}) == []
    assert errors(form, {"by": "2026-01-04", "done": "2027-01-01", "at": "2025-12-31 23:59"}) == [
        ("$.by", "承诺补齐日期: 不能早于今天"),
        ("$.done", "完成日期: 不能晚于 2026-12-31"),
        ("$.at", "发生时间: 不能早于 2026-01-01T00:00"),
    ]
    assert errors(form, {"by": "2026-02-30", "done": "2026/01/01", "at": "2026-01-04T25:00"}) == [
        ("$.by", "承诺补齐日期: 不是有效的日期"),
        ("$.done", "完成日期: 日期格式应为 YYYY-MM-DD, 例如 2026-01-04"),
        ("$.at", "发生时间: 不是有效的日期时间"),
    ]


def test_multi_select_and_group_counts(forms, item, make_form):
    form = forms["commitment"]
    data = {"missing": ["floor_plan", "floor_plan", "nope"], "supply_by": "2026-01-10",
            "commitment": "承诺", "signed": True}
    assert errors(form, data, item=item) == [
        ("$.missing", "容缺材料: 选项不能重复"),
        ("$.missing[2]", "容缺材料 第3项: 「nope」不是可选项, 可选: 食品经营许可申请书、营业执照复印件、经营场所平面图"),
    ]
    assert errors(form, data | {"missing": []}, item=item) == [("$.missing", "容缺材料: 必须填写")]
    group = make_form("  - id: rows\n    label: 明细\n    type: group\n    max_items: 1\n"
                      "    fields:\n      - {id: name, label: 名称, type: text, required: true}\n")
    assert errors(group, {"rows": [{"name": "a"}, {"name": "b"}]}) == [("$.rows", "明细: 最多填写 1 项")]
    assert errors(group, {"rows": [{}, {"name": "a"}]}) == []  # a blank row is no row


def test_materials_checklist_must_follow_the_item(forms, item):
    form = forms["materials"]
    rows = [{"id": "licence", "received": True, "pages": 1}, {"id": "application", "received": False}]
    assert errors(form, {"materials": rows}, item=item) == [
        ("$.materials", "申请材料: 应逐项列出事项的全部 3 项材料"),
        ("$.materials[0].id", "申请材料 第1项(食品经营许可申请书) 材料: 应为「application」(与事项材料清单一致)"),
        ("$.materials[1].id", "申请材料 第2项(营业执照复印件) 材料: 应为「licence」(与事项材料清单一致)"),
    ]


def test_options_from_the_pack(forms, choices):
    form = forms["pause"]
    assert errors(form, {"reason": "expert_review", "expected_duration": 5, "duration_unit": "working_day"},
                  choices=choices) == []
    assert errors(form, {"reason": "coffee", "expected_duration": 0, "duration_unit": "working_day"},
                  choices=choices)[0] == ("$.reason", "特别程序种类: 「coffee」不是可选项, 可选: "
                                          "听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审")


def test_data_that_is_not_a_mapping(forms):
    assert [str(e) for e in validate(forms["pause"], ["not", "a", "mapping"])] == ["进入特别程序: 提交的数据格式不正确"]


def test_the_validator_is_built_once_per_form_and_item(forms, item, choices, monkeypatch):
    import bianmin.forms.validators as v

    built = []
    real = v.to_json_schema
    monkeypatch.setattr(v, "to_json_schema", lambda *a, **k: built.append(a[0].id) or real(*a, **k))
    form = forms["correction"]
    forms["correction"]._cache.clear()
    for _ in range(3):
        validate(form, {"missing_materials": [{"material": "licence", "problem": "missing"}]}, item)
    other_item = item | {"materials": item["materials"][:1]}
    validate(form, {}, other_item)
    assert built == ["correction", "correction"]


def test_labelled_data_prints_labels_and_compares_as_values(forms, item, choices):
    data = {"missing_materials": [{"material": "floor_plan", "problem": "missing"}], "on_spot": True}
    shown = labelled(forms["correction"], data, item, choices)
    row = shown["missing_materials"][0]
    assert row["material"] == "floor_plan" and isinstance(row["material"], Choice)
    assert row["material"].label == "经营场所平面图" and row["problem"].label == "未提交"
    assert str(escape(row["problem"])) == "未提交"
    assert shown["on_spot"] is True


def test_a_hidden_answer_does_not_show_later_fields(make_form):
    form = make_form(
        "  - {id: through_agent, label: 委托代理人, type: boolean}\n"
        "  - {id: agent_is_lawyer, label: 代理人为律师, type: boolean, when: data.through_agent}\n"
        "  - {id: firm, label: 律师事务所, type: text, when: data.agent_is_lawyer, required: true}\n"
    )
    stale = {"through_agent": False, "agent_is_lawyer": True}
    assert errors(form, stale) == []
    assert clean(form, stale) == {"through_agent": False}
    assert errors(form, stale | {"through_agent": True}) == [("$.firm", "律师事务所: 必须填写")]
