"""Bad input that is not random: bodies and uploads over the limits, and template injection
through form values and pack templates. Refused or contained, never stored, never a 5xx."""

from __future__ import annotations

import http.client
import io
import shutil
import zipfile
from pathlib import Path

import pytest

import reliability_harness as rh

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
# Classic server-side template injection payloads; each tries to leave a mark in PWNED.
PWNED = Path("/tmp/bianmin-reliability-pwned")
PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch " + str(PWNED) + "').read() }}",
    "{{ lipsum.__globals__['os'].system('touch " + str(PWNED) + "') }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "{{ config.items() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ range.__call__ }}{{ 'a'|attr('__class__') }}",
    "{% set x = namespace() %}{{ x.__init__.__globals__ }}",
]


def _count(db: rh.Database, jurisdiction: str) -> int:
    return db.query(f"SELECT count(*) AS n FROM records WHERE jurisdiction_id = '{jurisdiction}'")[0]["n"]


def _chunked(port: int, path: str, headers: dict[str, str], size: int) -> int | None:
    """A body streamed without Content-Length (chunked): the limit must cut it off too."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", path)
        for k, v in {**headers, "Transfer-Encoding": "chunked", "Content-Type": "application/json"}.items():
            conn.putheader(k, v)
        conn.endheaders()
        chunk = b" " * 65536
        try:
            for _ in range(size // len(chunk) + 1):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before reading everything
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def test_oversized_api_bodies_are_refused_and_nothing_stored(shared, figures):
    server, db, token = shared.server, shared.db, shared.tokens["xupu"]
    _pack, item = rh.promised_item()
    before = _count(db, "xupu")
    body = rh.intake_body(item)
    body["data"]["note"] = "长" * (MIB // 3 + 10)  # valid JSON, valid case, only too big
    big = server.api("POST", "/api/v1/xupu/cases", token, body)
    assert big.status == 413 and big.json()["error"]["code"] == "too_large"
    lying = rh.request(server.port, "POST", "/api/v1/xupu/cases", headers={
        "Authorization": f"Bearer {token}", "Content-Length": "99999999999", "Content-Type": "application/json"},
        raw=b"{}")
    assert lying.status == 413
    assert _chunked(server.port, "/api/v1/xupu/cases", {"Authorization": f"Bearer {token}"}, 2 * MIB) == 413
    assert _count(db, "xupu") == before
    figures.inputs += 3


def _officer(shared) -> rh.Browser:
    name = f"officer-{shared.db.backend}"
    if not shared.db.query(f"SELECT id FROM staff WHERE username = '{name}'"):
        rh.make_staff(shared.db, [(name, [("xupu", "policy_officer")])])
    browser = rh.Browser(shared.server.port)
    assert browser.sign_in(name).status == 303
    return browser


def _kept(shared) -> list[str]:
    folder = shared.server.var / "packs"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _pack_zip(extra: dict[str, bytes]) -> bytes:
    """The xupu pack as a zip, with ``extra`` files laid over it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((ROOT / "policies" / "xupu").rglob("*")):
            rel = path.relative_to(ROOT / "policies")
            if path.is_file() and "tests" not in rel.parts and path.suffix != ".md" and str(rel) not in extra:
                z.write(path, str(rel))
        for name, content in extra.items():
            z.writestr(name, content)
    return buffer.getvalue()


def test_oversized_pack_upload_is_refused_and_nothing_kept(shared, figures):
    browser = _officer(shared)
    kept = _kept(shared)
    token = browser.csrf("/admin/xupu/")
    reply = browser.upload("/admin/xupu/upload", {"csrf_token": token}, "pack", "xupu.zip", b"\0" * (8 * MIB + 1))
    assert reply.status == 413
    assert _kept(shared) == kept
    figures.inputs += 1


def test_a_zip_that_expands_past_the_limit_is_refused(shared_servers, figures):
    """A small zip (tens of KiB) with a file that expands to 16 MiB, twice the upload limit:
    refused for its expanded size, not written out and parsed (an 8 MiB zip of this kind expands
    to gigabytes)."""
    shared = shared_servers("postgres")
    browser = _officer(shared)
    kept = _kept(shared)
    bomb = _pack_zip({"xupu/comments.yaml": b"#" * (16 * MIB)})
    assert len(bomb) < 1 * MIB
    token = browser.csrf("/admin/xupu/")
    reply = browser.upload("/admin/xupu/upload", {"csrf_token": token}, "pack", "xupu.zip", bomb)
    figures.inputs += 1
    assert reply.status in (413, 422), reply.status
    assert "zip" in reply.body.decode() and _kept(shared) == kept


@pytest.mark.parametrize("payload", PAYLOADS[:4], ids=range(4))
def test_injection_in_an_uploaded_pack_template_is_refused(shared_servers, payload, figures):
    """A template in an uploaded pack trying to reach Python: the console lists problems (422) or
    keeps a pack whose rendering the sandbox stops; never a 5xx, never a side effect."""
    shared = shared_servers("postgres")
    browser = _officer(shared)
    archive = _pack_zip({"xupu/templates/receipt_slip.html.j2": payload.encode()})
    token = browser.csrf("/admin/xupu/")
    reply = browser.upload("/admin/xupu/upload", {"csrf_token": token}, "pack", "xupu.zip", archive)
    figures.inputs += 1
    assert reply.status in (200, 422), reply.status
    assert not PWNED.exists()


@pytest.mark.parametrize("payload", PAYLOADS[1:7], ids=range(1, 7))
def test_injection_in_a_pack_template_is_contained_by_the_sandbox(payload, tmp_path, figures):
    """The checker refuses the template, or the sandbox refuses to render it: nothing runs."""
    from bianmin.documents.render import DocumentError, render_document
    from bianmin.packs import Compiler

    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("tests", "*.md"))
    own = policies / "xupu" / "templates"
    own.mkdir(parents=True, exist_ok=True)
    (own / "receipt_slip.html.j2").write_text(payload, encoding="utf-8")
    figures.inputs += 1
    pack, problems = Compiler(policies).try_compile(policies / "xupu")
    if pack is not None:
        contexts = _document_contexts()
        _p, context, kwargs = contexts.context("xupu", "receipt_slip")
        with pytest.raises(DocumentError):
            render_document(pack, "receipt_slip", context, **kwargs, policies=policies)
    else:
        assert any("receipt_slip" in str(p) for p in problems), problems
    assert not PWNED.exists()


def _document_contexts():
    """The documents tests' contexts (tests/documents/conftest.py), loaded by path."""
    import importlib.util
    import sys

    name = "_bianmin_documents_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "documents" / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name].Contexts()


def test_template_syntax_in_form_values_is_printed_not_run(shared, figures):
    """What an applicant types is data: a name full of template syntax and HTML is stored and
    printed on the receipt as typed (escaped), never evaluated."""
    server, db, token = shared.server, shared.db, shared.tokens["xupu"]
    _pack, item = rh.promised_item()
    for payload in ["{{ 7*7 }}张", "{% raw %}{{ x }}{% endraw %}", "<script>alert(1)</script>", PAYLOADS[1]]:
        figures.inputs += 1
        body = rh.intake_body(item, payload)
        created = server.api("POST", "/api/v1/xupu/cases", token, body)
        if created.status == 422:  # refused by the form's own rules (length, characters): fine
            continue
        assert created.status == 201, created.body[:300]
        number = created.json()["number"]
        assert created.json()["subject"]["applicant_name"] == payload
        receipt = db.query("SELECT d.content FROM documents d JOIN records r ON r.id = d.record_id "
                           f"WHERE r.jurisdiction_id = 'xupu' AND r.number = '{number}'")
        assert receipt, "no receipt stored"
        html = receipt[0]["content"]
        escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
        assert escaped in html, f"{payload!r} not printed as typed"
        assert "<script>alert" not in html and ">49张" not in html
    assert not PWNED.exists()
