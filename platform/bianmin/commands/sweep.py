"""``bianmin sweep``: one run of the deadline sweeper (时限巡检), for cron.

    bianmin sweep [--db URL] [--now DATETIME] [--batch N]

Examines the open records that are due (their next check has come: a transition, a warning
level or deadline reached, a new calendar), moves warning levels, fires due timers
(notifications) and records automatic violations, each exactly once however often or
concurrently it runs (docs/persistence.md), then proposes a
deduction for each violation found (docs/accountability.md). Progress goes to
stderr every 10,000 records; the summary line to stdout. Exit status 1 when some records could
not be computed (named on stderr), 2 when the database is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sweep", help="deadline sweep: warnings, timers, violations (时限巡检)",
                                   description="Recompute the clocks of the open records that are due "
                                   "(next_check_at reached); fire due timers and record automatic violations once.")
    parser.add_argument("--db", metavar="URL", help="database URL (default: $BIANMIN_DB, else "
                        "var/bianmin.sqlite3)")
    parser.add_argument("--now", metavar="DATETIME", type=_now,
                        help="evaluate at this moment, YYYY-MM-DDTHH:MM (default: the current time)")
    parser.add_argument("--batch", metavar="N", type=_positive, default=500,
                        help="records per transaction (default 500)")
    parser.set_defaults(func=_run)


def _now(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r} (use YYYY-MM-DDTHH:MM)") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return int(text)


def _run(args: argparse.Namespace) -> int:
    from .. import paths
    from .. import scoring
    from ..store import archive, db, service, sweeper

    async def run() -> sweeper.SweepReport:
        await db.init_db(args.db)
        try:
            # Archive the versions the files produce, restore those they no longer do (and the
            # activated uploads of the web console): cases keep their pinned rules.
            registry = service.default_registry()
            for warning in await archive.startup(registry, uploads=paths.home() / "var" / "packs"):
                print(f"bianmin sweep: warning: {warning}", file=sys.stderr)
            report = await sweeper.sweep(args.now, batch=args.batch, registry=registry, progress=sys.stderr)
            # The violations found become proposed deductions, awaiting the hearing (xupu 八(八)).
            opened = await scoring.propose_everywhere(args.now or datetime.now().replace(microsecond=0),
                                                      registry=registry)
            if opened:
                print("bianmin sweep: proposed deductions: " + ", ".join(f"{j} {len(n)}" for j, n in opened.items()),
                      file=sys.stderr)
            return report
        finally:
            await db.close_db()

    try:
        report = asyncio.run(run())
    except (OSError, db.DatabaseURLError) as exc:
        print(f"bianmin sweep: error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 1 if report.errors else 0
