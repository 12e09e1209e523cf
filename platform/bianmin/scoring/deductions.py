"""What a violation costs: the points within its range, the circumstances, the effects.

Pure functions of the compiled pack and the facts of one case; every result carries the lines
that explain it, in the words a supervisor and the person charged read (xupu 八(一): 实事求是、
客观公正).

**Rule.** A violation's range and effects are its own or its tier's (``deduct``, ``effects``
add to the tier's), charged to the tier's subject unless the violation names another.

**Circumstances** (aggravating 从重/加重, mitigating 从轻/减轻/免于处理) apply in two ways: a
circumstance with a ``when`` applies automatically when its expression holds (and cannot be
declared against it); one without is declared by the deciding officer. ``when`` sees
``count_same_person_last_365d`` (accountable acts of the same charged subject — the person, or
the window or department when those are charged — in the 365 days up to and including this
one), ``count_same_window_last_365d``, ``count_same_violation_last_365d`` and ``data`` (facts
the officer gives). So xupu 八(六)3 "一年内出现两次以上" is ``count_same_person_last_365d >= 2``.

**Points.** The officer chooses within an allowed range, then the circumstances' ``adjust``
applies (``factor`` multiplies, ``points`` adds, ``waive`` sets no deduction):

============================  ===============================  ===============================
circumstances                 allowed choice in ``[a, b]``     reading
============================  ===============================  ===============================
none                          ``a .. b``                       视情节 (xupu 八(四))
aggravating only              ``(a+b)/2 .. b``                 从重: the upper half
mitigating only               ``0 .. (a+b)/2``                 从轻、减轻或免于处理 (0: 免于处理)
both                          ``a .. b``                       the officer weighs them
no range                      ``0``                            the tier's effects only
============================  ===============================  ===============================

Going beyond the range (加重) is only by a pack's ``adjust`` (``factor``/``points``): the seed
texts give no amounts, so the engine gives none. A deduction of 0 points under a mitigating
circumstance, or a ``waive``, is 免于处理: no effects follow either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..packs.model import Circumstance, Pack
from ..workflow.guards import GuardError, compile_guard

CHARGED_NAMES = {"staff": "岗位责任人", "window": "窗口单位", "window_head": "窗口负责人", "department": "进驻部门"}
SUMMARY_MAX = 1000  # the `circumstances` field of the deduction_decision form


class DeductionError(ValueError):
    """A deduction the rules refuse; ``str()`` is a message for the officer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Rule:
    """One violation of a pack with everything its deduction needs."""

    violation: str
    name: str
    source: str
    tier: str
    tier_name: str
    tier_source: str
    range: tuple[float, float] | None
    charged: str
    effects: tuple[str, ...]

    def subject(self, pack: Pack) -> dict[str, Any]:
        """The keys of a deduction record's subject that describe the rule (recording.py)."""
        low, high = bounds(pack, self)
        return {"violation": self.violation, "violation_name": self.name, "source": self.source,
                "tier": self.tier, "tier_name": self.tier_name, "tier_source": self.tier_source,
                "points_from": self.range[0] if self.range else None,
                "points_to": self.range[1] if self.range else None,
                "points_min": low, "points_max": high, "charged": self.charged, "effects": list(self.effects)}


def rule_for(pack: Pack, violation_id: str) -> Rule:
    acc = pack.accountability
    v = next((v for v in acc.violations if v.id == violation_id), None)
    if v is None:
        known = "、".join(v.id for v in acc.violations) or "(无)"
        raise DeductionError("unknown_violation", f"政策包“{pack.name}”没有违规行为 {violation_id!r} (现有: {known})")
    tier = acc.tier(v.tier)
    deduct = v.deduct or tier.deduct
    return Rule(
        violation=v.id, name=v.name, source=v.source, tier=tier.id, tier_name=tier.name, tier_source=tier.source,
        range=(float(deduct.from_), float(deduct.to)) if deduct is not None else None,
        charged=v.charged or tier.charged, effects=tuple(dict.fromkeys(tier.effects + v.effects)))


@dataclass(frozen=True, slots=True)
class Facts:
    """What a circumstance's ``when`` may read (see the module docstring)."""

    same_person: int = 1
    same_window: int = 1
    same_violation: int = 1
    data: Mapping[str, Any] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        return {"count_same_person_last_365d": self.same_person, "count_same_window_last_365d": self.same_window,
                "count_same_violation_last_365d": self.same_violation, "data": dict(self.data)}


@dataclass(frozen=True, slots=True)
class Found:
    """A circumstance that applies: ``kind`` aggravating or mitigating, ``how`` automatic or declared."""

    circumstance: Circumstance
    kind: str
    how: str

    @property
    def word(self) -> str:
        return "从重" if self.kind == "aggravating" else "从轻"


@dataclass(frozen=True, slots=True)
class Assessment:
    """A deduction worked out: the points, the effects, and how they were reached."""

    rule: Rule
    chosen: float
    allowed: tuple[float, float]
    points: float
    waived: bool
    circumstances: tuple[Found, ...]
    effects: tuple[str, ...]
    lines: tuple[str, ...]

    def summary(self) -> str:
        """The circumstances in one text (the decision form's ``circumstances`` field)."""
        if not self.circumstances:
            text = "无从重、从轻情节"
        else:
            text = "; ".join(f"{f.word}: {f.circumstance.name} ({f.circumstance.source}, "
                             f"{'依规则认定' if f.how == 'automatic' else '决定人认定'})" for f in self.circumstances)
        return text[:SUMMARY_MAX]

    def decision(self, reasons: str, appeal_rights: str = "对本决定不服的, 可以按照有关规定提出申诉。") -> dict[str, Any]:
        """The data of the ``decide`` transition (form ``deduction_decision``)."""
        return {"points": self.points, "effects": list(self.effects), "circumstances": self.summary(),
                "reasons": reasons, "statement_considered": True, "appeal_rights": appeal_rights}


def circumstances(pack: Pack, facts: Facts, declared: Iterable[str] = ()) -> tuple[tuple[Found, ...], list[str]]:
    """The circumstances that apply, and a line for each one looked at with a ``when``."""
    acc = pack.accountability
    by_id = {c.id: ("aggravating", c) for c in acc.aggravating} | {c.id: ("mitigating", c) for c in acc.mitigating}
    wanted = list(dict.fromkeys(declared))
    unknown = [c for c in wanted if c not in by_id]
    if unknown:
        known = "、".join(by_id) or "(无)"
        raise DeductionError("unknown_circumstance", f"没有情节 {', '.join(unknown)} (现有: {known})")
    found: list[Found] = []
    lines: list[str] = []
    variables = facts.variables()
    for cid, (kind, c) in by_id.items():
        if not c.when:
            if cid in wanted:
                found.append(Found(c, kind, "declared"))
            continue
        try:
            holds = compile_guard(c.when).holds(variables)
        except GuardError as exc:
            # Facts the engine does not have (taishan's `data.serious`): the officer decides.
            lines.append(f"“{c.name}”无法依规则判断 ({exc}), 由决定人认定")
            if cid in wanted:
                found.append(Found(c, kind, "declared"))
            continue
        if holds:
            found.append(Found(c, kind, "automatic"))
            lines.append(f"“{c.name}”成立: {c.when} ({_facts_text(c.when, variables)}) ({c.source})")
        elif cid in wanted:
            raise DeductionError("circumstance_not_met", f"情节“{c.name}”不成立: 需要 {c.when}, "
                                 f"实际 {_facts_text(c.when, variables)} ({c.source})")
    return tuple(found), lines


def _facts_text(when: str, variables: Mapping[str, Any]) -> str:
    shown = [f"{k} = {v}" for k, v in variables.items() if k != "data" and k in when]
    return ", ".join(shown) or "依所填情况"


def allowed(rule: Rule, found: Iterable[Found]) -> tuple[tuple[float, float], str]:
    """The range the officer may choose from, and the line that says why."""
    kinds = {f.kind for f in found}
    if rule.range is None:
        return (0.0, 0.0), f"“{rule.tier_name}”不设扣分幅度 ({rule.tier_source}), 只作处理措施"
    a, b = rule.range
    mid = (a + b) / 2
    span = f"{_n(a)}–{_n(b)} 分 ({rule.tier_source})"
    if kinds == {"aggravating"}:
        return (mid, b), f"扣分幅度 {span}; 有从重情节, 在幅度上半段 {_n(mid)}–{_n(b)} 分内选择"
    if kinds == {"mitigating"}:
        return (0.0, mid), f"扣分幅度 {span}; 有从轻情节, 可从轻、减轻或免于处理 (0–{_n(mid)} 分)"
    if kinds:
        return (a, b), f"扣分幅度 {span}; 从重与从轻情节并存, 由决定人在幅度内综合认定"
    return (a, b), f"扣分幅度 {span}, 由决定人视情节选择"


def assess(pack: Pack, rule: Rule, chosen: float, *, declared: Iterable[str] = (), facts: Facts = Facts()) -> Assessment:
    """The deduction for ``chosen`` points under the circumstances; DeductionError when the
    choice is outside what the rules allow."""
    found, lines = circumstances(pack, facts, declared)
    (low, high), why = allowed(rule, found)
    lines = [f"违规行为: {rule.name} ({rule.source}); 责任对象: {CHARGED_NAMES.get(rule.charged, rule.charged)}",
             *lines, why]
    if not low - 1e-9 <= chosen <= high + 1e-9:
        raise DeductionError("points_out_of_range", f"扣分 {_n(chosen)} 分超出可选范围 {_n(low)}–{_n(high)} 分: {why}")
    points, waived = float(chosen), False
    for f in found:
        adjust = f.circumstance.adjust
        if adjust.waive:
            waived = True
            lines.append(f"{f.word}: {f.circumstance.name}, 免于处理 ({f.circumstance.source})")
        if adjust.factor is not None:
            lines.append(f"{f.word}: {f.circumstance.name}, {_n(points)} × {_n(adjust.factor)} = "
                         f"{_n(points * adjust.factor)} 分 ({f.circumstance.source})")
            points *= adjust.factor
        if adjust.points is not None:
            lines.append(f"{f.word}: {f.circumstance.name}, {_n(points)} {'+' if adjust.points >= 0 else '−'} "
                         f"{_n(abs(adjust.points))} 分 ({f.circumstance.source})")
            points += adjust.points
    points = 0.0 if waived else round(max(points, 0.0), 2)
    if points == 0 and rule.range is not None and any(f.kind == "mitigating" for f in found):
        waived = True
    effects: tuple[str, ...] = ()
    if not waived:
        effects = tuple(dict.fromkeys(rule.effects + tuple(e for f in found for e in f.circumstance.adjust.effects)))
    names = {e.id: e.name for e in pack.accountability.effects}
    lines.append(f"决定扣分 {_n(points)} 分" + (" (免于处理)" if waived else ""))
    if effects:
        lines.append("处理措施: " + "、".join(names.get(e, e) for e in effects))
    return Assessment(rule, float(chosen), (low, high), points, waived, found, effects, tuple(lines))


def bounds(pack: Pack, rule: Rule) -> tuple[float, float]:
    """The fewest and most points any decision on ``rule`` can come to (a guard's safety net)."""
    acc = pack.accountability
    every = acc.aggravating + acc.mitigating
    a, b = rule.range or (0.0, 0.0)
    high = b
    for c in every:
        if c.adjust.factor is not None and c.adjust.factor > 1:
            high *= c.adjust.factor
    high += sum(c.adjust.points for c in every if c.adjust.points and c.adjust.points > 0)
    lowers = acc.mitigating or any(c.adjust.waive or (c.adjust.points or 0) < 0
                                   or (c.adjust.factor is not None and c.adjust.factor < 1) for c in every)
    return (0.0 if lowers else a), round(high, 2)


def _n(x: float) -> str:
    """Points as people write them: 5, 7.5."""
    return f"{x:g}" if float(x) != int(x) else str(int(x))
