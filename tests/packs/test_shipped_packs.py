"""The packs we ship: all check clean, every file points editors at the schema, every clause a
pack cites appears in its traceability table."""

import re
from pathlib import Path

import pytest

from bianmin.packs import Compiler, Registry

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
PACKS = sorted(p.name for p in POLICIES.iterdir() if (p / "pack.yaml").is_file())
JURISDICTIONS = [p for p in PACKS if not p.startswith("_")]
SCHEMA_LINE = "# yaml-language-server: $schema=../../platform/bianmin/packs/schema/pack.schema.json"


def test_the_five_jurisdictions_are_shipped():
    assert set(JURISDICTIONS) >= {"jiangyin", "xupu", "taihe", "dahepin", "taishan"}


@pytest.mark.parametrize("pack", PACKS)
def test_pack_checks_clean(pack):
    found, problems = Compiler(POLICIES).try_compile(POLICIES / pack)
    assert problems == [], "\n".join(map(str, problems))
    assert found.id == pack


@pytest.mark.parametrize("pack", PACKS)
def test_every_file_names_the_schema_for_editors(pack):
    for path in sorted((POLICIES / pack).glob("*.yaml")):
        assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE, path


@pytest.mark.parametrize("pack", JURISDICTIONS)
def test_every_cited_clause_is_in_the_traceability_table(pack):
    table = (ROOT / "docs" / "traceability" / f"{pack}.md").read_text(encoding="utf-8")
    compact = re.sub(r"\s+", "", table)
    cited = set()
    for path in (POLICIES / pack).glob("*.yaml"):
        cited |= set(re.findall(rf"source:\s*['\"]?{pack} ([^,}}'\"\n]+)", path.read_text(encoding="utf-8")))
    assert cited, f"{pack} cites no clause of its own source"
    missing = sorted(c for c in cited if re.sub(r"\s+", "", c.split("(", 1)[0] if c.startswith("第") else c) not in compact)
    assert not missing, f"clauses cited by {pack} but absent from docs/traceability/{pack}.md: {missing}"


def test_every_pack_keeps_a_changelog():
    for pack in JURISDICTIONS:
        assert (POLICIES / pack / "CHANGELOG.md").is_file(), pack


def test_registry_loads_every_jurisdiction():
    registry, problems = Registry.load(POLICIES)
    assert problems == []
    assert registry.jurisdictions() == JURISDICTIONS
