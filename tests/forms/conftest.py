"""Shared fixtures of the form and template tests: the shipped folders, an item, sample
document contexts with every attribute docs/documents.md promises."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from bianmin.forms import Choice, choices_from_pack, load_forms
from bianmin.packs.loader import load_file

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms"
TEMPLATES = ROOT / "templates"
BASE = ROOT / "policies" / "_base"

ITEM: dict[str, Any] = {
    "id": "food_licence",
    "code": "JY-SCJG-001",
    "name": "食品经营许可(新办)",
    "type": "行政许可",
    "kind": "promised",
    "subject": "法人",
    "limits": {
        "statutory": {"value": 20, "unit": "working_day"},
        "promised": {"value": 10, "unit": "working_day"},
        "steps": None,
    },
    "materials": [
        {"id": "application", "name": "食品经营许可申请书", "form": "original", "copies": 1, "core": True, "note": None},
        {"id": "licence", "name": "营业执照复印件", "form": "copy", "copies": 1, "core": True, "note": None},
        {"id": "floor_plan", "name": "经营场所平面图", "form": "original", "copies": 1, "core": False, "note": "标明尺寸"},
    ],
    "conditions": ["有与经营的食品品种、数量相适应的经营场所"],
    "fee": {"free": True, "standard": None, "basis": None},
    "legal_basis": ["《中华人民共和国食品安全法》第三十五条"],
    "result": "食品经营许可证",
    "phones": {"consult": "0510-86860000", "supervise": "0510-86860211"},
    "online": True,
    "visits": 1,
    "delivery": ["window", "post"],
    "quantity_limit": None,
    "faq": [{"q": "可以委托他人办理吗?", "a": "可以, 需提交授权委托书。"}],
    "accept_on_commitment": True,
    "department": {"id": "market_regulation", "name": "江阴市市场监督管理局", "phone": "0510-86860100", "address": None},
    "window": {"id": "general", "name": "综合窗口", "phone": "0510-86860002"},
}


def base_pack() -> dict[str, Any]:
    """The _base pack's files merged into one document (its files share no top-level key)."""
    merged: dict[str, Any] = {}
    for path in sorted(BASE.glob("*.yaml")):
        merged.update(load_file(path))
    return merged


@pytest.fixture(scope="session")
def forms():
    return load_forms([FORMS])


@pytest.fixture
def item() -> dict[str, Any]:
    return ITEM


@pytest.fixture(scope="session")
def choices():
    """The _base pack's lists, plus what a jurisdiction pack adds (windows, categories ...)."""
    found = choices_from_pack(base_pack())
    found.update(choices_from_pack({
        "windows": [{"id": "general", "name": "综合窗口"}, {"id": "tax", "name": "税务窗口"}],
        "departments": [{"id": "market_regulation", "name": "市场监督管理局"}],
        "complaints": {"categories": [{"id": "overdue", "name": "不在公开承诺的办理时限内办结的"},
                                      {"id": "attitude", "name": "服务态度、工作作风不好的"}]},
        "negative_report": {"grounds": [{"id": "unlawful", "name": "不符合有关法律、法规和规范性文件精神, 确实不能办理的"}]},
        "unresolved_matter": {"scope": [{"id": "not_accepted", "name": "未能实现成功受理、成功审批的事项"}]},
    }))
    return found


# -- document contexts, with every attribute of docs/documents.md ------------------------------

def _common(paper: str, name: str) -> dict[str, Any]:
    return {
        "pack": {
            "name": "江阴市",
            "hotlines": [{"id": "supervision", "name": "监督投诉电话", "number": "0510-86860211", "hours": None}],
            "office_hours": {"periods": [{"from": "09:00", "to": "12:00"}, {"from": "13:30", "to": "17:00"}]},
            "complaints": {"elsewhere": [{"name": "市纪委监委", "phone": None}, {"name": "12345热线", "phone": "12345"}]},
            "negative_report": {"appeal_rights": None},
        },
        "centre": {"name": "江阴市政务服务中心", "address": "江阴市澄江中路1号", "phone": "0510-86860000"},
        "document": {
            "id": name, "name": name, "number": "JY-2026-000123", "paper": paper,
            "issued_on": date(2026, 1, 5), "window": {"id": "general", "name": "综合窗口", "phone": None},
            "status_url": "https://example.gov.cn/s/JY-2026-000123",
            "qr_svg": Markup('<svg xmlns="http://www.w3.org/2000/svg" id="qr"></svg>'),
            "provisional": False,
        },
        "today": date(2026, 1, 5),
    }


def _deadline(d: date, provisional: bool = False) -> dict[str, Any]:
    return {"date": d, "provisional": provisional, "name": "承诺时限", "limit": {"value": 10, "unit": "working_day"}}


def _step(by: str, at: datetime, **data: Any) -> dict[str, Any]:
    return {"by": by, "at": at, "data": data}


def case_context(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "case": {
            "number": "JY-2026-000123", "state": Choice("accepted", "已受理"),
            "received_at": datetime(2026, 1, 4, 9, 30), "accepted_at": datetime(2026, 1, 4, 10, 0),
            "completed_at": None, "delivery": Choice("window", "窗口领取"), "steps": {},
        },
        "item": ITEM,
        "applicant": {
            "kind": Choice("organisation", "法人或其他组织"), "name": "江阴市某某餐饮有限公司",
            "id_number": None, "credit_code": "91350100M000100Y43", "legal_representative": "王五",
            "phone": "13812345678", "address": None, "agent": None,
        },
        "materials": [
            {"id": "application", "name": "食品经营许可申请书", "form": "original", "copies": 1, "pages": 3, "received": True, "core": True, "note": None},
            {"id": "licence", "name": "营业执照复印件", "form": Choice("copy", "复印件"), "copies": 1, "pages": 1, "received": True, "core": True, "note": None},
            {"id": "floor_plan", "name": "经营场所平面图", "form": "original", "copies": 1, "pages": None, "received": False, "core": False, "note": None},
        ],
        "deadlines": {"promised": _deadline(date(2026, 1, 19)), "statutory": _deadline(date(2026, 2, 2)), "correction_notice": None},
        "clerk": {"name": "张三", "phone": "0510-86860001"},
        "window": {"id": "general", "name": "综合窗口", "phone": "0510-86860002"},
        "data": data,
    }


SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "receipt_slip": {},
    "acceptance_notice": {},
    "commitment_acceptance_notice": {
        "missing": [Choice("floor_plan", "经营场所平面图")], "supply_by": "2026-01-20",
        "commitment": "本单位承诺所填报的申请条件真实有效。", "signed": True,
    },
    "correction_notice": {
        "missing_materials": [
            {"material": Choice("floor_plan", "经营场所平面图"), "problem": Choice("missing", "未提交")},
            {"material": Choice("licence", "营业执照复印件"), "problem": Choice("expired", "已过有效期"), "requirement": "提交有效期内的营业执照"},
        ],
        "other": "申请书第2页未签字",
    },
    "refusal_notice": {
        "ground": Choice("not_competent", "申请事项不属于本机关职权范围"), "competent_authority": "无锡市市场监督管理局",
        "reasons": "该事项由市级部门实施", "legal_basis": "《食品经营许可管理办法》第五条",
        "rights": "申请人如不服本决定, 可以依法申请行政复议或者提起行政诉讼。", "review_body": "江阴市人民政府",
    },
    "extension_notice": {"reason": "需要补充现场核查", "new_deadline": "2026-01-29", "approver": "李局长"},
    "special_procedure_notice": {"reason": Choice("expert_review", "专家评审"), "expected_duration": 5,
                                 "duration_unit": "working_day", "basis": "行政许可法 第四十五条"},
    "completion_notice": {"outcome": Choice("denied", "不予许可(办理)"), "reasons": "经营场所不符合要求",
                          "legal_basis": "《食品安全法》第三十五条", "rights": "可以依法申请行政复议或者提起行政诉讼。"},
}


def inquiry_context(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "inquiry": {
            "number": "SW-2026-0007", "registered_at": datetime(2026, 1, 5, 9, 0), "state": Choice("registered", "已登记"),
            "received_at": "2026-01-05T09:00", "visitor_name": "赵六", "visitor_phone": "13912345678",
            "matter_kind": Choice("consult", "咨询"), "matter": "咨询个体工商户登记所需材料",
            "materials_received": [{"name": "身份证复印件", "count": 1}], "officer": "张三", "visitor_signed": True,
            "reply_due": {"date": date(2026, 1, 7), "provisional": False}, "steps": {},
        },
        "visitor": {"name": "赵六", "phone": "13912345678"},
        "officer": {"name": "张三", "phone": "0510-86860001"},
        "handler": None,
        "window": {"id": "general", "name": "综合窗口", "phone": None},
        "data": data,
    }


def complaint_context(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "complaint": {
            "number": "TS-2026-0002", "received_at": datetime(2026, 1, 5, 14, 0), "state": Choice("handled", "已处理"),
            "target": "综合窗口 张三", "matter": "超过承诺时限未办结", "occurred_at": "2026-01-04T10:00",
            "place": "政务服务中心一楼", "category": Choice("overdue", "不在公开承诺的办理时限内办结的"),
            "channel": Choice("written", "书面"), "anonymous": False,
            "steps": {"handle": _step("王督查", datetime(2026, 1, 8, 10, 0), findings="情况属实", measures="责令限期办结")},
        },
        "category": {"id": "overdue", "name": "不在公开承诺的办理时限内办结的", "limit": {"value": 15, "unit": "working_day"}},
        "complainant": {"name": "钱七", "phone": "13712345678"},
        "data": data,
    }


def negative_report_context(data: dict[str, Any]) -> dict[str, Any]:
    ctx = case_context(data)
    return {
        "report": {
            "number": "FD-2026-0001", "filed_at": datetime(2026, 1, 5, 11, 0), "state": Choice("filed", "已登记待审核"),
            "handler_department": "审批科", "handler_name": "张三", "handler_title": "科员", "handler_phone": "0510-86860001",
            "matter": "食品经营许可(新办)", "ground": Choice("unlawful", "不符合有关法律、法规和规范性文件精神, 确实不能办理的"),
            "situation": "申请在住宅内经营", "reason": "经营场所不符合要求",
            "applicant_name": "孙八", "applicant_phone": "13612345678",
            "steps": {"correct": _step("李局长", datetime(2026, 1, 6, 9, 0), opinion="应予受理")},
        },
        "case": ctx["case"], "item": ITEM, "applicant": ctx["applicant"],
        "handler": {"name": "张三", "title": "科员", "phone": "0510-86860001"},
        "data": data,
    }


def unresolved_matter_context(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "matter": {
            "number": "BCS-2026-0003", "registered_at": datetime(2026, 1, 5, 15, 0), "state": Choice("called_back", "已回访"),
            "matter_name": "不动产登记", "unit": "不动产窗口", "reason": "缺少历史档案",
            "due": {"date": date(2026, 1, 8), "provisional": False},
            "steps": {
                "dispatch": _step("张三", datetime(2026, 1, 5, 16, 0), window=Choice("general", "综合窗口"),
                                  complexity=Choice("complex", "涉及多个部门、流程复杂(3个工作日内答复)")),
                "resolve": _step("李四", datetime(2026, 1, 7, 10, 0), outcome=Choice("resolved", "已解决"), result="已调取档案并办结"),
                "feed_back": _step("李四", datetime(2026, 1, 7, 11, 0)),
                "call_back": _step("张三", datetime(2026, 1, 8, 9, 0), satisfaction=Choice("very_satisfied", "非常满意")),
            },
        },
        "reporter": {"name": "周九", "phone": "13512345678"},
        "window": {"id": "general", "name": "综合窗口", "phone": None},
        "data": data,
    }


def register_context(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"title": "综合窗口", "rows": rows, "period": {"name": "2026年1月", "start": date(2026, 1, 1), "end": date(2026, 1, 31)},
            "columns": []}


def item_context() -> dict[str, Any]:
    return {"item": ITEM, "department": {"id": "market_regulation", "name": "江阴市市场监督管理局", "phone": "0510-86860100", "address": None},
            "window": {"id": "general", "name": "综合窗口", "phone": "0510-86860002"}}


@pytest.fixture(scope="session")
def context_for():
    """Build a full document context for one `documents` entry of the _base pack."""
    return document_context


def document_context(doc: dict[str, Any]) -> dict[str, Any]:
    """A full context for one `documents` entry of the _base pack."""
    kind, name = doc["context"], doc["id"]
    if kind == "case":
        specific = case_context(SAMPLE_DATA[name])
    elif kind == "inquiry":
        specific = inquiry_context({"officer_phone": "0510-86860001", "limit": 2} if name == "inquiry_receipt" else {})
    elif kind == "complaint":
        specific = complaint_context({"method": Choice("written", "书面答复"), "reply": "已责令窗口限期办结, 并向你致歉。"})
    elif kind == "negative_report":
        specific = negative_report_context({})
    elif kind == "unresolved_matter":
        specific = unresolved_matter_context({})
    elif kind == "register" and name == "agency_ledger":
        specific = register_context([{"client_name": "吴十", "client_phone": "13412345678", "agent_name": "郑代办",
                                      "matter": "新农合报销", "received_at": datetime(2026, 1, 5, 9, 0),
                                      "completed_at": None, "result": None, "home_visit": True}])
    elif kind == "register":
        specific = register_context([{"number": "TS-2026-0002", "received_at": datetime(2026, 1, 5, 14, 0),
                                      "complainant_name": "钱七", "target": "综合窗口 张三",
                                      "category": Choice("overdue", "不在公开承诺的办理时限内办结的"),
                                      "state": Choice("handled", "已处理"), "anonymous": False}])
    elif kind == "item":
        specific = item_context()
    else:
        specific = {}
    return _common(doc.get("paper", "a4"), doc["name"]) | specific


@pytest.fixture
def make_form(tmp_path):
    """Write a form's YAML (fields only, or a whole form) and load it."""
    from bianmin.forms import load_form

    def make(fields_yaml: str, form_id: str = "sample", title: str = "示例表") -> Any:
        text = f"id: {form_id}\ntitle: {title}\nfields:\n{fields_yaml}"
        path = tmp_path / f"{form_id}.yaml"
        path.write_text(text, encoding="utf-8")
        return load_form(path)

    return make
