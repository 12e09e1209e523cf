"""A browser walk-through (Playwright driving Debian's chromium) against a real server on
127.0.0.1: a clerk registers a first inquiry, creates a case, prints the receipt, accepts it,
pauses it for an expert review, resumes and completes it; the applicant looks it up and rates
it; a policy officer uploads a broken pack and sees the error line. Screenshots go to
tests/artifacts/. Skipped without chromium or Playwright, but failed when ``CI`` is set."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from bianmin import paths

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "browser-walk-1"


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason + " (required when CI is set)")
        pytest.skip(reason)


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from bianmin.web import create_app
    from bianmin.web.bootstrap import create_staff

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    app = create_app(f"sqlite://{tmp_path / 'browser.sqlite3'}", secret="browser-secret-" + "y" * 20,
                     var=tmp_path / "var")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)

    def call(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    # taishan completes cases in the back office (后台审批办结): this clerk holds both posts.
    call(create_staff("clerk", PASSWORD, "王窗口", [("taishan", "clerk"), ("taishan", "back_office")]))
    call(create_staff("officer", PASSWORD, "李规则", [("taishan", "policy_officer")]))
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()


def test_walk_through(server):
    _need(Path(CHROMIUM).exists(), "chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed (pip install playwright)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        shot = lambda name: page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # noqa: E731
        try:
            _clerk(page, server, shot)
            number = _case(page, server, shot)
            _applicant(browser, server, number, shot)
            _officer(browser, server, shot)
        finally:
            browser.close()


def _go(page, selector):
    """Click something that loads a page, and wait for that page."""
    with page.expect_navigation(timeout=15_000):
        page.click(selector)


def _sign_in(page, base, username):
    page.goto(f"{base}/staff/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    _go(page, "button[type=submit]")


# The form's own submit button: not the hidden default copy that Enter presses, not "添加一行".
SUBMIT = "form.generated button[type=submit]:not([aria-hidden]):not([name^='_add_row'])"


def _clerk(page, base, shot):
    _sign_in(page, base, "clerk")
    assert "/staff/taishan/" in page.url
    shot("01-queue")
    page.goto(f"{base}/staff/taishan/inquiries")
    page.fill("#f-received_at", "2026-11-20T09:30")
    page.fill("#f-visitor_name", "赵六")
    page.fill("#f-visitor_phone", "13712345678")
    page.select_option("#f-matter_kind", "consult")
    page.fill("#f-matter", "咨询食品经营许可所需材料")
    page.fill("#f-officer", "王窗口")
    page.check("input[name=visitor_signed]")
    _go(page, SUBMIT)
    assert "/records/" in page.url, page.content()
    shot("02-inquiry-registered")


def _case(page, base, shot):
    page.goto(f"{base}/staff/taishan/cases/new")
    _go(page, "text=食品经营许可")
    page.fill("#f-applicant_name", "张三")
    page.fill("#f-id_number", "11010519491231002X")
    page.fill("#f-phone", "13812345678")
    for box in page.query_selector_all("input[name=materials]"):
        box.check()
    for pages in page.query_selector_all("label.pages input"):
        pages.fill("3")
    shot("03-intake-form")
    page.evaluate("window.scrollTo(0, 0)")  # a full-page screenshot leaves the scroll where clicks miss
    _go(page, SUBMIT)
    assert page.url.endswith("/receipt"), page.content()
    number = re.search(r"/records/([^/]+)/receipt", page.url).group(1)
    page.emulate_media(media="print")
    shot("04-receipt-print")
    page.emulate_media(media="screen")
    assert "收件回执单" in page.content() and "<svg" in page.content()  # the stored receipt slip, as printed
    page.goto(f"{base}/staff/taishan/records/{number}")
    _go(page, "button:has-text('受理')")
    assert "已受理" in page.content()
    _go(page, "a:has-text('特别程序')")
    page.select_option("#f-reason", "expert_review")
    page.fill("#f-expected_duration", "5")
    _go(page, SUBMIT)
    assert "特别程序中" in page.content(), page.content()
    shot("05-paused")
    _go(page, "button:has-text('特别程序结束')")
    _go(page, "a:has-text('办结')")
    page.select_option("#f-outcome", "approved")
    _go(page, SUBMIT)
    assert "已办结" in page.content(), page.content()
    assert "<svg" in page.content()
    shot("06-completed")
    return number


def _applicant(browser, base, number, shot):
    page = browser.new_page(viewport={"width": 420, "height": 860})  # a phone
    page.goto(f"{base}/taishan/status")
    page.fill("#number", number)
    page.fill("#digits", "5678")
    _go(page, SUBMIT)
    assert number in page.content() and "已办结" in page.content()
    page.check("input[value=very_satisfied]")
    page.fill("#comment", "办理很快")
    page.screenshot(path=str(ARTIFACTS / "07-status-and-rating.png"), full_page=True)
    _go(page, "button:has-text('提交评价')")
    assert "感谢您的评价" in page.content()
    page.close()


def _officer(browser, base, shot):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    _sign_in(page, base, "officer")
    page.goto(f"{base}/admin/taishan/")
    broken = (paths.policies_dir() / "taishan" / "commitments.yaml").read_text(encoding="utf-8")
    broken = broken.replace("commitments:", "commitments:\n  - {id: 1, text: }", 1)
    page.set_input_files("#pack-file", files=[{"name": "commitments.yaml", "mimeType": "application/x-yaml",
                                               "buffer": broken.encode()}])
    _go(page, SUBMIT)
    assert re.search(r"policies/taishan/commitments\.yaml:\d+:\d+", page.content()), page.content()
    page.screenshot(path=str(ARTIFACTS / "08-broken-pack.png"), full_page=True)
    page.close()
