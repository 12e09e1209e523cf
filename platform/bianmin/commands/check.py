"""`bianmin check [PATH ...]`: check packs and report every problem as file:line:col."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..packs import Compiler
from ..packs.problems import Problem, sort_problems


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="check policy packs", description=(
        "Check policy packs (folders under policies/). Exit status 0 when clean, 1 with problems."))
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="pack folders, or a folder of packs (default: policies/)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def pack_folders(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Pack folders named by the arguments; a folder of packs stands for each pack in it."""
    from .. import paths as project

    folders, missing = [], []
    for path in paths or [project.policies_dir()]:
        if (path / "pack.yaml").is_file() or (path.is_dir() and any(path.glob("*.yaml"))):
            folders.append(path)
        elif path.is_dir() and any((p / "pack.yaml").is_file() for p in path.iterdir()):
            folders.extend(sorted(p for p in path.iterdir() if (p / "pack.yaml").is_file()))
        elif path.is_file() and path.suffix in (".yaml", ".yml"):
            folders.append(path.parent)
        else:
            missing.append(str(path))
    return list(dict.fromkeys(folders)), missing


def run(args: argparse.Namespace) -> int:
    folders, missing = pack_folders(args.paths)
    for path in missing:
        print(f"bianmin check: {path}: not a pack folder (no pack.yaml)", file=sys.stderr)
    if missing:
        return 2
    compiler = Compiler()
    problems: list[Problem] = []
    packs = []
    for folder in folders:
        pack, found = compiler.try_compile(folder)
        problems.extend(found)
        if pack is not None:
            packs.append(pack)
    problems = sort_problems(problems)
    if args.format == "json":
        print(json.dumps({
            "packs": [{"id": p.id, "version": p.version, "hash": p.content_hash} for p in packs],
            "problems": [p.as_json() for p in problems],
        }, ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            print(problem)
        summary = f"{len(folders)} pack(s) checked, {len(problems)} problem(s)"
        print(summary, file=sys.stderr)
    return 1 if problems else 0
