"""Signing in and out. The session is cleared on both (no fixation), and each is audited."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import auth
from ..authz import PUBLIC, STAFF
from ..rendering import render
from ..routing import page


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/staff/"


async def sign_in(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "staff/sign_in.html", next=_safe_next(request.query_params.get("next")))
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    staff_id = await auth.authenticate(username, str(form.get("password") or "")[:256])
    target = _safe_next(str(form.get("next") or ""))
    if staff_id is None:
        auth.audit("sign_in_failed", request, username=username)
        return render(request, "staff/sign_in.html", status=401, next=target, failed=True, username=username)
    lang = request.session.get("lang")
    request.session.clear()
    request.session["uid"] = staff_id
    if lang:
        request.session["lang"] = lang
    auth.audit("sign_in", request, staff=staff_id, username=username)
    return RedirectResponse(target, status_code=303)


async def sign_out(request: Request) -> Response:
    auth.audit("sign_out", request)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def routes() -> list[Route]:
    return [
        page("/staff/sign-in", sign_in, PUBLIC, ("GET", "POST"), name="sign_in"),
        page("/staff/sign-out", sign_out, STAFF, ("POST",), name="sign_out"),
    ]
