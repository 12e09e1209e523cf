"""Accountability and appraisal (责任追究, 效能考评): what violations cost, who is charged, and
the scores, rankings and selections computed from the decided deductions (docs/accountability.md).

Public surface::

    rule_for(pack, violation_id) -> Rule                       # deductions.py (pure)
    assess(pack, rule, chosen, declared=, facts=) -> Assessment  # points, effects, explanation
    Period(kind, year, n); appraise(appraisal, subjects, deductions, period, marks=) -> Result
    await propose(jurisdiction, now)                           # recording.py: detected → proposed
    await propose_everywhere(now); after_sweep(registry)        # after each sweep, every jurisdiction
    await record(jurisdiction, violation_id, actor=, ...)      # a supervisor's manual recording
    await hear(...); await decide(jurisdiction, number, actor=, points=, reasons=, now=)
    await queries.load(pack, start, end) -> Rows               # a fixed number of aggregate queries
"""

from __future__ import annotations

from .appraisal import COUNTED, Deduction, Period, Result, Score, Selected, Subject, appraise, ranked, score, select
from .deductions import Assessment, DeductionError, Facts, Rule, assess, bounds, rule_for
from .recording import (RecordingError, Upload, after_sweep, attachment, decide, hear, propose, propose_everywhere,
                        record)

__all__ = [
    "COUNTED", "Assessment", "Deduction", "DeductionError", "Facts", "Period", "RecordingError", "Result", "Rule",
    "Score", "Selected", "Subject", "Upload", "after_sweep", "appraise", "assess", "attachment", "bounds", "decide",
    "hear", "propose", "propose_everywhere", "ranked", "record", "rule_for", "score", "select",
]
