"""The report built from the store, on SQLite and PostgreSQL: completion and on-time rates per
month, window and item, the three systems counted in the efficiency review (jiangyin 四(一)),
complaints and ratings, and a query count that does not grow with the cases.
"""

from __future__ import annotations

import datetime as dt

from bianmin.reports import pages
from bianmin.scoring import Period, queries
from bianmin.store.models import Record
from report_helpers import MARCH, seed
from scoring_helpers import case, decided, people

YEAR = Period("year", 2026)


def test_report_counts_from_the_log(backend, registry):
    """jiangyin 四(一): 各部门(单位)实施"三项制度"的情况纳入机关作风效能评议 — counted from what happened."""

    async def body():
        await seed(registry)
        with queries.QueryCounter() as counter:
            report = await pages.build("jiangyin", YEAR, registry=registry)
        return report, counter.count

    report, count = backend.run(body)
    march = report.months[2]
    assert (march.received, march.completed, march.late, march.on_time) == (3, 2, 1, 1)
    assert march.rate(True) == 50.0 and report.months[0].rate(True) is None
    market = next(w for w in report.windows if w.key == "market_window")
    assert (market.name, market.received, market.completed, market.late) == ("市场监管窗口", 3, 2, 1)
    assert [(i.key, i.completed) for i in report.items] == [("food_business_licence", 2)]
    counts = {what: n for what, n, _ in report.three_systems}
    assert counts["首问负责制: 首问登记"] == "2" and counts["首问负责制: 出具首问回执"] == "1"
    assert counts["限时办结制: 受理办件"] == "3" and counts["限时办结制: 办结"] == "2"
    assert counts["限时办结制: 按承诺时限办结"] == "1" and counts["限时办结制: 超过承诺时限"] == "1"
    assert counts["投诉: 受理投诉"] == "1" and counts["投诉: 答复投诉"] == "1" and counts["投诉: 逾期未答复"] == "0"
    assert counts["服务承诺制: 公开的服务承诺"] == str(len(report.pack.commitments))
    assert counts["纳入机关作风效能评议"] == "是"
    assert report.complaints == [("首问责任人及窗口工作人员服务行为投诉", 1, 0)]
    assert sum(n for _, n, _ in report.ratings) == 2 and sum(n for _, n, bad in report.ratings if bad) == 1
    assert report.violations and report.violations[0][0] == "overdue_promised"
    assert report.deductions["proposed"] == 1 and report.points == 0  # proposed only: nothing counts yet
    assert count == 9


def test_query_count_does_not_grow_with_cases(backend, registry):
    """Nine statements for 3 cases and for 12: aggregates, never one query per case."""

    async def body(n):
        await seed(registry, cases=n)
        with queries.QueryCounter() as counter:
            report = await pages.build("jiangyin", YEAR, registry=registry)
            pages.html(report)
        return counter.count, report.months[2].received

    few = backend.run(body, 3)
    assert few == (9, 3)

    async def more():
        who = await people(registry, "jiangyin", [("j2", "郑十", "clerk", "market_window")], MARCH)
        for _ in range(9):
            await case(registry, "jiangyin", who["j2"], MARCH, MARCH + dt.timedelta(days=1))
        with queries.QueryCounter() as counter:
            report = await pages.build("jiangyin", YEAR, registry=registry)
        return counter.count, report.months[2].received

    assert backend.run(more) == (9, 12)


def test_html_is_readable_without_script(backend, registry):
    async def body():
        who, _ = await seed(registry)
        [deduction] = await Record.filter(kind="deduction")
        await decided(registry, "jiangyin", deduction.number, who["js"], who["j1"], 0, dt.datetime(2026, 3, 14, 9))
        report = await pages.build("jiangyin", YEAR, registry=registry)
        return pages.html(report, base="/desk/jiangyin/reports"), pages.appraisal_html(report), report

    page, appraisal, report = backend.run(body)
    assert "<script" not in page and "style=" not in page
    assert page.count("<svg") == len(report.charts) == page.count("<details><summary>数据表</summary>")
    assert '<title id="chart-trend-title">2026年度 每月受理与办结</title>' in page
    assert 'aria-labelledby="chart-on-time-title chart-on-time-desc"' in page
    assert 'href="/desk/jiangyin/reports/registers/inquiry.csv?period=year&amp;year=2026&amp;n=1"' in page
    assert 'href="/desk/jiangyin/reports/export.xlsx?period=year&amp;year=2026&amp;n=1"' in page
    assert "三项制度落实情况" in page and "各窗口办结情况" in page
    assert "扣分决定 JY-KF-2026-" in appraisal and "钱七" in appraisal and "<details><summary>计分说明</summary>" in appraisal
    assert report.deductions["decided"] == 1


def test_periods_parse():
    today = dt.date(2026, 8, 20)
    assert pages.parse_period(None, None, None, today) == Period("year", 2026)
    assert pages.parse_period("quarter", "2025", "", today) == Period("quarter", 2025, 3)
    assert pages.parse_period("month", None, "2", today) == Period("month", 2026, 2)
    for bad in (("week", None, None), ("month", "x", None), ("month", "2026", "13")):
        try:
            pages.parse_period(*bad, today)
        except ValueError:
            continue
        raise AssertionError(bad)
