"""Appraisal arithmetic, rankings and selections from the seed clauses (pure: rows in, scores out).

xupu 九 annual appraisal on 德、能、勤、绩、廉 with weights; xupu 八(五) a window's month of
excellence lost; taishan 第十条 quarterly red-flag and annual advanced windows; taishan 第十八条
quarterly service star.
"""

from __future__ import annotations

import datetime as dt

import pytest
from bianmin.scoring import Deduction, Period, Subject, appraise, ranked, score

DAY = dt.date(2026, 3, 2)


def deduction(number: str, charged: str, points: float, occurred: dt.date, *, staff: str = "", window: str = "",
              state: str = "final", effects: tuple[str, ...] = (), name: str = "超过承诺时限办结",
              source: str = "xupu 八(四)5") -> Deduction:
    return Deduction(number, "v", name, source, charged, staff, "", window, "", occurred, state, points, effects)


@pytest.fixture(scope="module")
def xupu(registry):
    return registry.active("xupu", DAY)


@pytest.fixture(scope="module")
def taishan(registry):
    return registry.active("taishan", DAY)


def test_periods():
    q1 = Period("quarter", 2026, 1)
    assert (q1.start, q1.end, q1.label, q1.slug) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1), "2026年第1季度", "2026-Q1")
    assert [m.n for m in q1.months()] == [1, 2, 3]
    assert Period("month", 2026, 12).end == dt.date(2027, 1, 1)
    assert Period("year", 2026).months()[-1] == Period("month", 2026, 12)
    assert Period.of("quarter", dt.date(2026, 8, 31)) == Period("quarter", 2026, 3)
    assert Period("year", 2026).contains(dt.date(2026, 12, 31)) and not Period("year", 2026).contains(dt.date(2027, 1, 1))
    with pytest.raises(ValueError):
        Period("quarter", 2026, 5)


def test_appraisal_arithmetic_with_explanation(xupu):
    """Base 100 minus the decided deductions of the period; each step a line."""
    window = Subject("window", "market_window", "市场监管窗口")
    rows = [
        deduction("KF-1", "window", 7, dt.date(2026, 3, 5), window="market_window"),
        deduction("KF-2", "window", 8.5, dt.date(2026, 3, 20), window="market_window", state="under_review"),
        deduction("KF-3", "window", 9, dt.date(2026, 3, 21), window="market_window", state="heard"),  # undecided
        deduction("KF-4", "window", 6, dt.date(2026, 3, 22), window="market_window", state="dropped"),
        deduction("KF-5", "window", 5, dt.date(2026, 4, 1), window="market_window"),  # next month
        deduction("KF-6", "window", 5, dt.date(2026, 3, 6), window="health_window"),  # another window
        deduction("KF-7", "staff", 12, dt.date(2026, 3, 7), staff="9", window="market_window"),  # a person's
    ]
    march = score(window, Period("month", 2026, 3), xupu.appraisal, rows)
    assert (march.start, march.deducted, march.score) == (100, 15.5, 84.5)
    assert [d.number for d in march.deductions] == ["KF-1", "KF-2"]
    assert march.lines == (
        "窗口 市场监管窗口 2026年3月: 基础分 100 (xupu 九(三))",
        "未录入德、能、勤、绩、廉分项评分, 以基础分计",
        "− 7 分: 超过承诺时限办结 (xupu 八(四)5), 2026-03-05, 扣分决定 KF-1",
        "− 8.5 分: 超过承诺时限办结 (xupu 八(四)5), 2026-03-20, 扣分决定 KF-2",
        "得分 = 100 − 15.5 = 84.5",
    )
    year = score(window, Period("year", 2026), xupu.appraisal, rows)
    assert year.score == 79.5 and len(year.deductions) == 3
    person = score(Subject("staff", "9", "李四", "market_window"), Period("quarter", 2026, 1), xupu.appraisal, rows)
    assert person.score == 88
    heavy = [deduction(f"KF-{i}", "window", 15, dt.date(2026, 3, 1), window="w") for i in range(8)]
    floor = score(Subject("window", "w", "W"), Period("month", 2026, 3), xupu.appraisal, heavy)
    assert floor.score == 0 and floor.lines[-1] == "得分 = 100 − 120 = 0 (不低于 0 分)"


def test_xupu_9_annual_appraisal_weighs_de_neng_qin_ji_lian(xupu):
    """xupu 九(二)2: 德、能、勤、绩、廉 (weights 0.2 each), minus the year's deductions."""
    assert [(d.name, d.weight) for d in xupu.appraisal.dimensions] == [("德", 0.2), ("能", 0.2), ("勤", 0.2),
                                                                        ("绩", 0.2), ("廉", 0.2)]
    person = Subject("staff", "9", "李四", "market_window")
    marks = {"de": 90, "neng": 80, "qin": 100, "ji": 70, "lian": 95}
    rows = [deduction("KF-1", "staff", 12, dt.date(2026, 6, 1), staff="9")]
    result = score(person, Period("year", 2026), xupu.appraisal, rows, marks)
    assert result.start == 87 and result.score == 75
    assert result.lines[1] == "分项加权 (xupu 九(二)2): 德 90×0.2 + 能 80×0.2 + 勤 100×0.2 + 绩 70×0.2 + 廉 95×0.2 = 87"
    partial = score(person, Period("year", 2026), xupu.appraisal, [], {"de": 50})
    assert partial.score == 90 and "能 100×0.2(未评, 按满分)" in partial.lines[1]
    with pytest.raises(ValueError):
        score(person, Period("year", 2026), xupu.appraisal, [], {"de": 120})


def test_ranking_shares_ranks_on_equal_scores(xupu):
    period = Period("month", 2026, 3)
    rows = [deduction("KF-1", "window", 5, dt.date(2026, 3, 2), window="b"),
            deduction("KF-2", "window", 5, dt.date(2026, 3, 2), window="c"),
            deduction("KF-3", "window", 9, dt.date(2026, 3, 2), window="d")]
    scores = [score(Subject("window", w, w.upper()), period, xupu.appraisal, rows) for w in "dcba"]
    assert [(s.subject.id, s.score, s.rank) for s in ranked(scores)] == [("a", 100, 1), ("b", 95, 2), ("c", 95, 2),
                                                                          ("d", 91, 4)]


def test_xupu_8_5_window_loses_its_month_of_excellence(xupu):
    """xupu 八(五): a post holder's deduction takes the window out of the month's selection."""
    windows = [Subject("window", "market_window", "市场监管窗口"), Subject("window", "health_window", "卫生健康窗口")]
    rows = [deduction("KF-9", "staff", 12, dt.date(2026, 3, 9), staff="9", window="market_window",
                      effects=("lose_monthly_excellence", "warn_window_head"), name="本窗口审批事项超过法定时限办结",
                      source="xupu 八(五)1"),
            deduction("KF-8", "window", 5, dt.date(2026, 3, 3), window="health_window")]
    names = {e.id: e.name for e in xupu.accountability.effects}
    result = appraise(xupu.appraisal, windows, rows, Period("month", 2026, 3), effect_names=names,
                      activity={("window", "market_window"): 4, ("window", "health_window"): 3})
    market = next(s for s in result.windows if s.subject.id == "market_window")
    assert market.score == 100 and market.rank == 1  # the points are the person's, not the window's
    chosen = {s.selection.id: s for s in result.selections}
    assert set(chosen) == {"monthly_excellence"}  # the yearly selections wait for a year
    monthly = chosen["monthly_excellence"]
    assert [s.subject.id for s in monthly.chosen] == ["health_window"]
    assert monthly.out[0][1] == "取消当月评优评先资格 (扣分决定 KF-9: 本窗口审批事项超过法定时限办结, xupu 八(五)1)"
    assert "不参评: 市场监管窗口 — 取消当月评优评先资格" in monthly.lines[1]
    # The next month the window is eligible again.
    april = appraise(xupu.appraisal, windows, rows, Period("month", 2026, 4), effect_names=names)
    assert [s.subject.id for s in april.selections[0].chosen] == ["health_window", "market_window"]


def test_taishan_10_quarterly_red_flag_and_annual_advanced_window(taishan):
    """taishan 第十条: 每季度评选"红旗窗口", 年终评选"先进窗口" — on service image and work results
    (weights local practice); a window found in prohibited conduct (第十一条) loses the quarter."""
    windows = [Subject("window", w, n) for w, n in (("business_window", "商事登记类"), ("investment_window", "投资建设类"),
                                                   ("social_window", "社会事务类"), ("consult_desk", "咨询导办"))]
    marks = {("window", "business_window"): {"service_image": 95, "work_results": 90},
             ("window", "investment_window"): {"service_image": 98, "work_results": 96},
             ("window", "social_window"): {"service_image": 90, "work_results": 85}}
    activity = {("window", "business_window"): 40, ("window", "investment_window"): 25,
                ("window", "social_window"): 30, ("window", "consult_desk"): 0}
    rows = [deduction("TS-KF-1", "window", 0, dt.date(2026, 2, 10), window="investment_window",
                      effects=("rectify_within_deadline", "lose_red_flag_eligibility"),
                      name="无正当理由超过承诺期限履行审批职责", source="taishan 第十一条(四)")]
    names = {e.id: e.name for e in taishan.accountability.effects}
    q1 = appraise(taishan.appraisal, windows, rows, Period("quarter", 2026, 1), marks=marks, activity=activity,
                  effect_names=names)
    assert [(s.subject.id, s.score) for s in q1.windows[:3]] == [("consult_desk", 100), ("investment_window", 97),
                                                                 ("business_window", 92.5)]
    red = {s.selection.id: s for s in q1.selections}["red_flag_window"]
    assert [s.subject.id for s in red.chosen] == ["business_window"]
    assert {s.subject.id: why for s, why in red.out} == {
        "investment_window": '取消当季度"红旗窗口"评选资格 (扣分决定 TS-KF-1: 无正当理由超过承诺期限履行审批职责, taishan 第十一条(四))',
        "consult_desk": "本期无办结办件, 不参评"}
    assert "办法未规定名额, 取第一名 (含并列)" in red.lines
    q2 = appraise(taishan.appraisal, windows, rows, Period("quarter", 2026, 2), marks=marks, activity=activity)
    assert [s.subject.id for s in {s.selection.id: s for s in q2.selections}["red_flag_window"].chosen] == \
        ["investment_window"]
    year = appraise(taishan.appraisal, windows, rows, Period("year", 2026), marks=marks, activity=activity)
    by_id = {s.selection.id: s for s in year.selections}
    assert set(by_id) == {"advanced_window", "advanced_individual", "civility_star"}
    assert [s.subject.id for s in by_id["advanced_window"].chosen] == ["investment_window"]  # no disqualifier yearly


def test_taishan_18_quarterly_service_star(taishan):
    """taishan 第十八条: 季度"服务之星" among the comprehensive-window staff."""
    staff = [Subject("staff", "1", "陈一", "business_window"), Subject("staff", "2", "黄二", "business_window"),
             Subject("staff", "3", "李三", "social_window")]
    rows = [deduction("TS-KF-2", "staff", 0, dt.date(2026, 5, 6), staff="2", name="工作纪律散漫、服务态度恶劣",
                      source="taishan 第三十四条(三)", effects=("criticism", "written_self_criticism"))]
    marks = {("staff", "1"): {"service_image": 90, "work_results": 92}, ("staff", "2"): {"service_image": 99,
                                                                                         "work_results": 99},
             ("staff", "3"): {"service_image": 91, "work_results": 91}}
    q2 = appraise(taishan.appraisal, staff, rows, Period("quarter", 2026, 2), marks=marks)
    star = {s.selection.id: s for s in q2.selections}["service_star"]
    assert [s.subject.name for s in star.chosen] == ["黄二"] and star.out == ()
    # taishan keeps no points: the criticism is listed, the score is the marks'.
    assert q2.staff[0].lines[-2:] == ("− 0 分: 工作纪律散漫、服务态度恶劣 (taishan 第三十四条(三)), 2026-05-06, 扣分决定 TS-KF-2",
                                      "得分 = 99 − 0 = 99")


def test_a_deduction_charged_to_nobody_known_is_reported(xupu):
    rows = [deduction("KF-1", "staff", 10, dt.date(2026, 3, 2), staff="404")]
    result = appraise(xupu.appraisal, [Subject("staff", "1", "张三")], rows, Period("month", 2026, 3))
    assert [d.number for d in result.unassigned] == ["KF-1"]
