"""Server-side SVG charts: accessible names and descriptions, a data table, no script or style."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from bianmin.reports.charts import Chart, Series, describe, figure, nice_top, svg, table

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = tuple(f"{m}月" for m in range(1, 13))


def chart(kind: str, **kwargs) -> Chart:
    values = tuple(float(v) for v in (3, 5, 8, 0, 2, 9, 4, 4, 7, 1, 6, 10))
    base = {"id": f"c-{kind}", "kind": kind, "title": "每月受理 <办件>", "labels": MONTHS, "unit": "件",
            "series": (Series("受理", values), Series("办结", tuple(v - 1 if v else None for v in values)))}
    return Chart(**{**base, **kwargs})


@pytest.mark.parametrize("kind", ["bar", "hbar", "line"])
def test_every_chart_is_labelled_and_valid_xml(kind):
    drawn = svg(chart(kind))
    root = ET.fromstring(drawn)
    assert root.get("role") == "img" and root.get("aria-labelledby") == f"c-{kind}-title c-{kind}-desc"
    assert root.find(f"{SVG}title").text == "每月受理 <办件>"  # escaped in the markup, whole in the tree
    assert "最高 12月 10件" in root.find(f"{SVG}desc").text
    marks = root.findall(f".//{SVG}rect[{SVG}title]") + root.findall(f".//{SVG}circle[{SVG}title]")
    assert {m.find(f"{SVG}title").text for m in marks} >= {"1月 受理: 3件", "6月 受理: 9件"}
    assert "style" not in drawn and "<script" not in drawn
    assert root.findall(f".//{SVG}text")  # a legend for two series, axis labels


def test_missing_values_break_the_line_and_read_as_a_dash():
    drawn = svg(chart("line"))
    root = ET.fromstring(drawn)
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 3  # 受理 in one piece, 办结 broken at April
    assert "4月</th><td>0件</td><td>—</td>" in table(chart("line"))


def test_figure_has_the_table_fallback():
    html = figure(chart("bar"))
    assert html.startswith('<figure class="chart" id="c-bar"><svg')
    assert "<details><summary>数据表</summary><table" in html and "<caption>每月受理 &lt;办件&gt;</caption>" in html
    assert html.count('<th scope="row">') == 12


def test_scale_and_description():
    assert [nice_top(v) for v in (0, 1, 7, 12, 180, 2400)] == [1, 1, 10, 20, 200, 2500]
    rate = Chart("r", "line", "按时办结率", ("1月", "2月"), (Series("率", (None, None)),), unit="%", top=100,
                 note="未设定。")
    assert describe(rate) == "按时办结率。率: 无数据。未设定。"
    with pytest.raises(ValueError):
        Chart("x", "pie", "t", ("a",), (Series("s", (1,)),))
    with pytest.raises(ValueError):
        Chart("x", "bar", "t", ("a", "b"), (Series("s", (1,)),))
