"""Appraisal (效能考评): scores per staff member and per window for a month, quarter or year,
rankings, and the selections (红旗窗口, 服务之星 ...) with their disqualifications.

Pure: everything is computed from rows the loaders read (:mod:`bianmin.scoring.queries`), and
every score keeps the lines that say how it was reached.

**Score.** ``base_score`` (pack, default 100) — or, when the pack weighs dimensions (xupu 九(二)2
德、能、勤、绩、廉) and marks were given, the weighted sum of the marks (each on the base score's
scale; a dimension left unmarked counts in full) — minus the points of the deductions that count
in the period, never below 0.

**Which deductions count.** Only decided ones (states ``decided``, ``under_review`` — an appeal
does not suspend a decision, 公务员法 第九十五条 — and ``final``), by the day the violation
occurred (xupu 八(四)(五) 扣当月考评). A window's score takes the deductions charged to the
window; a person's those charged to them as post holder (``staff``) or window head.

**Rank.** By score, highest first; equal scores share a rank (1, 1, 3).

**Selections.** Among the subjects of the selection's kind, in the period: a subject is out when
a counted deduction on it (for a window: on the window or anyone charged at it) carries one of
the selection's ``disqualify`` effects (xupu 八(五) 取消该窗口当月评优评先资格), or — windows
only — when it completed no case in the period (nothing to appraise). The best ``count`` ranks
are chosen (ties included); without a ``count``, the first rank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..packs.model import Appraisal, Selection

COUNTED = frozenset({"decided", "under_review", "final"})
PERIOD_KINDS = ("month", "quarter", "year")
KIND_NAMES = {"window": "窗口", "staff": "工作人员"}


@dataclass(frozen=True, slots=True, order=True)
class Period:
    kind: str  # month | quarter | year
    year: int
    n: int = 1  # the month (1–12), the quarter (1–4); 1 for a year

    _start: dt.date = field(init=False, repr=False, compare=False)
    _end: dt.date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        top = {"month": 12, "quarter": 4, "year": 1}.get(self.kind)
        if top is None or not 1 <= self.n <= top:
            raise ValueError(f"no {self.kind} {self.n} (kinds: month 1–12, quarter 1–4, year 1)")
        first = {"month": self.n, "quarter": 3 * self.n - 2, "year": 1}[self.kind]
        m = first - 1 + {"month": 1, "quarter": 3, "year": 12}[self.kind]
        # Computed once: a report asks whether thousands of days fall in a period.
        object.__setattr__(self, "_start", dt.date(self.year, first, 1))
        object.__setattr__(self, "_end", dt.date(self.year + m // 12, m % 12 + 1, 1))

    @property
    def start(self) -> dt.date:
        return self._start

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        return self._end

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.n}月"
        if self.kind == "quarter":
            return f"{self.year}年第{self.n}季度"
        return f"{self.year}年度"

    @property
    def slug(self) -> str:
        return {"month": f"{self.year}-{self.n:02d}", "quarter": f"{self.year}-Q{self.n}"}.get(self.kind, str(self.year))

    def contains(self, day: dt.date) -> bool:
        return self._start <= day < self._end

    def months(self) -> list[Period]:
        first = self.start.month
        count = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return [Period("month", self.year, first + i) for i in range(count)]

    @classmethod
    def of(cls, kind: str, day: dt.date) -> Period:
        n = {"month": day.month, "quarter": (day.month - 1) // 3 + 1, "year": 1}.get(kind, 0)
        return cls(kind, day.year, n)


@dataclass(frozen=True, slots=True)
class Deduction:
    """A deduction as the loader reads it: its record, the rule, whom it charges, the decision."""

    number: str
    violation: str
    name: str
    source: str
    charged: str  # staff | window | window_head | department
    staff: str
    staff_name: str
    window: str
    department: str
    occurred: dt.date
    state: str
    points: float = 0.0
    effects: tuple[str, ...] = ()
    case: str = ""

    @property
    def counts(self) -> bool:
        return self.state in COUNTED


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # window | staff
    id: str
    name: str
    window: str = ""  # a person's window

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.id


@dataclass(frozen=True, slots=True)
class Mark:
    dimension: str
    name: str
    weight: float
    mark: float | None  # None: not marked (counts in full)


@dataclass(frozen=True, slots=True)
class Score:
    subject: Subject
    period: Period
    base: float
    marks: tuple[Mark, ...]
    start: float  # the base, or the weighted marks
    deducted: float
    score: float
    deductions: tuple[Deduction, ...]
    lines: tuple[str, ...]
    activity: int | None = None  # cases completed in the period, when known
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Selected:
    selection: Selection
    period: Period
    chosen: tuple[Score, ...]
    out: tuple[tuple[Score, str], ...]  # disqualified, with the reason
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Result:
    period: Period
    windows: tuple[Score, ...]
    staff: tuple[Score, ...]
    selections: tuple[Selected, ...]
    unassigned: tuple[Deduction, ...] = field(default=())  # counted, but charged to nobody known


def charged_to(subject: Subject, d: Deduction) -> bool:
    """Whether ``d``'s points count against ``subject``'s score."""
    if subject.kind == "window":
        return d.charged == "window" and d.window == subject.id
    return d.charged in ("staff", "window_head") and d.staff == subject.id


def touches(subject: Subject, d: Deduction) -> bool:
    """Whether ``d``'s effects reach ``subject`` (a window: anything charged at it)."""
    if subject.kind == "window":
        return d.window == subject.id
    return d.staff == subject.id


def in_period(deductions: Iterable[Deduction], period: Period) -> list[Deduction]:
    start, end = period.start, period.end
    return [d for d in deductions if start <= d.occurred < end and d.state in COUNTED]


def score(subject: Subject, period: Period, appraisal: Appraisal, deductions: Iterable[Deduction],
          marks: Mapping[str, float] | None = None, activity: int | None = None, *, explain: bool = True) -> Score:
    """One subject's score in ``period`` from the deductions (any; those that count are taken);
    without ``explain``, the lines skip the deductions one by one (a selection needs none)."""
    base = float(appraisal.base_score)
    lines = [f"{KIND_NAMES[subject.kind]} {subject.name} {period.label}: 基础分 {_n(base)}"
             + (f" ({appraisal.source})" if appraisal.source else "")]
    rows: list[Mark] = []
    start = base
    if appraisal.dimensions and marks:
        parts = []
        start = 0.0
        for d in appraisal.dimensions:
            mark = marks.get(d.id)
            got = base if mark is None else float(mark)
            if not 0 <= got <= base:
                raise ValueError(f"{d.name} 评分 {got} 超出 0–{_n(base)}")
            rows.append(Mark(d.id, d.name, d.weight, mark))
            start += d.weight * got
            parts.append(f"{d.name} {_n(got)}×{_n(d.weight)}" + ("(未评, 按满分)" if mark is None else ""))
        start = round(start, 2)
        lines.append(f"分项加权 ({appraisal.dimensions[0].source}): " + " + ".join(parts) + f" = {_n(start)}")
    elif appraisal.dimensions:
        lines.append("未录入" + "、".join(d.name for d in appraisal.dimensions) + "分项评分, 以基础分计")
    counted = sorted((d for d in in_period(deductions, period) if charged_to(subject, d)),
                     key=lambda d: (d.occurred, d.number))
    for d in counted if explain else ():
        lines.append(f"− {_n(d.points)} 分: {d.name} ({d.source}), {d.occurred.isoformat()}, 扣分决定 {d.number}"
                     + (f", 办件 {d.case}" if d.case else ""))
    deducted = round(sum(d.points for d in counted), 2)
    total = round(max(start - deducted, 0.0), 2)
    if counted:
        lines.append(f"得分 = {_n(start)} − {_n(deducted)} = {_n(total)}"
                     + (" (不低于 0 分)" if start - deducted < 0 else ""))
    else:
        lines.append(f"本期无已决定的扣分, 得分 {_n(total)}")
    return Score(subject, period, base, tuple(rows), start, deducted, total, tuple(counted), tuple(lines), activity)


def ranked(scores: Iterable[Score]) -> tuple[Score, ...]:
    """Highest first; equal scores share a rank (competition ranking), then by name."""
    ordered = sorted(scores, key=lambda s: (-s.score, s.subject.name, s.subject.id))
    out: list[Score] = []
    for i, s in enumerate(ordered):
        rank = out[-1].rank if out and out[-1].score == s.score else i + 1
        out.append(replace(s, rank=rank))
    return tuple(out)


def appraise(appraisal: Appraisal, subjects: Iterable[Subject], deductions: Sequence[Deduction], period: Period, *,
             marks: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
             activity: Mapping[tuple[str, str], int] | None = None,
             effect_names: Mapping[str, str] | None = None, explain: bool = True) -> Result:
    """Scores of every subject in ``period``, ranked per kind, and the selections of that period."""
    marks = marks or {}
    activity = activity or {}
    counted = in_period(deductions, period)
    near = _near(counted)
    scores = [score(s, period, appraisal, near.get(s.key, ()), marks.get(s.key), activity.get(s.key), explain=explain)
              for s in subjects]
    windows = ranked(s for s in scores if s.subject.kind == "window")
    staff = ranked(s for s in scores if s.subject.kind == "staff")
    names = effect_names or {}
    selections = []
    for sel in appraisal.selections:
        if sel.period != period.kind:
            continue
        pool = windows if sel.subject == "window" else staff
        selections.append(select(sel, pool, counted, period, names))
    known = {s.key for s in subjects}
    unassigned = tuple(d for d in counted if not _assigned(d, known))
    return Result(period, windows, staff, tuple(selections), unassigned)


def _near(deductions: Iterable[Deduction]) -> dict[tuple[str, str], list[Deduction]]:
    """The deductions that touch each subject (see :func:`touches`), so that a subject looks at
    its own few rather than all of them."""
    out: dict[tuple[str, str], list[Deduction]] = {}
    for d in deductions:
        if d.window:
            out.setdefault(("window", d.window), []).append(d)
        if d.staff:
            out.setdefault(("staff", d.staff), []).append(d)
    return out


def _assigned(d: Deduction, known: set[tuple[str, str]]) -> bool:
    if d.charged == "window":
        return ("window", d.window) in known
    if d.charged in ("staff", "window_head"):
        return ("staff", d.staff) in known
    return True  # a department is answerable outside the centre's appraisal


def select(selection: Selection, pool: Sequence[Score], counted: Sequence[Deduction], period: Period,
           effect_names: Mapping[str, str] | None = None) -> Selected:
    """``selection`` among the scores of its kind in ``period``; ``counted``: the period's deductions."""
    names = effect_names or {}
    pool = [s for s in pool if s.subject.kind == selection.subject]
    bar = set(selection.disqualify)
    near = _near(counted) if bar else {}
    eligible: list[Score] = []
    out: list[tuple[Score, str]] = []
    for s in pool:
        hits = [d for d in near.get(s.subject.key, ()) if touches(s.subject, d) and bar & set(d.effects)]
        if hits:
            d = hits[0]
            effect = next(e for e in d.effects if e in bar)
            out.append((s, f"{names.get(effect, effect)} (扣分决定 {d.number}: {d.name}, {d.source})"))
        elif selection.subject == "window" and s.activity == 0:
            out.append((s, "本期无办结办件, 不参评"))
        else:
            eligible.append(s)
    lines = [f"{selection.name} ({selection.source}), {period.label}: {len(pool)} 个参评对象, {len(out)} 个不参评"]
    lines += [f"不参评: {s.subject.name} — {why}" for s, why in out]
    ranks = ranked(eligible)
    if not ranks:
        return Selected(selection, period, (), tuple(out), (*lines, "无符合条件的对象"))
    cut = selection.count or 1
    lines.append("办法未规定名额, 取第一名 (含并列)" if selection.count is None else
                 f"名额 {selection.count} 名 (并列者一并入选)")
    chosen = tuple(s for s in ranks if s.rank <= cut)
    lines.append("入选: " + "、".join(f"{s.subject.name} ({_n(s.score)} 分)" for s in chosen))
    return Selected(selection, period, chosen, tuple(out), tuple(lines))


def _n(x: float) -> str:
    return f"{x:g}" if float(x) != int(x) else str(int(x))
