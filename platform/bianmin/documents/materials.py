"""What an applicant handed in against what the item needs: missing materials, the one-time
notice, and acceptance on a written commitment (容缺受理).

*Received* is what the `intake` / `materials` forms answer — rows ``{id, received, form,
copies, pages, note}`` — or simply the ids of the materials received. The *item* is the
catalogue entry (a compiled :class:`~bianmin.packs.model.Item`, or a mapping of the same shape)
whose `materials` say what is needed and which are core (核心材料).

- `missing` lists every catalogue material not received, once, in catalogue order;
- `correction_data` is the one-time notice (一次性告知, 行政许可法 §32(四), xupu 二(一)): the
  answer of the `correction` form listing exactly all of them, and `notice_omissions` says
  which missing ones a notice filled in by hand leaves out;
- `accept_on_commitment` checks a `commitment` form answer (taihe 三(四)1: only non-core
  materials missing, all of them promised, the commitment signed) and works out the date by
  which they must be supplied with the pack's working-day calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from ..calendar import Calendar
from ..forms.choices import MATERIAL_FORMS, get
from ..forms.model import Choice
from ..packs.model import Duration

# The `problem` option of the `correction` form for a material not handed in.
NOT_SUBMITTED = Choice("missing", "未提交")
_FORM_LABELS = {o.value: o.label for o in MATERIAL_FORMS}


def _materials(item: Any) -> list[Any]:
    return list(get(item, "materials") or ()) if item is not None else []


def _rows(received: Iterable[Mapping[str, Any] | str] | None) -> dict[str, Mapping[str, Any]]:
    """Received rows by material id (a bare id counts as received)."""
    rows: dict[str, Mapping[str, Any]] = {}
    for entry in received or ():
        if isinstance(entry, str):
            rows[entry] = {"id": entry, "received": True}
        elif isinstance(entry, Mapping) and entry.get("id") is not None:
            rows[str(entry["id"])] = entry
    return rows


def received_ids(received: Iterable[Mapping[str, Any] | str] | None) -> frozenset[str]:
    return frozenset(i for i, row in _rows(received).items() if row.get("received") is True)


def missing(item: Any, received: Iterable[Mapping[str, Any] | str] | None) -> list[Any]:
    """Every material of the item not received, each once, in the catalogue's order."""
    got = received_ids(received)
    seen: set[str] = set()
    out = []
    for material in _materials(item):
        mid = str(get(material, "id"))
        if mid not in got and mid not in seen:
            seen.add(mid)
            out.append(material)
    return out


def missing_core(item: Any, received: Iterable[Mapping[str, Any] | str] | None) -> list[Any]:
    return [m for m in missing(item, received) if get(m, "core")]


def only_non_core_missing(item: Any, received: Iterable[Mapping[str, Any] | str] | None) -> bool:
    """Something is missing and none of it is core: the case for 容缺受理 (taihe 三(四)1)."""
    absent = missing(item, received)
    return bool(absent) and not any(get(m, "core") for m in absent)


def checklist(item: Any, received: Iterable[Mapping[str, Any] | str] | None) -> list[dict[str, Any]]:
    """The `materials` variable of a case document: catalogue joined with what was received.

    One row per catalogue material, in order: ``{id, name, form, copies, pages, received,
    core, note}``; `form` is a :class:`Choice` (prints 原件, 复印件 ...), `pages` is None for a
    material not received, `note` the clerk's note or else the catalogue's.
    """
    rows = _rows(received)
    out = []
    for material in _materials(item):
        mid = str(get(material, "id"))
        row = rows.get(mid, {})
        got = row.get("received") is True
        form = row.get("form") or get(material, "form")
        out.append({
            "id": mid,
            "name": get(material, "name"),
            "form": Choice(form, _FORM_LABELS[form]) if form in _FORM_LABELS else form,
            "copies": row.get("copies", get(material, "copies")),
            "pages": row.get("pages") if got else None,
            "received": got,
            "core": bool(get(material, "core")),
            "note": row.get("note") or get(material, "note") or None,
        })
    return out


# -- the one-time notice (一次性告知) ---------------------------------------------------------------

def correction_data(item: Any, received: Iterable[Mapping[str, Any] | str] | None,
                    problems: Sequence[Mapping[str, Any]] = (), other: str | None = None) -> dict[str, Any]:
    """The `correction` form answer that lists, at once, every material to supplement.

    Every missing material comes first with the problem 未提交; `problems` adds materials that
    were received but must be corrected (rows ``{material, problem, requirement}``, as the form
    has them). A material appears once: a received one flagged twice keeps its first problem.
    """
    names = {str(get(m, "id")): get(m, "name") for m in _materials(item)}
    rows: list[dict[str, Any]] = []
    listed: set[str] = set()
    for material in missing(item, received):
        mid = str(get(material, "id"))
        listed.add(mid)
        rows.append({"material": Choice(mid, names[mid]), "problem": NOT_SUBMITTED})
    for row in problems:
        mid = str(row["material"])
        if mid in listed:
            continue
        if mid not in names:
            raise ValueError(f"material {mid!r} is not in the item's catalogue ({', '.join(names)})")
        listed.add(mid)
        rows.append({**row, "material": Choice(mid, names[mid])})
    data: dict[str, Any] = {"missing_materials": rows}
    if other:
        data["other"] = other
    return data


def notice_omissions(item: Any, received: Iterable[Mapping[str, Any] | str] | None,
                     data: Mapping[str, Any]) -> list[Any]:
    """The missing materials a `correction` answer does not list: a one-time notice must list
    them all, or the applicant comes back twice (一次性告知)."""
    listed = {str(row.get("material")) for row in data.get("missing_materials") or () if isinstance(row, Mapping)}
    return [m for m in missing(item, received) if str(get(m, "id")) not in listed]


# -- acceptance on a written commitment (容缺受理) ---------------------------------------------------

class NotAcceptableOnCommitment(ValueError):
    """The case cannot be accepted on a commitment; `reasons` says why, in Chinese."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class CommitmentAcceptance:
    """A case accepted while non-core materials are missing, on the applicant's commitment."""

    missing: tuple[Any, ...]  # the materials promised, in catalogue order
    commitment_until: date  # the last day to supply them
    provisional: bool  # the date rests on a holiday calendar not yet published


def accept_on_commitment(item: Any, received: Iterable[Mapping[str, Any] | str] | None,
                         data: Mapping[str, Any], *, calendar: Calendar, accepted_on: date,
                         within: Duration | None = None) -> CommitmentAcceptance:
    """Check a `commitment` form answer and compute the date to supply the missing materials.

    Acceptance on commitment needs (taihe 三(四)1): an item that allows it; something missing
    and none of it core; the answer's `missing` naming exactly the missing materials; the
    commitment signed. Every unmet condition is a reason in :class:`NotAcceptableOnCommitment`.
    The date is the answer's `supply_by` or, with the pack's `within`, the end of that period
    after acceptance — the earlier of the two when both are given (see `commitment_until`).
    """
    reasons = []
    absent = missing(item, received)
    if not get(item, "accept_on_commitment"):
        reasons.append(f"事项“{get(item, 'name')}”不适用容缺受理")
    if not absent:
        reasons.append("申请材料齐全, 应直接受理")
    core = [m for m in absent if get(m, "core")]
    if core:
        reasons.append("缺少核心材料, 不能容缺受理: " + "、".join(str(get(m, "name")) for m in core))
    promised = {str(v) for v in data.get("missing") or ()}
    order = [str(get(m, "id")) for m in _materials(item)]
    names = {str(get(m, "id")): str(get(m, "name")) for m in _materials(item)}
    unpromised = [str(get(m, "name")) for m in absent if str(get(m, "id")) not in promised]
    if unpromised and not core:
        reasons.append("承诺未涵盖全部缺失材料: " + "、".join(unpromised))
    absent_ids = {str(get(m, "id")) for m in absent}
    already = [names[i] for i in order if i in promised and i not in absent_ids]
    if already:
        reasons.append("以下材料已收取, 无需承诺: " + "、".join(already))
    unknown = sorted(promised - set(order))
    if unknown:
        reasons.append("不是本事项的材料: " + "、".join(unknown))
    if data.get("signed") is not True:
        reasons.append("申请人尚未签署书面承诺")
    until = None
    try:
        until = commitment_until(calendar, accepted_on, supply_by=data.get("supply_by"), within=within)
    except ValueError as e:
        reasons.append(str(e))
    if reasons or until is None:
        raise NotAcceptableOnCommitment(reasons)
    return CommitmentAcceptance(tuple(absent), until, calendar.is_provisional(until))


def commitment_until(calendar: Calendar, accepted_on: date, *, supply_by: date | str | None = None,
                     within: Duration | None = None) -> date:
    """The last day to supply the promised materials.

    - `supply_by` (the form's 承诺补齐日期): the day promised; on a rest day the period ends on
      the next working day (民法典 §203);
    - `within` (a period set by the pack, e.g. 5 working days): its last day counted after
      acceptance, the day of acceptance not counted (民法典 §201);
    - both: the earlier one — the applicant may promise sooner than the pack allows, not later.
    """
    candidates = []
    if supply_by is not None and supply_by != "":
        day = supply_by if isinstance(supply_by, date) else date.fromisoformat(str(supply_by)[:10])
        if day <= accepted_on:
            raise ValueError(f"承诺补齐日期({day.isoformat()})应晚于受理日期({accepted_on.isoformat()})")
        candidates.append(day if calendar.is_workday(day) else calendar.next_workday(day))
    if within is not None:
        if within.unit not in ("working_day", "natural_day"):
            raise ValueError(f"容缺补齐期限应以工作日或自然日计算, 而不是 {within.unit}")
        candidates.append(calendar.add(accepted_on, within.value, within.unit))
    if not candidates:
        raise ValueError("未给出承诺补齐日期或容缺补齐期限")
    return min(candidates)
