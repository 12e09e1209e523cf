"""Inheritance: maps deep-merge, null deletes, record lists merge by id, `remove: true` drops."""

from bianmin.packs.loader import load_text
from bianmin.packs.merge import merge


def merged(parent: str, child: str):
    problems = []
    result = merge(load_text(parent, "parent.yaml"), load_text(child, "child.yaml"), problems)
    return result, problems


def test_maps_deep_merge_and_child_wins():
    result, problems = merged("a: {x: 1, y: {z: 2, w: 3}}\n", "a: {y: {z: 9}}\n")
    assert result == {"a": {"x": 1, "y": {"z": 9, "w": 3}}} and problems == []


def test_null_deletes_an_inherited_key():
    result, _ = merged("a: {x: 1, y: 2}\n", "a: {y: null}\n")
    assert result == {"a": {"x": 1}}


def test_record_lists_merge_by_id_in_parent_order_then_new():
    parent = "r:\n  - {id: a, n: 1, k: x}\n  - {id: b, n: 2}\n"
    child = "r:\n  - {id: c, n: 3}\n  - {id: a, n: 10}\n"
    result, _ = merged(parent, child)
    assert result["r"] == [{"id": "a", "n": 10, "k": "x"}, {"id": "b", "n": 2}, {"id": "c", "n": 3}]


def test_remove_true_drops_an_inherited_record():
    result, problems = merged("r:\n  - {id: a}\n  - {id: b}\n", "r:\n  - {id: a, remove: true}\n")
    assert result["r"] == [{"id": "b"}] and problems == []


def test_removing_what_is_not_inherited_is_an_error():
    _, problems = merged("r:\n  - {id: a}\n", "r:\n  - {id: zz, remove: true}\n")
    assert [(p.rule, p.mark.line) for p in problems] == [("remove-unknown", 2)]


def test_plain_lists_and_lists_without_ids_are_replaced_whole():
    result, _ = merged("a: [1, 2]\nb:\n  - {do: ab}\n", "a: [3]\nb:\n  - {do: cd}\n")
    assert result == {"a": [3], "b": [{"do": "cd"}]}


def test_marks_point_to_the_file_that_wrote_each_value():
    result, _ = merged("r:\n  - {id: a, n: 1, k: x}\n", "r:\n  - {id: a, n: 2}\n")
    record = result["r"][0]
    assert record.value_marks["n"].file == "child.yaml"
    assert record.value_marks["k"].file == "parent.yaml"


def test_inputs_are_not_modified():
    parent_text, child_text = "a: {x: 1}\n", "a: {x: 2}\n"
    parent, child = load_text(parent_text, "p"), load_text(child_text, "c")
    merge(parent, child, [])
    assert parent == {"a": {"x": 1}} and child == {"a": {"x": 2}}
