"""The report of a jurisdiction for a month, quarter or year: what the web route renders.

:func:`build` reads the rows (:func:`bianmin.scoring.queries.load`: nine statements whatever the
number of cases), appraises the period and its sub-periods, and returns a :class:`Report` with
its tables and charts; :func:`html` renders it as an HTML fragment (no script: charts are SVG
with a data table each, explanations are ``<details>``), :func:`document` as a whole page.

Sections: monthly trend (received, completed, on-time rate), on-time completion per window and
per item, accountability (violations found, deductions by state and by violation), appraisal
(rankings with how each score was reached, the selections of each period), complaints and
ratings, the three systems counted in the efficiency review (jiangyin 四(一)), and the registers
with their exports.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from ..documents.registers import REGISTERS
from ..packs import Registry
from ..packs.model import Pack
from ..packs.registry import UnknownPack
from ..scoring import queries
from ..scoring.appraisal import COUNTED, Period, Result
from ..store import service
from .charts import Chart, figure, number, percent, series

STATE_NAMES = {"proposed": "拟扣分", "heard": "已陈述申辩", "decided": "已决定", "under_review": "复核中",
               "final": "已生效", "dropped": "不予扣分"}
# The registers a report links to, with the workflow each lists (documents/registers.py).
REGISTER_KINDS = {"inquiry": "inquiry", "negative_report": "negative_report", "complaint": "complaint",
                  "unresolved_matter": "unresolved_matter", "agency": "agency"}


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a completion table (a window, an item or a month)."""

    key: str
    name: str
    received: int = 0
    completed: int = 0
    late: int = 0
    late_statutory: int = 0

    @property
    def on_time(self) -> int:
        return self.completed - self.late

    def rate(self, known: bool) -> float | None:
        return percent(self.on_time, self.completed) if known else None


@dataclass
class Report:
    pack: Pack
    period: Period
    rows: queries.Rows
    appraisal: Result
    months: list[Line]
    windows: list[Line]
    items: list[Line]
    selections: list[Any]  # Selected, of the period and its sub-periods
    violations: list[tuple[str, str, str, int]]  # id, name, source, detected
    deductions: dict[str, int]  # by state
    points: float  # decided points in the period
    complaints: list[tuple[str, int, int]]  # category name, received, replied late
    ratings: list[tuple[str, int, bool]]  # level name, count, bad
    three_systems: list[tuple[str, str, str]]  # what, how many, source
    charts: dict[str, Chart] = field(default_factory=dict)

    @property
    def late_known(self) -> bool:
        return self.rows.late_known


def parse_period(kind: str | None, year: str | int | None, n: str | int | None, today: dt.date) -> Period:
    """A period from query parameters; the current year by default. ValueError when malformed."""
    kind = kind or "year"
    if kind not in ("month", "quarter", "year"):
        raise ValueError(f"unknown period {kind!r}")
    y = int(year) if year not in (None, "") else today.year
    if kind == "year":
        return Period("year", y)
    default = today.month if kind == "month" else (today.month - 1) // 3 + 1
    return Period(kind, y, int(n) if n not in (None, "") else default)


def pack_for(registry: Registry, jurisdiction: str, period: Period) -> Pack:
    """The pack version in force at the end of ``period`` (the first one for earlier periods);
    UnknownPack for a jurisdiction the registry does not know."""
    try:
        return registry.active(jurisdiction, period.end - dt.timedelta(days=1))
    except UnknownPack:
        versions = registry.versions(jurisdiction)  # raises for an unknown jurisdiction
        if not versions:
            raise
        return versions[0]


async def build(jurisdiction: str, period: Period, *, registry: Registry | None = None,
                marks: Mapping[tuple[str, str], Mapping[str, float]] | None = None) -> Report:
    """The report (reads the store: :func:`bianmin.scoring.queries.load`)."""
    registry = registry or service.default_registry()
    pack = pack_for(registry, jurisdiction, period)
    rows = await queries.load(pack, period.start, period.end)
    return assemble(pack, period, rows, marks)


def assemble(pack: Pack, period: Period, rows: queries.Rows,
             marks: Mapping[tuple[str, str], Mapping[str, float]] | None = None) -> Report:
    """The report from its rows (pure)."""
    months, windows, items = _completion(pack, period, rows)
    result = queries.appraise_rows(pack, rows, period, marks)
    selections = list(result.selections)
    for kind in ("month", "quarter"):
        if kind in pack.appraisal.periods and _finer(kind, period.kind) and \
                any(s.period == kind for s in pack.appraisal.selections):
            for sub in _sub_periods(period, kind):
                selections += queries.appraise_rows(pack, rows, sub, marks, explain=False).selections
    names = {v.id: (v.name, v.source) for v in pack.accountability.violations}
    detected: Counter[str] = Counter()
    for row in rows.violations:
        detected[row["violation"]] += int(row["n"])
    violations = [(vid, *names.get(vid, (vid, "")), n) for vid, n in detected.most_common()]
    states = Counter(d.state for d in rows.deductions)
    points = round(sum(d.points for d in rows.deductions if d.state in COUNTED), 2)
    report = Report(pack, period, rows, result, months, windows, items, selections, violations,
                    {s: states.get(s, 0) for s in STATE_NAMES}, points, _complaints(pack, rows), _ratings(pack, rows),
                    _three_systems(pack, rows, months))
    report.charts = _charts(report)
    return report


def _finer(kind: str, than: str) -> bool:
    order = ("month", "quarter", "year")
    return order.index(kind) < order.index(than)


def _sub_periods(period: Period, kind: str) -> list[Period]:
    if kind == "month":
        return period.months()
    return sorted({Period.of("quarter", m.start) for m in period.months()})


def _completion(pack: Pack, period: Period, rows: queries.Rows) -> tuple[list[Line], list[Line], list[Line]]:
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_item: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows.received:
        by_month[r["ym"]][0] += int(r["n"])
        by_item[r["item"] or ""][0] += int(r["n"])
    for r in rows.completed:
        for bucket in (by_month[r["ym"]], by_item[r["item"] or ""]):
            bucket[1] += int(r["n"])
            bucket[2] += int(r["late"] or 0)
            bucket[3] += int(r["late_statutory"] or 0)
    months = [Line(m.slug, f"{m.n}月", *by_month.get(m.slug, [0, 0, 0, 0])) for m in period.months()]
    item_names = {i.id: i.name for i in pack.items}
    items = sorted((Line(k, item_names.get(k, k or "(无事项)"), *v) for k, v in by_item.items()),
                   key=lambda line: (-line.received, line.name))
    window_names = {w.id: w.name for w in pack.windows}
    by_window: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for line in items:
        w = queries.window_of_item(pack, line.key)
        for i, v in enumerate((line.received, line.completed, line.late, line.late_statutory)):
            by_window[w][i] += v
    windows = sorted((Line(k, window_names.get(k, k or "(未分窗口)"), *v) for k, v in by_window.items()),
                     key=lambda line: (-line.completed, line.name))
    return months, windows, items


def _complaints(pack: Pack, rows: queries.Rows) -> list[tuple[str, int, int]]:
    names = {c.id: c.name for c in pack.complaints.categories}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows.complaints:
        key = r["category"] or ""
        totals[key][0] += int(r["n"])
        totals[key][1] += int(r["late"] or 0)
    return sorted(((names.get(k, k or "(未分类)"), n, late) for k, (n, late) in totals.items()), key=lambda t: -t[1])


def _ratings(pack: Pack, rows: queries.Rows) -> list[tuple[str, int, bool]]:
    counts: Counter[str] = Counter()
    for r in rows.ratings:
        counts[r["level"]] += int(r["n"])
    levels = sorted(pack.ratings.levels, key=lambda lv: -lv.score)
    out = [(lv.name, counts.pop(lv.id, 0), lv.bad) for lv in levels]
    return out + [(k, n, False) for k, n in counts.items()]


def _count(rows: queries.Rows, kind: str, transitions: set[str] | None = None) -> int:
    if transitions is None:
        return sum(int(r["n"]) for r in rows.kinds if r["kind"] == kind)
    return sum(int(r["n"]) for r in rows.transitions if r["kind"] == kind and r["transition"] in transitions)


def _three_systems(pack: Pack, rows: queries.Rows, months: list[Line]) -> list[tuple[str, str, str]]:
    """What the efficiency review counts of the three systems (jiangyin 四(一)): commitments,
    first inquiry, time-limited completion, and complaints."""
    detected: Counter[str] = Counter()
    for row in rows.violations:
        detected[row["violation"]] += int(row["n"])

    def found(clock: str = "", rule: str = "") -> str:
        ids = [v.id for v in pack.accountability.violations
               if (clock and v.detect.clock == clock) or (rule and v.detect.rule == rule)]
        return str(sum(detected[i] for i in ids)) if ids else "未设定"

    completed = sum(m.completed for m in months)
    late = sum(m.late for m in months)
    source = pack.appraisal.source or "jiangyin 四(一)"
    return [
        ("服务承诺制: 公开的服务承诺", str(len(pack.commitments)), "jiangyin 三(一)"),
        ("服务承诺制: 公布的服务热线和投诉电话", str(len(pack.hotlines)), "jiangyin 三(一)5"),
        ("首问负责制: 首问登记", str(_count(rows, "inquiry")), "jiangyin 三(二)7"),
        ("首问负责制: 出具首问回执", str(_count(rows, "inquiry", {"issue_receipt"})), "jiangyin 三(二)7"),
        ("首问负责制: 回执承诺时间内未答复", found(clock="inquiry_reply"), "jiangyin 三(二)7"),
        ("限时办结制: 受理办件", str(sum(m.received for m in months)), "jiangyin 三(三)"),
        ("限时办结制: 办结", str(completed), "jiangyin 三(三)"),
        ("限时办结制: 按承诺时限办结", str(completed - late) if rows.late_known else "未设定", "jiangyin 三(三)1"),
        ("限时办结制: 超过承诺时限", str(late) if rows.late_known else "未设定", "jiangyin 三(三)1"),
        ("限时办结制: 延期办理", str(_count(rows, "case", {"extend"})), "jiangyin 三(三)6"),
        ("限时办结制: 一次性告知补正", str(_count(rows, "case", {"request_correction"})), "jiangyin 三(三)5"),
        ("限时办结制: 补正告知超期", found(rule="correction_notice_late"), "jiangyin 三(三)5"),
        ("投诉: 受理投诉", str(_count(rows, "complaint")), "jiangyin 三(三)3"),
        ("投诉: 答复投诉", str(_count(rows, "complaint", {"reply"})), "jiangyin 三(三)3"),
        ("投诉: 逾期未答复", found(clock="complaint_reply"), "jiangyin 三(三)3"),
        ("纳入机关作风效能评议", "是" if pack.appraisal.counts else "—", source),
    ]


def _charts(r: Report) -> dict[str, Chart]:
    labels = tuple(m.name for m in r.months)
    known = r.late_known
    charts = {
        "trend": Chart("chart-trend", "bar", f"{r.period.label} 每月受理与办结", labels,
                       (series("受理", [m.received for m in r.months]), series("办结", [m.completed for m in r.months])),
                       unit="件"),
        "on_time": Chart("chart-on-time", "line", f"{r.period.label} 每月按承诺时限办结率", labels,
                         (series("按时办结率", [m.rate(known) for m in r.months]),), unit="%", top=100,
                         note="" if known else "本政策包未设定承诺时限违规, 无法计算。"),
    }
    windows = [w for w in r.windows if w.completed]
    if windows:
        charts["windows"] = Chart("chart-windows", "hbar", f"{r.period.label} 各窗口按时办结率",
                                  tuple(w.name for w in windows), (series("按时办结率", [w.rate(known) for w in windows]),),
                                  unit="%", top=100)
    ranked = [s for s in r.appraisal.windows if s.activity or s.deductions]
    if ranked:
        charts["ranking"] = Chart("chart-ranking", "hbar", f"{r.period.label} 窗口考评得分排名",
                                  tuple(f"{s.rank}. {s.subject.name}" for s in ranked),
                                  (series("得分", [s.score for s in ranked]),), unit="分",
                                  top=max(r.pack.appraisal.base_score, 1))
    if r.violations:
        charts["violations"] = Chart("chart-violations", "hbar", f"{r.period.label} 自动发现的违规",
                                     tuple(name for _, name, _, _ in r.violations[:12]),
                                     (series("次数", [n for *_, n in r.violations[:12]]),), unit="次")
    if any(n for _, n, _ in r.ratings):
        charts["ratings"] = Chart("chart-ratings", "bar", f"{r.period.label} 好差评", tuple(n for n, _, _ in r.ratings),
                                  (series("评价数", [n for _, n, _ in r.ratings]),), unit="件")
    return charts


# -- HTML ---------------------------------------------------------------------------------------------

def _table(caption: str, headers: list[str], rows: list[list[Any]], cls: str = "report") -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">无数据</td></tr>'
    return f'<table class="{cls}"><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _completion_rows(lines: list[Line], known: bool) -> list[list[Any]]:
    return [[line.name, line.received, line.completed, line.on_time if known else "—", line.late if known else "—",
             line.late_statutory, number(line.rate(known), "%")] for line in lines]


COMPLETION_HEADERS = ["名称", "受理", "办结", "按时办结", "超承诺时限", "超法定时限", "按时办结率"]


SHOWN_LINES = 8  # explanation lines per score on the report page; the appraisal page shows all


def _lines(lines: tuple[str, ...], limit: int | None, more: str) -> str:
    """``more``: an escaped URL to all the lines."""
    if limit is not None and len(lines) > limit:
        hidden = len(lines) - limit
        lines = (*lines[: limit - 1], f"…… 另有 {hidden} 行, 见考评计分说明", lines[-1])
        shown = "".join(f"<li>{escape(line)}</li>" for line in lines)
        return shown + (f'<li><a href="{more}">全部计分说明</a></li>' if more else "")
    return "".join(f"<li>{escape(line)}</li>" for line in lines)


def _scores(title: str, scores: Any, limit: int | None = None, more: str = "") -> str:
    """A ranking table; ``limit`` lines of explanation each, then a link to ``more`` (escaped)."""
    if not scores:
        return ""
    out = [(f'<table class="report ranking"><caption>{escape(title)}</caption><thead><tr><th scope="col">名次</th>'
            '<th scope="col">名称</th><th scope="col">得分</th><th scope="col">扣分</th><th scope="col">办结</th>'
            '<th scope="col">如何得出</th></tr></thead><tbody>')]
    for s in scores:
        lines = _lines(s.lines, limit, more)
        out.append(f"<tr><td>{s.rank}</td><td>{escape(s.subject.name)}</td><td>{number(s.score)}</td>"
                   f"<td>{number(s.deducted)}</td><td>{'—' if s.activity is None else s.activity}</td>"
                   f"<td><details><summary>计分说明</summary><ol>{lines}</ol></details></td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def html(r: Report, *, base: str = "") -> str:
    """The report as an HTML fragment; ``base`` is the URL the report routes are mounted at."""
    p, pack, known = r.period, r.pack, r.late_known
    query = escape(f"period={p.kind}&year={p.year}&n={p.n}")
    base = escape(base)
    parts = [(f'<section class="report" aria-labelledby="report-title"><h1 id="report-title">'
              f'{escape(pack.name)} 效能报表 · {escape(p.label)}</h1>'), _period_form(p),
             (f'<p class="exports">导出: <a href="{base}/export.xlsx?{query}">Excel (全部表格)</a> · '
              f'<a href="{base}/export.csv?{query}&amp;table=windows">CSV (窗口)</a> · '
              f'<a href="{base}/export.csv?{query}&amp;table=items">CSV (事项)</a> · '
              f'<a href="{base}/appraisal?{query}">考评计分说明</a></p>')]
    parts.append('<h2 id="trend">办件趋势</h2>' + figure(r.charts["trend"]) + figure(r.charts["on_time"]))
    parts.append('<h2 id="completion">按时办结</h2>')
    if "windows" in r.charts:
        parts.append(figure(r.charts["windows"]))
    parts.append(_table("各窗口办结情况", COMPLETION_HEADERS, _completion_rows(r.windows, known)))
    parts.append(_table("各事项办结情况", COMPLETION_HEADERS, _completion_rows(r.items, known)))
    parts.append('<h2 id="accountability">责任追究</h2>')
    if "violations" in r.charts:
        parts.append(figure(r.charts["violations"]))
    parts.append(_table("自动发现的违规", ["违规行为", "依据", "次数"], [[n, s, c] for _, n, s, c in r.violations]))
    parts.append(_table(f"扣分处理 (已决定扣分合计 {number(r.points)} 分)", ["状态", "件数"],
                        [[STATE_NAMES[s], n] for s, n in r.deductions.items()]))
    parts.append('<h2 id="appraisal">效能考评</h2>')
    if "ranking" in r.charts:
        parts.append(figure(r.charts["ranking"]))
    parts.append(_scores("窗口得分", r.appraisal.windows, SHOWN_LINES, f"{base}/appraisal?{query}"))
    parts.append(_selections(r))
    parts.append('<h2 id="complaints">投诉与好差评</h2>')
    parts.append(_table("投诉 (按类别)", ["类别", "受理", "逾期未答复"], [list(c) for c in r.complaints]))
    if "ratings" in r.charts:
        parts.append(figure(r.charts["ratings"]))
    total = sum(n for _, n, _ in r.ratings)
    bad = sum(n for _, n, is_bad in r.ratings if is_bad)
    parts.append(_table(f"好差评 (共 {total} 件, 差评 {bad} 件, 满意率 {number(percent(total - bad, total), '%')})",
                        ["评价", "件数"], [[n, c] for n, c, _ in r.ratings]))
    parts.append('<h2 id="three-systems">三项制度落实情况</h2>')
    if pack.appraisal.counts:
        parts.append("<p>考评内容 (" + escape(pack.appraisal.source) + "):</p><ul>"
                     + "".join(f"<li>{escape(c)}</li>" for c in pack.appraisal.counts) + "</ul>")
    parts.append(_table("三项制度 (纳入机关作风效能评议)", ["项目", "数量", "依据"], [list(t) for t in r.three_systems]))
    parts.append('<h2 id="registers">登记簿</h2><ul class="registers">')
    kinds = {w.subject for w in pack.workflows}
    for rid, kind in REGISTER_KINDS.items():
        if kind in kinds:
            reg = REGISTERS[rid]
            url = f"{base}/registers/{rid}"
            parts.append(f'<li>{escape(reg.name)} ({escape(reg.source)}): <a href="{url}.csv?{query}">CSV</a> · '
                         f'<a href="{url}.xlsx?{query}">Excel</a></li>')
    parts.append("</ul></section>")
    return "".join(parts)


def _selections(r: Report) -> str:
    rows = []
    for s in r.selections:
        chosen = "、".join(c.subject.name for c in s.chosen) or "无"
        why = "".join(f"<li>{escape(line)}</li>" for line in s.lines)
        rows.append(f"<tr><td>{escape(s.period.label)}</td><td>{escape(s.selection.name)}</td><td>{escape(chosen)}</td>"
                    f"<td>{len(s.out)}</td><td><details><summary>评选说明</summary><ol>{why}</ol></details></td></tr>")
    if not rows:
        return ""
    return ('<table class="report selections"><caption>评选结果</caption><thead><tr><th scope="col">期间</th>'
            '<th scope="col">评选</th><th scope="col">入选</th><th scope="col">不参评</th><th scope="col">说明</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def appraisal_html(r: Report) -> str:
    """Every score with how it was reached: windows, then staff, then charges to nobody known."""
    parts = [f'<section class="appraisal"><h1>{escape(r.pack.name)} 效能考评 · {escape(r.period.label)}</h1>',
             _period_form(r.period), _scores("窗口", r.appraisal.windows), _scores("工作人员", r.appraisal.staff),
             _selections(r)]
    if r.appraisal.unassigned:
        parts.append(_table("未能对应到窗口或人员的扣分", ["扣分决定", "违规行为", "分值"],
                            [[d.number, d.name, number(d.points)] for d in r.appraisal.unassigned]))
    parts.append("</section>")
    return "".join(parts)


def _period_form(p: Period) -> str:
    options = "".join(f'<option value="{k}"{" selected" if k == p.kind else ""}>{n}</option>'
                      for k, n in (("month", "月"), ("quarter", "季度"), ("year", "年")))
    return ('<form method="get" class="period"><label>期间 <select name="period">' + options + "</select></label> "
            f'<label>年 <input name="year" type="number" min="2000" max="2100" value="{p.year}"></label> '
            f'<label>月/季 <input name="n" type="number" min="1" max="12" value="{p.n}"></label> '
            '<button type="submit">查看</button></form>')


def document(title: str, body: str) -> str:
    """A whole page around a fragment, for use without the web app's layout."""
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>{body}</body></html>')
