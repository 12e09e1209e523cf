"""`bianmin diff PACK_A PACK_B`: how two packs differ, side by side, section by section."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .. import paths
from ..packs import Compiler, PackError
from ..packs.diff import diff, render


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("diff", help="compare two packs", description=(
        "Show how two packs differ (limits, items, deductions, complaint categories ...), with "
        "what each inherits. A pack is named by its id (a folder under policies/) or a path."))
    parser.add_argument("left", metavar="PACK_A")
    parser.add_argument("right", metavar="PACK_B")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--section", action="append", help="only these top-level sections (repeatable)")
    parser.set_defaults(func=run)


def _folder(name: str) -> Path:
    path = Path(name)
    return path if (path / "pack.yaml").is_file() else paths.policies_dir() / name


def run(args: argparse.Namespace) -> int:
    compiler = Compiler()
    try:
        left, right = compiler.compile(_folder(args.left)), compiler.compile(_folder(args.right))
    except PackError as exc:
        print(exc, file=sys.stderr)
        print("bianmin diff: fix these problems first (bianmin check)", file=sys.stderr)
        return 1
    rows = diff(left, right)
    if args.section:
        rows = [r for r in rows if r.section in args.section]
    if args.format == "json":
        print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(render(left, right, rows, shutil.get_terminal_size((120, 40)).columns))
    return 0
