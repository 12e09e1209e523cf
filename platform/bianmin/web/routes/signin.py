"""Signing in and out. The session is cleared on both (no fixation), and each is audited.

The session holds the account's session epoch at sign-in; signing out bumps it (auth.py), so
the cookie is dead server-side too, not only in this browser: a copy of it opens nothing."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...store import db
from ...store.models import RoleAssignment, Staff
from .. import auth, trail
from ..authz import PUBLIC, STAFF
from ..rendering import render
from ..routing import page, web_of


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/staff/"


async def sign_in(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "staff/sign_in.html", next=_safe_next(request.query_params.get("next")))
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    staff = await auth.authenticate(username, str(form.get("password") or "")[:256])
    target = _safe_next(str(form.get("next") or ""))
    if staff is None:
        known = await Staff.get_or_none(username=username)
        await trail.record("sign_in_failed", request, staff_id=known.id if known else None, username=username,
                           jurisdictions=await _jurisdictions(known.id) if known else None)
        return render(request, "staff/sign_in.html", status=401, next=target, failed=True, username=username)
    lang = request.session.get("lang")
    request.session.clear()
    staff_id = staff.id
    request.session["uid"] = staff_id
    request.session["epoch"] = staff.session_epoch
    if lang:
        request.session["lang"] = lang
    await trail.record("sign_in", request, staff_id=staff_id, username=username,
                       jurisdictions=await _jurisdictions(staff_id))
    return RedirectResponse(target, status_code=303)


async def _jurisdictions(staff_id: int) -> list[str]:
    """Where a sign-in is listed: every jurisdiction the account holds a role in."""
    return list(await RoleAssignment.filter(staff_id=staff_id).distinct().values_list("jurisdiction_id", flat=True))


async def sign_out(request: Request) -> Response:
    principal = request.state.principal
    async with db.transaction() as tx:  # the revocation and its audit entry together
        await auth.end_sessions(principal.id, tx)
        await trail.record("sign_out", request, tx=tx, jurisdictions=principal.jurisdictions())
    web_of(request).principals.forget(principal.id)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def routes() -> list[Route]:
    return [
        page("/staff/sign-in", sign_in, PUBLIC, ("GET", "POST"), name="sign_in"),
        page("/staff/sign-out", sign_out, STAFF, ("POST",), name="sign_out"),
    ]
