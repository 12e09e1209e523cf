"""Deductions as records: proposed from detected violations, recorded by supervisors, decided.

Every deduction is a ``deduction`` workflow record (``_base/workflows.yaml``: proposed → heard →
decided → under_review → final / dropped) opened through the store's :func:`open_record`. Its
subject holds the rule (violation, tier, source, the range ``points_from``–``points_to`` and the
widest outcome ``points_min``–``points_max``), whom it charges, when the violation occurred and
the evidence; the decision's points and effects are the data of its ``decide`` event.

- :func:`propose` opens one deduction per violation the log proved (``violations`` rows written by
  transitions and the sweeper), keyed ``violation:<row id>``: running it again opens nothing.
  The person charged is who last acted on the record before the violation was found; the window
  is the item's; a window head is whoever holds ``window_head`` at that window.
- :func:`record` is the supervisor's manual recording (态度、擅自收费 ...): evidence text and
  attachments (type checked by content, size limited, kept by sha256). Tied to a case, it is also
  a ``violations`` row of that case, so a later automatic detection of the same violation on it
  adds nothing.
- :func:`hear` is the charged person's statement (陈述申辩, xupu 八(八)); :func:`decide` checks
  the points against the rules (:mod:`bianmin.scoring.deductions`) and takes ``decide``, which
  the workflow allows only from ``heard``: no deduction becomes final unheard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..packs import Registry
from ..packs.model import Pack
from ..packs.registry import UnknownPack
from ..store import db, service
from ..store.models import Record, dumps
from ..store.records import SYSTEM
from ..workflow import Actor
from . import deductions, queries
from .deductions import Assessment, DeductionError, Facts, Rule, assess, rule_for

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_EVIDENCE_TEXT = 3000
# Accepted attachment types, recognised by their first bytes (a declared type is not trusted).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
NOT_PEOPLE = frozenset({"", "system", "public"})
# The guard the `deduction` workflow's `decide` should carry (policies/_base/workflows.yaml), so that
# a decision taken past :func:`decide` (the generic transition page, the API) still stays within
# what any circumstance could make of the range; a bare deduction (no rule) is left to people.
DECIDE_GUARD = ("deduction.points_max is not defined or "
                "(data.points >= deduction.points_min and data.points <= deduction.points_max)")


class RecordingError(ValueError):
    """A recording or decision refused; ``str()`` is a message for the supervisor."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    content: bytes
    content_type: str = ""


def attachment(upload: Upload) -> dict[str, Any]:
    """The metadata kept of an attachment: name, type (by content), size and sha256."""
    size = len(upload.content)
    if size == 0:
        raise RecordingError("empty_attachment", f"附件“{upload.name}”是空文件")
    if size > MAX_ATTACHMENT_BYTES:
        raise RecordingError("attachment_too_large",
                             f"附件“{upload.name}”{size} 字节, 超过上限 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
    kind = next((t for t, heads in SIGNATURES.items() if upload.content.startswith(heads)), None)
    if kind is None:
        raise RecordingError("attachment_type", f"附件“{upload.name}”不是可接受的类型 (PDF、JPEG、PNG)")
    name = os.path.basename(upload.name.replace("\\", "/"))[:200] or "attachment"
    return {"name": name, "type": kind, "size": size, "sha256": hashlib.sha256(upload.content).hexdigest()}


def keep(upload: Upload, meta: Mapping[str, Any], folder: Path) -> Path:
    """Write the attachment once under ``folder/<sha[:2]>/<sha>`` (content-addressed)."""
    digest = str(meta["sha256"])
    path = folder / digest[:2] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(upload.content)
        partial.replace(path)
    return path


def charged(pack: Pack, rule: Rule, *, staff: str = "", window: str = "", department: str = "",
            item_id: str | None = None, staff_rows: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Whom a deduction charges: the person, the window and the department, as subject keys."""
    rows = list(staff_rows)
    names = {str(r["id"]): str(r["name"]) for r in rows}
    own_window = {str(r["id"]): str(r["window_id"]) for r in reversed(rows) if r["window_id"]}
    window = window or queries.window_of_item(pack, item_id) or own_window.get(staff, "")
    if rule.charged == "window_head":
        head = next((str(r["id"]) for r in rows if r["role"] == "window_head" and r["window_id"] == window), "")
        staff = head or staff
    windows = {w.id: w for w in pack.windows}
    if not department:
        if item_id:
            try:
                department = pack.item(item_id).department
            except KeyError:
                department = ""
        if not department and window in windows and windows[window].departments:
            department = windows[window].departments[0]
    return {"staff": staff, "staff_name": names.get(staff, ""), "window": window,
            "window_name": windows[window].name if window in windows else "", "department": department}


def _missing(rule: Rule, who: Mapping[str, Any]) -> str:
    need = {"staff": "staff", "window_head": "staff", "window": "window", "department": "department"}[rule.charged]
    return "" if who.get(need) else need


async def propose(jurisdiction: str, now: dt.datetime, *, actor: Actor = SYSTEM, registry: Registry | None = None,
                  batch: int = 500) -> list[str]:
    """Open a deduction for each violation that has none; the numbers opened (idempotent)."""
    registry = registry or service.default_registry()
    now = service.local(now)
    pack = registry.active(jurisdiction, now.date())
    opened: list[str] = []
    staff_rows = await queries.staff(jurisdiction)
    skipped: set[int] = set()
    while True:
        rows = [r for r in await queries.unproposed(jurisdiction, batch + len(skipped)) if r["id"] not in skipped]
        if not rows:
            return opened
        events = await queries.events_of([r["record_id"] for r in rows])
        for row in rows:
            try:
                rule = rule_for(pack, row["violation"])
            except DeductionError:
                skipped.add(row["id"])  # a violation the pack in force no longer lists
                continue
            subject = _detected_subject(pack, rule, row, events.get(row["record_id"], []), staff_rows)
            result = await service.open_record(jurisdiction, "deduction", subject, actor, {}, now,
                                               parent=row["number"], idempotency_key=f"violation:{row['id']}",
                                               registry=registry, pack=pack)
            if not result.replayed:
                opened.append(result.record.number)


async def propose_everywhere(now: dt.datetime, *, registry: Registry | None = None) -> dict[str, list[str]]:
    """:func:`propose` in every jurisdiction whose pack in force has a deduction workflow: what
    runs after each sweep (``bianmin sweep``, the web app's periodic sweep). The numbers opened,
    by jurisdiction (only those that opened some)."""
    registry = registry or service.default_registry()
    opened: dict[str, list[str]] = {}
    for jurisdiction in registry.jurisdictions():
        try:
            pack = registry.active(jurisdiction, service.local(now).date())
        except UnknownPack:
            continue
        if not any(w.id == "deduction" for w in pack.workflows):
            continue
        numbers = await propose(jurisdiction, now, registry=registry)
        if numbers:
            opened[jurisdiction] = numbers
    return opened


def after_sweep(registry: Registry | None = None, log: TextIO | None = None) -> Callable[[Any], Awaitable[None]]:
    """The ``after`` of :func:`bianmin.store.sweeper.run_periodic`: propose deductions for the
    violations the run found."""

    async def propose_found(report: Any) -> None:
        opened = await propose_everywhere(dt.datetime.now().replace(microsecond=0), registry=registry)
        if log is not None and opened:
            print("sweep: proposed deductions: " + ", ".join(f"{j} {len(n)}" for j, n in opened.items()),
                  file=log, flush=True)

    return propose_found


def _detected_subject(pack: Pack, rule: Rule, row: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
                      staff_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    evidence = queries.json_value(row["evidence"])
    found_at = queries.to_datetime(row["detected_at"]) or dt.datetime.min
    manual = bool(evidence.get("manual"))
    given = evidence.get("charged") or {}
    if manual:
        person, acting_for = str(given.get("staff") or ""), ""
    else:
        people = [e for e in events if str(e["actor"]) not in NOT_PEOPLE
                  and (queries.to_datetime(e["at"]) or found_at) <= found_at]
        waiting = _still_running(pack, rule, row, people)
        if waiting is not None:
            # A clock that ran out with nobody taking the step that stops it: the person charged
            # is one who may take that step (the reviewing leader, not the clerk who filed).
            people = [e for e in people if _holds(staff_rows, str(e["actor"]), waiting)]
        last = people[-1] if people else None
        person = str(last["actor"]) if last else ""
        acting_for = str(last["acting_for"] or "") if last else ""
        if waiting is not None and not person:
            holders = {str(r["id"]) for r in staff_rows if r["role"] in waiting}
            person = holders.pop() if len(holders) == 1 else ""  # several could have: the hearing desk asks
    who = charged(pack, rule, staff=person, window=str(given.get("window") or ""),
                  department=str(given.get("department") or ""), item_id=row["item_id"], staff_rows=staff_rows)
    if not who["staff_name"] and events and person:
        who["staff_name"] = next((str(e["actor_name"]) for e in events if str(e["actor"]) == person and e["actor_name"]), "")
    return {**rule.subject(pack), **who, "acting_for": acting_for, "occurred_at": found_at.isoformat(timespec="seconds"),
            "case": row["number"], "case_kind": row["kind"], "detected": not manual, "violation_row": row["id"],
            "evidence": evidence}


def _still_running(pack: Pack, rule: Rule, row: Mapping[str, Any],
                   people: Sequence[Mapping[str, Any]]) -> frozenset[str] | None:
    """For a violation found because a clock ran out (``{clock, on: overdue}``) while none of the
    transitions that stop it was taken: the roles that may take them. Otherwise None."""
    violation = next((v for v in pack.accountability.violations if v.id == rule.violation), None)
    if violation is None or violation.detect.on != "overdue" or not violation.detect.clock:
        return None
    workflow = next((w for w in pack.workflows if w.id == row.get("workflow_id")), None)
    binding = next((c for c in workflow.clocks if c.id == violation.detect.clock), None) if workflow else None
    if workflow is None or binding is None:
        return None
    if any(e["transition"] in binding.stop_on for e in people):
        return None  # stopped late: whoever stopped it is charged, as for a late completion
    return frozenset(r for t in workflow.transitions if t.id in binding.stop_on for r in t.roles)


def _holds(staff_rows: Sequence[Mapping[str, Any]], person: str, roles: frozenset[str]) -> bool:
    return any(str(r["id"]) == person and r["role"] in roles for r in staff_rows)


async def record(jurisdiction: str, violation_id: str, *, actor: Actor, now: dt.datetime, occurred_at: dt.datetime,
                 evidence: str, staff: str = "", window: str = "", department: str = "", case: str = "",
                 attachments: Sequence[Upload] = (), attachments_dir: Path | None = None,
                 idempotency_key: str | None = None, registry: Registry | None = None) -> service.Result:
    """A supervisor records a violation the system cannot see; the deduction record it opens."""
    registry = registry or service.default_registry()
    now, occurred_at = service.local(now), service.local(occurred_at)
    pack = registry.active(jurisdiction, now.date())
    rule = rule_for(pack, violation_id)
    text = (evidence or "").strip()
    if not text:
        raise RecordingError("evidence_required", "请填写违规事实和证据")
    if len(text) > MAX_EVIDENCE_TEXT:
        raise RecordingError("evidence_too_long", f"违规事实和证据不超过 {MAX_EVIDENCE_TEXT} 字")
    if occurred_at > now:
        raise RecordingError("occurred_in_future", "违规发生时间不能晚于记录时间")
    if len(attachments) > MAX_ATTACHMENTS:
        raise RecordingError("too_many_attachments", f"附件不超过 {MAX_ATTACHMENTS} 个")
    metas = [attachment(u) for u in attachments]
    case_row = None
    if case:
        case_row = await _record_row(jurisdiction, case)
    who = charged(pack, rule, staff=staff, window=window, department=department,
                  item_id=case_row["item_id"] if case_row else None, staff_rows=await queries.staff(jurisdiction))
    missing = _missing(rule, who)
    if missing:
        words = {"staff": "责任人", "window": "窗口", "department": "部门"}[missing]
        raise RecordingError("charged_unknown", f"“{rule.tier_name}”须指明{words}")
    if attachments_dir is not None:
        for upload, meta in zip(attachments, metas):
            keep(upload, meta, attachments_dir)
    proof = {"manual": True, "text": text, "attachments": metas, "events": [], "recorded_by": actor.id,
             "charged": {k: who[k] for k in ("staff", "window", "department")}}
    subject = {**rule.subject(pack), **who, "acting_for": "", "occurred_at": occurred_at.isoformat(timespec="seconds"),
               "case": case, "case_kind": case_row["kind"] if case_row else "", "detected": False,
               "violation_row": None, "evidence": proof}
    if case_row is None:
        return await service.open_record(jurisdiction, "deduction", subject, actor, {}, now,
                                         idempotency_key=idempotency_key, registry=registry, pack=pack)
    async with db.transaction() as tx:
        inserted = await db.fetch(tx, "INSERT INTO violations (record_id, jurisdiction, violation_id, charged, state, "
                                  "evidence, detected_at, detected_by) VALUES (?, ?, ?, ?, 'detected', ?, ?, ?) "
                                  "ON CONFLICT (record_id, violation_id) DO NOTHING RETURNING id",
                                  [case_row["id"], jurisdiction, rule.violation, rule.charged, dumps(proof), now,
                                   actor.id])
    if not inserted:
        raise RecordingError("already_recorded", f"办件 {case} 的“{rule.name}”已记录过 (含系统自动发现的), 不重复记录")
    row_id = inserted[0]["id"]
    subject["violation_row"] = row_id
    return await service.open_record(jurisdiction, "deduction", subject, actor, {}, now, parent=case,
                                     idempotency_key=f"violation:{row_id}", registry=registry, pack=pack)


async def _record_row(jurisdiction: str, number: str) -> dict[str, Any]:
    rows = await db.fetch(db.connection(), "SELECT id, kind, item_id FROM records WHERE jurisdiction_id = ? "
                          "AND number = ?", [jurisdiction, number])
    if not rows:
        raise RecordingError("unknown_record", f"没有编号为 {number} 的办件或记录")
    return rows[0]


async def hear(jurisdiction: str, number: str, *, actor: Actor, now: dt.datetime, statement: str = "",
               waived: bool = False, evidence: str = "", registry: Registry | None = None) -> service.Result:
    """The charged person states their case (or waives it): ``state_case``."""
    data: dict[str, Any] = {"waived": True} if waived else {"waived": False, "statement": statement}
    if evidence and not waived:
        data["evidence"] = evidence
    return await service.transition(jurisdiction, number, "state_case", actor, data, now, registry=registry)


async def assessment(jurisdiction: str, number: str, points: float, *, circumstances: Iterable[str] = (),
                     data: Mapping[str, Any] | None = None,
                     registry: Registry | None = None) -> tuple[Record, Assessment]:
    """What deciding ``points`` on deduction ``number`` would come to (nothing is written)."""
    record_row, _, worked = await _assess(jurisdiction, number, points, circumstances, data, registry)
    return record_row, worked


async def _facts(jurisdiction: str, number: str, data: Mapping[str, Any] | None,
                 registry: Registry | None) -> tuple[Record, Pack, Rule, Facts]:
    record_row, instance = await service.load(jurisdiction, number, registry=registry)
    pack = instance.pack
    subject = record_row.subject
    if not subject.get("violation"):
        raise RecordingError("no_violation", f"扣分记录 {number} 未指明违规行为, 请由督查人员按违规行为重新记录")
    rule = rule_for(pack, str(subject["violation"]))
    occurred = queries.to_date(subject.get("occurred_at")) or record_row.created_at.date()
    person, window, violation = await queries.prior(
        jurisdiction, charged=rule.charged, staff=str(subject.get("staff") or ""),
        window=str(subject.get("window") or ""), department=str(subject.get("department") or ""),
        violation=rule.violation, occurred=occurred, exclude=number)
    return record_row, pack, rule, Facts(person + 1, window + 1, violation + 1, dict(data or {}))


async def _assess(jurisdiction: str, number: str, points: float, circumstances: Iterable[str],
                  data: Mapping[str, Any] | None, registry: Registry | None) -> tuple[Record, Pack, Assessment]:
    record_row, pack, rule, facts = await _facts(jurisdiction, number, data, registry)
    return record_row, pack, assess(pack, rule, float(points), declared=circumstances, facts=facts)


@dataclass(frozen=True, slots=True)
class Outlook:
    """What the deciding officer sees before choosing: the rule, the circumstances that apply by
    themselves, those the officer may declare, and the range allowed without declaring any."""

    rule: Rule
    automatic: tuple[Any, ...]  # deductions.Found
    declarable: tuple[Any, ...]  # packs.model.Circumstance
    allowed: tuple[float, float]
    lines: tuple[str, ...]


async def outlook(jurisdiction: str, number: str, *, registry: Registry | None = None) -> Outlook:
    """The decision's starting point for deduction ``number`` (nothing is written)."""
    _record, pack, rule, facts = await _facts(jurisdiction, number, None, registry)
    found, lines = deductions.circumstances(pack, facts)
    span, why = deductions.allowed(rule, found)
    acc = pack.accountability
    automatic_ids = {f.circumstance.id for f in found}
    declarable = tuple(c for c in (*acc.aggravating, *acc.mitigating) if c.id not in automatic_ids
                       and (not c.when or any(c.name in line and "无法依规则判断" in line for line in lines)))
    return Outlook(rule, found, declarable, span, (*lines, why))


async def decide(jurisdiction: str, number: str, *, actor: Actor, points: float, reasons: str, now: dt.datetime,
                 circumstances: Iterable[str] = (), data: Mapping[str, Any] | None = None,
                 expected_version: int | None = None,
                 registry: Registry | None = None) -> tuple[service.Result, Assessment]:
    """Decide the points (checked against the range and circumstances) after the hearing."""
    record_row, pack, worked = await _assess(jurisdiction, number, points, circumstances, data, registry)
    if record_row.state == "proposed":
        hearing = pack.accountability.hearing
        where = f" ({hearing.source})" if hearing else ""
        raise RecordingError("hearing_required", f"作出扣分决定前应当听取责任人的陈述和申辩{where}; 请先完成“陈述申辩”")
    if not (reasons or "").strip():
        raise RecordingError("reasons_required", "请填写决定理由")
    result = await service.transition(jurisdiction, number, "decide", actor, worked.decision(reasons), now,
                                      expected_version, registry=registry)
    return result, worked
