"""`when` / `required_when` conditions as a small tree: for the form's script, and for Python.

The server evaluates a condition in the sandbox (`validators.holds`). The form's inline
script cannot run Jinja2, so a condition is compiled once into a JSON tree it can walk:

    data.x == "a" and not row.y   →   ["and", ["==", ["data", "x"], ["const", "a"]], ["not", ["row", "y"]]]

Nodes: `const`, `data`, `row`, `not`, `and`, `or`, the comparisons `== != < <= > >= in notin`,
and the tests `defined` and `none`. `item.…` is known when a form is rendered and becomes a
constant. A condition using anything else (a filter, a call) has no tree: the field always
shows in the browser, and the server still decides.

`evaluate(tree, data, row)` walks the same tree in Python with the sandbox's meaning of an
unanswered field (undefined: false, equal only to another undefined, never in a list, never
ordered), so that a test can check that the tree says what the server says — and a validator
may use it as a fast path, about ten times cheaper than a sandboxed call.
"""

from __future__ import annotations

import json
import operator
from functools import lru_cache
from typing import Any, Callable, Mapping

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError

from .choices import get

Tree = list[Any]

_PARSER = Environment()
_OPS = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=", "in": "in", "notin": "notin"}


class _Unsupported(Exception):
    pass


def when_script(expression: str, item: Any = None) -> str | None:
    """The condition's tree as compact JSON for the form's script, or None (see module doc)."""
    found = tree(expression, item)
    return None if found is None else json.dumps(found, ensure_ascii=False, separators=(",", ":"))


def tree(expression: str, item: Any = None) -> Tree | None:
    """The condition's tree, or None when it uses something the tree cannot express."""
    try:
        node = _PARSER.parse("{{ (" + expression + ") }}").body[0].nodes[0]  # type: ignore[attr-defined]
        found = _node(node, item)
        json.dumps(found)  # only JSON values become constants (TypeError otherwise)
        return found
    except (TemplateSyntaxError, _Unsupported, AttributeError, IndexError, TypeError, ValueError):
        return None


def _node(node: nodes.Node, item: Any) -> Tree:
    if isinstance(node, nodes.Const):
        return ["const", node.value]
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return ["const", [_constant(n) for n in node.items]]
    if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name):
        attr = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
        if node.node.name in ("data", "row"):
            return [node.node.name, str(attr)]
        if node.node.name == "item":
            value = get(item, str(attr)) if item is not None else None
            return ["const", list(value) if isinstance(value, tuple) else value]
    if isinstance(node, nodes.Not):
        return ["not", _node(node.node, item)]
    if isinstance(node, (nodes.And, nodes.Or)):
        return ["and" if isinstance(node, nodes.And) else "or", _node(node.left, item), _node(node.right, item)]
    if isinstance(node, nodes.Compare):
        left, parts = _node(node.expr, item), []
        for operand in node.ops:
            right = _node(operand.expr, item)
            parts.append([_OPS[operand.op], left, right])
            left = right
        out = parts[0]
        for part in parts[1:]:
            out = ["and", out, part]
        return out
    if isinstance(node, nodes.Test) and node.name in ("defined", "none") and not node.args:
        return [node.name, _node(node.node, item)]
    raise _Unsupported(type(node).__name__)


def _constant(node: nodes.Node) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    raise _Unsupported(type(node).__name__)


# -- evaluating a tree in Python -------------------------------------------------------------------

class _Missing:
    """An unanswered field, as the sandbox's lenient undefined behaves."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Missing)

    def __hash__(self) -> int:
        return 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())

    def __contains__(self, item: object) -> bool:
        return False


MISSING = _Missing()
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def evaluate(node: Tree, data: Mapping[str, Any], row: Mapping[str, Any] | None = None) -> bool:
    """The truth of a tree for these answers; a comparison that cannot be made is false."""
    try:
        return bool(_eval(node, data, row))
    except (TypeError, ValueError, ArithmeticError):
        return False


def _eval(n: Tree, data: Mapping[str, Any], row: Mapping[str, Any] | None) -> Any:
    kind = n[0]
    if kind == "const":
        return n[1]
    if kind == "data":
        return data.get(n[1], MISSING)
    if kind == "row":
        return MISSING if row is None else row.get(n[1], MISSING)
    if kind == "not":
        return not _eval(n[1], data, row)
    if kind == "and":
        return _eval(n[1], data, row) and _eval(n[2], data, row)
    if kind == "or":
        return _eval(n[1], data, row) or _eval(n[2], data, row)
    if kind == "defined":
        return _eval(n[1], data, row) is not MISSING
    if kind == "none":
        return _eval(n[1], data, row) is None
    left, right = _eval(n[1], data, row), _eval(n[2], data, row)
    if kind in ("in", "notin"):
        found = left in right if right is not MISSING and left is not MISSING else False
        return found if kind == "in" else not found
    if left is MISSING or right is MISSING:
        if kind in ("==", "!="):
            return (left == right) if kind == "==" else not (left == right)
        raise TypeError("an unanswered field has no order")
    return _COMPARE[kind](left, right)


@lru_cache(maxsize=4096)
def compiled(expression: str) -> Tree | None:
    """The tree of a condition that does not read `item` (cached), or None."""
    return None if "item" in expression else tree(expression)
