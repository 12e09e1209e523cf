"""Report tables and register rows as spreadsheets (pure: rows in, bytes out)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
from bianmin.documents.registers import REGISTERS, table
from bianmin.reports.export import Table, register_rows, to_csv, to_xlsx

DAY = dt.date(2026, 3, 2)


def joined(number, state, subject, steps):
    """The rows queries.register returns: one per event of the record, in order."""
    at = dt.datetime(2026, 3, 2, 9)
    return [{"id": 1, "number": number, "state": state, "subject": json.dumps(subject, ensure_ascii=False),
             "created_at": at, "transition": t, "at": at + dt.timedelta(days=i), "data": json.dumps(d, ensure_ascii=False)}
            for i, (t, d) in enumerate(steps)]


def test_unresolved_matter_register_from_the_steps(registry):
    """dahepin 六.二: 登记 → 流转 → 办理 → 反馈 → 回访评价 → 归档, one row per matter."""
    pack = registry.active("dahepin", DAY)
    subject = {"matter_name": "宅基地审批", "unit": "村建站", "reporter_name": "钱多多", "reporter_phone": "13512345678",
               "reason": "材料不齐"}
    window = pack.windows[0]
    level = pack.ratings.levels[0]
    rows = register_rows(pack, "unresolved_matter", joined("DHP-BC-2026-000001", "archived", subject, [
        ("start", subject), ("dispatch", {"window": window.id, "complexity": "simple"}),
        ("resolve", {"outcome": "resolved", "result": "已办结"}), ("feed_back", {}),
        ("call_back", {"method": "phone", "reached": True, "satisfaction": level.id}), ("archive", {})]))
    [row] = rows
    assert row["window"] == window.name and row["satisfaction"] == level.name and row["result"] == "已办结"
    assert row["called_back_at"] == dt.datetime(2026, 3, 6, 9) and row["archived_on"] == dt.datetime(2026, 3, 7, 9)
    assert row["registered_at"] == dt.datetime(2026, 3, 2, 9) and row["state"] == "已归档"
    cells = dict(zip(*table(REGISTERS["unresolved_matter"], rows)))
    assert cells["反映人联系方式"] == "135****5678" and cells["归档日期"] == dt.date(2026, 3, 7)


def test_negative_report_register_shows_the_review(registry):
    """xupu 六(三)(四)(五): 否定报备登记表 with the leader's review."""
    pack = registry.active("xupu", DAY)
    subject = {"handler_name": "张三", "matter": "食品经营许可", "ground": pack.negative_report.grounds[0].id,
               "applicant_phone": "0745-3221201"}
    [row] = register_rows(pack, "negative_report", joined("XP-FB-2026-000001", "corrected", subject, [
        ("start", {}), ("correct", {"opinion": "材料齐全, 应予受理", "basis": "行政许可法 §32"})]))
    assert row["review"] == "予以纠正: 材料齐全, 应予受理" and row["filed_at"] == dt.datetime(2026, 3, 2, 9)
    assert row["ground"] == pack.negative_report.grounds[0].name and row["state"] == "领导要求纠正"


def test_report_tables_defuse_formulas():
    t = Table("x", "表", ("名称", "数量"), (("=HYPERLINK(\"http://x\")", 3), ("+1", 2.5)))
    rows = list(csv.reader(io.StringIO(to_csv(t).decode("utf-8-sig"))))
    assert rows == [["名称", "数量"], ["'=HYPERLINK(\"http://x\")", "3"], ["'+1", "2.5"]]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([t], "标题"))).active
    assert sheet.title == "表" and sheet["A2"].value == "'=HYPERLINK(\"http://x\")" and sheet["B3"].value == 2.5
