"""Conditions compiled for the form's script say what the server's sandbox says."""

from __future__ import annotations

import random

import pytest
from bianmin.forms.conditions import compiled, evaluate, tree
from bianmin.forms.validators import holds

EXTRA = [  # shapes the shipped forms do not use yet
    'data.a == "x" or data.b', "not data.a and not data.b", 'data.a in ["x", "y"]', 'data.a not in ["x"]',
    "data.n > 2", "1 <= data.n < 5", "data.n != 3", "data.a is defined", "data.a is none", '"x" in data.tags',
    "data.a == data.b",
]


def conditions(forms):
    found = []
    for form in forms.values():
        for group, f in form.walk():
            for expression in (f.when, f.required_when):
                if expression:
                    found.append(expression)
    return sorted(set(found))


def samples(n=300, seed=7):
    """Answers with the values conditions compare against, some fields unanswered."""
    rng = random.Random(seed)
    values = [True, False, 0, 1, 2, 3, 5, 7, "x", "y", "person", "organisation", "post", "window", "denied",
              "approved", "unsubstantiated", "partly", "c", "lawyer", ["x"], ["x", "y"], [], None]
    keys = ["a", "b", "n", "tags", "applicant_type", "delivery", "through_agent", "outcome", "substantiated",
            "reached", "anonymous", "kind", "waived", "level", "outcome_kind"]
    out = []
    for _ in range(n):
        data = {k: rng.choice(values) for k in keys if rng.random() < 0.6}
        out.append({k: v for k, v in data.items() if v is not None})
    return out


def test_every_shipped_condition_compiles(forms):
    for expression in conditions(forms):
        assert tree(expression) is not None, expression


@pytest.mark.parametrize("extra", EXTRA)
def test_the_tree_agrees_with_the_sandbox_on_extra_shapes(extra):
    node = tree(extra)
    for data in samples():
        assert evaluate(node, data) == holds(extra, data), (extra, data)


def test_the_tree_agrees_with_the_sandbox_on_shipped_conditions(forms):
    for expression in conditions(forms):
        node = compiled(expression) or tree(expression)
        for data in samples():
            assert evaluate(node, data, data) == holds(expression, data, None, data), (expression, data)


def test_item_becomes_a_constant():
    assert tree("item.accept_on_commitment and data.a", {"accept_on_commitment": False}) == [
        "and", ["const", False], ["data", "a"]]
    assert compiled("item.accept_on_commitment") is None  # depends on the item: not cached


def test_what_the_tree_cannot_say():
    assert tree("data.name | length > 2") is None
    assert tree("data.f()") is None
    assert tree("data.") is None
