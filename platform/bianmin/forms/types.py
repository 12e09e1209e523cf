"""The field types forms may use: whatever the plugins' ``register_field_types`` hook registered.

The engine's own types (text, enum, group ...) come through that hook too (``bianmin.builtins``),
so the forms module asks one registry for every type: which names exist, which keys a field of
the type may have, the base JSON Schema of a value, the HTML control, the validator and how a
posted text becomes a value. What depends on a field's own keys (bounds, options, rows, the
materials checklist) the forms module builds for its own types (``FIELD_TYPES``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Mapping

from ..plugins import FieldType, Plugins, get_plugins
from .model import FIELD_TYPES

Checker = Callable[[Any, date], "str | None"]


class UnknownFieldType(LookupError):
    """A form uses a type no loaded plugin provides (the plugins changed after it loaded)."""


@dataclass(frozen=True, slots=True)
class Registry:
    """The field types of one set of loaded plugins, with what forms derive from them."""

    plugins: Plugins
    types: Mapping[str, FieldType]
    names: tuple[str, ...]  # the engine's own first, in their order, then the plugins'
    keys: Mapping[str, frozenset[str]]
    checkers: Mapping[str, Checker]  # by field type: its validator, called as checker(value, today)


_current: Registry | None = None


def registry() -> Registry:
    """The registry of the process's plugins (``bianmin.plugins.get_plugins``), built once per
    set of plugins (tests swap them with ``use_plugins``)."""
    global _current
    plugins = get_plugins()
    found = _current
    if found is None or found.plugins is not plugins:
        found = _current = _build(plugins)
    return found


def _build(plugins: Plugins) -> Registry:
    types = plugins.field_types
    validators = plugins.validators
    checkers: dict[str, Checker] = {}
    for name, spec in types.items():
        if spec.validator is not None:
            checkers[name] = _checker(validators[spec.validator])
    names = tuple(n for n in FIELD_TYPES if n in types) + tuple(n for n in types if n not in FIELD_TYPES)
    return Registry(plugins, types, names, {n: frozenset(t.keys) for n, t in types.items()}, checkers)


def _checker(validator: Callable[..., Any]) -> Checker:
    """A validator as ``checker(value, today)``: one that takes ``today`` gets the day the
    submission is checked for (an ID number's birth date may not be in the future)."""
    try:
        dated = "today" in inspect.signature(validator).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        dated = False
    if dated:
        return lambda value, today: validator(value, today=today)
    return lambda value, today: validator(value)


def field_type(name: str) -> FieldType:
    """The registration of a field type; :class:`UnknownFieldType` names the type when no loaded
    plugin provides it."""
    found = registry().types.get(name)
    if found is None:
        raise UnknownFieldType(f"field type {name!r} is not provided by the engine or any loaded plugin")
    return found


def is_own(name: str) -> bool:
    """One of the engine's own types, which the forms module builds from the field's keys."""
    return name in _OWN


_OWN = frozenset(FIELD_TYPES)
