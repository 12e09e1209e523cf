"""Documents in a real browser: an 80 mm receipt and an A4 notice laid out by headless Debian
chromium (driven by Playwright), screenshots in tests/artifacts/, and the basics a clerk would
notice at the printer: nothing cut off at the right edge, a QR code of a scannable size.

Skipped when chromium (or Playwright) is missing — but under CI (env CI set) that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from bianmin.documents.render import render_document

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PX_PER_MM = 96 / 25.4
# (pack, document, viewport width in px: the paper's width at 96 dpi, QR side in mm from print.css)
PAPERS = {"receipt80": (round(80 * PX_PER_MM), 24), "a4": (round(210 * PX_PER_MM), 28)}


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def need_browser() -> tuple[str, object]:
    """The chromium executable and Playwright's sync API, or skip (fail under CI)."""
    reason = None
    path = chromium_path()
    try:
        from playwright import sync_api
    except ImportError:
        sync_api, reason = None, "Playwright is not installed (pip install playwright)"
    if path is None:
        reason = "chromium is not installed (apt-get install -y chromium fonts-noto-cjk)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    return path, sync_api


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    path, sync_api = need_browser()
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=path, headless=True,
            args=CHROMIUM_ARGS)
        try:
            yield context
        finally:
            context.close()


# Every element's box, in CSS pixels of the page.
BOXES = """() => Array.from(document.querySelectorAll('body *')).map(e => {
  const r = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), cls: e.getAttribute('class') || '', left: r.left, right: r.right,
          width: r.width, height: r.height, text: (e.textContent || '').trim().slice(0, 30)};
})"""


def lay_out(browser, name: str, html: str, width: int) -> dict:
    """Open the document as printed (print media, the paper's width) and measure it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page_file = ARTIFACTS / f"{name}.html"
    page_file.write_text(html, encoding="utf-8")
    page = browser.new_page()
    try:
        page.set_viewport_size({"width": width, "height": 1123})
        page.emulate_media(media="print")
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        return {
            "boxes": page.evaluate(BOXES),
            "scroll_width": page.evaluate("() => document.body.scrollWidth"),
            "viewport": page.evaluate("() => document.documentElement.clientWidth"),
            "fonts": page.evaluate("() => document.fonts.check('12px \"Noto Serif CJK SC\"') || "
                                   "document.fonts.check('12px \"Noto Sans CJK SC\"')"),
        }
    finally:
        page.close()


@pytest.mark.parametrize(("pack_id", "doc_id"), [("taishan", "receipt_slip"), ("jiangyin", "inquiry_receipt"),
                                                 ("taishan", "acceptance_notice"), ("taihe", "agency_ledger")])
def test_nothing_is_cut_off_and_the_qr_code_scans(browser, contexts, pack_id, doc_id):
    pack, context, kwargs = contexts.context(pack_id, doc_id)
    rendered = render_document(pack, doc_id, context, **kwargs)
    width, qr_mm = PAPERS[rendered.paper]
    found = lay_out(browser, f"{pack_id}-{doc_id}", rendered.html, width)
    assert found["viewport"] == width
    assert found["scroll_width"] <= width, f"the page scrolls sideways: {found['scroll_width']} > {width} px"
    overflowing = [b for b in found["boxes"] if b["width"] > 0 and (b["right"] > width + 0.5 or b["left"] < -0.5)]
    assert not overflowing, f"cut off at the edge of {width} px: {overflowing[:5]}"
    qr = [b for b in found["boxes"] if b["tag"] == "svg" and "qr-code" in b["cls"]]
    assert len(qr) == 1, "one QR code"
    side = qr_mm * PX_PER_MM
    assert abs(qr[0]["width"] - side) < 2 and abs(qr[0]["height"] - side) < 2, qr[0]  # square, as styled
    assert qr[0]["width"] >= 20 * PX_PER_MM, "a QR code under 20 mm is hard to scan from paper"
    assert (ARTIFACTS / f"{pack_id}-{doc_id}.png").stat().st_size > 5000


def test_chinese_text_has_a_font(browser, contexts):
    pack, context, kwargs = contexts.context("xupu", "receipt_slip")
    found = lay_out(browser, "xupu-receipt_slip", render_document(pack, "receipt_slip", context, **kwargs).html,
                    PAPERS["receipt80"][0])
    assert found["fonts"], "no CJK font: install fonts-noto-cjk, or Chinese prints as boxes"
