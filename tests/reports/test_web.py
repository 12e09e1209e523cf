"""The report routes mounted as the web app will mount them (``/desk/{jurisdiction}/reports``),
with the actor set by the app and authorization decided by the function it passes; exports of
the report and of the registers, personal data masked unless unmasked export is allowed."""

from __future__ import annotations

import csv
import io
from contextlib import asynccontextmanager

import openpyxl
import pytest
from bianmin.reports import router
from bianmin.store import db
from bianmin.workflow import Actor
from report_helpers import seed
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.testclient import TestClient
from tortoise.contrib.starlette import RegisterTortoise

USERS = {"clerk": Actor("101", "钱七", frozenset({"clerk"})),
         "supervisor": Actor("102", "孙督查", frozenset({"supervisor"})),
         "outsider": Actor("103", "外县", frozenset({"supervisor"}))}


def make_app(url: str, registry, asked: list, layout=None) -> Starlette:
    def authorize(request, actor, jurisdiction, action):
        asked.append((actor.id, jurisdiction, action))
        if actor.id == "103":
            return False
        return action != "export_unmasked" or "supervisor" in actor.roles

    async def sign_in(scope, receive, send):  # the web app's authentication, reduced to a header
        if scope["type"] == "http":
            user = dict(scope["headers"]).get(b"x-user", b"").decode()
            if user:
                scope.setdefault("state", {})["actor"] = USERS[user]
        await inner(scope, receive, send)

    @asynccontextmanager
    async def lifespan(app):
        async with RegisterTortoise(app, config=db.tortoise_config(url), generate_schemas=False):
            yield

    inner = Starlette(routes=[Mount("/desk/{jurisdiction}/reports", app=router(authorize, registry=registry,
                                                                                 layout=layout))],
                      lifespan=lifespan)
    return sign_in  # type: ignore[return-value]


@pytest.fixture
def client(backend, registry):
    backend.run(seed, registry)
    asked: list = []
    with TestClient(make_app(backend.url, registry, asked)) as c:
        c.asked = asked
        yield c


def get(client, path, user="clerk", **params):
    return client.get(path, params=params, headers={"x-user": user} if user else {})


def test_report_page_and_access(client):
    base = "/desk/jiangyin/reports"
    assert get(client, f"{base}/", user=None).status_code == 401
    assert get(client, f"{base}/", user="outsider").status_code == 403
    assert get(client, "/desk/nowhere/reports/").status_code == 404
    assert get(client, f"{base}/", period="week").status_code == 400
    page = get(client, f"{base}/", period="quarter", year="2026", n="1")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "江阴市 效能报表 · 2026年第1季度" in page.text and "<svg" in page.text
    assert f'href="{base}/registers/complaint.xlsx?period=quarter&amp;year=2026&amp;n=1"' in page.text
    appraisal = get(client, f"{base}/appraisal", period="month", year="2026", n="3")
    assert appraisal.status_code == 200 and "计分说明" in appraisal.text
    assert ("101", "jiangyin", "view") in client.asked and ("103", "jiangyin", "view") in client.asked


def test_report_exports(client):
    base = "/desk/jiangyin/reports"
    book = get(client, f"{base}/export.xlsx", period="year", year="2026")
    assert book.status_code == 200 and "jiangyin-report-2026.xlsx" in book.headers["content-disposition"]
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames[:3] == ["每月办件", "各窗口办结", "各事项办结"]
    march = [row for row in sheets["每月办件"].iter_rows(values_only=True)][3]
    assert march[:5] == ("3月", 3, 2, 1, 1)
    windows = get(client, f"{base}/export.csv", period="year", year="2026", table="windows")
    assert windows.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(windows.content.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "受理", "办结", "按时办结", "超承诺时限", "超法定时限", "按时办结率"]
    assert rows[1] == ["市场监管窗口", "3", "2", "1", "1", "0", "50"]
    assert get(client, f"{base}/export.csv", table="nope").status_code == 404
    assert get(client, f"{base}/export.pdf").status_code == 404
    assert ("101", "jiangyin", "export") in client.asked


def test_registers_are_masked_unless_allowed(client):
    base = "/desk/jiangyin/reports/registers"
    masked = get(client, f"{base}/inquiry.csv", period="month", year="2026", n="3")
    rows = list(csv.reader(io.StringIO(masked.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["登记编号", "接待时间", "服务对象姓名", "联系方式"]
    assert len(rows) == 3 and rows[1][3] == "139****5678" and rows[1][4] == "咨询"
    assert get(client, f"{base}/inquiry.csv", period="month", year="2026", n="3", unmasked="1").status_code == 403
    plain = get(client, f"{base}/inquiry.csv", user="supervisor", period="month", year="2026", n="3", unmasked="1")
    assert "13912345678" in plain.content.decode("utf-8-sig")
    complaints = get(client, f"{base}/complaint.xlsx", period="year", year="2026")
    sheet = openpyxl.load_workbook(io.BytesIO(complaints.content)).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    row = dict(zip(header, first))
    assert row["投诉人"] == "吴*" and row["联系电话"] == "137****1111"
    assert row["投诉类别"] == "首问责任人及窗口工作人员服务行为投诉" and row["办理情况"] == "已答复"
    assert get(client, f"{base}/deduction.csv").status_code == 404
    # An empty period still has the header row.
    empty = get(client, f"{base}/agency.csv", period="month", year="2026", n="1")
    assert empty.status_code == 200 and empty.content.decode("utf-8-sig").count("\r\n") == 1


def test_layout_wraps_the_fragment(backend, registry):
    backend.run(seed, registry)

    def layout(request, title, body):
        return HTMLResponse(f"<main data-title='{title}'>{body}</main>")

    with TestClient(make_app(backend.url, registry, [], layout=layout)) as c:
        page = get(c, "/desk/jiangyin/reports/", period="month", year="2026", n="3")
    assert page.text.startswith("<main data-title='江阴市 效能报表 2026年3月'><section class=\"report\"")
