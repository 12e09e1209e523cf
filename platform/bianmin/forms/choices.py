"""Where the options of a field come from, and chosen values as documents print them.

A field lists its options inline (`options`) or names a list of the pack (`options_from`), so
that a pause form offers exactly the pause reasons of the pack the case runs under. Every such
list is a list of `{id, name}` records; `item_materials` is the materials of the case's item.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .model import Choice, Field, Form, Option

Choices = Mapping[str, Sequence[Option]]

# options_from name -> keys leading to the list of {id, name} records in a (merged) pack.
PACK_LISTS: dict[str, tuple[str, ...]] = {
    "pause_reasons": ("time_limits", "pause_reasons"),
    "complaint_categories": ("complaints", "categories"),
    "rating_levels": ("ratings", "levels"),
    "windows": ("windows",),
    "departments": ("departments",),
    "negative_report_grounds": ("negative_report", "grounds"),
    "unresolved_matter_scope": ("unresolved_matter", "scope"),
    "accountability_effects": ("accountability", "effects"),
}

# The `form` of a material in the item catalogue (pack schema `material.form`).
MATERIAL_FORMS: tuple[Option, ...] = (
    Option("original", "原件"),
    Option("copy", "复印件"),
    Option("original_and_copy", "原件及复印件"),
    Option("electronic", "电子件"),
)


class OptionsUnavailable(LookupError):
    """A field takes its options from a list the caller did not supply."""


def get(obj: Any, key: str) -> Any:
    """`obj[key]` for a mapping, `obj.key` otherwise (items are mappings until the pack model)."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def choices_from_pack(pack: Mapping[str, Any]) -> dict[str, tuple[Option, ...]]:
    """The option lists a merged pack document offers, by `options_from` name."""
    found: dict[str, tuple[Option, ...]] = {}
    for name, keys in PACK_LISTS.items():
        node: Any = pack
        for key in keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            found[name] = tuple(Option(str(r["id"]), str(r["name"])) for r in node)
    return found


def item_materials(item: Any) -> list[Any]:
    return list(get(item, "materials") or []) if item is not None else []


def options_for(form: Form, field: Field, item: Any = None, choices: Choices | None = None) -> tuple[Option, ...]:
    """The options a field offers, resolving `options_from` against the item and the pack."""
    source = field.options_from
    if source is None:
        return field.options
    if source == "item_materials":
        if item is None:
            raise OptionsUnavailable(
                f"form {form.id!r}, field {field.id!r}: options come from the item's materials; pass item="
            )
        return tuple(Option(str(get(m, "id")), str(get(m, "name"))) for m in item_materials(item))
    if choices is None or source not in choices:
        raise OptionsUnavailable(
            f"form {form.id!r}, field {field.id!r}: options come from the pack's {source}; "
            f"pass choices={{{source!r}: [...]}} (see choices_from_pack)"
        )
    return tuple(choices[source])


def labelled(form: Form, data: Mapping[str, Any], item: Any = None,
             choices: Choices | None = None) -> dict[str, Any]:
    """A copy of validated form data whose chosen values are :class:`Choice` (value + label).

    This is the `data` a document template receives: `{{ data.reason }}` prints the label.
    """
    return _label_fields(form, form.fields, data, item, choices)


def _label_fields(form: Form, fields: Sequence[Field], data: Mapping[str, Any], item: Any,
                  choices: Choices | None) -> dict[str, Any]:
    out = dict(data)
    for f in fields:
        if f.id not in data:
            continue
        value = data[f.id]
        if f.type in ("enum", "multi_select"):
            labels = {o.value: o.label for o in options_for(form, f, item, choices)}
            if isinstance(value, list):
                out[f.id] = [_choice(v, labels) for v in value]
            else:
                out[f.id] = _choice(value, labels)
        elif f.type == "group" and isinstance(value, list):
            out[f.id] = [_label_fields(form, f.fields, row, item, choices) for row in value]
        elif f.type == "materials" and isinstance(value, list):
            forms = {o.value: o.label for o in MATERIAL_FORMS}
            out[f.id] = [{**row, "form": _choice(row["form"], forms)} if "form" in row else dict(row)
                         for row in value]
    return out


def _choice(value: Any, labels: Mapping[str, str]) -> Any:
    return Choice(value, labels[value]) if isinstance(value, str) and value in labels else value
