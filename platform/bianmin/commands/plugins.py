"""`bianmin plugins` and `bianmin outbox`: what is loaded, and what is waiting to be delivered.

    bianmin plugins [--format text|json]
    bianmin outbox [--failed] [--dispatch] [--retry ID] [--limit N] [--db URL] [--format text|json]

`bianmin plugins` loads the same set `bianmin check` and the server load (docs/plugins.md,
"Discovery"): exit status 0, or 2 when a plugin cannot be loaded (the message names it).
`bianmin outbox` lists undelivered rows (`--failed`: only those whose last attempt failed, exit
status 1 when there are any, for monitoring), delivers due rows now (`--dispatch`), or makes a
row due again (`--retry`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("plugins", help="list loaded plugins and what each provides",
                            description="List the plugins loaded from the built-ins, installed packages "
                            "(entry points) and BIANMIN_PLUGINS / the server config, and what each provides.")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run_plugins)

    outbox = sub.add_parser("outbox", help="notifications waiting for delivery, and failures",
                            description="List undelivered outbox rows; deliver due rows; retry a row.")
    outbox.add_argument("--failed", action="store_true", help="only rows whose last attempt failed")
    outbox.add_argument("--dispatch", action="store_true", help="deliver the due rows now")
    outbox.add_argument("--retry", type=int, metavar="ID", help="make row ID due now (also one given up)")
    outbox.add_argument("--limit", type=int, default=100, metavar="N", help="rows at most (default 100)")
    outbox.add_argument("--db", metavar="URL", help="database URL (default: $BIANMIN_DB, else var/bianmin.sqlite3)")
    outbox.add_argument("--format", choices=("text", "json"), default="text")
    outbox.set_defaults(func=run_outbox)


def run_plugins(args: argparse.Namespace) -> int:
    from ..plugins import PluginError, get_plugins

    try:
        plugins = get_plugins()
    except PluginError as exc:
        print(f"bianmin plugins: error: {exc}", file=sys.stderr)
        return 2
    loaded, available = plugins.describe(), plugins.available()
    if args.format == "json":
        print(json.dumps({"plugins": loaded, "available": available, "config": plugins.config.source},
                         ensure_ascii=False, indent=2))
        return 0
    for plugin in loaded:
        version = f" {plugin['version']}" if plugin["version"] else ""
        print(f"{plugin['name']}{version} ({plugin['origin']})")
        for registry, names in plugin["provides"].items():
            print(f"  {registry.replace('_', ' ')}: {', '.join(names)}")
        others = [h for h in plugin["hooks"] if not h.startswith(("register_", "extend_"))]
        if others:
            print(f"  hooks: {', '.join(others)}")
    if available:
        print(f"available, not enabled: {', '.join(available)} (BIANMIN_PLUGINS or `plugins:` in the server config)")
    return 0


def run_outbox(args: argparse.Namespace) -> int:
    from .. import notify
    from ..store import db

    async def run() -> tuple[Any, list[Any]]:
        await db.init_db(args.db)
        try:
            now = datetime.now().replace(microsecond=0)
            if args.retry is not None:
                return await notify.retry(args.retry, now), []
            if args.dispatch:
                return await notify.dispatch_due(now, args.limit), []
            rows = await (notify.failing if args.failed else notify.pending)(args.limit)
            return None, rows
        finally:
            await db.close_db()

    try:
        outcome, rows = asyncio.run(run())
    except (OSError, db.DatabaseURLError) as exc:
        print(f"bianmin outbox: error: {exc}", file=sys.stderr)
        return 2
    if args.retry is not None:
        print(f"row {args.retry} is due now" if outcome else f"no undelivered row {args.retry}")
        return 0 if outcome else 1
    if args.dispatch:
        print(outcome)
        return 0
    if args.format == "json":
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(_line(row))
        print(f"{len(rows)} undelivered row(s){' with failures' if args.failed else ''}", file=sys.stderr)
    return 1 if args.failed and rows else 0


def _line(row: Any) -> str:
    when = "given up" if row.gave_up else f"next {row.next_attempt_at:%Y-%m-%d %H:%M:%S}"
    error = f": {row.last_error}" if row.last_error else ""
    return f"#{row.id} {row.kind} {row.jurisdiction or '-'} attempts={row.attempts} {when}{error}"
