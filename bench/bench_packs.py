"""Cold load + check + compile of every pack, against a bare `yaml.CSafeLoader` parse.

    python bench/bench_packs.py [--rounds N]

Both sides read the same files from disk in the same run; the ratio is what counts (target:
≤ 3). "Cold" means a fresh Compiler each round (no cached files or packs), as at start-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from bianmin.packs import Compiler  # noqa: E402

TARGET = 3.0


def pack_folders() -> list[Path]:
    return sorted(p for p in (ROOT / "policies").iterdir() if (p / "pack.yaml").is_file())


def files_of(folders: list[Path]) -> list[Path]:
    return [f for folder in folders for f in sorted(folder.glob("*.yaml"))]


def bare_parse(files: list[Path]) -> None:
    for f in files:
        yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def compile_all(folders: list[Path]) -> None:
    compiler = Compiler(ROOT / "policies", ROOT / "forms", ROOT / "templates")
    for folder in folders:
        pack, problems = compiler.try_compile(folder)
        if problems:
            raise SystemExit(f"{folder.name} does not check clean:\n" + "\n".join(map(str, problems[:5])))


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    folders = pack_folders()
    files = files_of(folders)
    size = sum(f.stat().st_size for f in files)
    compile_all(folders)  # warm imports and the calendar table, which start-up pays once
    bare, ours = [], []
    for _ in range(rounds):  # interleave so machine noise hits both sides alike
        bare.append(timed(bare_parse, files))
        ours.append(timed(compile_all, folders))
    b, o = statistics.median(bare), statistics.median(ours)
    ratio = o / b
    print(f"packs: {len(folders)}, files: {len(files)}, {size / 1024:.0f} KiB, rounds: {rounds}")
    print(f"bare CSafeLoader parse:      {b * 1000:8.1f} ms (median)")
    print(f"load + check + compile:      {o * 1000:8.1f} ms (median)")
    print(f"ratio: {ratio:.2f}× (target ≤ {TARGET}×) {'PASS' if ratio <= TARGET else 'FAIL'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
