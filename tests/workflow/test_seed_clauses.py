"""One test per seed clause the workflows carry, each citing its clause.

Dates are in March 2026, a month without holidays: working days are Monday to Friday, and a
period starts on the day after the event (民法典 §201).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bianmin.workflow import TransitionError, act_for, clock_states, fire, rate, start
from workflow_helpers import CLERK, DECISION, HEAD, PAUSE, at, effects, open_case, person, run

FOOD = "food_business_licence"
D = dt.date


def deadlines(instance, now):
    return {k: (s.status, s.deadline) for k, s in clock_states(instance, at(now)).items()}


def test_both_clocks_run_at_once_from_receipt_jiangyin_3_3_5(packs):
    """jiangyin 三(三)4-5: promised (5) and statutory (10 working days) limits both count from
    receipt of the materials; completion stops both."""
    case = run(open_case(packs["jiangyin"], FOOD, when="2026-03-02 09:00"),
               ("accept", "2026-03-02 10:00", CLERK)).instance
    states = deadlines(case, "2026-03-05 09:00")
    assert states["promised"] == ("running", D(2026, 3, 9))
    assert states["statutory"] == ("running", D(2026, 3, 16))
    done = run(case, ("complete", "2026-03-10 15:00", CLERK, DECISION),
               ("deliver", "2026-03-11 09:00", CLERK)).instance
    assert done.state == "delivered"
    states = deadlines(done, "2026-03-20 09:00")
    assert states["promised"] == ("completed_late", D(2026, 3, 9))
    assert states["statutory"] == ("completed_on_time", D(2026, 3, 16))


def test_immediate_items_are_completed_on_the_spot_taihe_3_4_1(packs):
    """taihe 三(四)1 马上办 (and xupu 二(一), dahepin 二.2 即时办理): an immediate item with
    complete materials is completed at the window; a promised item cannot be."""
    pack = packs["taihe"]
    case = open_case(pack, "sole_trader_registration", when="2026-03-02 09:00")
    outcome = run(case, ("complete_on_spot", "2026-03-02 09:20", CLERK))
    assert outcome.instance.state == "completed"
    assert effects(outcome, "issue_document") == [{"document": "completion_notice"}]
    assert clock_states(outcome.instance, at("2026-03-02 10:00"))["promised"].status == "completed_on_time"
    with pytest.raises(TransitionError) as exc:
        run(open_case(pack, FOOD), ("complete_on_spot", "2026-03-02 09:20", CLERK))
    assert exc.value.code == "guard_failed" and "item.kind=promised" in exc.value.message


COMMIT = {"supply_by": "2026-03-20", "signed": True, "commitment": "本人承诺申请条件真实, 按期补齐材料"}


def test_accept_on_commitment_only_for_missing_non_core_materials_taihe_3_4_1(packs):
    """taihe 三(四)1 容缺办理: missing non-core materials, a written commitment, an item that allows it."""
    taihe = packs["taihe"]
    case = open_case(taihe, FOOD, missing=("safety_rules", "health_certificates"))
    outcome = run(case, ("accept_on_commitment", "2026-03-02 10:00", CLERK,
                         {**COMMIT, "missing": ["safety_rules", "health_certificates"]}))
    assert outcome.instance.state == "accepted"
    assert effects(outcome, "issue_document") == [{"document": "commitment_acceptance_notice"}]
    # a core material missing: no
    core = open_case(taihe, FOOD, missing=("application", "safety_rules"))
    with pytest.raises(TransitionError) as exc:
        run(core, ("accept_on_commitment", "2026-03-02 10:00", CLERK, {**COMMIT, "missing": ["application", "safety_rules"]}))
    assert exc.value.code == "guard_failed" and "其中核心材料: 食品经营许可申请书" in exc.value.message
    # the commitment must name every missing material
    with pytest.raises(TransitionError) as exc:
        run(case, ("accept_on_commitment", "2026-03-02 10:00", CLERK, {**COMMIT, "missing": ["safety_rules"]}))
    assert exc.value.code == "invalid_form" and "从业人员健康证明" in exc.value.message
    # an item that does not allow it (xupu's food licence: accept_on_commitment false)
    xupu = packs["xupu"]
    other = open_case(xupu, FOOD, missing=("safety_rules",))
    with pytest.raises(TransitionError) as exc:
        run(other, ("accept_on_commitment", "2026-03-02 10:00", CLERK, {**COMMIT, "missing": ["safety_rules"]}))
    assert exc.value.code == "guard_failed" and "item.accept_on_commitment=false" in exc.value.message


REFUSAL = {"ground": "not_eligible", "reasons": "申请人不具备食品经营条件", "legal_basis": "食品安全法 第三十五条",
           "rights": "可依法申请行政复议或提起行政诉讼"}


def test_a_refusal_always_opens_a_negative_report_xupu_6(packs):
    """xupu 六(一)-(五) 否定报备: a refusal (退回件通知单, 二(二)) opens a negative report, which
    the leader reviews (2 working days)."""
    pack = packs["xupu"]
    case = open_case(pack, FOOD, number="XP-7")
    outcome = run(case, ("refuse", "2026-03-02 10:00", CLERK, REFUSAL))
    assert outcome.instance.state == "refused"
    assert effects(outcome, "issue_document") == [{"document": "refusal_notice"}]
    [opened] = effects(outcome, "open_workflow")
    assert opened["workflow"] == "negative_report"
    data = opened["data"]
    assert data["number"] == "XP-7" and data["reasons"] == REFUSAL["reasons"]
    assert data["parent"] == {"workflow": "case", "item": FOOD, "seq": 2, "transition": "refuse"}
    report = start(pack, "negative_report", subject={"case_number": "XP-7"}, actor=CLERK, data=data,
                   now=at("2026-03-02 10:00")).instance
    assert deadlines(report, "2026-03-03 09:00")["negative_report_review"] == ("running", D(2026, 3, 4))
    upheld = run(report, ("uphold", "2026-03-03 15:00", person("lead", "leader")))
    assert upheld.instance.state == "upheld"
    assert effects(upheld, "issue_document") == [{"document": "negative_report_register"}]


@pytest.mark.parametrize("pack_id, clause", [("xupu", "xupu 二(一)"), ("dahepin", "dahepin 二.2")])
def test_a_correction_notice_lists_every_missing_material_at_once(packs, pack_id, clause):
    """xupu 二(一), dahepin 二.2 一次性告知: the notice names all missing materials, only those as
    missing, and there is one notice."""
    pack = packs[pack_id]
    item = next(i for i in pack.items if len(i.materials) >= 3)
    first, second, third = (m.id for m in item.materials[:3])
    case = open_case(pack, item.id, missing=(first, second))
    half = {"missing_materials": [{"material": first, "problem": "missing"}]}
    with pytest.raises(TransitionError) as exc:
        run(case, ("request_correction", "2026-03-02 10:00", CLERK, half))
    assert exc.value.code == "invalid_form", clause
    assert item.materials[1].name in exc.value.message and "一次性告知" in exc.value.message
    wrong = {"missing_materials": [{"material": m, "problem": "missing"} for m in (first, second, third)]}
    with pytest.raises(TransitionError) as exc:
        run(case, ("request_correction", "2026-03-02 10:00", CLERK, wrong))
    assert exc.value.code == "invalid_form" and "已收到" in exc.value.message
    notice = {"missing_materials": [{"material": first, "problem": "missing"}, {"material": second, "problem": "missing"},
                                    {"material": third, "problem": "wrong_form", "requirement": "须提交原件"}]}
    outcome = run(case, ("request_correction", "2026-03-02 10:00", CLERK, notice))
    assert outcome.instance.state == "correcting"
    assert effects(outcome, "issue_document") == [{"document": "correction_notice"}]
    rows = [{"id": m.id, "received": m.id != third, "pages": 1} for m in item.materials]
    again = run(outcome.instance, ("resubmit", "2026-03-03 10:00", CLERK, {"materials": rows})).instance
    one = {"missing_materials": [{"material": third, "problem": "missing"}]}
    with pytest.raises(TransitionError) as exc:
        run(again, ("request_correction", "2026-03-03 11:00", CLERK, one))
    assert exc.value.code == "clock_rule" and "一次性告知" in exc.value.message


EXTENSION = {"reason": "需组织现场核查", "new_deadline": "2026-03-13", "approver": "李主任"}


def test_only_the_unit_head_extends_before_the_deadline_within_the_statutory_limit_jiangyin_3_3_6(packs):
    """jiangyin 三(三)6: the unit head signs, before the deadline, at most to the statutory limit."""
    case = run(open_case(packs["jiangyin"], FOOD, when="2026-03-02 09:00"),
               ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        run(case, ("extend", "2026-03-05 10:00", CLERK, EXTENSION))
    assert exc.value.code == "forbidden" and "部门(单位)负责人" in exc.value.message
    outcome = run(case, ("extend", "2026-03-05 10:00", HEAD, EXTENSION))
    assert [e["document"] for e in effects(outcome, "issue_document")] == ["extension_notice"]
    assert effects(outcome, "extend_clock") == [{"clocks": ["promised"], "until": "2026-03-13", "reason": "需组织现场核查"}]
    states = deadlines(outcome.instance, "2026-03-06 09:00")
    assert states["promised"] == ("running", D(2026, 3, 13))
    assert states["statutory"] == ("running", D(2026, 3, 16))
    with pytest.raises(TransitionError) as exc:  # past the statutory deadline (03-16)
        run(case, ("extend", "2026-03-05 10:00", HEAD, {**EXTENSION, "new_deadline": "2026-03-20"}))
    assert exc.value.code == "clock_rule" and "statutory" in exc.value.message
    with pytest.raises(TransitionError) as exc:  # the promised deadline (03-09) has passed
        run(case, ("extend", "2026-03-10 10:00", HEAD, EXTENSION))
    assert exc.value.code == "clock_rule" and "before the deadline" in exc.value.message


def test_a_pause_needs_a_reason_the_item_allows_and_its_expected_length_jiangyin_3_3_5(packs):
    """jiangyin 三(三)5: time of special procedures (现场审核 ...) is not counted, and the applicant
    is told how long they take."""
    case = run(open_case(packs["jiangyin"], FOOD, when="2026-03-02 09:00"),
               ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        run(case, ("pause", "2026-03-04 10:00", CLERK, {"reason": "on_site_audit", "duration_unit": "working_day"}))
    assert exc.value.code == "invalid_form" and "所需时间" in exc.value.message
    with pytest.raises(TransitionError) as exc:  # the food licence may pause only for 现场审核
        run(case, ("pause", "2026-03-04 10:00", CLERK, {**PAUSE, "reason": "hearing"}))
    assert exc.value.code == "invalid_form" and "特别程序种类: 本事项只能因现场审核暂停计时" in exc.value.message
    assert [e.path for e in exc.value.field_errors] == ["$.reason"]
    paused = run(case, ("pause", "2026-03-04 10:00", CLERK, {**PAUSE, "expected_duration": 3}))
    assert effects(paused, "issue_document") == [{"document": "special_procedure_notice"}]
    assert effects(paused, "pause_clock")[0] == {"clock": "promised", "reason": "on_site_audit", "expected_days": 3}
    states = clock_states(paused.instance, at("2026-03-05 09:00"))
    assert states["promised"].status == "paused" and states["promised"].paused_for == "on_site_audit"
    resumed = run(paused.instance, ("resume", "2026-03-09 10:00", CLERK)).instance
    # 03-05, 03-06, 03-09 are not counted: both deadlines move by 3 working days
    assert deadlines(resumed, "2026-03-09 11:00") == {
        "promised": ("running", D(2026, 3, 12)), "statutory": ("running", D(2026, 3, 19)),
        "correction_notice": ("completed_on_time", D(2026, 3, 9))}


def test_delivery_comes_after_completion_taishan_8_4(packs):
    """taishan 第八条(四)(五): results are delivered by the unified window, then archived."""
    pack = packs["taishan"]
    case = run(open_case(pack, FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance
    with pytest.raises(TransitionError) as exc:
        run(case, ("deliver", "2026-03-03 10:00", CLERK))
    assert exc.value.code == "wrong_state"
    back = person("bo", "back_office")
    done = run(case, ("complete", "2026-03-05 10:00", back, DECISION), ("deliver", "2026-03-06 10:00", CLERK)).instance
    assert done.state == "delivered" and not done.workflow.state("delivered").terminal
    assert run(done, ("archive", "2026-03-06 11:00", CLERK)).instance.state == "archived"


def test_a_bad_rating_opens_a_rectification_record_with_its_period(packs):
    """国办发〔2019〕51号 (_base ratings): five levels; 不满意 and 非常不满意 are rectified within 5
    working days, then the rater is called back."""
    pack = packs["jiangyin"]
    case = run(open_case(pack, FOOD, number="JY-5"), ("accept", "2026-03-02 10:00", CLERK),
               ("complete", "2026-03-03 10:00", CLERK, DECISION)).instance
    good = rate(case, "satisfied", data={"channel": "on_site"}, now=at("2026-03-03 11:00"))
    assert [e.action for e in good] == ["record_rating"]
    assert good[0].args["score"] == 4 and good[0].args["case_number"] == "JY-5"
    with pytest.raises(TransitionError) as exc:  # a bad rating says why
        rate(case, "dissatisfied", data={"channel": "on_site"}, now=at("2026-03-03 11:00"))
    assert exc.value.code == "invalid_form" and "评价内容" in exc.value.message
    bad = rate(case, "dissatisfied", data={"channel": "online", "comment": "等候时间太长"}, now=at("2026-03-03 11:00"))
    [opened] = [dict(e.args) for e in bad if e.action == "open_workflow"]
    assert opened["workflow"] == "rectification"
    assert opened["data"]["limit"] == {"value": 5, "unit": "working_day"} and opened["data"]["rating"] == "dissatisfied"
    fix = start(pack, "rectification", subject={"case_number": "JY-5"}, actor=CLERK, data=opened["data"],
                now=at("2026-03-03 11:00")).instance
    assert deadlines(fix, "2026-03-04 09:00")["rectification"] == ("running", D(2026, 3, 10))
    head = person("wh", "window_head")
    done = run(fix, ("rectify", "2026-03-05 10:00", CLERK, {"findings": "高峰时段窗口不足", "measures": "增开窗口",
                                                           "completed_on": "2026-03-05"}),
               ("call_back", "2026-03-06 10:00", head, {"method": "phone", "reached": True,
                                                        "satisfaction": "satisfied"})).instance
    assert done.state == "called_back"
    with pytest.raises(TransitionError) as exc:
        rate(case, "excellent", now=at("2026-03-03 11:00"))
    assert exc.value.code == "invalid_form" and "非常满意" in exc.value.message


RECEIPT = {"officer_phone": "0510-86860211", "limit": 3, "reason": "需会同规划部门研究"}


def test_first_inquiry_registration_referral_and_receipt_jiangyin_3_2(packs):
    """jiangyin 三(二)5: a matter of another office of the department is referred; 三(二)7: a
    matter not answered on the spot gets a receipt with the promised reply time."""
    pack = packs["jiangyin"]
    inquiry = start(pack, "inquiry", subject={"visitor": "张三"}, actor=CLERK, now=at("2026-03-02 09:00")).instance
    referral = {"target_kind": "department", "department": "市自然资源和规划局", "contact_phone": "0510-86861234"}
    referred = run(inquiry, ("refer", "2026-03-02 09:10", CLERK, referral)).instance
    assert referred.state == "referred" and referred.workflow.state("referred").terminal
    with pytest.raises(TransitionError) as exc:  # a department referral needs its phone
        run(inquiry, ("refer", "2026-03-02 09:10", CLERK, {"target_kind": "department", "department": "市规划局"}))
    assert exc.value.code == "invalid_form" and "联系电话" in exc.value.message
    receipt = run(inquiry, ("issue_receipt", "2026-03-02 09:10", CLERK, RECEIPT))
    assert receipt.instance.state == "awaiting_reply"
    assert deadlines(receipt.instance, "2026-03-04 09:00")["inquiry_reply"] == ("running", D(2026, 3, 5))
    answered = run(receipt.instance, ("answer", "2026-03-04 16:00", CLERK)).instance
    assert deadlines(answered, "2026-03-09 09:00")["inquiry_reply"] == ("completed_on_time", D(2026, 3, 5))


@pytest.mark.parametrize("pack_id", ["xupu", "dahepin"])
def test_first_inquiry_not_in_ones_remit_is_referred_xupu_1_dahepin_1(packs, pack_id):
    """xupu 一(二)2-3, dahepin 一.2: the first person asked guides the visitor to the right place."""
    inquiry = start(packs[pack_id], "inquiry", subject={"handling": "immediate"}, actor=CLERK,
                    now=at("2026-03-02 09:00")).instance
    referral = {"target_kind": "department", "department": "县人社局", "contact_phone": "0745-3221234"}
    assert run(inquiry, ("refer", "2026-03-02 09:05", CLERK, referral)).instance.state == "referred"


def test_a_visit_needing_study_is_settled_within_a_week_xupu_4_2(packs):
    """xupu 四(二): 群众来访事项, 能即办必即办, 需要研究的一周内办结 (the handling is chosen at
    registration; without it the limit is unknown)."""
    pack = packs["xupu"]
    with pytest.raises(TransitionError) as exc:
        start(pack, "inquiry", subject={}, actor=CLERK, now=at("2026-03-02 09:00"))
    assert exc.value.code == "clock_rule" and "handling" in exc.value.message
    visit = start(pack, "inquiry", subject={"handling": "study"}, actor=CLERK, now=at("2026-03-02 09:00")).instance
    assert deadlines(visit, "2026-03-03 09:00")["visit_matter"] == ("running", D(2026, 3, 9))
    answered = run(visit, ("answer", "2026-03-06 10:00", CLERK)).instance
    assert deadlines(answered, "2026-03-10 09:00")["visit_matter"] == ("completed_on_time", D(2026, 3, 9))


def test_a_complaint_is_investigated_handled_answered_called_back_and_archived_dahepin_4(packs):
    """dahepin 四.5 (GB/T 36113 clause 7): accept, investigate at once, handle, reply within the
    category's limit, call back, archive."""
    pack = packs["dahepin"]
    officer = person("co", "complaint_officer")
    complaint = start(pack, "complaint", subject={"category": "overdue", "complainant": "李四"}, actor=officer,
                      now=at("2026-03-02 09:00")).instance
    assert deadlines(complaint, "2026-03-03 09:00")["complaint_reply"] == ("running", D(2026, 3, 9))
    replied = run(complaint,
                  ("investigate", "2026-03-02 10:00", officer),
                  ("handle", "2026-03-04 10:00", officer, {"findings": "窗口超期3日", "substantiated": "substantiated",
                                                           "measures": "责令说明并整改"}),
                  ("reply", "2026-03-05 10:00", officer, {"method": "written", "reply": "经核实, 投诉属实, 已整改"}))
    assert effects(replied, "issue_document") == [{"document": "complaint_reply"}]
    closed = run(replied.instance, ("call_back", "2026-03-06 10:00", officer, {"method": "phone", "reached": True,
                                                                             "satisfaction": "satisfied"}),
                 ("archive", "2026-03-06 11:00", officer)).instance
    assert closed.state == "archived"
    assert [e.transition for e in closed.events] == ["start", "investigate", "handle", "reply", "call_back", "archive"]
    assert deadlines(closed, "2026-03-20 09:00")["complaint_reply"] == ("completed_on_time", D(2026, 3, 9))


def test_a_complaint_needs_its_category_to_know_its_limit(packs):
    with pytest.raises(TransitionError) as exc:
        start(packs["dahepin"], "complaint", subject={}, actor=CLERK, now=at("2026-03-02 09:00"))
    assert exc.value.code == "clock_rule" and "category" in exc.value.message


def test_a_substantiated_complaint_is_held_to_account_taihe_3_5_3(packs):
    """taihe 三(五)3: 受理、流转、督办、反馈以及问责."""
    pack = packs["taihe"]
    officer, chief = person("co", "complaint_officer"), person("sv", "supervisor")
    complaint = start(pack, "complaint", subject={"category": "slow"}, actor=officer, now=at("2026-03-02 09:00")).instance
    replied = run(complaint, ("investigate", "2026-03-02 10:00", officer),
                  ("supervise", "2026-03-03 10:00", chief),
                  ("handle", "2026-03-04 10:00", person("wh", "window_head"),
                   {"findings": "属实", "substantiated": "substantiated", "measures": "批评教育"}),
                  ("reply", "2026-03-04 15:00", officer, {"method": "oral", "reply": "已处理"})).instance
    outcome = run(replied, ("hold_accountable", "2026-03-05 10:00", chief, {"substantiated": True}))
    assert effects(outcome, "record_violation") == [{"violation": "complaint_substantiated", "evidence": [6]}]


def test_the_unresolved_matter_window_dahepin_6(packs):
    """dahepin 六.二: register, dispatch with a limit by complexity (3 working days for a complex
    matter), resolve, feed back, call back within 1 working day, archive."""
    pack = packs["dahepin"]
    desk, window = person("um", "unresolved_matter_clerk"), person("wc", "clerk")
    matter = start(pack, "unresolved_matter", subject={"matter_name": "农村宅基地审批"}, actor=desk,
                   now=at("2026-03-02 09:00")).instance
    dispatched = run(matter, ("dispatch", "2026-03-02 10:00", desk, {"window": "rural_housing_window",
                                                                     "complexity": "complex"}))
    assert effects(dispatched, "issue_document") == [{"document": "unresolved_matter_register"}]
    assert effects(dispatched, "notify")[0]["roles"] == ["clerk", "window_head"]
    assert deadlines(dispatched.instance, "2026-03-03 09:00")["unresolved_matter_handling"] == ("running", D(2026, 3, 5))
    resolved = run(dispatched.instance, ("resolve", "2026-03-04 16:00", window, {"outcome": "resolved", "result": "已办结"}),
                   ("feed_back", "2026-03-04 17:00", window)).instance
    states = deadlines(resolved, "2026-03-05 09:00")
    assert states["unresolved_matter_handling"] == ("completed_on_time", D(2026, 3, 5))
    assert states["unresolved_matter_callback"] == ("running", D(2026, 3, 5))
    archived = run(resolved, ("call_back", "2026-03-05 10:00", desk, {"method": "phone", "reached": True,
                                                                    "satisfaction": "very_satisfied"}),
                   ("archive", "2026-03-05 11:00", desk)).instance
    assert archived.state == "archived"


def test_an_agreed_extension_of_an_unresolved_matter_dahepin_6_2_2(packs):
    """dahepin 六.二.2(2): 经与反映人协商同意后, 可按约定延期 — and only with that agreement."""
    pack = packs["dahepin"]
    desk = person("um", "unresolved_matter_clerk")
    matter = start(pack, "unresolved_matter", subject={}, actor=desk, now=at("2026-03-02 09:00")).instance
    matter = run(matter, ("dispatch", "2026-03-02 10:00", desk, {"window": "rural_housing_window",
                                                               "complexity": "general"})).instance
    assert deadlines(matter, "2026-03-02 11:00")["unresolved_matter_handling"][1] == D(2026, 3, 3)
    refused = {"reason": "需上级批复", "new_deadline": "2026-03-10", "reporter_agreed": False}
    with pytest.raises(TransitionError) as raised:
        run(matter, ("extend_by_agreement", "2026-03-03 09:00", person("wc", "clerk"), refused))
    assert raised.value.code == "guard_failed"
    agreed = dict(refused, reporter_agreed=True)
    extended = run(matter, ("extend_by_agreement", "2026-03-03 09:00", person("wc", "clerk"), agreed)).instance
    assert deadlines(extended, "2026-03-04 09:00")["unresolved_matter_handling"] == ("running", D(2026, 3, 10))


def test_agency_service_dahepin_5(packs):
    """dahepin 五.4: window staff are agents, on the client's request, free, within the set time."""
    pack = packs["dahepin"]
    agent = person("ag", "agent")
    agency = start(pack, "agency", subject={"client_name": "王奶奶"}, actor=CLERK, now=at("2026-03-02 09:00")).instance
    taken = run(agency, ("take_on", "2026-03-02 10:00", CLERK, {"limit": 5})).instance
    assert deadlines(taken, "2026-03-03 09:00")["agency_completion"] == ("running", D(2026, 3, 9))
    done = run(taken, ("complete", "2026-03-06 10:00", agent, {"outcome": "resolved", "result": "已代办领证"}),
               ("hand_back", "2026-03-06 15:00", agent)).instance
    assert done.state == "returned"
    assert deadlines(done, "2026-03-10 09:00")["agency_completion"] == ("completed_on_time", D(2026, 3, 9))


def test_village_agency_points_forward_matters_taihe_3_3_1(packs):
    """taihe 三(三)1: 立即办、承诺办、报送办, each logged."""
    pack = packs["taihe"]
    agent = person("ag", "agent")
    agency = start(pack, "agency", subject={}, actor=agent, now=at("2026-03-02 09:00")).instance
    forwarded = run(agency, ("forward", "2026-03-02 10:00", agent))
    assert effects(forwarded, "notify")[0]["roles"] == ["clerk"]
    done = run(forwarded.instance, ("complete", "2026-03-03 10:00", CLERK, {"outcome": "resolved", "result": "已办结"}),
               ("hand_back", "2026-03-03 15:00", agent)).instance
    assert done.state == "returned"


def test_a_backup_post_acts_with_the_absent_colleagues_rights_xupu_7(packs):
    """xupu 七(三): A hands over to B before leaving; B acts with A's rights, logged as such; once
    A is back B no longer can."""
    pack = packs["xupu"]
    a = person("a", "clerk", name="A岗")
    b = person("b", "business_officer", name="B岗")
    case = open_case(pack, FOOD)
    with pytest.raises(TransitionError) as exc:
        run(case, ("accept", "2026-03-02 10:00", b))
    assert exc.value.code == "forbidden"
    handover = start(pack, "handover", subject={"absent": "a", "backup": "b", "reason": "休假"}, actor=a,
                     now=at("2026-03-02 08:30")).instance
    assert handover.events[0].actor == "a"
    b_for_a = act_for(b, a, handover)
    accepted = run(case, ("accept", "2026-03-02 10:00", b_for_a))
    assert accepted.instance.state == "accepted"
    assert (accepted.event.actor, accepted.event.acting_for, accepted.event.role) == ("b", "a", "clerk")
    returned = run(handover, ("return", "2026-03-06 09:00", a)).instance
    with pytest.raises(TransitionError) as exc:
        act_for(b, a, returned)
    assert exc.value.code == "forbidden" and "A岗已回岗" in exc.value.message
    with pytest.raises(TransitionError):
        act_for(person("c", "clerk"), a, handover)  # not the one handed over to
