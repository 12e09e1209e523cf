"""The ``bianmin`` command line: ``bianmin check|diff|schema|calendar|deadline|...``."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import load_all


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bianmin", description="便民 policy platform")
    parser.add_argument("--version", action="version", version=f"bianmin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in load_all():
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `bianmin diff ... | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
