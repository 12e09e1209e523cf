"""Inheritance between packs (``extends``): how a child document is laid over its parent.

* Mappings merge key by key, recursively; ``key: null`` in the child deletes the inherited key
  (the rule of JSON Merge Patch, RFC 7386).
* Lists of records (every element a mapping with an ``id``) merge by ``id``: a child record
  with an inherited id is merged into that record, a new id is appended in the child's order,
  and ``{id: x, remove: true}`` deletes the inherited record ``x``.
* Any other list (plain values, or mappings without ids such as a transition's ``actions``)
  is replaced whole by the child's.

The result keeps the marks of whichever file wrote each value, so errors found after merging
still point to the right line. Inputs are never modified.
"""

from __future__ import annotations

from typing import Any

from .loader import Map, Seq
from .problems import Problem


def is_record_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(e, dict) and isinstance(e.get("id"), str) for e in value
    )


def duplicate_ids(value: Any, problems: list[Problem]) -> None:
    """Report records that share an id inside one list, anywhere in a document."""
    if isinstance(value, Map):
        for child in value.values():
            duplicate_ids(child, problems)
    elif isinstance(value, Seq):
        seen: dict[str, Any] = {}
        for element, mark in zip(value, value.item_marks):
            duplicate_ids(element, problems)
            if isinstance(element, Map) and isinstance(element.get("id"), str):
                rid = element["id"]
                if rid in seen:
                    problems.append(Problem(
                        element.value_marks.get("id", mark), "duplicate-id",
                        f"id {rid!r} is used twice in this list (first at line {seen[rid].line})",
                    ))
                else:
                    seen[rid] = mark


def merge(parent: Any, child: Any, problems: list[Problem]) -> Any:
    if isinstance(parent, Map) and isinstance(child, Map):
        return _merge_maps(parent, child, problems)
    if is_record_list(child) and (is_record_list(parent) or _empty_list(parent)):
        return _merge_records(parent, child, problems)
    return _strip_removed(child, problems)


def _empty_list(value: Any) -> bool:
    return isinstance(value, list) and not value


def _merge_maps(parent: Map, child: Map, problems: list[Problem]) -> Map:
    result = Map(child.mark)
    for key, value in parent.items():
        if key in child:
            continue
        result[key] = value
        result.key_marks[key] = parent.key_marks[key]
        result.value_marks[key] = parent.value_marks[key]
    for key, value in child.items():
        if value is None:  # RFC 7386: null deletes
            continue
        result[key] = merge(parent[key], value, problems) if key in parent else _strip_removed(value, problems)
        result.key_marks[key] = child.key_marks[key]
        result.value_marks[key] = child.value_marks[key]
    return result


def _merge_records(parent: Seq, child: Seq, problems: list[Problem]) -> Seq:
    result = Seq(child.mark)
    overrides = {e["id"]: (e, m) for e, m in zip(child, child.item_marks)}
    used: set[str] = set()
    for element, mark in zip(parent, parent.item_marks):
        override = overrides.get(element["id"])
        if override is None:
            result.append(element)
            result.item_marks.append(mark)
            continue
        used.add(element["id"])
        record, record_mark = override
        if record.get("remove") is True:
            continue
        result.append(_merge_maps(element, record, problems))
        result.item_marks.append(record_mark)
    for record, mark in zip(child, child.item_marks):
        if record["id"] in used:
            continue
        if record.get("remove") is True:
            problems.append(Problem(
                record.value_marks.get("remove", mark), "remove-unknown",
                f"`remove: true` names {record['id']!r}, which the parent pack does not define",
            ))
            continue
        result.append(_strip_removed(record, problems))
        result.item_marks.append(mark)
    return result


def _strip_removed(value: Any, problems: list[Problem]) -> Any:
    """A value with nothing to merge into: `remove: true` inside it has nothing to remove."""
    if isinstance(value, Map):
        if value.get("remove") is True:
            problems.append(Problem(
                value.value_marks["remove"], "remove-unknown",
                "`remove: true` only deletes a record inherited through `extends`",
            ))
        for child in value.values():
            _strip_removed(child, problems)
    elif isinstance(value, Seq):
        for element in value:
            _strip_removed(element, problems)
    return value


def check_root(document: Map, problems: list[Problem]) -> Map:
    """A pack that extends nothing: there is nothing for `remove: true` to remove."""
    return _strip_removed(document, problems)
