"""A form as a Draft 2020-12 JSON Schema for its submissions.

The schema says everything JSON Schema can say about one submission: types, required fields,
lengths, bounds, patterns, options. What it cannot say is left to `validators.validate`, and is
recorded in `x-bianmin-*` annotations (ignored by validators) so that a client can see it:

* `x-bianmin-when` / `x-bianmin-required-when`: a field shown or required only under a condition
  is never in `required`; `validate` evaluates the expression and checks it in Python;
* `x-bianmin-type`: id_number, credit_code, phone, date, datetime ... whose checksums, calendar
  dates and real bounds are checked in Python (`x-bianmin-min` / `x-bianmin-max` for dates,
  where the bound may be the word `today`), and the types plugins add (their validators).

Every type is a registration of the `register_field_types` hook (`types.py`): a value's schema
starts from the type's `schema`; the engine's own types add what their keys say (bounds,
options, rows), any other type the plain keys (lengths, a pattern).

Empty answers ("", blanks, [], null) are not answers: `validate` drops them before checking, and a
client should omit them (every string property has `minLength: 1`).
"""

from __future__ import annotations

from typing import Any, Mapping

from .choices import MATERIAL_FORMS, Choices, get, item_materials, options_for
from .model import Field, Form
from .types import field_type

DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Patterns are written in the subset shared by Python `re` and ECMA-262, with [0-9] rather than
# \d (Python's \d also matches other scripts' digits).
PHONE_PATTERN = r"^(1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}(-[0-9]{1,6})?)$"
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9X]$"
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?$"

STRING_TYPES = frozenset({"text", "long_text", "address", "phone", "id_number", "credit_code",
                          "date", "datetime"})
# Labels of the per-material keys of a materials checklist row.
MATERIAL_ROW_LABELS = {
    "id": "材料", "name": "材料名称", "received": "是否已收取", "form": "材料形式",
    "copies": "份数", "pages": "页数", "core": "核心材料", "note": "备注",
}


def to_json_schema(form: Form, item: Any = None, *, choices: Choices | None = None) -> dict[str, Any]:
    """The JSON Schema of a submission of `form`.

    `item` (a mapping with a `materials` list of `{id, name, form, copies, core}`) fixes the
    rows of a `materials` field and the options of `options_from: item_materials`; `choices`
    gives the options of the other `options_from` lists (see `choices.choices_from_pack`).
    """
    schema: dict[str, Any] = {"$schema": DRAFT, "$id": f"urn:bianmin:form:{form.id}", "title": form.title}
    if form.description:
        schema["description"] = form.description
    schema.update(_object(form, form.fields, item, choices))
    return schema


def field_schema(form: Form, field: Field, item: Any = None, choices: Choices | None = None) -> dict[str, Any]:
    """The schema of one field's value (used for a whole form and to check a field's default)."""
    s: dict[str, Any] = {"title": field.label}
    if field.help:
        s["description"] = field.help
    if field.type not in ("text", "integer", "decimal", "boolean", "enum", "multi_select", "group"):
        s["x-bianmin-type"] = field.type
    if field.when:
        s["x-bianmin-when"] = field.when
    if field.required_when:
        s["x-bianmin-required-when"] = field.required_when
    s.update(_TYPES.get(field.type, _registered)(form, field, item, choices))
    if field.default is not None:
        s["default"] = _thaw(field.default)
    return s


def _object(form: Form, fields: tuple[Field, ...], item: Any, choices: Choices | None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "type": "object",
        "properties": {f.id: field_schema(form, f, item, choices) for f in fields},
        "additionalProperties": False,
    }
    required = [f.id for f in fields if f.required and not f.conditional]
    if required:
        s["required"] = required
    return s


def _string(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    s = _thaw(field_type(f.type).schema)  # the registered type, pattern and format
    s["minLength"] = max(f.min_length or 0, 1)
    if f.max_length is not None:
        s["maxLength"] = f.max_length
    if f.pattern:
        s["pattern"] = f.pattern
    if f.min is not None:
        s["x-bianmin-min"] = f.min
    if f.max is not None:
        s["x-bianmin-max"] = f.max
    return s


def _number(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    s = _thaw(field_type(f.type).schema)
    if f.min is not None:
        s["minimum"] = f.min
    if f.max is not None:
        s["maximum"] = f.max
    return s


def _enum(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    options = options_for(form, f, item, choices)
    s: dict[str, Any] = {"type": "string", "enum": [o.value for o in options],
                         "x-bianmin-options": [{"value": o.value, "label": o.label} for o in options]}
    if f.options_from:
        s["x-bianmin-options-from"] = f.options_from
    return s


def _multi_select(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "array", "items": _enum(form, f, item, choices), "uniqueItems": True}
    return s | _counts(f)


def _group(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    return {"type": "array", "items": _object(form, f.fields, item, choices)} | _counts(f)


def _counts(f: Field) -> dict[str, int]:
    s: dict[str, int] = {}
    low = f.min_items if f.min_items is not None else (1 if f.required else None)
    if low:
        s["minItems"] = low
    if f.max_items is not None:
        s["maxItems"] = f.max_items
    return s


def _materials(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    """One checklist row per material of the item, in the catalogue's order."""
    if item is None:
        return {"type": "array", "items": _material_row(None)}
    rows = [_material_row(m) for m in item_materials(item)]
    return {"type": "array", "prefixItems": rows, "minItems": len(rows), "maxItems": len(rows)}


def _material_row(material: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
        "name": {"type": "string", "readOnly": True},
        "received": {"type": "boolean"},
        "form": {"type": "string", "enum": [o.value for o in MATERIAL_FORMS],
                 "x-bianmin-options": [{"value": o.value, "label": o.label} for o in MATERIAL_FORMS]},
        "copies": {"type": "integer", "minimum": 0},
        "pages": {"type": "integer", "minimum": 1},
        "core": {"type": "boolean", "readOnly": True},
        "note": {"type": "string"},
    }
    for key, p in props.items():
        p["title"] = MATERIAL_ROW_LABELS[key]
    if material is not None:
        props["id"] = {"title": MATERIAL_ROW_LABELS["id"], "const": get(material, "id")}
        props["name"]["const"] = get(material, "name")
        props["core"]["const"] = bool(get(material, "core"))
        for key in ("form", "copies"):
            if get(material, key) is not None:
                props[key]["default"] = get(material, key)
    return {
        "type": "object",
        "properties": props,
        "required": ["id", "received"],
        "additionalProperties": False,
        # 收件回执单 lists the page count of every material received (xupu 四(一)).
        "if": {"properties": {"received": {"const": True}}, "required": ["received"]},
        "then": {"required": ["pages"]},
    }


def _boolean(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    return _thaw(field_type(f.type).schema)


def _registered(form: Form, f: Field, item: Any, choices: Choices | None) -> dict[str, Any]:
    """A type a plugin registered: its schema, and the plain keys of the field. A pattern of the
    field's own is added beside the type's (both must hold)."""
    s = _thaw(field_type(f.type).schema)
    if s.get("type") == "string":  # an empty answer is no answer (see the module's docstring)
        s["minLength"] = max(f.min_length or 0, s.get("minLength", 0), 1)
    elif f.min_length is not None:
        s["minLength"] = f.min_length
    if f.max_length is not None:
        s["maxLength"] = f.max_length
    if f.pattern:
        s.setdefault("allOf", []).append({"pattern": f.pattern})
    return s


_TYPES = {
    "text": _string, "long_text": _string, "address": _string, "phone": _string,
    "id_number": _string, "credit_code": _string, "date": _string, "datetime": _string,
    "integer": _number, "decimal": _number, "enum": _enum, "multi_select": _multi_select,
    "boolean": _boolean, "group": _group, "materials": _materials,
}


def _thaw(value: Any) -> Any:
    """Tuples (a frozen default) as lists; mappings (a registered schema) as fresh dicts."""
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_thaw(v) for v in value]
    return value
