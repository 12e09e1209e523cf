"""Guards: sandboxed Jinja2 expressions, compiled once, errors naming what is missing."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

from bianmin.workflow.guards import GuardError, compile_guard


def test_a_guard_is_compiled_once_per_text():
    assert compile_guard("case.materials_complete") is compile_guard("case.materials_complete")


def test_a_guard_evaluates_against_its_variables():
    guard = compile_guard('item.kind == "immediate" and case.missing_materials | length == 0')
    assert guard(item={"kind": "immediate"}, case={"missing_materials": []})
    assert not guard(item={"kind": "promised"}, case={"missing_materials": []})
    assert not guard(item={"kind": "immediate"}, case={"missing_materials": ["layout"]})


def test_a_guard_knows_the_names_and_paths_it_reads():
    guard = compile_guard("data.reporter_agreed and case.only_non_core_missing")
    assert guard.names == {"data", "case"}
    assert guard.paths == ("data.reporter_agreed", "case.only_non_core_missing")


@pytest.mark.parametrize("text, variables, missing", [
    ("data.reporter_agreed", {"data": {}}, "data.reporter_agreed"),
    ("data.days > 3", {"data": {}}, "data.days"),
    ("case.materials_complete and unknown_flag", {"case": {"materials_complete": True}}, "unknown_flag"),
    ("item.kind == 'immediate'", {"item": None}, "item.kind"),
])
def test_an_undefined_name_is_an_error_naming_it(text, variables, missing):
    with pytest.raises(GuardError) as exc:
        compile_guard(text)(**variables)
    assert exc.value.missing == missing
    assert str(exc.value) == f"缺少变量 {missing}"


def test_the_sandbox_refuses_python_internals():
    with pytest.raises(GuardError):
        compile_guard("case.__class__.__mro__[1].__subclasses__()")(case={})


def test_a_syntax_error_is_raised_when_compiling():
    with pytest.raises(TemplateSyntaxError):
        compile_guard("case.materials_complete and")
