"""What a violation costs, from the seed clauses (pure: the compiled packs only).

xupu 八(四) window 5–10 points with written self-criticism and rectification; 八(五) post holder
10–15, the window's month of excellence lost, the window head warned; 八(六) heavier handling
(a repeat within a year among them) with the department head notified and a transfer off post;
八(七) lighter, reduced or no handling.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from bianmin.packs.model import Adjust, Circumstance
from bianmin.scoring import DeductionError, Facts, assess, bounds, rule_for

DAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def xupu(registry):
    return registry.active("xupu", DAY)


@pytest.fixture(scope="module")
def taishan(registry):
    return registry.active("taishan", DAY)


def test_xupu_8_4_window_deduction_5_to_10_chosen_by_the_decider(xupu):
    """xupu 八(四)5: 超过承诺时限办结 → 扣窗口单位当月考评5—10分, 责令书面检查, 限期整改."""
    rule = rule_for(xupu, "overdue_promised")
    assert (rule.range, rule.charged, rule.tier, rule.source) == ((5.0, 10.0), "window", "window_monthly", "xupu 八(四)5")
    for chosen in (5, 7.5, 10):
        worked = assess(xupu, rule, chosen)
        assert worked.points == chosen and worked.allowed == (5, 10) and not worked.waived
        assert worked.effects == ("written_self_criticism", "rectify_within_deadline")
    assert "扣分幅度 5–10 分 (xupu 八(四)), 由决定人视情节选择" in worked.lines
    assert worked.lines[-1] == "处理措施: 责令书面检查、限期整改"
    for chosen in (4, 10.5):
        with pytest.raises(DeductionError) as refused:
            assess(xupu, rule, chosen)
        assert refused.value.code == "points_out_of_range" and "5–10" in str(refused.value)


def test_xupu_8_5_post_holder_10_to_15_month_excellence_lost_head_warned(xupu):
    """xupu 八(五)1: 超过法定时限办结 → 扣岗位责任人10—15分, 取消窗口当月评优评先资格, 告诫窗口负责人."""
    rule = rule_for(xupu, "overdue_statutory")
    assert (rule.range, rule.charged) == ((10.0, 15.0), "staff")
    worked = assess(xupu, rule, 12)
    assert worked.points == 12
    assert worked.effects == ("lose_monthly_excellence", "warn_window_head")
    assert worked.decision("超时三日")["effects"] == ["lose_monthly_excellence", "warn_window_head"]
    with pytest.raises(DeductionError):
        assess(xupu, rule, 9)


def test_xupu_8_6_3_repeat_within_a_year_is_heavier_and_notifies(xupu):
    """xupu 八(六)3: 一年内出现两次以上应予追究的行为 → 从重, 通知部门主要负责人, 调离执法岗位."""
    rule = rule_for(xupu, "overdue_promised")
    second = Facts(same_person=2)
    worked = assess(xupu, rule, 9, facts=second)
    assert [f.circumstance.id for f in worked.circumstances] == ["repeat_within_year"]
    assert worked.circumstances[0].how == "automatic" and worked.allowed == (7.5, 10)
    assert {"notify_department_head", "transfer_off_post", "bear_legal_liability"} <= set(worked.effects)
    assert any("count_same_person_last_365d = 2" in line and "xupu 八(六)3" in line for line in worked.lines)
    with pytest.raises(DeductionError, match="7.5–10"):
        assess(xupu, rule, 6, facts=second)  # heavier: not in the lower half
    # The first violation of the year is not a repeat, and cannot be declared one.
    assert assess(xupu, rule, 6).circumstances == ()
    with pytest.raises(DeductionError) as refused:
        assess(xupu, rule, 9, declared=["repeat_within_year"], facts=Facts(same_person=1))
    assert refused.value.code == "circumstance_not_met"


def test_xupu_8_6_other_aggravating_is_declared(xupu):
    """xupu 八(六)6: 其他应当从重的情形 — no rule, the deciding officer declares it."""
    rule = rule_for(xupu, "overdue_statutory")
    worked = assess(xupu, rule, 15, declared=["other_aggravating"])
    assert worked.circumstances[0].how == "declared" and worked.allowed == (12.5, 15)
    assert "从重: 其他应当从重或者应当加重处理的情形 (xupu 八(六)6, 决定人认定)" == worked.summary()


def test_xupu_8_6_acts_handled_heavier_carry_effects_not_points(xupu):
    """xupu 八(六)1: 态度恶劣 — the tier sets effects (通知部门主要负责人, 调离执法岗位), no points."""
    rule = rule_for(xupu, "abusive_attitude")
    assert rule.range is None
    worked = assess(xupu, rule, 0)
    assert worked.points == 0 and not worked.waived
    assert worked.effects == ("notify_department_head", "transfer_off_post", "bear_legal_liability")
    with pytest.raises(DeductionError):
        assess(xupu, rule, 5)


def test_xupu_8_7_mitigating_lighter_reduced_or_waived(xupu):
    """xupu 八(七)1: 主动赔礼道歉, 服务对象已谅解 → 从轻、减轻或者免于处理."""
    rule = rule_for(xupu, "overdue_promised")
    lighter = assess(xupu, rule, 5, declared=["apologised_and_forgiven"])
    assert lighter.allowed == (0, 7.5) and lighter.points == 5 and lighter.effects
    reduced = assess(xupu, rule, 2, declared=["apologised_and_forgiven"])
    assert reduced.points == 2  # below the 5-point floor: 减轻
    waived = assess(xupu, rule, 0, declared=["apologised_and_forgiven", "made_good_losses"])
    assert waived.points == 0 and waived.waived and waived.effects == ()
    assert waived.lines[-1] == "决定扣分 0 分 (免于处理)"
    with pytest.raises(DeductionError):
        assess(xupu, rule, 8, declared=["apologised_and_forgiven"])
    # Aggravating and mitigating together: the officer weighs them within the range.
    both = assess(xupu, rule, 5, declared=["apologised_and_forgiven"], facts=Facts(same_person=3))
    assert both.allowed == (5, 10) and both.points == 5


def test_unknown_violation_and_circumstance(xupu):
    with pytest.raises(DeductionError) as refused:
        rule_for(xupu, "overdue_promized")
    assert refused.value.code == "unknown_violation" and "overdue_promised" in str(refused.value)
    with pytest.raises(DeductionError) as refused:
        assess(xupu, rule_for(xupu, "overdue_promised"), 5, declared=["sorry"])
    assert refused.value.code == "unknown_circumstance"


def test_taishan_33_serious_or_uncorrected_needs_the_facts(taishan):
    """taishan 第三十三条: 情节严重或者不予更正的, 向监察机关反映 — `when` reads data the officer gives."""
    rule = rule_for(taishan, "unit_fee_breach")
    assert rule.range is None and rule.charged == "department"
    plain = assess(taishan, rule, 0)
    assert plain.effects == ("correction_opinion", "rectify_within_deadline")
    assert any("无法依规则判断" in line for line in plain.lines)
    serious = assess(taishan, rule, 0, facts=Facts(data={"serious": True, "not_corrected": False}))
    assert serious.circumstances[0].how == "automatic" and "report_to_supervision" in serious.effects
    declared = assess(taishan, rule, 0, declared=["unit_serious_or_uncorrected"])
    assert "report_to_supervision" in declared.effects


def test_pack_adjustments_factor_points_and_waive(xupu):
    """A pack that sets amounts (pack-format 5.15 `adjust`): factor, points and waive apply in turn."""
    acc = xupu.accountability
    aggravating = (Circumstance("double", "一年内再次发生", "example 1", Adjust(factor=2), "count_same_person_last_365d >= 2"),
                   Circumstance("extra", "造成恶劣影响", "example 2", Adjust(points=3)))
    mitigating = (Circumstance("forgiven", "已谅解", "example 3", Adjust(waive=True)),)
    pack = dataclasses.replace(xupu, accountability=dataclasses.replace(acc, aggravating=aggravating,
                                                                        mitigating=mitigating))
    rule = rule_for(pack, "overdue_promised")
    doubled = assess(pack, rule, 8, declared=["extra"], facts=Facts(same_person=2))
    assert doubled.points == 19  # 8 × 2 + 3
    assert "从重: 一年内再次发生, 8 × 2 = 16 分 (example 1)" in doubled.lines
    assert "从重: 造成恶劣影响, 16 + 3 分 (example 2)" in doubled.lines
    assert assess(pack, rule, 3, declared=["forgiven"]).points == 0
    assert bounds(pack, rule) == (0, 23)
    assert bounds(xupu, rule) == (0, 10) and bounds(xupu, rule_for(xupu, "overdue_statutory")) == (0, 15)
    assert rule.subject(pack)["points_max"] == 23
