"""Policy-officer console: upload, problems with file:line, diff, activation, traceability."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from bianmin import paths


def _upload(h, jurisdiction: str, name: str, content: bytes):
    page = h.client.get(f"/admin/{jurisdiction}/")
    token = h.csrf_of(page.text)
    return h.client.post(f"/admin/{jurisdiction}/upload", data={"csrf_token": token},
                         files={"pack": (name, content, "application/octet-stream")})


def _officer(h, jurisdiction: str = "xupu"):
    officer = h.staff(jurisdiction, "policy_officer")
    h.sign_in(officer)
    return officer


def test_broken_file_shows_its_line(h):
    _officer(h)
    original = (paths.policies_dir() / "xupu" / "commitments.yaml").read_text(encoding="utf-8")
    broken = original.replace("commitments:", "commitments:\n  - {id: 1, text: }", 1)
    page = _upload(h, "xupu", "commitments.yaml", broken.encode())
    assert page.status_code == 422
    assert "policies/xupu/commitments.yaml:" in page.text
    assert not list(Path(paths.policies_dir()).glob("xupu/*.tmp"))


def test_changed_file_shows_the_diff_and_activates(h):
    _officer(h)
    original = (paths.policies_dir() / "xupu" / "pack.yaml").read_text(encoding="utf-8")
    changed = original.replace("name: 溆浦县", "name: 溆浦县(新)", 1)
    assert changed != original
    review = _upload(h, "xupu", "pack.yaml", changed.encode())
    assert review.status_code == 200, review.text
    assert "溆浦县(新)" in review.text
    content_hash = review.text.split('name="hash" value="')[1].split('"')[0]
    token = h.csrf_of(review.text)
    done = h.client.post("/admin/xupu/activate", data={"csrf_token": token, "hash": content_hash,
                                                       "effective_from": "2026-01-01"}, follow_redirects=False)
    assert done.status_code == 303
    assert h.client.app.state.web.pack("xupu").name == "溆浦县(新)"
    assert (paths.policies_dir() / "xupu" / "pack.yaml").read_text(encoding="utf-8") == original


def test_zip_upload_of_a_whole_pack(h):
    _officer(h, "taishan")
    folder = paths.policies_dir() / "taishan"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*.yaml"):
            if "tests" not in path.relative_to(folder).parts:
                archive.write(path, f"taishan/{path.relative_to(folder)}")
    review = _upload(h, "taishan", "taishan.zip", buffer.getvalue())
    assert review.status_code == 200 and "没有变化" in review.text


def test_zip_with_a_path_outside_is_refused(h):
    _officer(h)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.yaml", "x: 1")
    page = _upload(h, "xupu", "evil.zip", buffer.getvalue())
    assert page.status_code == 422 and "不允许" in page.text


def test_zip_that_expands_past_the_limit_is_refused_unread(h):
    """A zip bomb: a few KiB that would expand to 16 MiB is refused by its declared sizes."""
    _officer(h)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xupu/pack.yaml", "#" * (16 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000
    page = _upload(h, "xupu", "bomb.zip", buffer.getvalue())
    assert page.status_code == 422 and "解压后超过" in page.text


def test_traceability_is_html(h):
    _officer(h)
    page = h.client.get("/admin/xupu/traceability")
    assert page.status_code == 200 and "<table" in page.text and "Traceability" in page.text


def test_clerk_cannot_open_the_console(h):
    h.sign_in(h.staff("xupu", "clerk"))
    assert h.client.get("/admin/xupu/").status_code == 403


def test_officer_of_another_county_cannot(h):
    _officer(h, "jiangyin")
    assert h.client.get("/admin/xupu/").status_code == 403
