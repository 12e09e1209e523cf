"""The application factory: packs, database, middleware, routes.

``create_app(...)`` takes its settings as arguments (the tests); ``app_from_env()`` is the factory
uvicorn calls in each worker process of ``bianmin serve``, with the settings of the environment
(config.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
from html import escape
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from .. import paths
from ..calendar import CalendarCoverageError
from ..packs import Registry
from ..store import tortoise_config, upgrade
from . import auth, uploads
from .context import Web, load_secret
from .middleware import DEFAULT_LIMIT, UPLOAD_LIMIT, RequestMiddleware, SecurityMiddleware

STATIC = Path(__file__).with_name("static")


def create_app(db_url: str | None = None, *, policies: Path | None = None, secret: str | None = None,
               var: Path | None = None, demo: bool = False, https_only: bool = False,
               sweep_interval: int = 0, max_body: int = DEFAULT_LIMIT, max_upload: int = UPLOAD_LIMIT) -> Starlette:
    """The whole web application. ``demo`` creates demo staff and cases on first run;
    ``sweep_interval`` > 0 runs the deadline sweep every so many seconds in the background."""
    from ..store import default_url
    from .routes import all_routes, health

    policies = policies or paths.policies_dir()
    var = var or paths.home() / "var"
    registry, problems = Registry.load(policies)
    web = Web(registry, problems, policies, var / "packs", secret or load_secret(var),
              db_url or default_url(), https_only)
    uploads.load_accepted(web)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(web.db_url), generate_schemas=False):
            await upgrade()
            from . import bootstrap

            await bootstrap.register_packs(web)
            if demo:
                await bootstrap.demo(web)
            sweeping = asyncio.create_task(_sweep_every(sweep_interval, web)) if sweep_interval > 0 else None
            app.state.started = True
            try:
                yield
            finally:
                app.state.started = False
                if sweeping is not None:
                    sweeping.cancel()
                    await asyncio.gather(sweeping, return_exceptions=True)

    middleware = [
        Middleware(RequestMiddleware),
        Middleware(SecurityMiddleware, max_body=max_body, max_upload=max_upload),
        Middleware(SessionMiddleware, secret_key=web.secret, session_cookie="bianmin_session",
                   max_age=auth.SESSION_MAX_AGE, same_site="lax", https_only=https_only),
    ]
    routes = [*health.routes(), *all_routes(), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={CalendarCoverageError: _no_calendar})
    app.state.web = web
    app.state.started = False
    return app


async def _no_calendar(request: Request, exc: Exception) -> Response:
    """A deadline past the holiday data in a pack that does not allow provisional ones: the
    transaction rolled back, so nothing was stored; say what is missing instead of a 500."""
    message = f"无法计算期限: {exc}"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"code": "calendar_coverage", "message": message, "fields": []}},
                            status_code=422)
    return HTMLResponse(f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>422</title>'
                        f'<link rel="stylesheet" href="/static/bianmin.css"></head><body><main><h1>422</h1>'
                        f'<p class="notice bad">{escape(message)}</p><p>未保存任何内容。</p>'
                        f'<p><a href="javascript:history.back()">返回</a></p></main></body></html>', status_code=422)


def app_from_env() -> Starlette:
    """The app of one worker process of ``bianmin serve``: settings from the environment."""
    from ..config import Settings

    settings = Settings.from_env()  # checked by `bianmin serve` already; demo data made there too
    return create_app(settings.db_url, policies=settings.policies, secret=settings.secret_key,
                      var=settings.var, https_only=settings.https_only, sweep_interval=settings.sweep_interval,
                      max_body=settings.max_body, max_upload=settings.max_upload)


async def _sweep_every(interval: int, web: Web) -> None:
    """The deadline sweep (and the deductions it proposes) every ``interval`` seconds, as
    ``bianmin sweep`` does from cron. Several workers and hosts may all run it: records are
    claimed with SKIP LOCKED and every effect happens once (docs/persistence.md)."""
    from ..scoring import after_sweep
    from ..store import sweeper

    # Spread the workers' first runs over the interval, so they do not all start at once.
    await asyncio.sleep(random.uniform(0.1, 1.0) * interval)
    lines = _LogLines(logging.getLogger("bianmin.sweep"))
    await sweeper.run_periodic(interval, registry=web.registry, log=lines,
                               after=after_sweep(web.registry, log=lines))


class _LogLines:
    """A text stream whose lines go to a logger (the sweeper prints its reports)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.logger.log(logging.WARNING if ": failed:" in line else logging.INFO, line)
        return len(text)

    def flush(self) -> None:
        pass
