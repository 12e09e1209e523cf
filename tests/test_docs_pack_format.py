"""docs/pack-format.md documents every pack key and every rule id the pack checker can emit.

Like datasette's ``test_docs.py``: adding a key to the schema, or a rule id to the packs code,
without documenting it fails here, naming what is missing.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from bianmin.packs import Compiler

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "pack-format.md"
SCHEMA = ROOT / "platform" / "bianmin" / "packs" / "schema" / "pack.schema.json"
PACKS_CODE = ROOT / "platform" / "bianmin" / "packs"
POLICIES = ROOT / "policies"

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def documented() -> set[str]:
    """Everything written in inline backticks in the doc (fenced blocks left out)."""
    text = _FENCE.sub("", DOC.read_text("utf-8"))
    return {span.strip() for span in _CODE_SPAN.findall(text)}


# --- schema keys ---------------------------------------------------------------------------

def _resolve(schema: dict[str, Any], ref: str) -> Any:
    node: Any = schema
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def schema_keys(schema: dict[str, Any]) -> dict[str, set[str]]:
    """Every property name in the schema, with the places (breadcrumb paths) it appears."""
    keys: dict[str, set[str]] = {}

    def walk(node: Any, where: str, refs: frozenset[str]) -> None:
        if isinstance(node, list):
            for element in node:
                walk(element, where, refs)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in refs:
            walk(_resolve(schema, ref), where, refs | {ref})
        for key, child in node.get("properties", {}).items():
            keys.setdefault(key, set()).add(f"{where}.{key}" if where else key)
            walk(child, f"{where}.{key}" if where else key, refs)
        for keyword in ("items", "additionalProperties", "prefixItems"):
            if isinstance(node.get(keyword), (dict, list)):
                walk(node[keyword], f"{where}[]", refs)
        for keyword in ("oneOf", "anyOf", "allOf", "then", "else"):
            if keyword in node:
                walk(node[keyword], where, refs)

    walk(schema, "", frozenset())
    for name, definition in schema.get("$defs", {}).items():
        walk(definition, f"$defs.{name}", frozenset({f"#/$defs/{name}"}))
    return keys


def test_schema_walk_finds_nested_keys():
    keys = schema_keys(json.loads(SCHEMA.read_text("utf-8")))
    # spot checks at several depths, through $ref, oneOf and array items
    for key in ("items", "pausable_for", "lead_department", "cases", "used_share", "start_on", "q", "waive"):
        assert key in keys, key


def test_every_schema_key_is_documented():
    keys = schema_keys(json.loads(SCHEMA.read_text("utf-8")))
    missing = sorted(set(keys) - documented())
    assert not missing, "keys of the pack schema not mentioned in backticks in docs/pack-format.md:\n" + "\n".join(
        f"  `{key}` (at {', '.join(sorted(keys[key])[:3])})" for key in missing
    )


# --- rule ids ------------------------------------------------------------------------------

def _nested(depth: int) -> str:
    """A balanced (...) group up to ``depth`` levels deep (``re`` has no recursion)."""
    group = r"\([^()]*\)"
    for _ in range(depth - 1):
        group = r"\((?:[^()]|" + group + r")*\)"
    return group


_CALL = r"\b(?:Problem|LoadError|ctx\.add)\(\s*"
_FIRST_ARG = r"(?:[^(),]|" + _nested(5) + r")+"
_CALL_START = re.compile(r"(?<!class )(?<!def )" + _CALL)
_RULE_LITERAL = re.compile(_CALL + _FIRST_ARG + r",\s*[\"']([a-z][a-z0-9-]*)[\"']")
_RULE_VARIABLE = re.compile(_CALL + _FIRST_ARG + r",\s*[A-Za-z_][\w.]*\s*,")


def emitted_rule_ids() -> dict[str, set[str]]:
    """Rule ids passed as string literals to Problem(...), LoadError(...) and ctx.add(...)."""
    rules: dict[str, set[str]] = {}
    unread: list[str] = []
    for path in sorted(PACKS_CODE.glob("*.py")):
        source = path.read_text("utf-8")
        for start in _CALL_START.finditer(source):
            literal = _RULE_LITERAL.match(source, start.start())
            if literal:
                rules.setdefault(literal.group(1), set()).add(path.name)
            elif not _RULE_VARIABLE.match(source, start.start()):  # e.g. Problem(exc.mark, exc.rule, ...)
                line = source.count("\n", 0, start.start()) + 1
                unread.append(f"{path.name}:{line}")
    assert not unread, f"calls whose rule id this test cannot read (extend the regex): {unread}"
    return rules


def test_rule_id_scan_finds_every_layer():
    rules = emitted_rule_ids()
    for rule in ("duplicate-key", "file-not-mapping", "duplicate-id", "extends-cycle", "unknown-key", "dangling-reference"):
        assert rule in rules, rule


def test_every_rule_id_is_documented():
    rules = emitted_rule_ids()
    missing = sorted(set(rules) - documented())
    assert not missing, "rule ids emitted by platform/bianmin/packs/*.py not in docs/pack-format.md:\n" + "\n".join(
        f"  `{rule}` (from {', '.join(sorted(rules[rule]))})" for rule in missing
    )


# --- the minimal example -------------------------------------------------------------------

_EXAMPLE_FILE = re.compile(r"\*\*`policies/example/([\w.-]+\.yaml)`\*\*\s*\n+```yaml\n(.*?)^```", re.S | re.M)


def test_minimal_example_pack_passes_the_checker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files = dict(_EXAMPLE_FILE.findall(DOC.read_text("utf-8")))
    assert set(files) >= {"pack.yaml", "items.yaml"}, "section 9 should show policies/example/pack.yaml and items.yaml"
    folder = tmp_path / "policies" / "example"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    shutil.copytree(POLICIES / "_base", tmp_path / "policies" / "_base")
    monkeypatch.chdir(tmp_path)  # problems name files relative to the working directory

    compiler = Compiler(tmp_path / "policies", ROOT / "forms", ROOT / "templates")
    _, base_problems = compiler.try_compile(tmp_path / "policies" / "_base")
    _, problems = compiler.try_compile(folder)
    # Problems of _base itself (same place, same rule) are not the example's to fix; messages
    # may differ, as they list the example's own forms/ and templates/ folders too.
    inherited = {(p.mark, p.rule) for p in base_problems}
    own = [str(p) for p in problems if (p.mark, p.rule) not in inherited]
    assert not own, "the example pack in docs/pack-format.md section 9 does not pass:\n" + "\n".join(own)
