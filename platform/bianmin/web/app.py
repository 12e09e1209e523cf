"""The application factory: packs, database, middleware, routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from .. import paths
from ..packs import Registry
from ..store import tortoise_config, upgrade
from . import auth, uploads
from .context import Web, load_secret
from .middleware import SecurityMiddleware

STATIC = Path(__file__).with_name("static")


def create_app(db_url: str | None = None, *, policies: Path | None = None, secret: str | None = None,
               var: Path | None = None, demo: bool = False, https_only: bool = False) -> Starlette:
    """The whole web application. ``demo`` creates demo staff and cases on first run."""
    from ..store import default_url
    from .routes import all_routes

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
            yield

    middleware = [
        Middleware(SecurityMiddleware),
        Middleware(SessionMiddleware, secret_key=web.secret, session_cookie="bianmin_session",
                   max_age=auth.SESSION_MAX_AGE, same_site="lax", https_only=https_only),
    ]
    routes = [*all_routes(), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.web = web
    return app
