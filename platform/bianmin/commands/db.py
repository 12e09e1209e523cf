"""``bianmin db upgrade``: create or update the database schema (数据库升级).

    bianmin db upgrade [--db URL]

Applies the numbered migrations not yet applied (docs/persistence.md), one line per migration,
and says so when the schema is already current. Exit status 2 when the database is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database schema (数据库): upgrade",
                                   description="Manage the database schema.")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = sub.add_parser("upgrade", help="apply pending schema migrations",
                             description="Apply the schema migrations not yet applied; running it "
                             "again does nothing.")
    upgrade.add_argument("--db", metavar="URL", help="sqlite:///path/file.sqlite3 or postgres://user@host/db "
                         "(default: $BIANMIN_DB, else var/bianmin.sqlite3)")
    upgrade.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from ..store import db, migrate

    async def run() -> list[migrate.Migration]:
        await db.init_db(args.db, upgrade=False)
        try:
            return await migrate.upgrade(report=print)
        finally:
            await db.close_db()

    try:
        done = asyncio.run(run())
    except (OSError, db.DatabaseURLError) as exc:
        print(f"bianmin db: error: {exc}", file=sys.stderr)
        return 2
    if not done:
        print("schema is up to date")
    return 0
