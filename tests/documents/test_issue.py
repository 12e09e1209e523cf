"""documents/issue.py: the store's renderer. Documents issued by the store's intake and
transitions (SQLite) are the pack's rendered templates, stored with the sha256 of their HTML."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from bianmin import paths
from bianmin.documents.issue import make_renderer, render_snapshot
from bianmin.packs import Registry
from bianmin.store import db, service
from bianmin.store.models import Document
from bianmin.workflow import Actor

MONDAY = dt.datetime(2026, 10, 12, 9, 0)
BASE = "https://bianmin.example.cn"
ITEMS = {"jiangyin": "food_business_licence", "xupu": "food_business_licence",
         "taihe": "food_business_licence", "taishan": "food_business_licence",
         "dahepin": "rural_homestead_approval"}
BEFORE = {"xupu": [("issue_receipt", {})]}
AFTER = {"taishan": [("archive", {})]}
CLERK = Actor("u1", "陈晓燕", frozenset({"clerk", "back_office", "chief_representative", "window_head",
                                       "unit_head", "leader", "supervisor"}))
ID_NUMBER = "32028119850312123X"


@pytest.fixture(scope="module")
def registry() -> Registry:
    loaded, problems = Registry.load(paths.policies_dir())
    assert not problems, problems
    return loaded


def run(url: str, fn: Any) -> Any:
    async def main() -> Any:
        await db.init_db(url)
        try:
            return await fn()
        finally:
            await db.close_db()

    return asyncio.run(main())


def materials(pack: Any, item_id: str, missing: int = 0) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"id": m.id, "received": True, "pages": 2} for m in pack.item(item_id).materials]
    for row in rows[:missing]:
        row["received"] = False
        del row["pages"]
    return rows


def subject(pack: Any, item_id: str, missing: int = 0) -> dict[str, Any]:
    return {"applicant_type": "person", "applicant_name": "王建国", "id_number": ID_NUMBER, "phone": "13907451234",
            "delivery": "window", "materials": materials(pack, item_id, missing)}


def hours(n: int) -> dt.datetime:
    return MONDAY + dt.timedelta(hours=n)


@pytest.mark.parametrize("jurisdiction", sorted(ITEMS))
def test_every_case_document_of_a_lifecycle_is_rendered(tmp_path: Path, registry: Registry, jurisdiction: str):
    pack = registry.active(jurisdiction, MONDAY.date())
    item_id = ITEMS[jurisdiction]
    item = pack.item(item_id)
    steps = [*BEFORE.get(jurisdiction, []),
             ("request_correction", {"missing_materials": [{"material": item.materials[0].id, "problem": "missing"}]}),
             ("resubmit", {"materials": materials(pack, item_id)}),
             ("accept", {}), ("complete", {"outcome": "approved"}), ("deliver", {}),
             *AFTER.get(jurisdiction, [])]

    async def body() -> tuple[list[Document], tuple]:
        first = await service.intake(jurisdiction, item_id, subject(pack, item_id, missing=1), CLERK, {}, MONDAY,
                                     registry=registry, renderer=make_renderer(BASE, clerk={"name": CLERK.name}))
        number = first.record.number
        for i, (name, data) in enumerate(steps, start=1):
            _, instance = await service.load(jurisdiction, number, registry=registry)
            await service.transition(jurisdiction, number, name, CLERK, data, hours(i), registry=registry,
                                     renderer=make_renderer(BASE, clerk={"name": CLERK.name}, events=instance.events))
        _, instance = await service.load(jurisdiction, number, registry=registry)
        return list(await Document.filter(jurisdiction=jurisdiction).order_by("event_seq", "id")), instance.events

    docs, events = run(f"sqlite://{tmp_path / 'issue.sqlite3'}", body)
    issued = {d.document_id for d in docs}
    assert {"correction_notice", "acceptance_notice"} <= issued or jurisdiction == "xupu"
    assert docs
    for doc in docs:
        if pack.document(doc.document_id).context != "case":
            continue
        assert doc.content, doc.document_id
        assert doc.content_hash == hashlib.sha256(doc.content.encode("utf-8")).hexdigest()
        number = doc.data["record"]["number"]
        assert number in doc.content and item.name in doc.content and doc.number in doc.content
        assert "<svg" in doc.content and f"{BASE}/{jurisdiction}/status?number={number}" in doc.content
        assert ID_NUMBER not in doc.content  # masked, if printed at all
        assert "陈晓燕" in doc.content or doc.document_id not in ("acceptance_notice", "receipt_slip")
        # The same inputs give the same bytes: the stored snapshot and the log before it.
        again = render_snapshot(pack, doc.document_id, doc.data, base_url=BASE, clerk={"name": CLERK.name},
                                events=[e for e in events if e.seq < doc.event_seq])
        assert again == doc.content


def test_acceptance_notice_prints_deadlines_from_the_clocks(tmp_path: Path, registry: Registry):
    pack = registry.active("jiangyin", MONDAY.date())
    item = pack.item("food_business_licence")

    async def body() -> Document:
        first = await service.intake("jiangyin", item.id, subject(pack, item.id), CLERK, {}, MONDAY,
                                     registry=registry, renderer=make_renderer(BASE))
        number = first.record.number
        _, instance = await service.load("jiangyin", number, registry=registry)
        result = await service.transition("jiangyin", number, "accept", CLERK, {}, hours(1), registry=registry,
                                          renderer=make_renderer(BASE, clerk={"name": CLERK.name},
                                                                 events=instance.events))
        (notice,) = [d for d in result.documents if d.document_id == "acceptance_notice"]
        return notice

    notice = run(f"sqlite://{tmp_path / 'accept.sqlite3'}", body)
    html = notice.content
    assert "受理通知书" in html and pack.centre.name in html and item.name in html
    assert "2026年10月12日" in html  # received and accepted on the Monday
    # The promised clock's deadline, counted in working days by the engine (not blank).
    assert "年" in html.split("承诺", 1)[-1]
    assert notice.content_hash == hashlib.sha256(html.encode()).hexdigest()


def test_without_a_renderer_the_store_keeps_the_snapshot_hash(tmp_path: Path, registry: Registry):
    pack = registry.active("jiangyin", MONDAY.date())
    item = pack.item("food_business_licence")

    async def body() -> Document:
        first = await service.intake("jiangyin", item.id, subject(pack, item.id), CLERK, {}, MONDAY, registry=registry)
        result = await service.transition("jiangyin", first.record.number, "accept", CLERK, {}, hours(1),
                                          registry=registry)
        return result.documents[0]

    notice = run(f"sqlite://{tmp_path / 'plain.sqlite3'}", body)
    assert notice.content == ""


@pytest.mark.parametrize("jurisdiction", sorted(ITEMS))
def test_receipt_slip_rendered_at_intake(tmp_path: Path, registry: Registry, jurisdiction: str):
    """What the web does when the intake issues no document itself: the receipt slip for the
    start event, through the same renderer (web/services.py: issue_receipt)."""
    from bianmin.web.services import issue_receipt

    pack = registry.active(jurisdiction, MONDAY.date())
    item = pack.item(ITEMS[jurisdiction])

    async def body() -> tuple[Any, Any]:
        result = await service.intake(jurisdiction, item.id, subject(pack, item.id), CLERK, {}, MONDAY,
                                      registry=registry, renderer=make_renderer(BASE, clerk={"name": CLERK.name}))
        first = await issue_receipt(result, CLERK, BASE)
        again = await issue_receipt(result, CLERK, BASE)
        return first, again

    receipt, again = run(f"sqlite://{tmp_path / 'receipt.sqlite3'}", body)
    assert receipt.document_id == "receipt_slip" and receipt.event_seq == 1 and again.id == receipt.id
    assert receipt.content_hash == hashlib.sha256(receipt.content.encode("utf-8")).hexdigest()
    assert receipt.data["record"]["number"] in receipt.content and item.name in receipt.content
    assert "王建国" in receipt.content and CLERK.name in receipt.content and "<svg" in receipt.content


def _late_receipt(pack):
    """The receipt context and page of a dahepin case received on 2026-12-07, whose statutory
    clock ends in 2027, a year the holiday calendar does not cover yet."""
    from bianmin.documents.issue import case_context
    from bianmin.workflow import Event

    item = pack.item(ITEMS["dahepin"])
    late = dt.datetime(2026, 12, 7, 9, 0)
    start = Event(1, late, CLERK.id, "start", "", "received", {}, pack.content_hash)
    snapshot = {"document": "receipt_slip", "number": "DHP-WS-2026-000001", "issued_at": late.isoformat(),
                "record": {"number": "DHP-2026-000001", "kind": "case", "item_id": item.id, "state": "received",
                           "workflow": item.workflow},
                "subject": subject(pack, item.id), "args": {}, "event": start.as_dict()}
    return case_context(pack, snapshot, item), render_snapshot(pack, "receipt_slip", snapshot, base_url=BASE)


def test_a_clock_past_the_holiday_calendar_is_printed_as_provisional(registry: Registry):
    """With provisional data allowed (as _base does) the receipt gives that date marked 暂定."""
    context, html = _late_receipt(registry.active("dahepin", MONDAY.date()))
    assert context["deadlines"]["promised"]["provisional"] is False
    assert context["deadlines"]["statutory"]["provisional"] is True
    assert context["deadlines"]["statutory"]["date"].year == 2027
    assert "暂定" in html


def test_a_clock_past_the_holiday_calendar_leaves_only_its_date_blank(registry: Registry):
    """With provisional data turned off the receipt is issued all the same, with the other
    clocks' dates and no guessed one."""
    pack = registry.active("dahepin", MONDAY.date())
    context, html = _late_receipt(dataclasses.replace(pack, calendar=dataclasses.replace(
        pack.calendar, provisional_allowed=False)))
    assert context["deadlines"]["promised"] is not None and context["deadlines"]["statutory"] is None
    assert "DHP-2026-000001" in html and "暂定" not in html


# -- documents of other records: rendered like case documents ---------------------------------

STAFF_PHONE = "0745-3221234"


async def _staff(name: str, phone: str = STAFF_PHONE) -> Actor:
    """An account in the database (its phone is what documents print) acting with every role."""
    from bianmin.store.models import Staff

    row = await Staff.create(username=f"u{name}", display_name=name, phone=phone, created_at=MONDAY)
    return Actor(str(row.id), name, CLERK.roles | {"complaint_officer", "section_head", "unresolved_matter_clerk"})


async def _step(jurisdiction: str, number: str, name: str, actor: Actor, data: dict[str, Any], at: dt.datetime,
                registry: Registry, clerk_phone: str | None = STAFF_PHONE):
    """One transition through the renderer the web builds (its log, its sources, the clerk)."""
    from bianmin.documents.issue import sources

    _, instance = await service.load(jurisdiction, number, registry=registry)
    found = await sources(db.connection(), jurisdiction, dict(instance.subject), instance.events)
    return await service.transition(jurisdiction, number, name, actor, data, at, registry=registry,
                                    renderer=make_renderer(BASE, clerk={"name": actor.name, "phone": clerk_phone},
                                                           events=instance.events, sources=found))


async def _reprint(jurisdiction: str, doc: Document, registry: Registry) -> str:
    """The document rendered again from what the store kept: the snapshot and the log before it."""
    from bianmin.documents.issue import sources

    record = await service._get(jurisdiction, doc.data["record"]["number"])
    _, instance = await service.load(jurisdiction, record.number, registry=registry)
    events = [e for e in instance.events if e.seq < doc.event_seq]
    found = await sources(db.connection(), jurisdiction, dict(instance.subject), instance.events)
    actor = next(e for e in instance.events if e.seq == doc.event_seq).actor
    name = found.people[actor]["name"]
    pack = registry.pinned(jurisdiction, record.pack_hash)
    return render_snapshot(pack, doc.document_id, doc.data, base_url=BASE, clerk={"name": name, "phone": STAFF_PHONE},
                           events=events, sources=found)


def _stored(doc: Document) -> str:
    assert doc.content, f"{doc.document_id} stored without its rendered HTML"
    assert doc.content_hash == hashlib.sha256(doc.content.encode("utf-8")).hexdigest()
    assert "<svg" in doc.content and doc.number in doc.content
    return doc.content


INQUIRY = {"received_at": "2026-10-12T09:00", "visitor_name": "周志强", "visitor_phone": "13807451122",
           "matter_kind": "consult", "matter": "咨询食品经营许可需要提交的材料", "officer": "陈晓燕",
           "materials_received": [{"name": "营业执照复印件", "count": 1}], "visitor_signed": True}


def test_inquiry_receipt_and_register_entry_are_rendered(tmp_path: Path, registry: Registry):
    async def body():
        officer = await _staff("陈晓燕")
        opened = await service.open_record("jiangyin", "inquiry", INQUIRY, officer, INQUIRY, MONDAY, registry=registry)
        number = opened.record.number
        entry = (await _step("jiangyin", number, "record_register", officer, {}, hours(1), registry)).documents[0]
        receipt = (await _step("jiangyin", number, "issue_receipt", officer,
                               {"officer_phone": "0510-86861234", "limit": 2, "reason": "需向业务科室核实"},
                               hours(2), registry)).documents[0]
        return number, entry, receipt, await _reprint("jiangyin", entry, registry), \
            await _reprint("jiangyin", receipt, registry)

    number, entry, receipt, entry_again, receipt_again = run(f"sqlite://{tmp_path / 'inquiry.sqlite3'}", body)
    assert entry.document_id == "inquiry_register_entry" and receipt.document_id == "inquiry_receipt"
    html = _stored(entry)
    assert number in html and "周志强" in html and "13807451122" in html and "营业执照复印件" in html
    assert "陈晓燕" in html and "首问接待登记" in html
    assert entry_again == html  # a reprint from the stored inputs: the same bytes
    html = _stored(receipt)
    assert "0510-86861234" in html and "陈晓燕" in html
    assert "2026年10月14日" in html  # two working days after Monday 12 October
    assert "需向业务科室核实" in html and "12345" in html  # the reason; the supervision hotline
    assert receipt_again == html


COMPLAINT = {"target": "综合窗口 工作人员", "matter": "超过承诺时限仍未办结", "occurred_at": "2026-10-09T10:00",
             "place": "政务服务中心一楼大厅", "category": None, "channel": "written", "anonymous": False,
             "complainant_name": "钱文静", "complainant_phone": "13607459876"}


def test_complaint_reply_is_rendered_with_the_findings(tmp_path: Path, registry: Registry):
    pack = registry.active("jiangyin", MONDAY.date())
    category = pack.complaints.categories[0]
    complaint = {**COMPLAINT, "category": category.id}

    async def body():
        officer = await _staff("夏雨")
        opened = await service.open_record("jiangyin", "complaint", complaint, officer, complaint, MONDAY,
                                           registry=registry)
        number = opened.record.number
        await _step("jiangyin", number, "investigate", officer, {}, hours(1), registry)
        await _step("jiangyin", number, "handle", officer, {
            "findings": "经调取办件记录, 情况属实。", "substantiated": "substantiated", "responsible": "窗口",
            "measures": "责令限期办结。"}, hours(2), registry)
        reply = (await _step("jiangyin", number, "reply", officer,
                             {"method": "written", "reply": "已责令窗口限期办结并致歉。"}, hours(3), registry)).documents[0]
        return number, reply, await _reprint("jiangyin", reply, registry)

    number, reply, again = run(f"sqlite://{tmp_path / 'complaint.sqlite3'}", body)
    html = _stored(reply)
    assert reply.document_id == "complaint_reply" and number in html
    assert "钱文静" in html and category.name in html and "超过承诺时限仍未办结" in html
    assert "经调取办件记录, 情况属实。" in html and "责令限期办结。" in html and "已责令窗口限期办结并致歉。" in html
    assert again == html


def test_negative_report_prints_the_refused_case_and_the_handlers_account(tmp_path: Path, registry: Registry):
    pack = registry.active("xupu", MONDAY.date())
    item = pack.item(ITEMS["xupu"])
    refusal = {"ground": "not_eligible", "reasons": "申请人提交的材料不能证明其符合法定条件。",
               "legal_basis": "《中华人民共和国行政许可法》", "rights": "可依法申请行政复议或提起行政诉讼。",
               "review_body": "溆浦县人民政府", "court": "溆浦县人民法院"}

    async def body():
        clerk = await _staff("舒建军", "0745-3225678")
        leader = await _staff("张主任")
        case = await service.intake("xupu", item.id, subject(pack, item.id), clerk, {}, MONDAY, registry=registry)
        refused = await _step("xupu", case.record.number, "refuse", clerk, refusal, hours(1), registry)
        (report,) = refused.children
        upheld = await _step("xupu", report.number, "uphold", leader, {}, hours(2), registry)
        doc = next(d for d in upheld.documents if d.document_id == "negative_report_register")
        return case.record.number, report.number, doc, await _reprint("xupu", doc, registry)

    case_number, report_number, doc, again = run(f"sqlite://{tmp_path / 'negative.sqlite3'}", body)
    html = _stored(doc)
    assert report_number in html and case_number in html and item.name in html
    assert "王建国" in html and "13907451234" in html  # the applicant of the refused case
    assert "申请人提交的材料不能证明其符合法定条件。" in html  # the refusal's reasons
    assert "舒建军" in html and "0745-3225678" in html  # the handler who refused, from the account
    assert "张主任" in html  # the leader who upheld it
    assert again == html


def test_unresolved_matter_register_is_rendered_at_dispatch(tmp_path: Path, registry: Registry):
    pack = registry.active("dahepin", MONDAY.date())
    window = pack.windows[0]
    matter = {"matter_name": "农村宅基地审批", "unit": window.name, "reporter_name": "沈海东",
              "reporter_phone": "13707453344", "reason": "跑了两次仍未办成。"}

    async def body():
        clerk = await _staff("张丽华")
        opened = await service.open_record("dahepin", "unresolved_matter", matter, clerk, matter, MONDAY,
                                           registry=registry)
        done = await _step("dahepin", opened.record.number, "dispatch", clerk,
                           {"window": window.id, "complexity": "general"}, hours(1), registry)
        doc = next(d for d in done.documents if d.document_id == "unresolved_matter_register")
        return opened.record.number, doc, await _reprint("dahepin", doc, registry)

    number, doc, again = run(f"sqlite://{tmp_path / 'unresolved.sqlite3'}", body)
    html = _stored(doc)
    assert number in html and "农村宅基地审批" in html and "沈海东" in html and "13707453344" in html
    assert "跑了两次仍未办成。" in html and window.name in html
    assert "年" in html.split("办理期限", 1)[1][:200]  # the handling deadline, from the clock
    assert again == html


def test_a_register_issued_by_a_record_lists_that_record(registry: Registry):
    pack = registry.active("jiangyin", MONDAY.date())
    category = pack.complaints.categories[0]
    start = {"seq": 1, "at": MONDAY.isoformat(), "actor": "system", "transition": "start", "from_state": "",
             "to_state": "accepted", "data": {}, "pack_hash": pack.content_hash}
    snapshot = {"document": "complaint_register", "number": "JY-WS-2026-000009", "issued_at": MONDAY.isoformat(),
                "record": {"number": "JY-TS-2026-000003", "kind": "complaint", "item_id": None, "state": "accepted",
                           "workflow": "complaint"},
                "subject": {**COMPLAINT, "category": category.id}, "args": {}, "event": start}
    html = render_snapshot(pack, "complaint_register", snapshot, base_url=BASE)
    assert "投诉登记表" in html and "JY-TS-2026-000003" in html and "超过承诺时限仍未办结" in html
    assert category.name in html and "2026年10月12日" in html
    assert render_snapshot(pack, "complaint_register", dict(snapshot), base_url=BASE) == html


def test_renderer_for_a_timer_reads_the_log_and_the_accounts(tmp_path: Path, registry: Registry):
    """What the sweeper calls for a timer's documents: the record's log, its opening record and the
    staff accounts, read in the sweeper's transaction."""
    from bianmin.documents.issue import renderer_for
    from bianmin.store.models import Record

    pack = registry.active("xupu", MONDAY.date())
    item = pack.item(ITEMS["xupu"])

    async def body():
        clerk = await _staff("舒建军", "0745-3225678")
        case = await service.intake("xupu", item.id, subject(pack, item.id), clerk, {}, MONDAY, registry=registry)
        refused = await _step("xupu", case.record.number, "refuse", clerk, {
            "ground": "not_eligible", "reasons": "不符合法定条件。", "legal_basis": "《行政许可法》",
            "rights": "可申请行政复议。", "review_body": "溆浦县人民政府", "court": "溆浦县人民法院"}, hours(1), registry)
        report = await Record.get(id=refused.children[0].id)
        async with db.transaction() as tx:
            render = await renderer_for(tx, pack, report, base_url=BASE)
        _, instance = await service.load("xupu", report.number, registry=registry)
        timer_event = {"seq": 2, "at": hours(50).isoformat(), "actor": "system", "transition": "uphold",
                       "from_state": "filed", "to_state": "upheld", "data": {}, "pack_hash": pack.content_hash}
        snapshot = {"document": "negative_report_register", "number": "XP-WS-2026-000099",
                    "issued_at": hours(50).isoformat(),
                    "record": {"number": report.number, "kind": "negative_report", "item_id": None,
                               "state": "upheld", "workflow": "negative_report"},
                    "subject": dict(instance.subject), "args": {}, "event": timer_event}
        return case.record.number, render(pack, "negative_report_register", snapshot)

    case_number, html = run(f"sqlite://{tmp_path / 'timer.sqlite3'}", body)
    assert case_number in html and "王建国" in html  # the opening case, read in the transaction
    assert "舒建军" in html and "0745-3225678" in html  # the handler's account
    assert f"{BASE}/xupu/status?number=" in html and "<svg" in html
