"""The pack checker on hostile input: random YAML structures grafted into a valid pack, random
bytes, and the classic YAML attacks. The answer is always a pack or clean problems (file, line,
column, rule, message) — never an exception, whatever the input.

The line mutations of tests/packs/test_fuzz.py are reused here (loaded from that file), combined
with the structural and byte-level inputs this file adds.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bianmin.packs import Compiler
from bianmin.packs.loader import Mark

ROOT = Path(__file__).resolve().parents[2]


def _pack_fuzz_module():
    spec = importlib.util.spec_from_file_location("_bianmin_pack_fuzz", ROOT / "tests" / "packs" / "test_fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fuzz = _pack_fuzz_module()
FIXTURES, GOOD, BASE, mutated = _fuzz.FIXTURES, _fuzz.GOOD, _fuzz.BASE, _fuzz.mutated
DOCUMENT = yaml.safe_load(GOOD)
# Keys the schema knows, so that random structures reach the checker's rules, not only "unknown key".
VOCABULARY = ["id", "name", "items", "limits", "promised", "statutory", "value", "unit", "materials", "kind",
              "workflows", "transitions", "from", "to", "roles", "guard", "actions", "do", "with", "documents",
              "template", "clocks", "extends", "remove", "calendar", "overrides", "forms", "windows", "source"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["working_day", "natural_day", "promised", "*", "{{ x }}", "2026-02-30",
                                     "0x1F", "1e9999", "~", "审批", "received"]))
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12))
structures = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(keys, inner, max_size=4)),
                          max_leaves=25)


@st.composite
def grafted(draw) -> str:
    """The valid pack with one subtree (or a whole section) replaced by a random structure."""
    document = yaml.safe_load(GOOD)
    node = document
    for _ in range(draw(st.integers(0, 4))):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
            if isinstance(node, list) else []
        children = [(k, v) for k, v in children if isinstance(v, (dict, list)) and v]
        if not children:
            break
        _key, node = draw(st.sampled_from(children))
    if isinstance(node, dict) and node:
        node[draw(st.sampled_from(sorted(node, key=str)))] = draw(structures)
    elif isinstance(node, list) and node:
        node[draw(st.integers(0, len(node) - 1))] = draw(structures)
    if draw(st.booleans()):
        document[draw(keys)] = draw(structures)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


ATTACKS = {
    "alias-bomb": b"a: &a [x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c]\n",
    # BUG (found by this suite): the loader recurses once per level and crashes with RecursionError.
    "deep-list": b"id: good\nitems: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep-map": b"id: good\nitems: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n",
    "python-tag": b"!!python/object/apply:os.system [\"touch /tmp/bianmin-pwned\"]\n",
    "python-name": b"id: !!python/name:os.system good\n",
    "bom": b"\xef\xbb\xbfid: good\n",
    "nul": b"id: good\x00\nname: x\n",
    "utf-16": b"\xff\xfe\x00i\x00d\x00",
    "duplicate-key": b"id: good\nid: good\n",
    "tab": b"\tid: good\n",
    "two-documents": b"--- \nid: good\n--- \nid: other\n",
    # BUG (found by this suite): int() refuses more than 4300 digits with a ValueError.
    "long-integer": b"id: " + b"9" * 5000 + b"\n",
    "unknown-alias": b"<<: *nothing\n",
    "empty": b"",
}


def _check(text: bytes, base: bytes | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(FIXTURES / "policies", root / "policies")
        (root / "policies" / "good" / "pack.yaml").write_bytes(text)
        if base is not None:
            (root / "policies" / "_mini" / "pack.yaml").write_bytes(base)
        compiler = Compiler(root / "policies", FIXTURES / "forms", FIXTURES / "templates")
        pack, problems = compiler.try_compile(root / "policies" / "good")
    assert (pack is None) == bool(problems)
    for problem in problems:
        assert isinstance(problem.mark, Mark) and problem.mark.line >= 1 and problem.mark.column >= 1
        assert problem.rule and problem.message


@pytest.mark.parametrize("name", ATTACKS)
def test_yaml_attacks_are_clean_problems(name, figures):
    figures.inputs += 1
    _check(ATTACKS[name])
    assert not Path("/tmp/bianmin-pwned").exists()


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=grafted())
def test_random_structures_in_a_valid_pack(text, figures):
    figures.inputs += 1
    _check(text.encode("utf-8"))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(child=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
                       mutated(GOOD).map(lambda t: t.encode("utf-8"))),
       base=st.one_of(st.none(), st.binary(max_size=200), mutated(BASE).map(lambda t: t.encode("utf-8"))))
@example(child=b"id: good\n", base=b"\x00")
def test_random_bytes_and_mutations_of_pack_and_parent(child, base, figures):
    figures.inputs += 1
    _check(child, base)
