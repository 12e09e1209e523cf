"""Validation of a (merged) pack document against the pack JSON Schema, with positions.

jsonschema reports a path into the document; the loader's marks turn it into a file, line and
column. Unknown keys get a "did you mean" from the keys the schema allows at that place.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

import jsonschema
import jsonschema_rs

from .loader import Map, Mark, Seq
from .problems import Problem


@lru_cache(maxsize=1)
def pack_schema() -> dict[str, Any]:
    text = resources.files("bianmin.packs").joinpath("schema/pack.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(pack_schema())


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    return jsonschema_rs.validator_for(pack_schema())


def validate(document: Map) -> list[Problem]:
    # The compiled validator answers "valid?" tens of times faster; only an invalid document
    # pays for the pure-Python walk that yields every error with its path.
    if _fast_validator().is_valid(document):
        return []
    problems: list[Problem] = []
    for error in _validator().iter_errors(document):
        problems.extend(_explain(error, document))
    return problems


def _locate(document: Map, path: Iterable[Any]) -> tuple[Any, Mark]:
    node: Any = document
    mark = document.mark
    for key in path:
        if isinstance(node, Map) and key in node:
            mark = node.value_marks[key]
        elif isinstance(node, Seq) and isinstance(key, int) and key < len(node):
            mark = node.item_marks[key]
        else:
            break
        node = node[key]
    return node, mark


def _where(path: Iterable[Any]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "the document"


def _explain(error: jsonschema.ValidationError, document: Map) -> list[Problem]:
    # For oneOf/anyOf, explain the alternative that came closest (fewest errors): for
    # `{value: two, unit: working_day}` that is "value must be a whole number", not
    # "unknown key value" from an alternative the author never meant.
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[int, list[jsonschema.ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        closest = min(branches.values(), key=len)
        problems: list[Problem] = []
        for sub in closest:
            problems.extend(_explain(sub, document))
        return problems
    return _explain_at(error, document, list(error.absolute_path))


def _explain_at(error: jsonschema.ValidationError, document: Map, path: list[Any]) -> list[Problem]:
    node, mark = _locate(document, path)
    where = _where(path)
    if error.validator == "additionalProperties" and isinstance(node, Map):
        allowed = sorted(error.schema.get("properties", {}))
        problems = []
        for key in node:
            if key in allowed:
                continue
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; allowed here: {', '.join(allowed)}"
            problems.append(Problem(node.key_marks[key], "unknown-key", f"unknown key {key!r} in {where}{suggestion}"))
        return problems
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [Problem(mark, "missing-key", f"{where} needs the key {missing!r}")]
    if error.validator == "type":
        expected = error.validator_value
        return [Problem(mark, "wrong-type", f"{where} must be {_type_words(expected)}, not {_describe(error.instance)}")]
    if error.validator == "enum":
        options = ", ".join(map(str, error.validator_value))
        hint = difflib.get_close_matches(str(error.instance), [str(v) for v in error.validator_value], n=1)
        tail = f"; did you mean {hint[0]!r}?" if hint else ""
        return [Problem(mark, "wrong-value", f"{where} is {error.instance!r}; allowed: {options}{tail}")]
    if error.validator == "pattern":
        return [Problem(mark, "wrong-format", f"{where} is {error.instance!r}; {_pattern_words(error.schema)}")]
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [Problem(mark, "out-of-range", f"{where} is {error.instance!r}: {error.message}")]
    return [Problem(mark, "schema", f"{where}: {error.message}")]


_TYPE_WORDS = {
    "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "array": "a list", "object": "a mapping of keys",
}


def _type_words(expected: Any) -> str:
    if isinstance(expected, list):
        return " or ".join(_TYPE_WORDS.get(e, e) for e in expected)
    return _TYPE_WORDS.get(expected, str(expected))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return f"{value!r}"


def _pattern_words(schema: dict[str, Any]) -> str:
    description = schema.get("description")
    return description if description else f"it must match {schema.get('pattern')}"
