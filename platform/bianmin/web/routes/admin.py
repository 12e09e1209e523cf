"""Policy-officer console: upload a pack (or one changed file), see its problems with file:line,
the diff against the version in force, activate it from a date; traceability of clauses to rules.

Uploads are checked in a temporary copy of the policies tree (uploads.py) and never written
into ``policies/``. Activation records a PackVersion row through the store.
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import paths
from ...packs.diff import diff
from ...store import archive
from .. import uploads
from ..auth import audit
from ..authz import roles
from ..markdown import to_html
from ..rendering import render
from ..routing import page, web_of

OFFICERS = roles("policy_officer", "admin")
MAX_UPLOAD = 8 * 1024 * 1024


async def console(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    return render(request, "admin/console.html", pack=pack, versions=web.registry.versions(pack.id),
                  activated=request.query_params.get("activated"))


async def upload(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    form = await request.form(max_part_size=MAX_UPLOAD)
    try:
        file = form.get("pack")
        if file is None or isinstance(file, str) or not file.filename:
            return render(request, "admin/console.html", status=422, pack=pack,
                          versions=web.registry.versions(pack.id), problems=["请选择要上传的文件"], activated=None)
        content = await file.read()
    finally:
        await form.close()
    try:
        checked = uploads.check_upload(web, pack.id, file.filename, content)
    except uploads.UploadError as exc:
        checked = uploads.Checked(pack.id, None, [str(exc)])
    audit("pack_upload", request, jurisdiction=pack.id, file=file.filename, problems=len(checked.problems))
    if checked.pack is None:
        return render(request, "admin/console.html", status=422, pack=pack, versions=web.registry.versions(pack.id),
                      problems=checked.problems, filename=file.filename, activated=None)
    rows = diff(pack, checked.pack)
    return render(request, "admin/review.html", pack=pack, new=checked.pack, rows=rows,
                  today=dt.date.today().isoformat(), filename=file.filename)


async def activate(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    form = await request.form()
    new = uploads.pending(web, pack.id, str(form.get("hash") or ""))
    try:
        when = dt.date.fromisoformat(str(form.get("effective_from") or ""))
    except ValueError:
        when = None
    if new is None or when is None:
        return render(request, "error.html", status=422, status_code=422, message="上传已失效或生效日期无效, 请重新上传")
    dated = uploads.activate(web, new, when)
    await archive.archive_versions([dated], web.policies, uploads=web.uploads)
    audit("pack_activate", request, jurisdiction=pack.id, hash=dated.content_hash, effective_from=when)
    return RedirectResponse(f"/admin/{pack.id}/?activated={when.isoformat()}", status_code=303)


async def traceability(request: Request) -> Response:
    pack = request.state.pack
    path = paths.home() / "docs" / "traceability" / f"{pack.id}.md"
    body = to_html(path.read_text(encoding="utf-8")) if path.is_file() else None
    return render(request, "admin/traceability.html", pack=pack, body=body)


def routes() -> list[Route]:
    j = "/admin/{jurisdiction}"
    return [
        page(j + "/", console, OFFICERS, name="admin_console"),
        page(j + "/upload", upload, OFFICERS, ("POST",), name="admin_upload"),
        page(j + "/activate", activate, OFFICERS, ("POST",), name="admin_activate"),
        page(j + "/traceability", traceability, OFFICERS, name="admin_traceability"),
    ]
