"""`bianmin serve [--host H] [--port P] [--workers N] [--db URL] [--demo]`: run the web application.

Every flag has an environment variable (config.py, docs/deploy.md#environment); a flag wins over
its variable. With ``--workers N`` > 1 uvicorn starts N worker processes, each building the app
from the environment (``bianmin.web.app:app_from_env``): this command resolves the settings once,
checks them, prepares the database (migrations, packs, demo accounts) in this process so the
workers do not race to, and hands the settings down as environment variables.
"""

from __future__ import annotations

import argparse
import os
import sys

FACTORY = "bianmin.web.app:app_from_env"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the web application", description=(
        "Serve the staff desk, public pages, policy-officer console and JSON API. The first run "
        "creates the database and loads every pack in policies/; --demo adds demo accounts "
        "(passwords printed once) and sample cases. Settings: flags, else BIANMIN_* environment "
        "variables (docs/deploy.md)."))
    parser.add_argument("--host", default=None, help="listen address (default: $BIANMIN_HOST, else 127.0.0.1)")
    parser.add_argument("--port", type=_int("port", 1, 65535), default=None,
                        help="listen port (default: $BIANMIN_PORT, else 8000)")
    parser.add_argument("--workers", type=_int("worker count", 1, 64), default=None, metavar="N",
                        help="worker processes (default: $BIANMIN_WORKERS, else 1); more than one "
                        "needs BIANMIN_SECRET_KEY")
    parser.add_argument("--db", metavar="URL", default=None, help=(
        "database URL as Tortoise writes it: sqlite:///var/lib/bianmin/db.sqlite3 or "
        "postgres://user@127.0.0.1:5432/bianmin (default: $BIANMIN_DB_URL, else var/bianmin.sqlite3)"))
    parser.add_argument("--demo", action="store_true", help="create demo staff and sample cases on first run")
    parser.add_argument("--https-only", action="store_true", default=None,
                        help="mark the session cookie Secure (default: $BIANMIN_HTTPS_ONLY)")
    parser.add_argument("--sweep-interval", type=_int("interval", 0, 7 * 24 * 3600), default=None,
                        metavar="SECONDS", help="run the deadline sweep in each worker every SECONDS; "
                        "0 disables it (default: $BIANMIN_SWEEP_INTERVAL, else 300)")
    parser.add_argument("--log-format", choices=("text", "json"), default=None,
                        help="json: one JSON object per line (default: $BIANMIN_LOG_FORMAT, else text)")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error", "critical"),
                        default=None, help="default: $BIANMIN_LOG_LEVEL, else info")
    parser.set_defaults(func=run)


def _int(what: str, low: int, high: int):
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"not a {what} ({low}-{high}): {text!r}")
        return int(text)
    return parse


def settings_of(args: argparse.Namespace, environ=None):
    """The settings of the flags given, else of the environment."""
    from ..config import Settings

    return Settings.from_env(environ, host=args.host, port=args.port, workers=args.workers, db_url=args.db,
                             https_only=args.https_only, sweep_interval=args.sweep_interval,
                             log_format=args.log_format, log_level=args.log_level)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from .. import logs
    from ..config import ConfigError

    try:
        settings = settings_of(args)
    except ConfigError as exc:
        print(f"bianmin serve: error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_format, settings.log_level)
    options = dict(host=settings.host, port=settings.port, log_config=logs.logging_config(
        settings.log_format, settings.log_level), access_log=False,  # RequestMiddleware logs requests
        proxy_headers=bool(settings.forwarded_allow_ips), forwarded_allow_ips=settings.forwarded_allow_ips or None,
        server_header=False, timeout_graceful_shutdown=20)
    if settings.workers == 1:
        from ..web import create_app

        app = create_app(settings.db_url, policies=settings.policies, secret=settings.secret_key,
                         var=settings.var, demo=args.demo, https_only=settings.https_only,
                         sweep_interval=settings.sweep_interval, max_body=settings.max_body,
                         max_upload=settings.max_upload)
        uvicorn.run(app, **options)
        return 0
    try:
        _prepare(settings, demo=args.demo)
    except (OSError, ConnectionError) as exc:
        print(f"bianmin serve: error: cannot reach the database: {exc}", file=sys.stderr)
        return 2
    # The workers are started afresh (spawn) and read their settings from here; the older
    # names go, or a flag's value would contradict them.
    from ..config import ALIASES

    for old in ALIASES.values():
        os.environ.pop(old, None)
    os.environ.update(settings.to_env())
    uvicorn.run(FACTORY, factory=True, workers=settings.workers, **options)
    return 0


def _prepare(settings, *, demo: bool) -> None:
    """Migrations, packs and (``--demo``) demo accounts, once, before the workers start."""
    import asyncio

    from ..packs import Registry
    from ..store import db
    from ..web import bootstrap
    from ..web.context import Web

    async def go() -> None:
        registry, problems = Registry.load(settings.policies)
        web = Web(registry, problems, settings.policies, settings.var / "packs", settings.secret_key or "",
                  settings.db_url, settings.https_only)
        await db.init_db(settings.db_url)
        try:
            await bootstrap.register_packs(web)
            if demo:
                await bootstrap.demo(web)
        finally:
            await db.close_db()

    asyncio.run(go())
