"""`bianmin serve [--host H] [--port P] [--db URL] [--demo]`: run the web application (uvicorn)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the web application", description=(
        "Serve the staff desk, public pages, policy-officer console and JSON API. The first run "
        "creates the database and loads every pack in policies/; --demo adds demo accounts "
        "(passwords printed once) and sample cases."))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", metavar="URL", default=None, help=(
        "database URL as Tortoise writes it: sqlite:///var/lib/bianmin/db.sqlite3 or "
        "postgres://user@127.0.0.1:5432/bianmin (default: $BIANMIN_DB, else var/bianmin.sqlite3)"))
    parser.add_argument("--demo", action="store_true", help="create demo staff and sample cases on first run")
    parser.add_argument("--https-only", action="store_true", help="mark the session cookie Secure")
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from ..web import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(args.db, demo=args.demo, https_only=args.https_only)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=False)
    return 0
