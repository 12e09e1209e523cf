"""Health and readiness for load balancers and orchestrators (docs/deploy.md#health).

``GET /healthz``: the process answers (no database): restart it when this fails.
``GET /readyz``: the database answers within ``READY_TIMEOUT`` seconds, its schema is at the
latest migration and the packs are loaded: send it traffic only while this is 200; a 503 says
why in ``{"status": "unavailable", "reason": ...}``.

Both are open to anyone, outside the guard (no session, CSRF or rate limit), and say nothing
about cases or people. Neither is cached.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .. import authz

READY_TIMEOUT = 2.0  # seconds: a load balancer's probe gives up soon after
NO_STORE = {"cache-control": "no-store"}


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> JSONResponse:
    reason = await _not_ready(request)
    if reason:
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503, headers=NO_STORE)
    return JSONResponse({"status": "ready"}, headers=NO_STORE)


async def _not_ready(request: Request) -> str | None:
    from ...store import db, migrate

    if not getattr(request.app.state, "started", False):
        return "starting: the database and packs are not set up yet"
    web = request.app.state.web
    if not web.registry.jurisdictions():
        return "no policy pack loaded (see `bianmin check` on the policies folder)"
    latest = migrate.available()[-1].version
    try:
        rows = await asyncio.wait_for(
            db.fetch(db.connection(), "SELECT MAX(version) AS v FROM schema_version"), READY_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason says which
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return f"database did not answer within {READY_TIMEOUT:g} s"
        return f"database unreachable: {type(exc).__name__}"
    current = rows[0]["v"] if rows else None
    if current != latest:
        return f"database schema at version {current}, this release needs {latest}: run `bianmin db upgrade`"
    return None


def routes() -> list[Route]:
    return [
        Route("/healthz", authz.attach(healthz, authz.PUBLIC, api=True), methods=["GET"], name="healthz"),
        Route("/readyz", authz.attach(readyz, authz.PUBLIC, api=True), methods=["GET"], name="readyz"),
    ]
