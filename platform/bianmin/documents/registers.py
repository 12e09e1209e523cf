"""Registers as spreadsheets: CSV (UTF-8 with BOM, so that Excel reads Chinese) and .xlsx.

Each register's columns are defined here, once, with the Chinese headers of the clause that
asks for the register; a row is a mapping by column id (a record's form answers and a few
derived values, fed by the store). Personal data — phone numbers, resident ID numbers, and
the complainant's name (confidential, dahepin 四.4) — is masked unless the export is made
with ``unmasked=True`` (`bianmin.privacy`).

    data = to_csv(REGISTERS["inquiry"], rows, start=date(2026, 1, 1), end=date(2026, 1, 31))
    data = to_xlsx(REGISTERS["agency"], rows, start=..., end=..., unmasked=True)

Rows outside ``[start, end]`` (by the register's `date_column`) are left out, in case the
caller's query was wider; the order of the rows is kept.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..privacy import mask_id_number, mask_name, mask_phone

_MASKS: dict[str, Callable[[Any], str]] = {"phone": mask_phone, "id_number": mask_id_number, "name": mask_name}


@dataclass(frozen=True, slots=True)
class Column:
    id: str  # key of the row mapping
    label: str  # Chinese header
    kind: str = "text"  # text | datetime | date | boolean | list
    mask: str | None = None  # phone | id_number | name: personal data, masked unless unmasked=True
    width: int = 14  # .xlsx column width, in characters


@dataclass(frozen=True, slots=True)
class Register:
    id: str
    name: str
    source: str  # the clause that lists the register's fields
    columns: tuple[Column, ...]
    date_column: str  # the column a date range selects rows by

    def column(self, column_id: str) -> Column:
        return next(c for c in self.columns if c.id == column_id)


def _c(id: str, label: str, kind: str = "text", mask: str | None = None, width: int = 14) -> Column:
    return Column(id, label, kind, mask, width)


REGISTERS: dict[str, Register] = {r.id: r for r in (
    # 接待时间, 服务对象的姓名和联系方式, 办理、咨询或投诉事项, 所收材料的名称和数量, 首问责任人和承办人,
    # 服务对象签字认可.
    Register("inquiry", "首问接待登记簿", "jiangyin 三(二)7", (
        _c("number", "登记编号", width=16),
        _c("received_at", "接待时间", "datetime", width=17),
        _c("visitor_name", "服务对象姓名", width=12),
        _c("visitor_phone", "联系方式", mask="phone", width=15),
        _c("matter_kind", "事项类别", width=9),
        _c("matter", "办理、咨询或投诉事项", width=36),
        _c("materials_received", "所收材料名称和数量", "list", width=30),
        _c("officer", "首问责任人", width=11),
        _c("handler", "承办人", width=11),
        _c("visitor_signed", "服务对象签字认可", "boolean", width=9),
    ), "received_at"),
    # 1. 经办科室人员姓名、职务及联系电话; 2. 被否定事项基本情况及原因; 3. 申办人的单位、姓名及联系电话;
    # with the ground (六(二)) and the leader's review (六(四)(五)).
    Register("negative_report", "否定报备情况登记表", "xupu 六(三)", (
        _c("number", "登记编号", width=16),
        _c("filed_at", "登记时间", "datetime", width=17),
        _c("handler_department", "经办科室", width=12),
        _c("handler_name", "经办人姓名", width=11),
        _c("handler_title", "职务", width=10),
        _c("handler_phone", "经办人联系电话", width=15),
        _c("matter", "被否定事项", width=24),
        _c("ground", "否定报备情形", width=24),
        _c("situation", "基本情况", width=36),
        _c("reason", "否定原因", width=30),
        _c("applicant_organisation", "申办人单位", width=20),
        _c("applicant_name", "申办人姓名", width=11),
        _c("applicant_phone", "申办人联系电话", mask="phone", width=15),
        _c("review", "主管领导审核意见", width=30),
        _c("state", "办理情况", width=12),
    ), "filed_at"),
    # dahepin 四: 投诉对象, 投诉事项, 发生时间, 地点, 投诉人姓名和电话, 投诉方式, 投诉类别; the
    # complainant is confidential (四.4), so the name is masked as well as the phone.
    Register("complaint", "投诉登记表", "dahepin 四", (
        _c("number", "登记编号", width=16),
        _c("received_at", "受理时间", "datetime", width=17),
        _c("complainant_name", "投诉人", mask="name", width=11),
        _c("complainant_phone", "联系电话", mask="phone", width=15),
        _c("target", "投诉对象", width=20),
        _c("matter", "投诉事项", width=36),
        _c("occurred_at", "发生时间", "datetime", width=17),
        _c("place", "地点", width=20),
        _c("category", "投诉类别", width=24),
        _c("channel", "投诉方式", width=10),
        _c("state", "办理情况", width=12),
    ), "received_at"),
    # dahepin 六.二.1: 事项名称, 涉及单位(窗口), 反映人联系方式, 未成功办理原因; then the dispatch,
    # result, callback with satisfaction and archive of 六.二.2~4.
    Register("unresolved_matter", "办不成事事项登记表", "dahepin 六.二.1", (
        _c("number", "登记编号", width=16),
        _c("registered_at", "登记时间", "datetime", width=17),
        _c("matter_name", "事项名称", width=24),
        _c("unit", "涉及单位(窗口)", width=18),
        _c("reporter_name", "反映人", width=11),
        _c("reporter_phone", "反映人联系方式", mask="phone", width=15),
        _c("reason", "未成功办理原因", width=36),
        _c("window", "流转承办窗口", width=14),
        _c("result", "办理结果", width=30),
        _c("called_back_at", "回访时间", "datetime", width=17),
        _c("satisfaction", "满意度评价", width=10),
        _c("archived_on", "归档日期", "date", width=12),
    ), "registered_at"),
    # taihe 三(三)1: 代办服务对象姓名及联系方式、服务责任人、服务事项、受理和办结时间、办理结果或回复.
    Register("agency", "代办服务台账", "taihe 三(三)1", (
        _c("number", "登记编号", width=16),
        _c("client_name", "代办服务对象姓名", width=12),
        _c("client_phone", "联系方式", mask="phone", width=15),
        _c("agent_name", "服务责任人", width=11),
        _c("matter", "服务事项", width=24),
        _c("received_at", "受理时间", "datetime", width=17),
        _c("completed_at", "办结时间", "datetime", width=17),
        _c("result", "办理结果或回复", width=36),
        _c("home_visit", "上门服务", "boolean", width=9),
    ), "received_at"),
)}


# -- cell values ----------------------------------------------------------------------------------

def _as_datetime(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value
    text = str(value).replace(" ", "T", 1)
    return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)


def _label(value: Any) -> str:
    """A `Choice` prints its label; a mapping its name or label; anything else as text."""
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, Mapping):
        if "name" in value and "count" in value:  # a row of 所收材料: 身份证复印件×1
            return f"{value['name']}×{value['count']}"
        return str(value.get("name") or value.get("label") or "")
    return str(value)


def cell(column: Column, value: Any, *, unmasked: bool = False) -> Any:
    """The value of one cell: text, a bool as 是/否, a date or datetime (left typed for .xlsx)."""
    if value is None or value == "" or value == [] or value == ():
        return ""
    if column.kind in ("datetime", "date"):
        when = _as_datetime(value)
        if column.kind == "date" and isinstance(when, datetime):
            return when.date()
        return when.replace(second=0, microsecond=0) if isinstance(when, datetime) else when
    if column.kind == "boolean" or isinstance(value, bool):
        return "是" if value else "否"
    if column.kind == "list" or isinstance(value, (list, tuple)):
        text = "、".join(_label(v) for v in value) if isinstance(value, (list, tuple)) else _label(value)
    else:
        text = _label(value)
    if column.mask and not unmasked:
        text = _MASKS[column.mask](text)
    return text


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def rows_in_period(register: Register, rows: Iterable[Mapping[str, Any]], start: date | None,
                   end: date | None) -> list[Mapping[str, Any]]:
    """The rows whose date column falls in [start, end] (both included); all when no range."""
    if start is None and end is None:
        return list(rows)
    out = []
    for row in rows:
        when = _as_datetime(row.get(register.date_column))
        if when is None:
            continue
        day = when.date() if isinstance(when, datetime) else when
        if (start is None or day >= start) and (end is None or day <= end):
            out.append(row)
    return out


def table(register: Register, rows: Iterable[Mapping[str, Any]], *, start: date | None = None,
          end: date | None = None, unmasked: bool = False) -> list[list[Any]]:
    """Header row, then one list of cells per row in the period."""
    body = [[cell(c, row.get(c.id), unmasked=unmasked) for c in register.columns]
            for row in rows_in_period(register, rows, start, end)]
    return [[c.label for c in register.columns], *body]


# Spreadsheet programs run a cell that starts with one of these as a formula: a complaint's text
# from the public must never become one (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(register: Register, rows: Iterable[Mapping[str, Any]], *, start: date | None = None,
           end: date | None = None, unmasked: bool = False) -> bytes:
    """The register as CSV bytes: UTF-8 with a BOM, CRLF line ends, every cell as text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for i, cells in enumerate(table(register, rows, start=start, end=end, unmasked=unmasked)):
        writer.writerow([_text(v) if i == 0 else _defuse(_text(v)) for v in cells])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(register: Register, rows: Iterable[Mapping[str, Any]], *, start: date | None = None,
            end: date | None = None, unmasked: bool = False) -> bytes:
    """The register as an .xlsx workbook: one sheet, bold frozen header, column widths, dates
    as real dates, text cells never formulas."""
    book = Workbook()
    sheet = book.active
    sheet.title = register.name[:31]
    cells = table(register, rows, start=start, end=end, unmasked=unmasked)
    sheet.append(cells[0])
    for values in cells[1:]:
        sheet.append(values)
        for c, value in zip(sheet[sheet.max_row], values):
            if isinstance(value, str) and value.startswith("="):
                c.data_type = "s"  # openpyxl takes a leading "=" for a formula
            elif isinstance(value, datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                c.number_format = "yyyy-mm-dd"
    bold = Font(bold=True)
    for c in sheet[1]:
        c.font = bold
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for column in sheet.iter_cols(min_row=2):
        for c in column:
            c.alignment = Alignment(vertical="top", wrap_text=True)
    for i, column in enumerate(register.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    period = " 至 ".join(d.isoformat() for d in (start, end) if d) if (start or end) else ""
    book.properties.title = f"{register.name} {period}".strip()
    book.properties.subject = register.source
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

