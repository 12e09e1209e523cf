"""``bianmin deadline``: a case's deadlines (办件时限) from its events, one line per clock.

    bianmin deadline --pack ID --item ITEM --events FILE.yaml [--explain] [--provisional] [--now DATETIME]

Prints one line per clock of the item's workflow that runs on the item's limits (promised,
statutory), in the format documented in docs/time-limits.md, e.g.::

    promised: 2026-10-20 running yellow (3 working days left)

Exit status 2, with the reason on stderr, for an unknown pack or item, a bad events file, an
event sequence the rules do not allow, or a deadline past the calendar's data.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import datetime
from pathlib import Path

from ..calendar import Calendar, CalendarCoverageError
from ..packs.model import Pack
from ..timelimits import (ClockError, ClockEvent, compute, extension_targets, item_clocks, parse_datetime,
                          parse_events, summary, with_extension_targets)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deadline", help="a case's deadlines from its events (办件时限)",
        description="Replay a case's events and print the deadline, status and warning level of "
        "each of its clocks (promised, statutory). The start day is not counted (民法典 §201).")
    parser.add_argument("--pack", metavar="ID", required=True, help="the pack (jurisdiction) id")
    parser.add_argument("--item", metavar="ITEM", required=True, help="the item (事项) id in the pack")
    parser.add_argument("--events", metavar="FILE.yaml", required=True, type=Path,
                        help="the events: a YAML list of {at, do, reason, expected_days, by, until, role}")
    parser.add_argument("--explain", action="store_true", help="also print the rules applied and the days counted")
    parser.add_argument("--provisional", action="store_true",
                        help="past the official holiday data, count weekends and fixed-date holidays "
                        "only; such deadlines are marked 'provisional'")
    parser.add_argument("--now", metavar="DATETIME", type=_now,
                        help="evaluate at this moment, YYYY-MM-DDTHH:MM (default: the current time)")
    parser.set_defaults(func=_run)


def _now(text: str) -> datetime:
    try:
        return parse_datetime(text, "--now")
    except ClockError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Fail(Exception):
    """An error already worded for the user: print it and exit 2."""


def _run(args: argparse.Namespace) -> int:
    try:
        for line in _lines(args):
            print(line)
    except CalendarCoverageError as exc:
        hint = "" if args.provisional else "; or pass --provisional for a provisional deadline"
        return _error(f"{exc}{hint}")
    except (_Fail, ClockError) as exc:
        return _error(str(exc))
    return 0


def _error(message: str) -> int:
    print(f"bianmin deadline: error: {message}", file=sys.stderr)
    return 2


def _lines(args: argparse.Namespace) -> list[str]:
    pack = _pack(args.pack)
    try:
        item = pack.item(args.item)
    except KeyError:
        known = ", ".join(i.id for i in pack.items) or "(none)"
        raise _Fail(f"pack {args.pack!r} has no item {args.item!r}; items: {known}") from None
    events = _events(args.events, extension_targets(pack, item.workflow))
    calendar = Calendar.build(dataclasses.replace(pack.calendar, provisional_allowed=args.provisional))
    now = args.now or datetime.now().replace(second=0, microsecond=0)
    lines = []
    for clock in item_clocks(pack, item):
        state = compute(clock, events, calendar, pack=pack, item=item, now=now, explain=args.explain)
        lines.append(summary(state, pack))
        lines += [f"  {line}" for line in state.explanation]
    if not lines:
        raise _Fail(f"item {item.id!r}: its workflow {item.workflow!r} binds no clock on the item's limits")
    return lines


def _pack(pack_id: str) -> Pack:
    from .. import paths
    from ..packs import Compiler, PackError

    folder = paths.policies_dir() / pack_id
    if not (folder / "pack.yaml").is_file():
        known = sorted(p.name for p in paths.policies_dir().glob("*") if (p / "pack.yaml").is_file())
        raise _Fail(f"unknown pack {pack_id!r}; packs: {', '.join(known) or '(none)'}")
    try:
        return Compiler().compile(folder)
    except PackError as exc:
        raise _Fail(f"pack {pack_id!r} does not compile:\n{exc}") from None


def _events(path: Path, targets: tuple[str, ...]) -> tuple[ClockEvent, ...]:
    from ..packs.loader import LoadError, load_file

    try:
        raw = load_file(path)
    except LoadError as exc:
        raise _Fail(str(exc)) from None
    except OSError as exc:
        raise _Fail(f"cannot read the events file {str(path)!r}: {exc.strerror or exc}") from None
    return with_extension_targets(parse_events(raw, str(path)), targets)
