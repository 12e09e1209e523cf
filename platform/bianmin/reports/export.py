"""Reports and registers as spreadsheets: CSV (UTF-8 with BOM, CRLF, Excel reads the Chinese)
and .xlsx (one sheet per table).

A report's tables (:func:`tables`) are the ones its page shows. A register's rows
(:func:`register_rows`) are its records' form answers, merged in event order, with the derived
columns (times of later steps, state names) and option values turned into their labels; the
columns, masking and spreadsheet writing are those of :mod:`bianmin.documents.registers`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..documents import registers
from ..packs.model import Pack
from ..scoring import queries
from ..workflow import submission
from .charts import number
from .pages import COMPLETION_HEADERS, REGISTER_KINDS, STATE_NAMES, Report

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV injection"


@dataclass(frozen=True, slots=True)
class Table:
    id: str
    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def _completion(lines: Sequence[Any], known: bool) -> tuple[tuple[Any, ...], ...]:
    return tuple((line.name, line.received, line.completed, line.on_time if known else "",
                  line.late if known else "", line.late_statutory,
                  "" if line.rate(known) is None else line.rate(known)) for line in lines)


def tables(r: Report) -> list[Table]:
    """The report's tables, in page order."""
    known = r.late_known
    scores = [(s.subject.kind, s.rank, s.subject.name, s.score, s.deducted, "" if s.activity is None else s.activity,
               "\n".join(s.lines)) for s in (*r.appraisal.windows, *r.appraisal.staff)]
    return [
        Table("months", "每月办件", ("月份", *COMPLETION_HEADERS[1:]), _completion(r.months, known)),
        Table("windows", "各窗口办结", tuple(COMPLETION_HEADERS), _completion(r.windows, known)),
        Table("items", "各事项办结", tuple(COMPLETION_HEADERS), _completion(r.items, known)),
        Table("violations", "自动发现的违规", ("违规行为", "编号", "依据", "次数"),
              tuple((name, vid, source, n) for vid, name, source, n in r.violations)),
        Table("deductions", "扣分处理", ("状态", "件数"), tuple((STATE_NAMES[s], n) for s, n in r.deductions.items())),
        Table("scores", "考评得分", ("对象", "名次", "名称", "得分", "扣分", "办结", "计分说明"),
              tuple((("窗口" if k == "window" else "工作人员"), *rest) for k, *rest in scores)),
        Table("selections", "评选结果", ("期间", "评选", "入选", "不参评", "说明"),
              tuple((s.period.label, s.selection.name, "、".join(c.subject.name for c in s.chosen),
                     len(s.out), "\n".join(s.lines)) for s in r.selections)),
        Table("complaints", "投诉", ("类别", "受理", "逾期未答复"), tuple(r.complaints)),
        Table("ratings", "好差评", ("评价", "件数"), tuple((n, c) for n, c, _ in r.ratings)),
        Table("three_systems", "三项制度", ("项目", "数量", "依据"), tuple(r.three_systems)),
    ]


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _text(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    return "" if value is None else str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_defuse(_text(v)) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: Iterable[Table], title: str = "") -> bytes:
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for t in sheets:
        sheet = book.create_sheet(t.name[:31])
        sheet.append(list(t.headers))
        for row in t.rows:
            sheet.append([_defuse(v) if isinstance(v, str) else v for v in row])
            for c in sheet[sheet.max_row]:
                if isinstance(c.value, str) and c.value.startswith("="):
                    c.data_type = "s"
        for c in sheet[1]:
            c.font = bold
        for i, header in enumerate(t.headers, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(header) + 4))
        sheet.freeze_panes = "A2"
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- registers ---------------------------------------------------------------------------------------

# Columns a register takes from the time of a later step of its record (transition id).
_STEP_TIMES = {"called_back_at": "call_back", "archived_on": "archive", "completed_at": "complete"}
# Columns that default to the record's opening time.
_OPENED = ("received_at", "filed_at", "registered_at")


def _labels(pack: Pack) -> dict[str, dict[str, str]]:
    """Option labels of every form field, by field id (first form wins)."""
    forms, options = submission.forms_of(pack)
    out: dict[str, dict[str, str]] = {}
    for form in forms.values():
        for f in form.fields:
            choices = f.options or options.get(f.options_from or "", ())
            if choices and f.id not in out:
                out[f.id] = {str(o.value): str(o.label) for o in choices}
    out.setdefault("window", {}).update({w.id: w.name for w in pack.windows})
    out.setdefault("unit", {}).update({w.id: w.name for w in pack.windows})
    return out


def register_rows(pack: Pack, register_id: str, joined: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One register row per record from the joined record/event rows of :func:`queries.register`."""
    register = registers.REGISTERS[register_id]
    kind = KINDS[register_id]
    states = {s.id: s.name for w in pack.workflows if w.subject == kind for s in w.states}
    labels = _labels(pack)
    out: dict[int, dict[str, Any]] = {}
    steps: dict[int, dict[str, Any]] = {}
    for row in joined:
        rid = row["id"]
        if rid not in out:
            out[rid] = {**queries.json_value(row["subject"]), "number": row["number"],
                        "state": states.get(row["state"], row["state"]), "_opened": row["created_at"]}
            steps[rid] = {}
        data = queries.json_value(row["data"])
        current = out[rid]
        for key, value in data.items():
            if key not in ("number", "state"):
                current[key] = value
        steps[rid][row["transition"]] = row["at"]
        if row["transition"] == "uphold":
            current["review"] = "审核同意"
        elif row["transition"] == "correct":
            current["review"] = "予以纠正: " + str(data.get("opinion") or "")
    result = []
    for rid, row in out.items():
        opened = row.pop("_opened")
        for column in _OPENED:
            row.setdefault(column, opened)
        for column, transition in _STEP_TIMES.items():
            if not row.get(column) and transition in steps[rid]:
                row[column] = steps[rid][transition]
        for column in register.columns:
            value = row.get(column.id)
            names = labels.get(column.id)
            if names and isinstance(value, str):
                row[column.id] = names.get(value, value)
            elif names and isinstance(value, list):
                row[column.id] = [names.get(v, v) if isinstance(v, str) else v for v in value]
        result.append(row)
    return result


KINDS = REGISTER_KINDS  # register id -> the kind of record it lists


async def register_file(pack: Pack, register_id: str, start: dt.date, end: dt.date, fmt: str, *,
                        unmasked: bool = False) -> bytes:
    """A register of the records opened in ``[start, end)`` as CSV or .xlsx (one query)."""
    register = registers.REGISTERS[register_id]
    rows = register_rows(pack, register_id, await queries.register(pack.id, KINDS[register_id], start, end))
    last = end - dt.timedelta(days=1)
    write = registers.to_xlsx if fmt == "xlsx" else registers.to_csv
    return write(register, rows, start=start, end=last, unmasked=unmasked)
