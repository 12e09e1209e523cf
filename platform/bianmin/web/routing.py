"""Declaring routes with their access rule; every endpoint runs behind :func:`guard`.

``page(...)`` declares an HTML route (session cookie, CSRF on unsafe methods), ``api(...)`` a
JSON route (bearer token, no cookies). The route list in ``routes/__init__.py`` is the single
table the app, the OpenAPI document and the authorization matrix test are built from.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import auth, authz, csrf, trail
from .authz import Access, Endpoint
from .context import Web
from .i18n import languages
from .rendering import error_json, error_page


def web_of(request: Request) -> Web:
    return request.app.state.web


def guard(endpoint: Endpoint, access: Access, *, api: bool) -> Endpoint:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        web = web_of(request)
        jurisdiction = request.path_params.get("jurisdiction")
        pack = None
        if jurisdiction is not None:
            pack = web.pack(jurisdiction)
            if pack is None:
                return _refuse(request, api, 404, "not_found", "errors.not_found")
        request.state.pack = pack
        if not api:
            _choose_language(request)
        principal = None
        if access.kind != "public" or api or "session" in request.scope:
            principal = await auth.principal_of(request, api=api, secret=web.secret, cache=web.principals)
        request.state.principal = principal
        if not authz.decide(principal, access, jurisdiction, pack):
            if principal is None:
                if api:
                    return error_json(401, "unauthenticated", "需要有效的 API 令牌 (Authorization: Bearer)",
                                      headers={"WWW-Authenticate": "Bearer"})
                return RedirectResponse(f"/staff/sign-in?next={request.url.path}", status_code=303)
            await trail.record("denied", request, jurisdiction=jurisdiction or "")
            return _refuse(request, api, 403, "forbidden", "errors.forbidden")
        if not api and request.method not in csrf.SAFE_METHODS and not await csrf.verify(request):
            await trail.record("csrf_refused", request, jurisdiction=jurisdiction or "")
            return error_page(request, 403, "errors.csrf")
        return await endpoint(request)

    return authz.attach(guarded, access, api=api)


def _choose_language(request: Request) -> None:
    wanted = request.query_params.get("lang")
    if wanted and wanted in languages():
        request.session["lang"] = wanted


def _refuse(request: Request, api: bool, status: int, code: str, key: str) -> Response:
    if api:
        return error_json(status, code, {"not_found": "没有这个资源", "forbidden": "无权访问"}[code])
    return error_page(request, status, key)


def page(path: str, endpoint: Endpoint, access: Access, methods: Sequence[str] = ("GET",),
         name: str | None = None) -> Route:
    return Route(path, guard(endpoint, access, api=False), methods=list(methods), name=name)


def api(path: str, endpoint: Endpoint, access: Access, methods: Sequence[str] = ("GET",),
        name: str | None = None) -> Route:
    return Route(path, guard(endpoint, access, api=True), methods=list(methods), name=name)
