"""Intake and transitions as transactions, on SQLite and PostgreSQL (fixtures in conftest.py)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bianmin.store import ConflictError, db, records, service
from bianmin.store.models import Document, Event, Outbox, Record, Violation
from bianmin.workflow import TransitionError

MONDAY = dt.datetime(2026, 10, 12, 9, 0)
ITEMS = {"jiangyin": "food_business_licence", "xupu": "food_business_licence",
         "taihe": "food_business_licence", "taishan": "food_business_licence",
         "dahepin": "rural_homestead_approval"}
# Extra steps of a pack's case workflow: xupu gives a receipt slip first (xupu 四(一)); taishan
# archives after delivery (第八条(五)).
BEFORE = {"xupu": [("issue_receipt", {})]}
REFUSAL = {"ground": "not_eligible", "reasons": "不符合法定条件", "legal_basis": "行政许可法 §38",
           "rights": "可以依法申请行政复议或者提起行政诉讼"}
AFTER = {"taishan": [("archive", {})]}


def hours(n: int) -> dt.datetime:
    return MONDAY + dt.timedelta(hours=n)


@pytest.mark.parametrize("jurisdiction", sorted(ITEMS))
def test_case_lifecycle(backend, registry, staff, checklist, jurisdiction):
    pack = registry.active(jurisdiction, MONDAY.date())
    item_id = ITEMS[jurisdiction]
    steps = [*BEFORE.get(jurisdiction, []),
             ("request_correction", {"missing_materials": [{"material": pack.item(item_id).materials[0].id,
                                                             "problem": "missing"}]}),
             ("resubmit", {"materials": checklist(pack, item_id)}),
             ("accept", {}), ("complete", {"outcome": "approved"}), ("deliver", {}),
             *AFTER.get(jurisdiction, [])]

    async def body():
        subject = {"applicant": "王五", "materials": checklist(pack, item_id, missing=1)}
        first = await service.intake(jurisdiction, item_id, subject, staff, {}, MONDAY, registry=registry)
        number = first.record.number
        assert number == f"{records.numbering.prefix_for(jurisdiction)}-2026-000001"
        for i, (transition, data) in enumerate(steps, start=1):
            result = await service.transition(jurisdiction, number, transition, staff, data, hours(i),
                                              expected_version=i, registry=registry)
            assert result.record.version == i + 1
        record = await Record.get(jurisdiction_id=jurisdiction, number=number)
        events = await Event.filter(record_id=record.id).order_by("seq")
        documents = await Document.filter(record_id=record.id).order_by("id")
        return record, events, documents

    record, events, documents = backend.run(body)
    assert not record.is_open and record.pack_hash == pack.content_hash
    assert [e.transition for e in events] == ["start", *(t for t, _ in steps)]
    assert [e.seq for e in events] == list(range(1, len(steps) + 2))
    assert events[-1].to_state == record.state and events[1].actor == staff.id
    issued = [d.document_id for d in documents]
    assert {"correction_notice", "acceptance_notice", "completion_notice"} <= set(issued)
    # One document series per jurisdiction and year, gap-free.
    assert [d.number[-6:] for d in documents] == [f"{n:06d}" for n in range(1, len(documents) + 1)]
    assert all(len(d.content_hash) == 64 and d.data["record"]["number"] == record.number for d in documents)


def test_reprint_reads_the_same_document(backend, registry, staff, checklist):
    pack = registry.active("jiangyin", MONDAY.date())

    def render(pack, document_id, snapshot):
        return f"{snapshot['name']} {snapshot['number']} {snapshot['subject']['applicant']}"

    async def body():
        subject = {"applicant": "王五", "materials": checklist(pack, "food_business_licence")}
        case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        done = await service.transition("jiangyin", case.record.number, "accept", staff, {}, hours(1),
                                        registry=registry, renderer=render)
        issued = done.documents[0]
        again = await service.document("jiangyin", issued.number)
        return issued, again, await Document.all().count()

    issued, again, count = backend.run(body)
    assert (again.id, again.content_hash, again.content, count) == (issued.id, issued.content_hash, issued.content, 1)
    assert again.content == "受理通知书 JY-WS-2026-000001 王五"


def test_chinese_text_is_stored_as_text(backend, registry, staff, checklist):
    pack = registry.active("jiangyin", MONDAY.date())

    async def body():
        subject = {"applicant": "王五", "materials": checklist(pack, "food_business_licence")}
        await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        rows = await db.fetch(db.connection(), "SELECT subject FROM records")
        return str(rows[0]["subject"])

    assert "王五" in backend.run(body)


def test_concurrent_intakes_are_numbered_without_gaps(backend, registry, staff, checklist):
    pack = registry.active("taihe", MONDAY.date())
    item_id = ITEMS["taihe"]

    async def body():
        subject = {"materials": checklist(pack, item_id)}
        results = await asyncio.gather(*(
            service.intake("taihe", item_id, {**subject, "applicant": f"申请人{i}"}, staff, {}, MONDAY,
                           registry=registry) for i in range(50)))
        return sorted(r.record.number for r in results)

    numbers = backend.run(body)
    assert numbers == [f"TH-2026-{n:06d}" for n in range(1, 51)]


def test_failed_intake_gives_its_number_back(backend, registry, staff, checklist, monkeypatch):
    pack = registry.active("xupu", MONDAY.date())
    subject = {"materials": checklist(pack, "food_business_licence")}

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")
        yield  # a program (db.Program) that fails at its first step

    async def body():
        with monkeypatch.context() as patch:
            patch.setattr(records, "write_effects", crash)  # after the record and its event are written
            with pytest.raises(RuntimeError):
                await service.intake("xupu", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        assert await Record.all().count() == 0 and await Event.all().count() == 0
        done = await service.intake("xupu", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        return done.record.number

    assert backend.run(body) == "XP-2026-000001"


def test_crash_inside_a_transition_stores_nothing(backend, registry, staff, checklist, monkeypatch):
    pack = registry.active("jiangyin", MONDAY.date())

    def crash(*args, **kwargs):
        raise RuntimeError("power cut after the event insert")
        yield  # a program (db.Program) that fails at its first step

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        number = case.record.number
        with monkeypatch.context() as patch:
            patch.setattr(service, "_effects", crash)
            with pytest.raises(RuntimeError, match="power cut"):
                await service.transition("jiangyin", number, "accept", staff, {}, hours(1), registry=registry)
        record = await Record.get(number=number)
        seen = (record.state, record.version, await Event.filter(record_id=record.id).count(),
                await Document.all().count())
        # The same transition goes through afterwards: nothing half-done was left in the way.
        after = await service.transition("jiangyin", number, "accept", staff, {}, hours(2), registry=registry)
        return seen, after.record.state, [d.number for d in after.documents]

    seen, state, documents = backend.run(body)
    assert seen == ("received", 1, 1, 0)
    assert state == "accepted" and documents == ["JY-WS-2026-000001"]


def test_concurrent_transitions_one_wins(backend, registry, staff, checklist):
    pack = registry.active("jiangyin", MONDAY.date())

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        attempts = [service.transition("jiangyin", case.record.number, "accept", staff, {}, hours(1),
                                       expected_version=1, registry=registry) for _ in range(2)]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        record = await Record.get(number=case.record.number)
        return outcomes, record.version, await Event.filter(record_id=record.id).count()

    outcomes, version, events = backend.run(body)
    won = [o for o in outcomes if isinstance(o, service.Result)]
    lost = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert str(lost[0]) == "该办件已被他人更新, 请刷新后重试"
    assert (version, events) == (2, 2)


def test_stale_update_is_refused_by_the_version_check(backend, registry, staff, checklist, monkeypatch):
    """Two writers that both read version 1: the database, not the early check, stops the second."""
    pack = registry.active("jiangyin", MONDAY.date())

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        number = case.record.number
        stale = await service.load("jiangyin", number, registry=registry)
        await service.transition("jiangyin", number, "accept", staff, {}, hours(1), registry=registry)

        async def load_stale(*args, **kwargs):
            return stale

        monkeypatch.setattr(service, "load", load_stale)
        with pytest.raises(ConflictError):
            await service.transition("jiangyin", number, "refuse", staff, REFUSAL, hours(2), registry=registry)
        return await Event.all().count()

    assert backend.run(body) == 2


def test_refused_transition_stores_nothing(backend, registry, staff, checklist):
    pack = registry.active("jiangyin", MONDAY.date())

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence", missing=1)}
        case = await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        with pytest.raises(TransitionError) as refused:
            await service.transition("jiangyin", case.record.number, "accept", staff, {}, hours(1), registry=registry)
        return refused.value.code, await Event.all().count(), (await Record.get(id=case.record.id)).version

    assert backend.run(body) == ("guard_failed", 1, 1)


def test_idempotent_intake_returns_the_first_record(backend, registry, staff, checklist):
    pack = registry.active("taishan", MONDAY.date())
    item_id = ITEMS["taishan"]

    async def body():
        subject = {"materials": checklist(pack, item_id)}
        first = await service.intake("taishan", item_id, subject, staff, {}, MONDAY, idempotency_key="k-1",
                                     registry=registry)
        again = await service.intake("taishan", item_id, subject, staff, {}, MONDAY, idempotency_key="k-1",
                                     registry=registry)
        racing = await asyncio.gather(*(service.intake("taishan", item_id, subject, staff, {}, MONDAY,
                                                       idempotency_key="k-2", registry=registry) for _ in range(5)))
        other = await service.intake("taishan", item_id, subject, staff, {}, MONDAY, registry=registry)
        return first, again, racing, other, await Record.all().count()

    first, again, racing, other, count = backend.run(body)
    assert again.replayed and again.record.id == first.record.id and not first.replayed
    assert len({r.record.number for r in racing}) == 1
    # No number was burnt by the retries that rolled back.
    assert (other.record.number, count) == ("TS-2026-000003", 3)


def test_refusal_opens_a_negative_report(backend, registry, staff, checklist):
    pack = registry.active("taihe", MONDAY.date())

    async def body():
        subject = {"applicant": "王五", "materials": checklist(pack, "food_business_licence")}
        case = await service.intake("taihe", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        result = await service.transition("taihe", case.record.number, "refuse", staff, REFUSAL, hours(1),
                                          registry=registry)
        child = result.children[0]
        start = await Event.get(record_id=child.id, seq=1)
        return result, child, start

    result, child, start = backend.run(body)
    assert child.kind == "negative_report" and child.parent_id == result.record.id
    assert child.number == "TH-FD-2026-000001" and child.subject["parent_number"] == result.record.number
    assert start.transition == "start" and child.pack_hash == result.record.pack_hash
    assert [d.document_id for d in result.documents] == ["refusal_notice"]


def test_notify_and_assign_go_to_the_outbox(backend, registry, staff, checklist):
    pack = registry.active("taishan", MONDAY.date())

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        case = await service.intake("taishan", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        await service.transition("taishan", case.record.number, "accept", staff, {}, hours(1), registry=registry)
        await service.transition("taishan", case.record.number, "dispatch", staff, {}, hours(2), registry=registry)
        return [(o.kind, o.payload) for o in await Outbox.all().order_by("id")]

    everything = backend.run(body)
    rows = [(k, p) for k, p in everything if k != "event"]
    assert [k for k, _ in rows] == ["assign", "notify"]
    assert rows[0][1]["role"] == "back_office" and rows[0][1]["record"] == "TS-2026-000001"
    # Every committed event also waits in the outbox for plugins' on_event listeners.
    events = [p for k, p in everything if k == "event"]
    assert [(p["kind"], p["case_id"]) for p in events] == [
        ("start", "TS-2026-000001"), ("accept", "TS-2026-000001"), ("dispatch", "TS-2026-000001")]


def test_late_completion_is_a_violation_at_once(backend, registry, staff, checklist):
    """xupu 八(四)5: a case completed past its promised limit (5 working days)."""
    pack = registry.active("xupu", MONDAY.date())

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        case = await service.intake("xupu", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        number = case.record.number
        await service.transition("xupu", number, "issue_receipt", staff, {}, hours(1), registry=registry)
        await service.transition("xupu", number, "accept", staff, {}, hours(2), registry=registry)
        late = dt.datetime(2026, 10, 22, 10, 0)  # promised by 10-19, statutory (10 days) by 10-26
        result = await service.transition("xupu", number, "complete", staff, {"outcome": "approved"}, late,
                                          registry=registry)
        return result.violations, [v.violation_id for v in await Violation.all()]

    assert backend.run(body) == (("overdue_promised",), ["overdue_promised"])


def test_events_are_append_only(backend, registry, staff, checklist):
    pack = registry.active("jiangyin", MONDAY.date())

    async def body():
        subject = {"materials": checklist(pack, "food_business_licence")}
        await service.intake("jiangyin", "food_business_licence", subject, staff, {}, MONDAY, registry=registry)
        refused = []
        for statement in ("UPDATE events SET to_state = 'accepted'", "DELETE FROM events"):
            try:
                async with db.transaction() as tx:
                    await db.execute(tx, statement)
            except Exception as exc:  # the driver's error, whatever its class
                refused.append(str(exc))
        return refused, [e.to_state for e in await Event.all()]

    refused, states = backend.run(body)
    assert len(refused) == 2 and all("append-only" in r for r in refused)
    assert states == ["received"]
