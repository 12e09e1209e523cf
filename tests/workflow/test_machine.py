"""start / fire / available: the checks in their order, each with its code and Chinese message."""

from __future__ import annotations

import dataclasses

import pytest

from bianmin.workflow import Actor, TransitionError, available, fire, start
from workflow_helpers import CLERK, DECISION, HEAD, PAUSE, at, open_case, person, run, with_transition

FOOD = "food_business_licence"  # jiangyin: promised 5, statutory 10 working days, all core


def test_start_puts_the_record_in_the_initial_state_with_a_start_event(packs):
    outcome = start(packs["jiangyin"], "case", subject={"number": "JY-1"}, actor=CLERK, data={"channel": "window"},
                    now=at("2026-03-02 09:00"), item_id=FOOD)
    case = outcome.instance
    assert case.state == "received"
    assert [(e.seq, e.transition, e.from_state, e.to_state) for e in case.events] == [(1, "start", "", "received")]
    assert outcome.event.pack_hash == packs["jiangyin"].content_hash
    assert outcome.event.data["channel"] == "window"
    started = [e.args["clock"] for e in outcome.effects if e.action == "start_clock"]
    assert started == ["promised", "statutory", "correction_notice"]


def test_start_refuses_an_unknown_workflow_or_item(packs):
    with pytest.raises(TransitionError) as exc:
        start(packs["jiangyin"], "casework", subject={}, actor=CLERK, now=at("2026-03-02 09:00"))
    assert exc.value.code == "unknown_workflow" and "casework" in exc.value.message
    with pytest.raises(TransitionError) as exc:
        start(packs["jiangyin"], "case", subject={}, actor=CLERK, now=at("2026-03-02 09:00"), item_id="nope")
    assert exc.value.code == "unknown_item"


def test_fire_appends_an_event_and_leaves_the_old_instance_as_it_was(packs):
    case = open_case(packs["jiangyin"], FOOD)
    outcome = fire(case, "accept", actor=CLERK, data={}, now=at("2026-03-02 10:00"))
    assert outcome.instance.state == "accepted"
    assert outcome.event == outcome.instance.events[-1]
    assert (outcome.event.seq, outcome.event.actor, outcome.event.from_state, outcome.event.to_state) == \
        (2, "clerk-1", "received", "accepted")
    assert case.state == "received" and len(case.events) == 1
    assert [dict(e.args) for e in outcome.effects if e.action == "issue_document"] == [{"document": "acceptance_notice"}]


def test_unknown_transition_suggests_the_nearest(packs):
    case = open_case(packs["jiangyin"], FOOD)
    with pytest.raises(TransitionError) as exc:
        fire(case, "acept", actor=CLERK, data={}, now=at("2026-03-02 10:00"))
    assert exc.value.code == "unknown_transition"
    assert "acept" in exc.value.message and "受理" in exc.value.message


def test_wrong_state_names_the_state_and_the_transition_in_chinese(packs):
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        fire(case, "resubmit", actor=CLERK, data={}, now=at("2026-03-03 10:00"))
    assert exc.value.code == "wrong_state"
    assert exc.value.message == "当前状态“已受理”不能执行“补正材料”"


def test_forbidden_names_the_roles_needed(packs):
    case = open_case(packs["jiangyin"], FOOD)
    with pytest.raises(TransitionError) as exc:
        fire(case, "accept", actor=HEAD, data={}, now=at("2026-03-02 10:00"))
    assert exc.value.code == "forbidden"
    assert "李主任" in exc.value.message and "窗口工作人员" in exc.value.message


def test_the_first_failing_check_wins(packs):
    taihe = packs["taihe"]
    case = open_case(taihe, FOOD, missing=("application",))  # a core material: the guard fails
    # wrong state and wrong role: the state is checked first
    accepted = run(open_case(taihe, FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        fire(accepted, "accept_on_commitment", actor=HEAD, data={}, now=at("2026-03-02 11:00"))
    assert exc.value.code == "wrong_state"
    # wrong role and an invalid form: the role
    with pytest.raises(TransitionError) as exc:
        fire(case, "accept_on_commitment", actor=HEAD, data={}, now=at("2026-03-02 11:00"))
    assert exc.value.code == "forbidden"
    # an invalid form and a false guard: the form
    with pytest.raises(TransitionError) as exc:
        fire(case, "accept_on_commitment", actor=CLERK, data={}, now=at("2026-03-02 11:00"))
    assert exc.value.code == "invalid_form"
    # a valid form and a false guard: the guard
    commitment = {"missing": ["application"], "supply_by": "2026-03-09", "signed": True,
                  "commitment": "本人承诺所填报的申请条件真实有效"}
    with pytest.raises(TransitionError) as exc:
        fire(case, "accept_on_commitment", actor=CLERK, data=commitment, now=at("2026-03-02 11:00"))
    assert exc.value.code == "guard_failed"


def test_invalid_form_lists_every_field_error(packs):
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        fire(case, "pause", actor=CLERK, data={"duration_unit": "working_day"}, now=at("2026-03-03 10:00"))
    err = exc.value
    assert err.code == "invalid_form"
    assert {e.path for e in err.field_errors} == {"$.reason", "$.expected_duration"}
    assert "特别程序种类: 必须填写" in err.message and "所需时间: 必须填写" in err.message


def test_form_dates_are_checked_against_now_not_the_wall_clock(packs):
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    # `new_deadline` has `min: today`: today is the day of the transition
    data = {"reason": "需现场核查", "new_deadline": "2026-03-04", "approver": "李主任"}
    assert fire(case, "extend", actor=HEAD, data=data, now=at("2026-03-03 10:00")).instance.state == "accepted"
    with pytest.raises(TransitionError) as exc:
        fire(case, "extend", actor=HEAD, data=data, now=at("2026-03-05 10:00"))
    assert exc.value.code == "invalid_form" and "不能早于" in exc.value.message


def test_guard_failure_says_which_materials_are_missing(packs):
    case = open_case(packs["jiangyin"], FOOD, missing=("layout", "safety_rules"))
    with pytest.raises(TransitionError) as exc:
        fire(case, "accept", actor=CLERK, data={}, now=at("2026-03-02 10:00"))
    assert exc.value.code == "guard_failed"
    assert "受理" in exc.value.message and "case.materials_complete=false" in exc.value.message
    assert "与经营食品相适应的主要设备设施、经营布局、操作流程等文件" in exc.value.message


def test_a_guard_reading_a_missing_variable_names_it(packs):
    rotation = start(packs["taishan"], "staff_rotation", subject={}, actor=person("lead", "leader"),
                     now=at("2026-03-02 09:00")).instance
    with pytest.raises(TransitionError) as exc:
        fire(rotation, "go_independent", actor=person("lead", "leader"), data={"trained": True},
             now=at("2026-03-09 09:00"))
    assert exc.value.code == "guard_failed"
    assert "data.overlap_working_days" in exc.value.message


def test_guards_see_the_workflow_subject_state_actor_and_now(packs):
    pack = with_transition(packs["jiangyin"], "case", "deliver",
                           guard='case.state == "completed" and record.number == "JY-9" and '
                                 '"clerk" in actor.roles and now.hour < 17 and pack.id == "jiangyin"')
    case = run(open_case(pack, FOOD, number="JY-9"), ("accept", "2026-03-02 10:00", CLERK),
               ("complete", "2026-03-03 10:00", CLERK, DECISION)).instance
    assert fire(case, "deliver", actor=CLERK, data={}, now=at("2026-03-03 16:00")).instance.state == "delivered"
    with pytest.raises(TransitionError) as exc:
        fire(case, "deliver", actor=CLERK, data={}, now=at("2026-03-03 18:00"))
    assert exc.value.code == "guard_failed" and "now.hour" in exc.value.message


def test_now_before_the_last_event_is_a_programming_error(packs):
    case = open_case(packs["jiangyin"], FOOD, when="2026-03-02 09:00")
    with pytest.raises(ValueError):
        fire(case, "accept", actor=CLERK, data={}, now=at("2026-03-01 09:00"))


def test_event_data_is_a_frozen_copy(packs):
    data = dict(PAUSE)
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    event = fire(case, "pause", actor=CLERK, data=data, now=at("2026-03-03 10:00")).event
    data["reason"] = "hearing"
    assert event.data["reason"] == "on_site_audit"
    with pytest.raises(TypeError):
        event.data["reason"] = "hearing"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.seq = 9  # type: ignore[misc]
    assert event.as_dict()["data"] == PAUSE


def test_resubmitting_materials_updates_the_subject(packs):
    pack = packs["jiangyin"]
    case = open_case(pack, FOOD, missing=("layout",))
    notice = {"missing_materials": [{"material": "layout", "problem": "missing"}]}
    case = run(case, ("request_correction", "2026-03-02 10:00", CLERK, notice)).instance
    rows = [{"id": m.id, "received": True, "pages": 2} for m in pack.item(FOOD).materials]
    case = run(case, ("resubmit", "2026-03-04 10:00", CLERK, {"materials": rows})).instance
    assert case.state == "received"
    assert all(r["received"] for r in case.subject["materials"])
    assert run(case, ("accept", "2026-03-04 11:00", CLERK)).instance.state == "accepted"


def test_available_lists_what_the_actor_may_do_now(packs):
    pack = packs["jiangyin"]
    case = open_case(pack, FOOD)
    assert [t.id for t in available(case, CLERK)] == ["accept", "refuse", "withdraw"]
    assert available(case, HEAD) == []
    incomplete = open_case(pack, FOOD, missing=("layout",))
    assert [t.id for t in available(incomplete, CLERK)] == ["request_correction", "refuse", "withdraw"]
    accepted = run(case, ("accept", "2026-03-02 10:00", CLERK)).instance
    assert [t.id for t in available(accepted, HEAD)] == ["extend"]


def test_available_lists_transitions_whose_guard_waits_for_the_data(packs):
    leader = person("lead", "leader")
    rotation = start(packs["taishan"], "staff_rotation", subject={}, actor=leader, now=at("2026-03-02 09:00")).instance
    assert [t.id for t in available(rotation, leader)] == ["go_independent", "cancel"]


def test_an_actor_with_several_roles_uses_any_of_them(packs):
    both = Actor("u9", "赵六", frozenset({"clerk", "unit_head"}))
    case = run(open_case(packs["jiangyin"], FOOD), ("accept", "2026-03-02 10:00", both)).instance
    assert case.events[-1].role == "clerk"
    data = {"reason": "需现场核查", "new_deadline": "2026-03-10", "approver": "赵六"}
    assert run(case, ("extend", "2026-03-03 10:00", both, data)).event.role == "unit_head"
