"""One broken pack per kind of error: each must be reported at its exact place, by its rule."""

from pathlib import Path

import pytest

from bianmin.packs import PackError

FIXTURES = Path(__file__).parent / "fixtures"

BROKEN = FIXTURES / "broken"

# fixture folder, file (relative to the fixture), line, column, rule, words the message must contain
CASES = [
    ("syntax", "pack.yaml", 11, 1, "yaml-syntax", "expected ','"),
    ("duplicate_key", "pack.yaml", 12, 5, "duplicate-key", "'name' appears twice"),
    ("yaml11_bool", "pack.yaml", 10, 26, "yaml-ambiguous-bool", "write true/false"),
    ("leading_zero", "pack.yaml", 10, 37, "yaml-leading-zero", "octal"),
    ("wrong_type", "pack.yaml", 10, 43, "wrong-type", "must be a whole number, not 'two'"),
    ("unknown_key", "pack.yaml", 10, 31, "unknown-key", "did you mean 'phone'"),
    ("dangling_reference", "pack.yaml", 17, 17, "dangling-reference", "department 'markt' is not defined; did you mean 'market'"),
    ("promised_exceeds", "pack.yaml", 20, 17, "promised-exceeds-statutory", "longer than the statutory limit"),
    ("unreachable_state", "pack.yaml", 12, 9, "unreachable-state", "'archived'"),
    ("no_terminal", "pack.yaml", 16, 7, "no-terminal-state", "'review'"),
    ("unknown_action", "pack.yaml", 14, 18, "dangling-reference", "action 'send_fax'"),
    ("bad_guard", "pack.yaml", 12, 29, "expression", "not a valid expression"),
    ("template_variable", "templates/receipt.html.j2", 1, 1, "template-variable", "'secret'"),
    ("deduction_range", "pack.yaml", 11, 57, "deduction-range", "from 10 down to 5"),
    ("unknown_source", "pack.yaml", 10, 40, "source-unknown", "'xupu'"),
    ("calendar_coverage", "pack.yaml", 6, 17, "calendar-coverage", "2031"),
    ("remove_unknown", "pack.yaml", 10, 25, "remove-unknown", "'mayor'"),
    ("duplicate_id", "pack.yaml", 11, 10, "duplicate-id", "'market' is used twice"),
    ("extends_unknown", "pack.yaml", 4, 10, "extends-unknown", "_mega"),
    ("duplicate_section", "pack.yaml", 7, 1, "duplicate-section", "more.yaml:1:1"),
    # `id: ~` would delete the key under merge rules; identity must still be the pack's own.
    ("null_id", "pack.yaml", 1, 1, "missing-key", "pack.yaml needs `id`"),
]


@pytest.mark.parametrize("folder, file, line, column, rule, words", CASES, ids=[c[0] for c in CASES])
def test_each_error_is_reported_at_its_place(compiler, folder, file, line, column, rule, words):
    with pytest.raises(PackError) as raised:
        compiler.compile(BROKEN / folder)
    problems = raised.value.problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert Path(problem.mark.file).resolve() == (BROKEN / folder / file).resolve()
    assert (problem.mark.line, problem.mark.column, problem.rule) == (line, column, rule)
    assert words in problem.message
    assert str(problem).startswith(f"{problem.mark.file}:{line}:{column}: {rule}: ")


def test_every_fixture_has_a_case():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(c[0] for c in CASES)


def test_all_problems_are_reported_in_one_pass(compiler, tmp_path):
    pack = tmp_path / "many"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        (BROKEN / "dangling_reference" / "pack.yaml").read_text(encoding="utf-8")
        .replace("id: dangling_reference", "id: many")
        .replace("promised: {value: 5", "promised: {value: 50")
        + "commitments:\n  - {id: c, text: 当日办结, source: nobody 一}\n",
        encoding="utf-8",
    )
    compiler.policies = BROKEN.parent / "policies"
    with pytest.raises(PackError) as raised:
        compiler.compile(pack)
    rules = sorted(p.rule for p in raised.value.problems)
    assert rules == ["dangling-reference", "promised-exceeds-statutory", "source-unknown"]


def test_a_good_pack_compiles(compiler):
    pack = compiler.compile(FIXTURES / "policies" / "good")
    assert pack.id == "good" and pack.lineage == ("good", "_mini")
    assert pack.item("food_licence").limits.promised.value == 10
    assert [r.id for r in pack.time_limits.pause_reasons] == ["hearing", "expert_review"]


def test_register_fields_must_be_fields_of_the_form(tmp_path):
    """A register lists a form's answers; a field the form does not ask for is an error."""
    import shutil

    from bianmin.packs import Compiler

    shutil.copytree(FIXTURES / "policies", tmp_path / "policies")
    shutil.copytree(FIXTURES / "forms", tmp_path / "forms")
    (tmp_path / "forms" / "agency.yaml").write_text(
        "id: agency\ntitle: 代办\nfields:\n  - {id: client_name, label: 姓名, type: text}\n", encoding="utf-8")
    pack = tmp_path / "policies" / "good" / "pack.yaml"
    pack.write_text(pack.read_text(encoding="utf-8")
                    + "agency:\n  free: true\n  ledger_fields: [client_name, client_nmae]\n  source: good 三\n",
                    encoding="utf-8")
    found, problems = Compiler(tmp_path / "policies", tmp_path / "forms", FIXTURES / "templates").try_compile(
        tmp_path / "policies" / "good")
    assert [(p.rule, p.mark.line, p.message) for p in problems] == [(
        "dangling-reference", 27,
        "agency form field 'client_nmae' is not defined; did you mean 'client_name'?")]
