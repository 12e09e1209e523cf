"""documents/issue.py: the store's renderer. Documents issued by the store's intake and
transitions (SQLite) are the pack's rendered templates, stored with the sha256 of their HTML."""

from __future__ import annotations

import asyncio
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


def test_documents_of_other_contexts_stay_unrendered(registry: Registry):
    pack = registry.active("jiangyin", MONDAY.date())
    doc = next(d for d in pack.documents if d.context == "complaint")
    snapshot = {"document": doc.id, "number": "JY-2026-000001", "issued_at": MONDAY.isoformat(),
                "record": {"number": "JY-2026-000002", "kind": "complaint", "item_id": None, "state": "handled",
                           "workflow": "complaint"}, "subject": {}, "args": {}, "event": None}
    assert render_snapshot(pack, doc.id, snapshot, base_url=BASE) == ""


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


def test_a_clock_past_the_holiday_calendar_leaves_only_its_date_blank(tmp_path: Path, registry: Registry):
    """dahepin's statutory clock ends in a year the holiday calendar does not cover yet: the
    receipt is issued all the same, with the other clocks' dates."""
    from bianmin.documents.issue import case_context
    from bianmin.workflow import Event

    pack = registry.active("dahepin", MONDAY.date())
    item = pack.item(ITEMS["dahepin"])
    late = dt.datetime(2026, 12, 7, 9, 0)
    start = Event(1, late, CLERK.id, "start", "", "received", {}, pack.content_hash)
    snapshot = {"document": "receipt_slip", "number": "DHP-WS-2026-000001", "issued_at": late.isoformat(),
                "record": {"number": "DHP-2026-000001", "kind": "case", "item_id": item.id, "state": "received",
                           "workflow": item.workflow},
                "subject": subject(pack, item.id), "args": {}, "event": start.as_dict()}
    context = case_context(pack, snapshot, item)
    assert context["deadlines"]["promised"] is not None and context["deadlines"]["statutory"] is None
    html = render_snapshot(pack, "receipt_slip", snapshot, base_url=BASE)
    assert "DHP-2026-000001" in html
