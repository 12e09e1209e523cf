"""Small pieces: password hashing, rate limiter, i18n fallback, the timeline drawing, markdown,
the demo bootstrap."""

from __future__ import annotations

import datetime as dt

from bianmin.timelimits import ClockState, ExplainLine
from bianmin.packs.model import Duration
from bianmin.web import i18n, markdown, passwords, svg
from bianmin.web.ratelimit import RateLimiter


def test_scrypt_hash_verifies_and_salts():
    first, second = passwords.hash_password("秘密"), passwords.hash_password("秘密")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert passwords.verify_password("秘密", first) and not passwords.verify_password("秘", first)
    assert not passwords.verify_password("x", "garbage") and not passwords.needs_rehash(first)
    assert not passwords.verify_password("x", passwords.DUMMY_HASH)


def test_rate_limiter_window():
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert all(limiter.hit("k", 3) for _ in range(3)) and not limiter.hit("k", 3)
    now[0] += 61
    assert limiter.hit("k", 3)


def test_catalogue_falls_back_to_chinese():
    en = i18n.Translator("en")
    assert en("status.look_up") == "Look up"
    assert en("guide.title") == "办事指南"  # not translated yet: Chinese, not the key
    assert i18n.Translator("xx")("status.look_up") == "查询"
    assert i18n.Translator()("no.such.key") == "no.such.key"


def test_every_catalogue_key_used_in_english_exists_in_chinese():
    assert set(i18n.catalogue("en")) <= set(i18n.catalogue("zh_CN"))


def test_timeline_cells_by_kind():
    lines = (ExplainLine("rule"), ExplainLine("workday", day=dt.date(2026, 11, 23), counted=True, count=1),
             ExplainLine("workday; paused for 专家评审, not counted", day=dt.date(2026, 11, 24), counted=False),
             ExplainLine("weekend", day=dt.date(2026, 11, 28), counted=False),
             ExplainLine("workday; extension (延期)", day=dt.date(2026, 11, 30), counted=True, count=2),
             ExplainLine("workday; past the deadline", day=dt.date(2026, 12, 1), counted=False))
    state = ClockState(clock="promised", limit=Duration("working_day", 1), status="overdue", level="overdue",
                       explanation=lines)
    drawing = svg.timeline_svg(state)
    for kind in ("counted", "paused", "rest", "extended", "overdue"):
        assert f'class="day {kind}"' in drawing
    assert "<script" not in drawing and "2026-11-24" in drawing


def test_markdown_escapes():
    html = str(markdown.to_html("# T <x>\n\n| a | b |\n|---|---|\n| **1** | `<2>` |\n"))
    assert "<h2>T &lt;x&gt;</h2>" in html and "<strong>1</strong>" in html and "&lt;2&gt;" in html


def test_demo_creates_accounts_and_cases_once(h):
    from bianmin.store.models import Record
    from bianmin.web import bootstrap

    web = h.client.app.state.web
    lines = h.run(bootstrap.demo, web, [])
    assert any("xupu-clerk" in line for line in lines) and any("API token" in line for line in lines)
    assert h.run(Record.filter(jurisdiction_id="xupu", kind="case").count) >= 1
    assert h.run(bootstrap.demo, web, []) == []
