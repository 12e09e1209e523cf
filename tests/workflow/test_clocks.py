"""From the event log to the clocks: bindings, the correction-notice start rule, data limits."""

from __future__ import annotations

import datetime as dt

from bianmin.workflow import clock_states, start
import pytest

from bianmin.workflow import TransitionError
from workflow_helpers import CLERK, HEAD, PAUSE, at, effects, open_case, person, run, with_transition

FOOD = "food_business_licence"
NOTICE = {"missing_materials": [{"material": "layout", "problem": "missing"}]}


def states(instance, now):
    return {k: (s.status, s.deadline) for k, s in clock_states(instance, at(now), explain=False).items()}


def resubmitted(pack, when):
    return {"materials": [{"id": m.id, "received": True, "pages": 1} for m in pack.item(FOOD).materials]}


def test_a_timely_correction_notice_restarts_the_clocks_at_resubmission(packs):
    """行政许可法 §32, jiangyin 三(三)5: notice within 5 working days → the clock counts from the
    day the materials are complete."""
    pack = packs["jiangyin"]
    case = run(open_case(pack, FOOD, missing=("layout",), when="2026-03-02 09:00"),
               ("request_correction", "2026-03-03 10:00", CLERK, NOTICE)).instance
    assert states(case, "2026-03-04 09:00")["promised"] == ("not_started", None)
    case = run(case, ("resubmit", "2026-03-05 10:00", CLERK, resubmitted(pack, "x")),
               ("accept", "2026-03-05 11:00", CLERK)).instance
    assert states(case, "2026-03-06 09:00")["promised"] == ("running", dt.date(2026, 3, 12))


def test_a_late_correction_notice_leaves_the_clock_counting_from_receipt(packs):
    pack = packs["jiangyin"]
    case = run(open_case(pack, FOOD, missing=("layout",), when="2026-03-02 09:00"),
               ("request_correction", "2026-03-10 10:00", CLERK, NOTICE)).instance
    assert states(case, "2026-03-10 11:00")["promised"] == ("overdue", dt.date(2026, 3, 9))


def test_acceptance_on_commitment_after_a_notice_starts_the_clock(packs):
    """taihe: a notice, then acceptance on commitment without resubmission: the clock counts from
    the acceptance (promised 7 working days)."""
    pack = packs["taihe"]
    missing = ("safety_rules",)
    case = run(open_case(pack, FOOD, missing=missing, when="2026-03-02 09:00"),
               ("request_correction", "2026-03-03 10:00", CLERK,
                {"missing_materials": [{"material": "safety_rules", "problem": "missing"}]}),
               ("accept_on_commitment", "2026-03-04 10:00", CLERK,
                {"missing": ["safety_rules"], "supply_by": "2026-03-20", "signed": True, "commitment": "承诺补齐"})).instance
    assert states(case, "2026-03-05 09:00")["promised"] == ("running", dt.date(2026, 3, 13))


def test_a_refusal_stops_every_clock(packs):
    refusal = {"ground": "not_required", "reasons": "无需许可", "legal_basis": "行政许可法 第十二条",
               "rights": "可依法申请行政复议"}
    case = run(open_case(packs["jiangyin"], FOOD), ("refuse", "2026-03-02 10:00", CLERK, refusal))
    assert [e["stop"] for e in effects(case, "stop_clock")] == ["refused", "refused", "refused"]
    assert {s for s, _ in states(case.instance, "2026-03-20 09:00").values()} == {"stopped"}


def test_pause_and_resume_bindings_announce_their_effects(packs):
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK))
    paused = run(case.instance, ("pause", "2026-03-03 10:00", CLERK, PAUSE))
    assert [e["clock"] for e in effects(paused, "pause_clock")] == ["promised", "statutory"]
    resumed = run(paused.instance, ("resume", "2026-03-04 10:00", CLERK))
    assert [e["clock"] for e in effects(resumed, "resume_clock")] == ["promised", "statutory"]


def test_a_clock_that_has_not_started_is_reported_as_such(packs):
    inquiry = start(packs["jiangyin"], "inquiry", subject={}, actor=CLERK, now=at("2026-03-02 09:00")).instance
    state = clock_states(inquiry, at("2026-03-03 09:00"))["inquiry_reply"]
    assert state.status == "not_started" and state.deadline is None


def test_a_limit_chosen_by_the_record_data(packs):
    """xupu 四(二): superior-assigned matters, urgent at once, otherwise within a week."""
    pack = packs["xupu"]
    urgent = start(pack, "assigned_matter", subject={"urgency": "urgent"}, actor=person("d", "director"),
                   now=at("2026-03-02 09:00")).instance
    normal = start(pack, "assigned_matter", subject={"urgency": "normal"}, actor=person("d", "director"),
                   now=at("2026-03-02 09:00")).instance
    assert states(urgent, "2026-03-03 09:00")["assigned_matter"] == ("overdue", dt.date(2026, 3, 2))
    assert states(normal, "2026-03-03 09:00")["assigned_matter"] == ("running", dt.date(2026, 3, 9))


def test_an_explanation_comes_with_each_clock(packs):
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    promised = clock_states(case, at("2026-03-03 09:00"))["promised"]
    assert promised.explanation and any("民法典" in line.source for line in promised.explanation)


def test_the_clock_engine_has_the_last_word_on_a_pause(packs):
    """Without the pause form, the time-limit rules still refuse a reason the item does not list."""
    pack = with_transition(packs["jiangyin"], "case", "pause", form="")
    case = run(open_case(pack, FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        run(case, ("pause", "2026-03-03 10:00", CLERK, {"reason": "hearing", "expected_duration": 3}))
    assert exc.value.code == "clock_rule"
    assert "承诺时限: 本事项不能因该特别程序暂停计时" in exc.value.message


def test_clock_rule_messages_lead_with_the_rule_in_chinese(packs):
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    late = {"reason": "需现场核查", "new_deadline": "2026-03-13", "approver": "李主任"}
    with pytest.raises(TransitionError) as exc:
        run(case, ("extend", "2026-03-10 10:00", HEAD, late))
    assert exc.value.message.startswith("“延期”不符合时限规则: 承诺时限: 延期须在时限届满前批准并告知申请人 (")
