"""`bianmin diff`: the rows a policy officer needs to compare two packs."""

import dataclasses
from pathlib import Path

from bianmin.packs import Compiler
from bianmin.packs.diff import diff, render

FIXTURES = Path(__file__).parent / "fixtures"


def _packs():
    compiler = Compiler(FIXTURES / "policies", FIXTURES / "forms", FIXTURES / "templates")
    good = compiler.compile(FIXTURES / "policies" / "good")
    item = good.items[0]
    shorter = dataclasses.replace(item.limits, promised=dataclasses.replace(item.limits.promised, value=7))
    other = dataclasses.replace(good, id="other", name="他县", items=(dataclasses.replace(item, limits=shorter),))
    return good, other


def test_diff_lists_only_what_differs_by_section():
    good, other = _packs()
    rows = diff(good, other)
    assert [(r.section, r.path, r.left, r.right) for r in rows] == [
        ("metadata", "id", "good", "other"),
        ("metadata", "name", "好县", "他县"),
        ("items", "items[food_licence].limits.promised", "10个工作日", "7个工作日"),
    ]


def test_identical_packs_say_so():
    good, _ = _packs()
    assert diff(good, good) == []
    assert "same rules" in render(good, good, [])


def test_render_aligns_chinese_text():
    good, other = _packs()
    lines = render(good, other, diff(good, other), columns=100).splitlines()
    row = next(line for line in lines if "10个工作日" in line)
    assert row.index("7个工作日") > row.index("10个工作日")
