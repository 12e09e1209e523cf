"""Deductions proposed after each sweep (``run_periodic(after=...)`` in the web app, ``bianmin
sweep`` from cron), once; the reviewer charged for a review not made in time; appraisers' marks
read back for their period. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

from bianmin import cli
from bianmin.scoring import Period, after_sweep, queries
from bianmin.store import service, sweeper
from bianmin.store.models import AppraisalMark, Record, Violation
from scoring_helpers import people

ROSTER = [("c1", "张三", "clerk", "market_window"), ("l1", "李主任", "leader", ""), ("s1", "刘督查", "supervisor", "")]


async def _negative_report(registry, who, filed: dt.datetime) -> str:
    opened = await service.open_record("xupu", "negative_report", {"case_number": "XP-0001"}, who["c1"], {}, filed,
                                       registry=registry)
    return opened.record.number


def test_a_sweep_that_finds_a_violation_proposes_one_deduction_once(backend, registry):
    """xupu 六(五) 主管领导 2 个工作日内审核; 八(五)6 不按规定提出审查意见: the periodic sweep finds
    the review overdue, and its ``after`` opens one deduction charged to the reviewer, not the
    clerk who filed; the next run opens nothing more."""

    async def body():
        filed = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=12)
        who = await people(registry, "xupu", ROSTER, filed)
        number = await _negative_report(registry, who, filed)
        log = io.StringIO()
        await sweeper.run_periodic(0, registry=registry, iterations=2, log=log,
                                   after=after_sweep(registry, log=log))
        violations = await Violation.filter(violation_id="negative_report_review_late").count()
        parent = await Record.get(number=number)
        deductions = await Record.filter(kind="deduction", parent_id=parent.id)
        return who, violations, deductions, log.getvalue()

    who, violations, deductions, log = backend.run(body)
    assert violations == 1 and len(deductions) == 1
    s = deductions[0].subject
    assert (s["violation"], s["tier"], s["points_from"], s["points_to"]) == \
        ("negative_report_review_late", "post_holder_monthly", 10, 15)
    assert s["staff"] == who["l1"].id and s["staff_name"] == "李主任"
    assert deductions[0].state == "proposed"
    assert log.count("proposed deductions: xupu 1") == 1  # the second run proposed nothing


def test_bianmin_sweep_proposes_after_the_sweep(backend, registry, capsys):
    """The cron command does the same: one proposal, and none on the next run."""

    async def setup():
        filed = dt.datetime(2026, 3, 2, 10, 0)
        who = await people(registry, "xupu", ROSTER, filed)
        return await _negative_report(registry, who, filed)

    number = backend.run(setup)
    argv = ["sweep", "--db", backend.url, "--now", "2026-03-06T09:00"]
    assert cli.main(argv) == 0
    first = capsys.readouterr().err
    assert cli.main(argv) == 0
    second = capsys.readouterr().err

    async def count():
        parent = await Record.get(number=number)
        return await Record.filter(kind="deduction", parent_id=parent.id).count()

    assert backend.run(count) == 1
    assert "proposed deductions: xupu 1" in first and "proposed deductions" not in second


def test_marks_count_in_their_period_only(backend, registry):
    """xupu 九(二)2② 德能勤绩廉 (weights 0.2): marks given for 2026 score the year
    0.2 × (90 + 85 + 100 + 80) + 0.2 × 100 (廉 unmarked: in full) = 91; March is not marked."""

    async def body():
        at = dt.datetime(2026, 3, 2, 9, 0)
        who = await people(registry, "xupu", ROSTER, at)
        for dim, mark in {"de": 90, "neng": 85, "qin": 100, "ji": 80}.items():
            await AppraisalMark.create(jurisdiction_id="xupu", staff_id=int(who["c1"].id), period_kind="year",
                                       year=2026, n=1, dimension=dim, mark=mark, marked_by=who["s1"].id, marked_at=at)
        pack = registry.active("xupu", at.date())
        year, month = Period("year", 2026), Period("month", 2026, 3)
        rows = await queries.load(pack, year.start, year.end)
        return who, queries.appraise_rows(pack, rows, year), queries.appraise_rows(pack, rows, month)

    who, year, month = backend.run(body)
    clerk_year = next(s for s in year.staff if s.subject.id == who["c1"].id)
    clerk_month = next(s for s in month.staff if s.subject.id == who["c1"].id)
    assert clerk_year.start == 91 and clerk_year.score == 91
    assert "廉 100×0.2(未评, 按满分)" in clerk_year.lines[1]
    assert clerk_month.start == 100 and "未录入" in clerk_month.lines[1]
