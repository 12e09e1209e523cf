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
from ...forms.validators import check_phone
from ...store import archive, db
from ...store.models import Staff
from .. import trail, uploads
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
    await trail.record("pack_upload", request, file=file.filename, problems=len(checked.problems),
                       hash=checked.pack.content_hash if checked.pack is not None else "")
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
    await trail.record("pack_activate", request, hash=dated.content_hash, version=dated.version,
                       effective_from=when.isoformat())
    return RedirectResponse(f"/admin/{pack.id}/?activated={when.isoformat()}", status_code=303)


async def phones(request: Request) -> Response:
    """Admins set the phone numbers of their jurisdiction's staff (printed as the clerk's on
    documents: the receipt slip, the first-inquiry receipt)."""
    pack = request.state.pack
    staff = await Staff.filter(roles__jurisdiction_id=pack.id).distinct().order_by("username")
    problems: list[str] = []
    saved = False
    if request.method == "POST":
        form = await request.form()
        changes = []
        for member in staff:
            field = f"phone.{member.id}"
            if field not in form:
                continue
            phone = str(form.get(field) or "").strip()[:32]
            if phone and check_phone(phone) is not None:
                problems.append(f"{member.display_name}: {phone}")
            elif phone != member.phone:
                changes.append((member, phone))
        if not problems:
            async with db.transaction() as tx:  # the numbers and their audit entries together
                for member, phone in changes:
                    await Staff.filter(id=member.id).using_db(tx).update(phone=phone)
                    await trail.record("staff_phone", request, tx=tx, staff=member.id, phone=phone)
                    member.phone = phone
            web_of(request).principals.forget()
            saved = True
    return render(request, "admin/phones.html", status=422 if problems else 200, pack=pack, staff=staff,
                  problems=problems, saved=saved)


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
        page(j + "/phones", phones, roles("admin"), ("GET", "POST"), name="admin_phones"),
    ]
