"""Violations the log proves when a transition is taken (detect: completed_late, rules)."""

from __future__ import annotations

from workflow_helpers import CLERK, at, effects, open_case, run

FOOD = "food_business_licence"
DONE = {"outcome": "approved"}


def test_completing_after_the_promised_deadline_is_recorded_xupu_8_4_5(packs):
    """xupu 八(四)5: 超过承诺时限办结 (promised deadline 2026-03-09)."""
    case = run(open_case(packs["xupu"], FOOD, when="2026-03-02 09:00"), ("accept", "2026-03-02 10:00", CLERK)).instance
    on_time = run(case, ("complete", "2026-03-09 16:00", CLERK, DONE))
    assert effects(on_time, "record_violation") == []
    late = run(case, ("complete", "2026-03-10 09:00", CLERK, DONE))
    assert effects(late, "record_violation") == [
        {"violation": "overdue_promised", "evidence": [1, 2, 3], "clock": "promised", "deadline": "2026-03-09"}]


def test_an_overdue_clock_is_recorded_at_completion_even_if_never_swept_jiangyin_3_3_1(packs):
    case = run(open_case(packs["jiangyin"], FOOD, when="2026-03-02 09:00"), ("accept", "2026-03-02 10:00", CLERK),
               ("complete", "2026-03-10 09:00", CLERK, DONE))
    assert [v["violation"] for v in effects(case, "record_violation")] == ["overdue_promised"]


def test_a_late_correction_notice_is_recorded_jiangyin_3_3_5(packs):
    """jiangyin 三(三)5: 当场或在5日内一次性告知 (by 2026-03-09 for materials received 03-02)."""
    pack = packs["jiangyin"]
    notice = {"missing_materials": [{"material": "layout", "problem": "missing"}]}
    in_time = run(open_case(pack, FOOD, missing=("layout",)), ("request_correction", "2026-03-09 16:00", CLERK, notice))
    assert effects(in_time, "record_violation") == []
    late = run(open_case(pack, FOOD, missing=("layout",)), ("request_correction", "2026-03-10 09:00", CLERK, notice))
    assert effects(late, "record_violation") == [
        {"violation": "correction_notice_late", "evidence": [1, 2], "deadline": "2026-03-09"}]


def test_closing_a_case_without_a_receipt_slip_is_recorded_xupu_8_4_4(packs):
    """xupu 八(四)4 (四(一) 收件回执单): a case closed without a receipt slip."""
    pack = packs["xupu"]
    steps = [("accept", "2026-03-02 10:00", CLERK), ("complete", "2026-03-03 10:00", CLERK, DONE),
             ("deliver", "2026-03-03 15:00", CLERK)]
    without = run(open_case(pack, FOOD), *steps)
    assert effects(without, "record_violation") == [
        {"violation": "no_register_or_receipt", "evidence": [4], "document": "receipt_slip"}]
    with_slip = run(open_case(pack, FOOD), ("issue_receipt", "2026-03-02 09:30", CLERK), *steps)
    assert effects(with_slip, "record_violation") == []
