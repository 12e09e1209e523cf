"""Realistic document contexts built from the shipped packs: each pack's first item, its own
windows, departments, complaint categories and calendar, people with plausible names, and form
answers that pass the forms' own validation before a template sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from bianmin.calendar import Calendar
from bianmin.documents.materials import checklist, correction_data
from bianmin.documents.views import item_view, window_view
from bianmin.forms import Choice, Option, labelled, load_forms, validate
from bianmin.forms.validators import id_number_check_char
from bianmin.packs import Compiler
from bianmin.packs.model import Duration, Item, Pack, build
from bianmin.privacy import mask_id_number

ROOT = Path(__file__).resolve().parents[2]
PACKS = ("_base", "jiangyin", "xupu", "taihe", "dahepin", "taishan")
ISSUED = date(2026, 1, 5)  # a Monday, a working day everywhere
RECEIVED = datetime(2026, 1, 5, 9, 30)
# Documents printed after the steps they record: the reply after the investigation, the
# negative report after the leader's review, the unresolved matter when it is archived after
# the callback, the registers when the month is over.
ISSUED_ON = {"complaint_reply": date(2026, 1, 7), "negative_report_register": date(2026, 1, 6),
             "unresolved_matter_register": date(2026, 1, 8), "complaint_register": date(2026, 2, 2),
             "agency_ledger": date(2026, 2, 2)}
# Review bodies and courts: a township's are those of its county.
COUNTY = {"_base": "示例县", "dahepin": "沅陵县"}


@dataclass(frozen=True)
class People:
    """Who takes part, per jurisdiction: applicant, clerk, officers, reporters ..."""

    prefix: str  # document numbers: JY-2026-000123
    region: str  # the first six digits of a local resident ID number
    area: str  # telephone area code
    applicant: str
    clerk: str
    leader: str
    visitor: str
    complainant: str
    agent: str
    client: str
    reporter: str


PEOPLE = {
    "_base": People("QG", "110105", "010", "张明", "李红", "赵局长", "孙丽", "周强", "吴敏", "郑华", "王芳"),
    "jiangyin": People("JY", "320281", "0510", "王建国", "陈晓燕", "顾局长", "周志强", "钱文静", "夏雨", "蒋桂英", "沈海东"),
    "xupu": People("XP", "431224", "0745", "向秀兰", "舒建军", "张主任", "瞿明亮", "谌丽", "戴小军", "米春花", "贺志勇"),
    "taihe": People("TH", "360826", "0796", "曾凡荣", "刘婷", "肖局长", "郭建平", "罗小燕", "康小梅", "萧桂香", "胡国华"),
    "dahepin": People("DHP", "431222", "0745", "瞿德明", "张丽华", "李乡长", "覃玉兰", "向东", "全德富", "瞿大妈", "杨光辉"),
    "taishan": People("TS", "440781", "0750", "黄志强", "李嘉欣", "伍主任", "陈伟文", "甄美玲", "余家豪", "邝带娣", "朱永安"),
}

# The _base pack has no catalogue: a national-default document is shown with this item.
SAMPLE_ITEM = build(Item, {
    "id": "sample_licence", "code": "000000-XK-0001", "name": "示例行政许可事项", "type": "行政许可",
    "kind": "promised", "department": "sample_department",
    "limits": {"statutory": {"value": 20, "unit": "working_day"}, "promised": {"value": 10, "unit": "working_day"}},
    "materials": [
        {"id": "application", "name": "申请书", "form": "original", "copies": 1, "core": True},
        {"id": "identity", "name": "申请人身份证明", "form": "copy", "copies": 1, "core": True},
        {"id": "supporting", "name": "其他证明材料", "form": "copy", "copies": 1, "core": False},
    ],
    "legal_basis": ["《中华人民共和国行政许可法》"],
})


def id_number(region: str, born: str = "19850312", sequence: str = "123") -> str:
    first = region + born + sequence
    return first + id_number_check_char(first)


def pack_choices(pack: Pack) -> dict[str, tuple[Option, ...]]:
    """The `options_from` lists of a compiled pack (choices_from_pack reads merged documents)."""
    def of(records: Any) -> tuple[Option, ...]:
        return tuple(Option(r.id, r.name) for r in records)

    return {
        "pause_reasons": of(pack.time_limits.pause_reasons),
        "complaint_categories": of(pack.complaints.categories),
        "rating_levels": of(pack.ratings.levels),
        "windows": of(pack.windows),
        "departments": of(pack.departments),
        "negative_report_grounds": of(pack.negative_report.grounds if pack.negative_report else ()),
        "unresolved_matter_scope": of(pack.unresolved_matter.scope if pack.unresolved_matter else ()),
        "accountability_effects": of(pack.accountability.effects),
    }


class Contexts:
    """Builds the context of any document of any shipped pack."""

    def __init__(self) -> None:
        compiler = Compiler(ROOT / "policies", ROOT / "forms", ROOT / "templates")
        self.packs = {p: compiler.compile(ROOT / "policies" / p) for p in PACKS}
        self.forms = load_forms([ROOT / "forms"])

    # -- helpers

    def answers(self, pack: Pack, form_id: str, data: dict[str, Any], item: Any = None) -> dict[str, Any]:
        """Form answers checked by the form itself, labelled as templates see them."""
        form = self.forms[form_id]
        choices = pack_choices(pack)
        errors = validate(form, data, item, choices=choices, today=ISSUED)
        assert errors == [], f"{pack.id} {form_id}: fixture answers invalid: {[str(e) for e in errors]}"
        return labelled(form, data, item, choices)

    @staticmethod
    def item(pack: Pack, commitment: bool = False) -> Item:
        if commitment:
            found = next((i for i in pack.items if i.accept_on_commitment), None)
            if found is not None:
                return found
        return pack.items[0] if pack.items else SAMPLE_ITEM

    def number(self, pack: Pack, seq: int) -> str:
        return f"{PEOPLE[pack.id].prefix}-2026-{seq:06d}"

    def kwargs(self, pack: Pack, doc_id: str, window: Any = None) -> dict[str, Any]:
        number = self.number(pack, 120 + [d.id for d in pack.documents].index(doc_id))
        return {"number": number, "issued_on": ISSUED_ON.get(doc_id, ISSUED), "window": window,
                "status_url": f"https://bianmin.example.cn/{pack.id}/s/{number}"}

    def centre(self, pack: Pack) -> dict[str, Any]:
        if pack.centre.name:
            return {"name": pack.centre.name, "address": pack.centre.address or None, "phone": pack.centre.phone or None}
        return {"name": "示例县政务服务中心", "address": None, "phone": "010-62345678"}

    def deadline(self, pack: Pack, start: date, limit: Any, name: str) -> dict[str, Any] | None:
        if limit.unit not in ("working_day", "natural_day"):
            return None
        cal = Calendar.build(pack.calendar)
        last = cal.add(start, limit.value, limit.unit)
        return {"date": last, "provisional": cal.is_provisional(last), "name": name,
                "limit": {"value": limit.value, "unit": limit.unit}}

    def item_views(self, pack: Pack, item: Item) -> dict[str, Any]:
        view = item_view(pack, item)
        if item is SAMPLE_ITEM:  # the _base pack has no departments either
            view["department"] = {"id": "sample_department", "name": "示例县市场监督管理局", "phone": None, "address": None}
        return view

    # -- contexts

    def context(self, pack_id: str, doc_id: str) -> tuple[Pack, dict[str, Any], dict[str, Any]]:
        """(pack, context variables, render_document keywords) for one document."""
        pack = self.packs[pack_id]
        doc = pack.document(doc_id)
        build_ = getattr(self, f"_{doc.context}")
        context, window = build_(pack, doc_id)
        context["centre"] = self.centre(pack)
        return pack, context, self.kwargs(pack, doc_id, window)

    def _case(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        who = PEOPLE[pack.id]
        item = self.item(pack, commitment=doc_id == "commitment_acceptance_notice")
        iv = self.item_views(pack, item)
        pages = [3, 1, 2, 4, 2, 1, 3, 2]
        rows = [{"id": m.id, "received": True, "form": m.form, "copies": m.copies, "pages": pages[i % len(pages)]}
                for i, m in enumerate(item.materials)]
        if doc_id == "correction_notice":
            rows[-1] = {"id": item.materials[-1].id, "received": False}
        if doc_id == "commitment_acceptance_notice":
            rows = [r if m.core else {"id": m.id, "received": False} for r, m in zip(rows, item.materials)]
            if all(m.core for m in item.materials):  # no non-core material: the last one stands in
                rows[-1] = {"id": item.materials[-1].id, "received": False}
        intake = self.answers(pack, "intake", {
            "applicant_type": "person", "applicant_name": who.applicant, "id_number": id_number(who.region),
            "phone": "13907451234", "delivery": "window", "through_agent": False, "materials": rows,
        }, item)
        accepted = None if doc_id in ("receipt_slip", "correction_notice", "refusal_notice") else datetime(2026, 1, 5, 10, 0)
        running = doc_id not in ("correction_notice", "refusal_notice")
        limits = item.limits
        window = window_view(pack, item.window) if item.window else None
        data = self.case_data(pack, item, doc_id, rows)
        context = {
            "case": {
                "number": self.number(pack, 31), "state": Choice("accepted", "已受理") if accepted else Choice("received", "已收件"),
                "received_at": RECEIVED, "accepted_at": accepted,
                "completed_at": datetime(2026, 1, 5, 16, 0) if doc_id == "completion_notice" else None,
                "steps": {}, **{k: v for k, v in intake.items() if k != "materials"},
            },
            "item": iv,
            "applicant": {
                "kind": intake["applicant_type"], "name": who.applicant, "phone": "13907451234", "address": None,
                "id_number": mask_id_number(intake["id_number"]), "credit_code": None,
                "legal_representative": None, "agent": None,
            },
            "materials": checklist(item, rows),
            # Clocks run from the receipt of complete materials: not while they are
            # incomplete or refused.
            "deadlines": {
                "promised": self.deadline(pack, ISSUED, limits.promised, "承诺时限") if running else None,
                "statutory": self.deadline(pack, ISSUED, limits.statutory, "法定时限") if running else None,
                "correction_notice": None,
            },
            "clerk": {"name": who.clerk, "phone": f"{who.area}-86861234"},
            "window": window,
            "data": data,
        }
        return context, window

    def case_data(self, pack: Pack, item: Item, doc_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        who = PEOPLE[pack.id]
        if doc_id == "correction_notice":
            notice = correction_data(item, rows, problems=[{
                "material": item.materials[0].id, "problem": "incomplete", "requirement": "申请人应在申请书末页签名并注明日期"}])
            raw = {"missing_materials": [{k: getattr(v, "value", v) for k, v in r.items()} for r in notice["missing_materials"]],
                   "on_spot": True}
            return self.answers(pack, "correction", raw, item)
        if doc_id == "commitment_acceptance_notice":
            missing = [r["id"] for r in rows if not r["received"]]
            return self.answers(pack, "commitment", {
                "missing": missing, "supply_by": "2026-01-12",
                "commitment": "本人承诺所填报的申请条件真实有效, 并在承诺期限内补齐上述材料; 逾期未补齐或承诺不实的, 自愿承担相应后果。",
                "signed": True}, item)
        if doc_id == "refusal_notice":
            return self.answers(pack, "refusal", {
                "ground": "not_eligible", "reasons": f"经审查, 申请人提交的材料不能证明其符合“{item.name}”的法定条件。",
                "legal_basis": "、".join(item.legal_basis),
                "rights": "申请人如对本决定不服, 可以自收到本通知书之日起六十日内依法申请行政复议, 或者在六个月内依法提起行政诉讼。",
                "review_body": f"{COUNTY.get(pack.id, pack.name)}人民政府",
                "court": f"{COUNTY.get(pack.id, pack.name)}人民法院"}, item)
        if doc_id == "extension_notice":
            return self.answers(pack, "extension", {
                "reason": "需要进行现场核查, 核查人员因汛期抢险暂时无法到场, 不能在原定期限内办结。",
                "new_deadline": "2026-02-02", "approver": who.leader}, item)
        if doc_id == "special_procedure_notice":
            reason = next((r.id for r in pack.time_limits.pause_reasons if r.id == "expert_review"),
                          pack.time_limits.pause_reasons[0].id)
            return self.answers(pack, "pause", {
                "reason": reason, "expected_duration": 5, "duration_unit": "working_day",
                "basis": "《中华人民共和国行政许可法》第四十五条", "contact_phone": f"{PEOPLE[pack.id].area}-86861234"}, item)
        if doc_id == "completion_notice":
            return self.answers(pack, "decision", {"outcome": "approved", "result_document": item.result or "准予许可决定书"}, item)
        return {}

    def _inquiry(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        who = PEOPLE[pack.id]
        item = self.item(pack)
        answers = self.answers(pack, "inquiry", {
            "received_at": "2026-01-05T09:10", "visitor_name": who.visitor, "visitor_phone": "13807451122",
            "matter_kind": "consult", "matter": f"咨询“{item.name}”需要提交的材料和办理时限",
            "materials_received": [{"name": item.materials[0].name, "count": 1}],
            "officer": who.clerk, "handler": who.leader, "visitor_signed": True,
        })
        data = {}
        reply_due = None
        if doc_id == "inquiry_receipt":
            data = self.answers(pack, "inquiry_receipt", {"officer_phone": f"{who.area}-86861234", "limit": 2,
                                                         "reason": "需向业务科室核实办理条件后答复"})
            reply_due = self.deadline(pack, ISSUED, Duration("working_day", 2), "答复时限")
        window = window_view(pack, pack.windows[0]) if pack.windows else None
        return {
            "inquiry": {"number": self.number(pack, 7), "state": Choice("registered", "已登记"),
                        "registered_at": datetime(2026, 1, 5, 9, 12), "reply_due": reply_due, "steps": {}, **answers},
            "visitor": {"name": who.visitor, "phone": "13807451122"},
            "officer": {"name": who.clerk, "phone": f"{who.area}-86861234"},
            "handler": {"name": who.leader, "phone": f"{who.area}-86865678"},
            "window": window, "data": data,
        }, window

    def _complaint(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        who = PEOPLE[pack.id]
        category = pack.complaints.categories[0] if pack.complaints.categories else None
        # The _base pack has no categories of its own: a national default stands in.
        categories = {} if category else {"complaint_categories": (Option("general", "其他投诉"),)}
        raw = {"target": f"{pack.windows[0].name if pack.windows else '综合窗口'} 工作人员", "matter": "超过公开承诺的办理时限仍未办结, 多次询问无人答复。",
               "occurred_at": "2026-01-02T10:00", "place": "政务服务中心一楼大厅", "channel": "written",
               "anonymous": False, "complainant_name": who.complainant, "complainant_phone": "13607459876"}
        raw["category"] = category.id if category else "general"
        form = self.forms["complaint"]
        choices = {**pack_choices(pack), **categories}
        errors = validate(form, raw, choices=choices, today=ISSUED)
        assert errors == [], [str(e) for e in errors]
        answers = labelled(form, raw, None, choices)
        handling = labelled(self.forms["complaint_handling"], {
            "findings": "经调取办件记录, 该事项已超过承诺时限2个工作日, 情况属实。", "substantiated": "substantiated",
            "responsible": who.clerk, "measures": "责令窗口于1个工作日内办结, 对经办人予以通报批评。"})
        reply = self.answers(pack, "complaint_reply", {"method": "written", "reply": "你反映的问题属实, 我们已责令窗口限期办结并向你致歉。感谢你对政务服务工作的监督。"})
        return {
            "complaint": {"number": self.number(pack, 2), "state": Choice("handled", "已处理"),
                          "received_at": datetime(2026, 1, 5, 14, 0),
                          "steps": {"handle": {"at": datetime(2026, 1, 6, 10, 0), "by": who.leader, "data": handling}},
                          **answers},
            "category": ({"id": category.id, "name": category.name, "route_to": category.route_to,
                          "limit": {"value": category.limit.value, "unit": category.limit.unit}} if category else
                         {"id": "general", "name": "其他投诉", "route_to": "centre", "limit": {"value": 15, "unit": "working_day"}}),
            "complainant": {"name": who.complainant, "phone": "13607459876"},
            "data": reply,
        }, None

    def _negative_report(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        who = PEOPLE[pack.id]
        item = self.item(pack)
        case, _ = self._case(pack, "refusal_notice")
        grounds = [g.id for g in pack.negative_report.grounds] if pack.negative_report else []
        ground = next((g for g in ("conditions_not_met", "not_eligible", "unlawful") if g in grounds), grounds[0])
        department = case["item"]["department"]
        report = self.answers(pack, "negative_report", {
            "handler_department": department["name"], "handler_name": who.clerk, "handler_title": "科员",
            "handler_phone": f"{who.area}-86861234", "matter": item.name, "ground": ground,
            "situation": f"申请人{who.applicant}于2026年1月5日申请“{item.name}”, 经审查材料不能证明其符合法定条件。",
            "reason": f"不符合“{item.name}”的法定条件, 依法不予受理。",
            "applicant_organisation": "个人", "applicant_name": who.applicant, "applicant_phone": "13907451234",
        })
        opinion = labelled(self.forms["correction_opinion"], {"opinion": "经审核, 同意不予办理, 请一次性告知申请人补充材料后可重新申请。"})
        return {
            "report": {"number": self.number(pack, 5), "state": Choice("upheld", "审核同意"),
                       "filed_at": datetime(2026, 1, 5, 11, 0),
                       "steps": {"uphold": {"at": datetime(2026, 1, 6, 9, 0), "by": who.leader, "data": opinion}},
                       **report},
            "case": case["case"], "item": case["item"], "applicant": case["applicant"],
            "handler": {"name": who.clerk, "title": "科员", "phone": f"{who.area}-86861234"},
            "data": {},
        }, None

    def _unresolved_matter(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        who = PEOPLE[pack.id]
        item = self.item(pack)
        window = window_view(pack, pack.windows[0]) if pack.windows else {"id": "general", "name": "综合窗口", "phone": None}
        answers = self.answers(pack, "unresolved_matter", {
            "matter_name": item.name, "unit": window["name"], "reporter_name": who.reporter,
            "reporter_phone": "13707453344", "reason": "窗口称需到上级部门办理, 跑了两次仍未办成。",
            **({"scope": pack.unresolved_matter.scope[0].id} if pack.unresolved_matter and pack.unresolved_matter.scope else {}),
        })
        choices = pack_choices(pack)
        dispatch = labelled(self.forms["dispatch"], {"window": window["id"], "complexity": "general"}, None,
                            {**choices, "windows": (Option(window["id"], window["name"]),)})
        resolve = labelled(self.forms["resolution"], {"outcome": "resolved", "result": "已协调业务科室当场受理并办结。"})
        call_back = labelled(self.forms["callback"], {"method": "phone", "reached": True, "satisfaction": "very_satisfied"},
                             None, choices)
        cal = Calendar.build(pack.calendar)
        return {
            "matter": {"number": self.number(pack, 3), "state": Choice("called_back", "已回访"),
                       "registered_at": datetime(2026, 1, 5, 15, 0),
                       "due": {"date": cal.add(ISSUED, 1), "provisional": False, "name": "办理时限",
                               "limit": {"value": 1, "unit": "working_day"}},
                       "steps": {"dispatch": {"at": datetime(2026, 1, 5, 15, 30), "by": who.clerk, "data": dispatch},
                                 "resolve": {"at": datetime(2026, 1, 6, 10, 0), "by": who.leader, "data": resolve},
                                 "feed_back": {"at": datetime(2026, 1, 6, 11, 0), "by": who.leader, "data": {}},
                                 "call_back": {"at": datetime(2026, 1, 7, 9, 0), "by": who.clerk, "data": call_back}},
                       **answers},
            "reporter": {"name": who.reporter, "phone": "13707453344"},
            "window": window, "data": {},
        }, None

    def _register(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        who = PEOPLE[pack.id]
        period = {"name": "2026年1月", "start": date(2026, 1, 1), "end": date(2026, 1, 31)}
        if doc_id == "agency_ledger":
            rows = [
                {"number": self.number(pack, 11), "client_name": who.client, "client_phone": "13574561234",
                 "agent_name": who.agent, "matter": "城乡居民医疗保险缴费", "received_at": datetime(2026, 1, 5, 9, 0),
                 "completed_at": datetime(2026, 1, 5, 11, 30), "result": "已代缴并交回缴费凭证", "home_visit": True},
                {"number": self.number(pack, 12), "client_name": who.visitor, "client_phone": "13874569876",
                 "agent_name": who.agent, "matter": "老年人优待证申领", "received_at": datetime(2026, 1, 6, 14, 0),
                 "completed_at": None, "result": None, "home_visit": False},
            ]
        else:
            category = pack.complaints.categories[0] if pack.complaints.categories else None
            rows = [{"number": self.number(pack, 2), "received_at": datetime(2026, 1, 5, 14, 0),
                     "complainant_name": who.complainant, "complainant_phone": "13607459876",
                     "target": "综合窗口 工作人员", "matter": "超过公开承诺的办理时限仍未办结",
                     "occurred_at": datetime(2026, 1, 2, 10, 0), "place": "政务服务中心一楼大厅",
                     "category": Choice(category.id, category.name) if category else None,
                     "channel": Choice("written", "书面"), "state": Choice("handled", "已处理")}]
        return {"title": "全中心", "rows": rows, "period": period, "columns": []}, None

    def _item(self, pack: Pack, doc_id: str) -> tuple[dict[str, Any], Any]:
        item = self.item(pack)
        iv = self.item_views(pack, item)
        window = iv["window"]
        return {"item": iv, "department": iv["department"], "window": window}, window


@pytest.fixture(scope="session")
def contexts() -> Contexts:
    return Contexts()
