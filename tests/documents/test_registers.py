"""Registers exported for a period: CSV that Excel opens in Chinese, .xlsx with a bold header,
read back cell for cell; personal data masked unless the export is unmasked."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from bianmin.documents.registers import REGISTERS, cell, rows_in_period, table, to_csv, to_xlsx
from bianmin.forms import Choice
from openpyxl import load_workbook

JANUARY = {"start": date(2026, 1, 1), "end": date(2026, 1, 31)}

INQUIRIES = [
    {"number": "SW-2026-0007", "received_at": "2026-01-05T09:10", "visitor_name": "周志强",
     "visitor_phone": "13807451122", "matter_kind": Choice("consult", "咨询"), "matter": "咨询个体工商户设立登记所需材料",
     "materials_received": [{"name": "身份证复印件", "count": 1}, {"name": "租赁协议", "count": 2}],
     "officer": "陈晓燕", "handler": "顾局长", "visitor_signed": True},
    {"number": "SW-2026-0008", "received_at": datetime(2026, 1, 31, 16, 45), "visitor_name": "夏雨",
     "visitor_phone": "0510-86861234", "matter_kind": Choice("complain", "投诉"), "matter": "反映窗口排队时间长",
     "officer": "陈晓燕", "visitor_signed": False},
    {"number": "SW-2026-0009", "received_at": "2026-02-01T08:30", "visitor_name": "二月来访",
     "visitor_phone": "13900000000", "matter": "不在本期"},
]


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_every_register_has_its_seed_fields():
    headers = {r.id: [c.label for c in r.columns] for r in REGISTERS.values()}
    assert {"接待时间", "服务对象姓名", "联系方式", "办理、咨询或投诉事项", "所收材料名称和数量", "首问责任人", "承办人",
            "服务对象签字认可"} <= set(headers["inquiry"])  # jiangyin 三(二)7
    assert {"经办科室", "经办人姓名", "职务", "经办人联系电话", "被否定事项", "基本情况", "否定原因", "申办人单位",
            "申办人姓名", "申办人联系电话"} <= set(headers["negative_report"])  # xupu 六(三)
    assert {"投诉对象", "投诉事项", "发生时间", "地点", "投诉人", "联系电话", "投诉方式", "投诉类别"} <= set(headers["complaint"])
    assert {"事项名称", "涉及单位(窗口)", "反映人联系方式", "未成功办理原因"} <= set(headers["unresolved_matter"])  # dahepin 六.二.1
    assert {"代办服务对象姓名", "联系方式", "服务责任人", "服务事项", "受理时间", "办结时间", "办理结果或回复"} <= set(headers["agency"])


def test_csv_opens_in_excel_and_reads_back(tmp_path):
    data = to_csv(REGISTERS["inquiry"], INQUIRIES, **JANUARY)
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8 Chinese"
    assert b"\r\n" in data
    rows = read_csv(data)
    assert rows[0] == [c.label for c in REGISTERS["inquiry"].columns]
    assert rows[1] == ["SW-2026-0007", "2026-01-05 09:10", "周志强", "138****1122", "咨询", "咨询个体工商户设立登记所需材料",
                       "身份证复印件×1、租赁协议×2", "陈晓燕", "顾局长", "是"]
    assert rows[2][:4] == ["SW-2026-0008", "2026-01-31 16:45", "夏雨", "0510-****1234"]
    assert rows[2][-2:] == ["", "否"]
    assert len(rows) == 3, "February's visit is not in January's register"


def test_unmasked_export_keeps_the_numbers():
    rows = read_csv(to_csv(REGISTERS["inquiry"], INQUIRIES, unmasked=True, **JANUARY))
    assert rows[1][3] == "13807451122" and rows[2][3] == "0510-86861234"


def test_the_complainant_is_confidential():
    row = {"number": "TS-1", "received_at": "2026-01-05T14:00", "complainant_name": "钱文静",
           "complainant_phone": "13607459876", "target": "综合窗口", "category": Choice("overdue", "超时未办结")}
    masked = read_csv(to_csv(REGISTERS["complaint"], [row]))[1]
    assert masked[2:4] == ["钱**", "136****9876"] and masked[8] == "超时未办结"
    assert read_csv(to_csv(REGISTERS["complaint"], [row], unmasked=True))[1][2:4] == ["钱文静", "13607459876"]


def test_xlsx_reads_back_with_a_bold_header_widths_and_dates():
    data = to_xlsx(REGISTERS["agency"], [
        {"number": "TH-2026-000011", "client_name": "萧桂香", "client_phone": "13574561234", "agent_name": "康小梅",
         "matter": "城乡居民医疗保险缴费", "received_at": datetime(2026, 1, 5, 9, 0), "completed_at": "2026-01-05T11:30",
         "result": "已代缴", "home_visit": True},
    ], **JANUARY)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "代办服务台账"
    header = [c.value for c in sheet[1]]
    assert header == [c.label for c in REGISTERS["agency"].columns]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.column_dimensions["E"].width == REGISTERS["agency"].columns[4].width
    assert sheet.freeze_panes == "A2"
    values = [c.value for c in sheet[2]]
    assert values == ["TH-2026-000011", "萧桂香", "135****1234", "康小梅", "城乡居民医疗保险缴费",
                      datetime(2026, 1, 5, 9, 0), datetime(2026, 1, 5, 11, 30), "已代缴", "是"]
    assert sheet.max_row == 2


def test_a_formula_from_the_public_stays_text():
    row = {"number": "TS-2", "received_at": "2026-01-05T14:00", "matter": '=HYPERLINK("http://x","点我")',
           "place": "-1+2", "target": "@SUM(A1)"}
    csv_row = read_csv(to_csv(REGISTERS["complaint"], [row]))[1]
    assert csv_row[5] == "'=HYPERLINK(\"http://x\",\"点我\")" and csv_row[7] == "'-1+2" and csv_row[4] == "'@SUM(A1)"
    sheet = load_workbook(io.BytesIO(to_xlsx(REGISTERS["complaint"], [row]))).active
    target = sheet.cell(row=2, column=6)
    assert target.data_type == "s" and target.value == '=HYPERLINK("http://x","点我")'


def test_period_selects_by_the_registers_date_column():
    rows = [{"registered_at": "2026-01-01T00:00"}, {"registered_at": date(2026, 1, 31)},
            {"registered_at": "2025-12-31T23:59"}, {"registered_at": None}]
    kept = rows_in_period(REGISTERS["unresolved_matter"], rows, **JANUARY)
    assert kept == rows[:2]
    assert rows_in_period(REGISTERS["unresolved_matter"], rows, None, None) == rows
    assert len(table(REGISTERS["unresolved_matter"], rows, **JANUARY)) == 3


def test_cells_print_as_a_clerk_reads_them():
    column = REGISTERS["unresolved_matter"].column("archived_on")
    assert cell(column, "2026-01-08T10:00") == date(2026, 1, 8)
    assert cell(REGISTERS["inquiry"].column("visitor_signed"), False) == "否"
    assert cell(REGISTERS["inquiry"].column("matter_kind"), None) == ""
    with pytest.raises(StopIteration):
        REGISTERS["inquiry"].column("nope")
