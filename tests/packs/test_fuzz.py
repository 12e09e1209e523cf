"""Mutating a valid pack never crashes the checker: the answer is a pack or clean problems."""

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bianmin.packs import Compiler
from bianmin.packs.loader import Mark

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = (FIXTURES / "policies" / "good" / "pack.yaml").read_text(encoding="utf-8")
BASE = (FIXTURES / "policies" / "_mini" / "pack.yaml").read_text(encoding="utf-8")

TOKENS = ["", " ", "  ", "-", ":", "{", "}", "[", "]", ",", "'", '"', "#", "&a", "*a", "!!str", "<<",
          "no", "010", "1:30", "null", "~", "id", "remove: true", "extends: good", "\t", "é", "审批",
          "items:", "- id: x", "{value: -1, unit: working_day}", "source: law", "from: '*'"]


@st.composite
def mutated(draw, text: str):
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "replace_token", "indent", "swap"]))
        if not lines:
            lines = [""]
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(TOKENS)) + " " + draw(st.sampled_from(TOKENS)))
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "    "])) + lines[i].lstrip()
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            line = lines[i]
            at = draw(st.integers(0, len(line)))
            cut = draw(st.integers(0, 6))
            lines[i] = line[:at] + draw(st.sampled_from(TOKENS)) + line[at + cut:]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(child=mutated(GOOD), base=st.one_of(st.just(BASE), mutated(BASE)))
def test_mutated_packs_give_a_pack_or_clean_problems(child, base):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(FIXTURES / "policies", root / "policies")
        (root / "policies" / "good" / "pack.yaml").write_text(child, encoding="utf-8")
        (root / "policies" / "_mini" / "pack.yaml").write_text(base, encoding="utf-8")
        compiler = Compiler(root / "policies", FIXTURES / "forms", FIXTURES / "templates")
        pack, problems = compiler.try_compile(root / "policies" / "good")
    assert (pack is None) == bool(problems)
    for problem in problems:
        assert isinstance(problem.mark, Mark) and problem.mark.line >= 1 and problem.mark.column >= 1
        assert problem.rule and problem.message
