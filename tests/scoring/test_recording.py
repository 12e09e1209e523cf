"""Deductions through the store, on SQLite and PostgreSQL: proposed from the violations the log
proves, heard, decided within the rules, counted in the appraisal; manual recording; idempotent
detection. Each test cites the seed clause it checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from bianmin.packs import Registry
from bianmin.scoring import Period, RecordingError, queries, recording
from bianmin.scoring.deductions import DeductionError
from bianmin.store import service, sweeper
from bianmin.store.models import Event, Record, Violation
from bianmin.workflow import TransitionError
from scoring_helpers import case, decided, people

MARCH = dt.datetime(2026, 3, 2, 9, 0)  # a Monday; xupu item: promised 03-09, statutory 03-16
PROMISED_LATE = dt.datetime(2026, 3, 11, 16, 0)
STATUTORY_LATE = dt.datetime(2026, 3, 18, 16, 0)
ROSTER = [("c1", "张三", "clerk", "market_window"), ("h1", "王组长", "window_head", "market_window"),
          ("s1", "刘督查", "supervisor", ""), ("c2", "赵六", "clerk", "health_window")]
DECISION = {"points": 7, "reasons": "超时两日", "statement_considered": True, "appeal_rights": "可以申诉"}


async def deductions_of(number: str) -> list[Record]:
    parent = await Record.get(number=number)
    return await Record.filter(parent_id=parent.id, kind="deduction").order_by("id")


def test_only_the_person_charged_states_their_case_or_appeals(backend, registry):
    """xupu 八(八) gives the right to be heard to the person charged: another clerk, though their
    role may take 陈述申辩, is refused by the workflow itself (the API and the generic page too)."""

    async def body():
        who = await people(registry, "xupu", ROSTER, MARCH)
        await case(registry, "xupu", who["c1"], MARCH, PROMISED_LATE)
        ded = (await recording.propose("xupu", PROMISED_LATE + dt.timedelta(hours=1), registry=registry))[0]
        refused = []
        for transition, data in (("state_case", {"statement": "不是我"}), ("appeal", {"kind": "deduction", "grounds": "x"})):
            try:
                await service.transition("xupu", ded, transition, who["c2"], data,
                                         PROMISED_LATE + dt.timedelta(hours=2), registry=registry)
            except TransitionError as exc:
                refused.append((transition, exc.code))
        await recording.hear("xupu", ded, actor=who["c1"], now=PROMISED_LATE + dt.timedelta(hours=3),
                             statement="情况属实", registry=registry)
        return refused, (await Record.get(number=ded)).state

    refused, state = backend.run(body)
    assert refused == [("state_case", "guard_failed"), ("appeal", "wrong_state")]
    assert state == "heard"


def test_xupu_8_8_the_hearing_blocks_a_final_deduction(backend, registry):
    """xupu 八(八): 作出处理前应当听取责任人的意见, 保障其陈述和申辩的权利; 可以申诉."""

    async def body():
        who = await people(registry, "xupu", ROSTER, MARCH)
        number = await case(registry, "xupu", who["c1"], MARCH, PROMISED_LATE)
        opened = await recording.propose("xupu", PROMISED_LATE + dt.timedelta(hours=1), registry=registry)
        assert len(opened) == 1
        ded = opened[0]
        refused = []
        for transition in ("decide", "confirm"):
            try:
                await service.transition("xupu", ded, transition, who["s1"], DECISION, PROMISED_LATE
                                         + dt.timedelta(hours=2), registry=registry)
            except TransitionError as exc:
                refused.append(exc.code)
        try:
            await recording.decide("xupu", ded, actor=who["s1"], points=7, reasons="超时两日",
                                   now=PROMISED_LATE + dt.timedelta(hours=2), registry=registry)
        except RecordingError as exc:
            refused.append(exc.code)
        before = await queries.deductions(registry.active("xupu", MARCH.date()), dt.date(2026, 3, 1),
                                          dt.date(2026, 4, 1))
        worked = await decided(registry, "xupu", ded, who["s1"], who["c1"], 7, PROMISED_LATE + dt.timedelta(days=1))
        after = await queries.deductions(registry.active("xupu", MARCH.date()), dt.date(2026, 3, 1),
                                         dt.date(2026, 4, 1))
        t = PROMISED_LATE + dt.timedelta(days=2)
        await service.transition("xupu", ded, "appeal", who["c1"], {"kind": "deduction", "grounds": "系统故障"}, t,
                                 registry=registry)
        reviewing = await queries.deductions(registry.active("xupu", MARCH.date()), dt.date(2026, 3, 1),
                                             dt.date(2026, 4, 1))
        await service.transition("xupu", ded, "uphold", who["s1"], {}, t + dt.timedelta(days=1), registry=registry)
        record = await Record.get(number=ded)
        events = [e.transition for e in await Event.filter(record_id=record.id).order_by("seq")]
        return number, record, refused, before, worked, after, reviewing, events, who

    number, record, refused, before, worked, after, reviewing, events, who = backend.run(body)
    assert refused == ["wrong_state", "wrong_state", "hearing_required"]
    assert [(d.state, d.points, d.counts) for d in before] == [("proposed", 0, False)]
    assert [(d.state, d.points, d.counts) for d in after] == [("decided", 7, True)]
    assert [(d.state, d.points) for d in reviewing] == [("under_review", 7)]  # an appeal does not suspend it
    assert record.state == "final" and events == ["start", "state_case", "decide", "appeal", "uphold"]
    s = record.subject
    assert (s["violation"], s["tier"], s["points_from"], s["points_to"], s["charged"]) == \
        ("overdue_promised", "window_monthly", 5, 10, "window")
    assert (s["window"], s["staff"], s["staff_name"], s["case"], s["detected"]) == \
        ("market_window", who["c1"].id, "张三", number, True)
    assert s["evidence"]["clock"] == "promised" and s["evidence"]["events"]
    assert worked.effects == ("written_self_criticism", "rectify_within_deadline")


def test_xupu_8_4_and_8_5_counted_in_the_month(backend, registry):
    """xupu 八(四)5 扣窗口5—10分 and 八(五)1 扣岗位责任人10—15分, 取消窗口当月评优评先资格, 告诫窗口负责人:
    a case completed past its statutory limit proves both; only decided points count."""

    async def body():
        who = await people(registry, "xupu", ROSTER, MARCH)
        late = await case(registry, "xupu", who["c1"], MARCH, STATUTORY_LATE)
        await case(registry, "xupu", who["c2"], MARCH, MARCH + dt.timedelta(days=1), item_id="public_place_hygiene_licence")
        opened = await recording.propose("xupu", STATUTORY_LATE + dt.timedelta(hours=1), registry=registry)
        rows = {r.subject["violation"]: r for r in await deductions_of(late)}
        at = STATUTORY_LATE + dt.timedelta(days=1)
        refused = None
        await recording.hear("xupu", rows["overdue_statutory"].number, actor=who["c1"], now=at, waived=True,
                             registry=registry)
        try:
            await recording.decide("xupu", rows["overdue_statutory"].number, actor=who["s1"], points=9,
                                   reasons="超过法定时限", now=at + dt.timedelta(minutes=1), registry=registry)
        except DeductionError as exc:
            refused = exc.code
        _, staff_worked = await recording.decide("xupu", rows["overdue_statutory"].number, actor=who["s1"], points=12,
                                                 reasons="超过法定时限", now=at + dt.timedelta(minutes=2),
                                                 registry=registry)
        await decided(registry, "xupu", rows["overdue_promised"].number, who["s1"], who["h1"], 6, at)
        pack = registry.active("xupu", MARCH.date())
        period = Period("month", 2026, 3)
        data = await queries.load(pack, period.start, period.end)
        result = queries.appraise_rows(pack, data, period)
        return opened, rows, refused, staff_worked, result, who

    opened, rows, refused, staff_worked, result, who = backend.run(body)
    assert len(opened) == 2 and set(rows) == {"overdue_promised", "overdue_statutory"}
    statutory = rows["overdue_statutory"].subject
    assert (statutory["charged"], statutory["staff"], statutory["points_from"], statutory["points_to"]) == \
        ("staff", who["c1"].id, 10, 15)
    assert refused == "points_out_of_range"
    assert staff_worked.effects == ("lose_monthly_excellence", "warn_window_head")
    windows = {s.subject.id: s for s in result.windows}
    staff = {s.subject.id: s for s in result.staff}
    assert windows["market_window"].score == 94 and windows["health_window"].score == 100
    assert staff[who["c1"].id].score == 88 and staff[who["h1"].id].score == 100
    assert "− 12 分: 本窗口审批事项超过法定时限办结 (xupu 八(五)1)" in staff[who["c1"].id].lines[2]
    monthly = {s.selection.id: s for s in result.selections}["monthly_excellence"]
    assert [s.subject.id for s in monthly.chosen] == ["health_window"]
    out = {s.subject.id: why for s, why in monthly.out}
    assert out["market_window"].startswith("取消当月评优评先资格 (扣分决定 XP-KF-2026-")
    assert out["planning_window"] == "本期无办结办件, 不参评"


def test_xupu_8_6_3_repeat_within_a_year_through_the_store(backend, registry):
    """xupu 八(六)3: 一年内出现两次以上应予追究的行为 → 从重, 通知部门主要负责人, 调离执法岗位;
    a repeat after more than a year is not one."""

    async def body():
        who = await people(registry, "xupu", ROSTER, MARCH)
        first = await case(registry, "xupu", who["c1"], MARCH, STATUTORY_LATE)
        may = dt.datetime(2026, 5, 11, 9, 0)
        second = await case(registry, "xupu", who["c1"], may, dt.datetime(2026, 5, 29, 16, 0))
        await recording.propose("xupu", dt.datetime(2026, 6, 1, 9, 0), registry=registry)
        one = {r.subject["violation"]: r.number for r in await deductions_of(first)}
        two = {r.subject["violation"]: r.number for r in await deductions_of(second)}
        before = (await recording.assessment("xupu", two["overdue_statutory"], 12, registry=registry))[1]
        await decided(registry, "xupu", one["overdue_statutory"], who["s1"], who["c1"], 12, dt.datetime(2026, 6, 1, 10))
        await recording.hear("xupu", two["overdue_statutory"], actor=who["c1"], now=dt.datetime(2026, 6, 2, 9),
                             statement="情况属实", registry=registry)
        out_of_range = None
        try:
            await recording.decide("xupu", two["overdue_statutory"], actor=who["s1"], points=12, reasons="再次超时",
                                   now=dt.datetime(2026, 6, 2, 10), registry=registry)
        except DeductionError as exc:
            out_of_range = str(exc)
        _, heavier = await recording.decide("xupu", two["overdue_statutory"], actor=who["s1"], points=14,
                                            reasons="一年内再次超过法定时限", now=dt.datetime(2026, 6, 2, 11),
                                            registry=registry)
        decision = await Event.get(record_id=(await Record.get(number=two["overdue_statutory"])).id, transition="decide")
        return before, out_of_range, heavier, decision.data

    before, out_of_range, heavier, data = backend.run(body)
    assert before.circumstances == () and before.allowed == (10, 15)  # the first one was not decided yet
    assert "12.5–15" in out_of_range
    assert [f.circumstance.id for f in heavier.circumstances] == ["repeat_within_year"]
    assert heavier.points == 14
    assert data["points"] == 14 and {"notify_department_head", "transfer_off_post"} <= set(data["effects"])
    assert data["circumstances"].startswith("从重: 一年内出现两次以上应予追究行政责任的行为 (xupu 八(六)3, 依规则认定)")


def test_taishan_10_red_flag_lost_through_the_store(backend, registry):
    """taishan 第十条 每季度评选"红旗窗口"; a window found refusing an eligible application (第十一条(三))
    is heard, handled (限期整改, no points: the 办法 keeps none) and out of that quarter's selection."""

    async def body():
        who = await people(registry, "taishan", [("t1", "陈一", "clerk", "business_window"),
                                                 ("t2", "李三", "clerk", "social_window"),
                                                 ("th", "黄组长", "window_head", "business_window"),
                                                 ("ts", "监督管理股", "supervisor", ""),
                                                 ("tb", "后台审批", "back_office", "")], MARCH)
        await case(registry, "taishan", who["t1"], MARCH, MARCH + dt.timedelta(days=2), completer=who["tb"])
        await case(registry, "taishan", who["t2"], MARCH, MARCH + dt.timedelta(days=3),
                   item_id="public_place_hygiene_licence", completer=who["tb"])
        made = await recording.record("taishan", "refuse_eligible_application", actor=who["ts"], now=MARCH
                                      + dt.timedelta(days=5), occurred_at=MARCH + dt.timedelta(days=4),
                                      evidence="群众反映符合条件的申请被拒绝受理, 经核实属实", window="business_window",
                                      registry=registry)
        worked = await decided(registry, "taishan", made.record.number, who["ts"], who["th"], 0,
                               MARCH + dt.timedelta(days=6))
        pack = registry.active("taishan", MARCH.date())
        q1 = Period("quarter", 2026, 1)
        rows = await queries.load(pack, q1.start, q1.end)
        marks = {("window", "business_window"): {"service_image": 98, "work_results": 97},
                 ("window", "social_window"): {"service_image": 90, "work_results": 92}}
        q2 = Period("quarter", 2026, 2)
        later = await queries.load(pack, q2.start, q2.end)
        return worked, queries.appraise_rows(pack, rows, q1, marks), queries.appraise_rows(pack, later, q2, marks)

    worked, q1, q2 = backend.run(body)
    assert worked.points == 0 and worked.effects == ("rectify_within_deadline", "lose_red_flag_eligibility")
    red = {s.selection.id: s for s in q1.selections}["red_flag_window"]
    assert [s.subject.id for s in red.chosen] == ["social_window"]
    out = {s.subject.id: why for s, why in red.out}
    assert out["business_window"].startswith('取消当季度"红旗窗口"评选资格 (扣分决定 TS-KF-2026-')
    assert out["consult_desk"] == "本期无办结办件, 不参评"
    # The next quarter: no case completed by either window, nobody is chosen.
    assert {s.selection.id: s for s in q2.selections}["red_flag_window"].chosen == ()


def test_detection_and_proposal_are_idempotent(backend, registry):
    """Sweeping and proposing again, or completing the overdue case, adds no violation and no deduction
    (jiangyin 三(三)1, 三(三)6: 承诺时限、法定时限)."""

    async def body():
        who = await people(registry, "jiangyin", [("j1", "钱七", "clerk", ""), ("js", "孙督查", "supervisor", "")], MARCH)
        number = await case(registry, "jiangyin", who["j1"], MARCH, None)
        late = dt.datetime(2026, 3, 30, 9, 0)
        counts = []
        for _ in range(2):
            await sweeper.sweep(late, registry=registry)
            opened = await recording.propose("jiangyin", late, registry=registry)
            counts.append((await Violation.all().count(), len(opened), len(await deductions_of(number))))
        await service.transition("jiangyin", number, "complete", who["j1"], {"outcome": "approved"},
                                 late + dt.timedelta(hours=1), registry=registry)
        opened = await recording.propose("jiangyin", late + dt.timedelta(hours=2), registry=registry)
        counts.append((await Violation.all().count(), len(opened), len(await deductions_of(number))))
        subjects = [r.subject for r in await deductions_of(number)]
        return counts, subjects, who

    counts, subjects, who = backend.run(body)
    assert counts == [(2, 2, 2), (2, 0, 2), (2, 0, 2)]
    assert {s["violation"] for s in subjects} == {"overdue_promised", "overdue_statutory"}
    assert all(s["charged"] == "staff" and s["staff"] == who["j1"].id and s["points_max"] == 0 for s in subjects)


PDF = b"%PDF-1.7\n% evidence\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_manual_recording_with_evidence_and_attachments(backend, registry, tmp_path, monkeypatch):
    """xupu 八(六)1 态度恶劣、使用服务忌语 — conduct the log cannot see, recorded by the 督查室 with evidence."""

    async def body():
        who = await people(registry, "xupu", ROSTER, MARCH)
        at = MARCH + dt.timedelta(days=3)
        made = await recording.record(
            "xupu", "abusive_attitude", actor=who["s1"], now=at, occurred_at=at - dt.timedelta(hours=2),
            evidence="申办人投诉窗口人员使用服务忌语, 经调取录像属实", staff=who["c1"].id,
            attachments=[recording.Upload("录像截图.png", PNG, "image/png"), recording.Upload("C:\\调查笔录.pdf", PDF)],
            attachments_dir=tmp_path / "attachments", registry=registry)
        errors = []
        for kwargs in ({"evidence": " "}, {"staff": ""},
                       {"attachments": [recording.Upload("x.exe", b"MZ\x90\x00")]},
                       {"attachments": [recording.Upload("big.pdf", PDF + b"0" * 64)]},
                       {"occurred_at": at + dt.timedelta(days=1)}):
            args = {"actor": who["s1"], "now": at, "occurred_at": at, "evidence": "事实", "staff": who["c1"].id,
                    "registry": registry, **kwargs}
            monkeypatch.setattr(recording, "MAX_ATTACHMENT_BYTES", 40)
            try:
                await recording.record("xupu", "abusive_attitude", **args)
            except RecordingError as exc:
                errors.append(exc.code)
        # On a case: the manual record is that case's violation, so it is never recorded twice,
        # and a violation already detected on the case is not recorded again by hand.
        number = await case(registry, "xupu", who["c1"], MARCH, PROMISED_LATE)
        on_case = await recording.record("xupu", "no_reply", actor=who["s1"], now=PROMISED_LATE, occurred_at=MARCH,
                                         evidence="未答复申办人", case=number, registry=registry)
        for violation in ("no_reply", "overdue_promised"):
            try:
                await recording.record("xupu", violation, actor=who["s1"], now=PROMISED_LATE, occurred_at=MARCH,
                                       evidence="重复记录", case=number, registry=registry)
            except RecordingError as exc:
                errors.append(exc.code)
        proposed = await recording.propose("xupu", PROMISED_LATE + dt.timedelta(hours=1), registry=registry)
        return made.record, on_case.record, errors, proposed, await deductions_of(number), who

    made, on_case, errors, proposed, of_case, who = backend.run(body)
    s = made.subject
    assert (s["violation"], s["charged"], s["staff"], s["window"], s["detected"]) == \
        ("abusive_attitude", "staff", who["c1"].id, "market_window", False)
    files = s["evidence"]["attachments"]
    assert [(f["name"], f["type"], f["size"]) for f in files] == [("录像截图.png", "image/png", len(PNG)),
                                                                  ("调查笔录.pdf", "application/pdf", len(PDF))]
    assert all((tmp_path / "attachments" / f["sha256"][:2] / f["sha256"]).is_file() for f in files)
    assert s["evidence"]["recorded_by"] == who["s1"].id and made.state == "proposed" and made.parent_id is None
    assert errors == ["evidence_required", "charged_unknown", "attachment_type", "attachment_too_large",
                      "occurred_in_future", "already_recorded", "already_recorded"]
    assert on_case.subject["case"] and on_case.parent_id is not None
    assert len(proposed) == 1  # only the automatic overdue_promised: the manual one has its deduction
    assert sorted(r.subject["violation"] for r in of_case) == ["no_reply", "overdue_promised"]


def test_the_suggested_decide_guard_keeps_points_within_bounds(backend, registry):
    """With recording.DECIDE_GUARD on `decide` (the YAML line proposed for _base), a decision
    taken straight through the store cannot leave the widest range the rules allow."""
    pack = registry.active("xupu", MARCH.date())
    flow = pack.workflow("deduction")
    guarded = tuple(dataclasses.replace(t, guard=recording.DECIDE_GUARD) if t.id == "decide" else t
                    for t in flow.transitions)
    workflows = tuple(dataclasses.replace(w, transitions=guarded) if w.id == "deduction" else w for w in pack.workflows)
    strict = Registry()
    strict.add(dataclasses.replace(pack, workflows=workflows))

    async def body():
        who = await people(strict, "xupu", ROSTER, MARCH)
        await case(strict, "xupu", who["c1"], MARCH, PROMISED_LATE)
        [number] = await recording.propose("xupu", PROMISED_LATE, registry=strict)
        await recording.hear("xupu", number, actor=who["c1"], now=PROMISED_LATE, waived=True, registry=strict)
        codes = []
        for points in (11, 10):
            try:
                await service.transition("xupu", number, "decide", who["s1"], {**DECISION, "points": points},
                                         PROMISED_LATE + dt.timedelta(hours=1), registry=strict)
                codes.append("ok")
            except TransitionError as exc:
                codes.append(exc.code)
        bare = await service.open_record("xupu", "deduction", {}, who["s1"], {}, MARCH, registry=strict)
        await recording.hear("xupu", bare.record.number, actor=who["c1"], now=MARCH, waived=True, registry=strict)
        await service.transition("xupu", bare.record.number, "decide", who["s1"], {**DECISION, "points": 30}, MARCH,
                                 registry=strict)
        return codes

    assert backend.run(body) == ["guard_failed", "ok"]


def test_a_bare_deduction_cannot_be_decided(backend, registry):
    """A deduction opened without a violation (xupu 五(八) 举报属实 opens one) is refused a decision."""

    async def body():
        who = await people(registry, "xupu", ROSTER, MARCH)
        bare = await service.open_record("xupu", "deduction", {}, who["s1"], {}, MARCH, registry=registry)
        try:
            await recording.decide("xupu", bare.record.number, actor=who["s1"], points=5, reasons="x",
                                   now=MARCH + dt.timedelta(hours=1), registry=registry)
        except RecordingError as exc:
            return exc.code

    assert backend.run(body) == "no_violation"


@pytest.mark.parametrize("jurisdiction", ["xupu", "taishan", "jiangyin", "taihe", "dahepin"])
def test_every_pack_violation_has_a_rule(registry, jurisdiction):
    from bianmin.scoring import rule_for

    pack = registry.active(jurisdiction, MARCH.date())
    for v in pack.accountability.violations:
        rule = rule_for(pack, v.id)
        assert rule.charged in ("staff", "window", "window_head", "department") and rule.source
