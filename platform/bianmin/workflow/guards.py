"""Guards: a transition's condition, a sandboxed Jinja2 expression (never `eval`).

A guard is written without ``{{ }}``, e.g. ``item.kind == "immediate" and case.materials_complete``.
It runs in the project's one sandboxed environment (:mod:`bianmin.sandbox`), compiled once per
text. Variables:

=========  ==============================================================================
case       the record: its subject, ``state`` and the facts derived from materials
record     the same (a neutral name for workflows that are not cases)
<subject>  the same under the workflow's ``subject`` name (``complaint``, ``inquiry`` ...)
item       the compiled Item of the case (``item.kind``, ``item.accept_on_commitment``), or None
data       the data submitted with the transition (the form's answers)
actor      the Actor: ``actor.roles``, ``actor.acting_for``
pack       the compiled Pack
now        the moment of the transition
=========  ==============================================================================

A name or attribute that does not exist is an error, not a silent false: :class:`GuardError`
names the missing variable (``data.reporter_agreed``).

A guard made of names, attributes, comparisons and ``and``/``or``/``not`` (most are) runs as the
plain Python function :func:`bianmin.forms.validators.python_expression` builds: the same
operations as the Jinja2 template, in the same order, without building a template context for
each call; anything else (filters, calls, tests) runs through Jinja2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from jinja2 import Undefined, nodes
from jinja2.exceptions import TemplateError, UndefinedError

from ..forms.validators import python_expression
from ..sandbox import environment

_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")
_NAME = re.compile(r"^'([^']+)' is undefined")


class GuardError(Exception):
    """A guard that could not be computed; ``missing`` is the variable it needed, if known."""

    def __init__(self, message: str, missing: str = "") -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True, slots=True)
class Guard:
    text: str
    run: Callable[..., Any]
    names: frozenset[str]  # the variables it reads (case, data, item ...)
    paths: tuple[str, ...]  # every dotted path it reads: data.reporter_agreed, case.state ...
    plain: Callable[[dict[str, Any]], Any] | None = None  # run, as plain Python (None: no such form)

    def __call__(self, **variables: Any) -> bool:
        return self.holds(variables)

    def holds(self, variables: dict[str, Any]) -> bool:
        """The guard's value for these variables (raises GuardError)."""
        try:
            result = self.plain(variables) if self.plain is not None else self.run(**variables)
            if isinstance(result, Undefined):
                raise UndefinedError(result._undefined_message)
            return bool(result)
        except UndefinedError as exc:
            missing = self.missing(str(exc))
            raise GuardError(f"缺少变量 {missing}" if missing else str(exc), missing) from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise GuardError(f"{type(exc).__name__}: {exc}") from None

    def missing(self, message: str) -> str:
        """The dotted path a Jinja2 undefined-error message is about."""
        found = _NAME.search(message)
        if found:
            return found.group(1)
        found = _ATTRIBUTE.search(message)
        if found:
            attribute = found.group(1)
            return next((p for p in self.paths if p.endswith("." + attribute)), attribute)
        return ""


@lru_cache(maxsize=4096)
def compile_guard(text: str) -> Guard:
    """The compiled guard; raises jinja2.TemplateSyntaxError (the pack checker reports those)."""
    env = environment()
    run = _runner(env.compile_expression(text, undefined_to_none=False))
    tree = env.parse("{{ (" + text + ") }}")
    names = frozenset(n.name for n in tree.find_all(nodes.Name) if n.ctx == "load")
    paths = tuple(dict.fromkeys(p for node in tree.find_all((nodes.Getattr, nodes.Getitem))
                                if (p := _path(node))))
    return Guard(text, run, names, paths, python_expression(env, text))


def _runner(expression: Any) -> Callable[..., Any]:
    """Call the expression's template directly: the same evaluation as
    ``TemplateExpression.__call__`` without its copies, about twice as fast (guards run on
    every transition). Falls back to the public call if Jinja2's internals change."""
    template = getattr(expression, "_template", None)
    render = getattr(template, "root_render_func", None)
    env_globals = getattr(getattr(template, "environment", None), "globals", None)
    if template is None or render is None or not isinstance(env_globals, dict):
        return expression

    def run(**variables: Any) -> Any:
        # What `new_context(variables)` builds, without walking its ChainMap of globals: the
        # environment's globals (filters, plugin guard functions), then the variables.
        scope = env_globals.copy()
        scope.update(variables)
        context = template.new_context(scope, shared=True)
        for _ in render(context):
            pass
        return context.vars["result"]

    return run


def _path(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        head = _path(node.node)
        return f"{head}.{node.attr}" if head else ""
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        head = _path(node.node)
        return f"{head}.{node.arg.value}" if head else ""
    return ""
