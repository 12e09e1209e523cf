"""Several versions of a pack coexist; a case pins one, new cases take the one in force."""

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bianmin.packs import Compiler, Registry
from bianmin.packs.registry import UnknownPack

FIXTURES = Path(__file__).parent / "fixtures"


def test_versions_by_effective_date_and_pinning(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(FIXTURES / "policies", policies)
    compiler = Compiler(policies, FIXTURES / "forms", FIXTURES / "templates")
    old = compiler.compile(policies / "good")
    text = (policies / "good" / "pack.yaml").read_text(encoding="utf-8")
    (policies / "good" / "pack.yaml").write_text(
        text.replace('version: "2026.1"', 'version: "2027.1"').replace("effective_from: 2026-01-01", "effective_from: 2026-07-01")
        .replace("promised: {value: 10", "promised: {value: 8"), encoding="utf-8")
    new = Compiler(policies, FIXTURES / "forms", FIXTURES / "templates").compile(policies / "good")
    assert old.content_hash != new.content_hash

    registry = Registry()
    registry.add(old)
    registry.add(new)
    assert registry.active("good", dt.date(2026, 3, 1)) is old
    assert registry.active("good", dt.date(2026, 7, 1)) is new
    # A case that started under the old version keeps its 10-day promise after the change.
    assert registry.pinned("good", old.content_hash).item("food_licence").limits.promised.value == 10
    with pytest.raises(UnknownPack, match="in force"):
        registry.active("good", dt.date(2025, 12, 31))
    with pytest.raises(UnknownPack, match="no pack 'nowhere'"):
        registry.active("nowhere")


def test_load_skips_bases_and_reports_bad_packs_without_stopping(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(FIXTURES / "policies", policies)
    shutil.copytree(FIXTURES / "broken" / "dangling_reference", policies / "dangling_reference")
    registry, problems = Registry.load(policies, Compiler(policies, FIXTURES / "forms", FIXTURES / "templates"))
    assert registry.jurisdictions() == ["good"]
    assert [p.rule for p in problems] == ["dangling-reference"]
