"""Loading form files: one broken fixture per rule, each with its exact file:line:col."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from bianmin.forms import Field, Form, FormError, Option, load_form, load_forms

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = sorted(FIXTURES.glob("*.yaml"))


def expectation(path: Path) -> str:
    """The first line of a fixture: `# expect: LINE:COL RULE`."""
    match = re.fullmatch(r"# expect: (\d+:\d+) (\S+)", path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name} must start with '# expect: LINE:COL RULE'"
    return f"{path.name}:{match[1]}: {match[2]}: "


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_each_broken_form_reports_its_rule_at_its_place(path):
    with pytest.raises(FormError) as caught:
        load_form(path, path.name)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(expectation(path)), problems[0]


def test_every_rule_of_the_docs_has_a_fixture():
    docs = (Path(__file__).parents[2] / "docs" / "forms.md").read_text(encoding="utf-8")
    section = docs.split("## Loading errors", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.M))
    covered = {expectation(p).split(": ")[1] for p in BROKEN}
    assert documented == covered


def test_problems_carry_mark_rule_and_message():
    with pytest.raises(FormError) as caught:
        load_form(FIXTURES / "duplicate_field.yaml", "f.yaml")
    (problem,) = caught.value.problems
    assert (problem.mark.file, problem.mark.line, problem.mark.column) == ("f.yaml", 8, 9)
    assert problem.rule == "duplicate-field"
    assert problem.message == "field id 'phone' is used twice (first at line 5)"
    assert str(caught.value) == str(problem)


def test_all_problems_of_a_file_in_one_pass(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(
        "id: many\ntitle: 多处错误\nfields:\n"
        "  - {id: a, label: 甲, type: text, options: [{value: x, label: 叉}]}\n"
        "  - {id: a, label: 乙, type: enum}\n"
        "  - {id: c, label: 丙, type: text, when: data.nothing}\n",
        encoding="utf-8",
    )
    with pytest.raises(FormError) as caught:
        load_form(path, "many.yaml")
    assert [(p.mark.line, p.rule) for p in caught.value.problems] == [
        (4, "key-not-for-type"), (5, "duplicate-field"), (5, "options-missing"), (6, "expression-unknown-field"),
    ]


def test_load_forms_collects_problems_of_every_file(tmp_path):
    for name in ("duplicate_field", "wrong_format"):
        shutil.copy(FIXTURES / f"{name}.yaml", tmp_path)
    with pytest.raises(FormError) as caught:
        load_forms([tmp_path])
    assert {p.rule for p in caught.value.problems} == {"duplicate-field", "wrong-format"}


def test_a_later_folder_overrides_a_form_by_id(tmp_path, forms):
    pack_forms = tmp_path / "policies" / "xupu" / "forms"
    pack_forms.mkdir(parents=True)
    (pack_forms / "pause.yaml").write_text(
        "id: pause\ntitle: 溆浦特别程序\nfields:\n  - {id: reason, label: 原因, type: long_text, required: true}\n",
        encoding="utf-8",
    )
    shared = Path(__file__).parents[2] / "forms"
    merged = load_forms([shared, pack_forms, tmp_path / "missing"])
    assert merged["pause"].title == "溆浦特别程序"
    assert merged["extension"] == forms["extension"]
    assert set(merged) == set(forms)


def test_a_form_is_frozen_values(forms):
    form = forms["intake"]
    assert isinstance(form, Form) and all(isinstance(f, Field) for f in form.fields)
    kind = form.field("applicant_type")
    assert kind.options[0] == Option("person", "自然人") and kind.default == "person"
    assert kind.mark is not None and kind.mark.line > 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        form.title = "x"  # type: ignore[misc]
    assert form.field("materials").source == "item"
    assert form.field("nope") is None


def test_list_defaults_are_frozen(make_form):
    form = make_form("  - id: k\n    label: 类别\n    type: multi_select\n    default: [a]\n"
                     "    options:\n      - {value: a, label: 甲}\n      - {value: b, label: 乙}\n")
    assert form.field("k").default == ("a",)
    hash(form)


def test_every_rule_the_loader_raises_is_documented():
    source = (Path(__file__).parents[2] / "platform" / "bianmin" / "forms" / "definitions.py").read_text(encoding="utf-8")
    raised = set(re.findall(r'(?:self\.add|Problem)\([^"]*?"([a-z]+(?:-[a-z]+)+)"', source))
    docs = (Path(__file__).parents[2] / "docs" / "forms.md").read_text(encoding="utf-8")
    assert raised and all(f"| `{rule}` |" in docs for rule in raised), raised
