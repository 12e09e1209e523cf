"""Fixtures of the workflow tests: the shipped packs, compiled once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bianmin import paths
from bianmin.packs import Compiler
from bianmin.packs.model import Pack

sys.path.insert(0, str(Path(__file__).parent))  # for `from workflow_helpers import ...`

PACKS = ("_base", "jiangyin", "xupu", "taihe", "dahepin", "taishan")


@pytest.fixture(scope="session")
def packs() -> dict[str, Pack]:
    compiler = Compiler(paths.policies_dir())
    return {name: compiler.compile(paths.policies_dir() / name) for name in PACKS}
