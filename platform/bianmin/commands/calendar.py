"""``bianmin calendar add|between``: working-day arithmetic (工作日计算), one result per line.

Other tools parse the output: `add` prints one ISO date (followed by ` provisional` when the
result rests on provisional data), `between` prints one integer. Exit status 2 on a date outside
the calendar's coverage or a bad argument.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable
from datetime import date

from ..calendar import Calendar, CalendarConfig

_UNITS = {"working": "working_day", "natural": "natural_day"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calendar", help="working-day arithmetic (工作日计算)",
        description="Working-day arithmetic on the national calendar or a pack's calendar. "
        "The start day is not counted (民法典 §201).")
    sub = parser.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--pack", metavar="ID", help="use this pack's calendar (default: national)")
    common.add_argument("--provisional", action="store_true",
                        help="past the official data, count weekends and fixed-date holidays "
                        "only; results on such data are marked 'provisional'")

    add = sub.add_parser("add", parents=[common], help="the date that ends a period of N days",
                         description="Print the last day of a period of N working (or natural) "
                         "days starting after DATE.")
    add.add_argument("date", metavar="DATE", type=_iso_date, help="start day, YYYY-MM-DD (not counted)")
    add.add_argument("n", metavar="N", type=_count, help="number of days")
    add.add_argument("--unit", choices=tuple(_UNITS), default="working",
                     help="working days (行政许可法 §82, default) or natural days (民法典 §203)")
    add.set_defaults(func=_add)

    between = sub.add_parser("between", parents=[common], help="working days in (START, END]",
                             description="Print the number of working days after START up to "
                             "and including END (negative when END is before START).")
    between.add_argument("start", metavar="START", type=_iso_date, help="YYYY-MM-DD (not counted)")
    between.add_argument("end", metavar="END", type=_iso_date, help="YYYY-MM-DD (counted)")
    between.set_defaults(func=_between)


def _iso_date(text: str) -> date:
    # date.fromisoformat also takes 20261008 and 2026-W41-4; a deadline tool should not.
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD, e.g. 2026-10-08 "
                                     "(日期格式应为 YYYY-MM-DD)")


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a whole number >= 0")
    return n


class _Fail(Exception):
    """An error already worded for the user: print it and exit 2."""


def _calendar(args: argparse.Namespace) -> Calendar:
    config = CalendarConfig()
    if args.pack is not None:
        try:  # lazy: the pack loader is heavy and only needed with --pack
            from ..packs import calendar_config_for
        except ImportError as exc:
            raise _Fail(f"--pack needs bianmin.packs.calendar_config_for ({exc})") from exc
        try:
            config = calendar_config_for(args.pack)
        except Exception as exc:  # unknown pack, or a pack that does not compile (PackError)
            reason = exc.args[0] if len(exc.args) == 1 else exc  # KeyError's str() adds quotes
            raise _Fail(f"pack {args.pack!r}: {reason}") from exc
    # Provisional data only on request, so that a plain `add` always prints an official date.
    return Calendar.build(dataclasses.replace(config, provisional_allowed=args.provisional))


def _run(args: argparse.Namespace, compute: Callable[[Calendar], object]) -> int:
    try:
        print(compute(_calendar(args)))
    except (_Fail, LookupError, ValueError) as exc:  # LookupError: CalendarCoverageError
        print(f"bianmin calendar {args.calendar_command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _add(args: argparse.Namespace) -> int:
    def compute(cal: Calendar) -> str:
        end = cal.add(args.date, args.n, _UNITS[args.unit])
        return f"{end.isoformat()} provisional" if cal.is_provisional(end) else end.isoformat()

    return _run(args, compute)


def _between(args: argparse.Namespace) -> int:
    def compute(cal: Calendar) -> int:
        if cal.is_provisional(max(args.start, args.end)):
            print(f"note: counted with provisional data from {cal.provisional_from}", file=sys.stderr)
        return cal.between(args.start, args.end)

    return _run(args, compute)
