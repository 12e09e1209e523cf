"""The fields a browser posts back from a form of `render.render_form`, as form answers.

    answers = parse_submission(forms["intake"], await request.form(), item=item)
    errors = validate(forms["intake"], answers, item)

Names are those `render_form` writes: `phone`; `materials_received.0.name` in a repeated
group; `materials.2.pages` in a checklist. Values come back typed as `validate` expects them:
whole numbers as int, yes/no as bool, checkboxes as lists; a number that does not parse stays
text so that `validate` names the field, empty inputs are left out, and names the form does
not have (the CSRF token, a button) are ignored.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from .choices import get, item_materials
from .model import Field, Form

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def parse_submission(form: Form, posted: Any, item: Any = None) -> dict[str, Any]:
    """The answers of a posted form (names as `render_form` writes them), typed for `validate`.

    `posted` is a mapping of names to a value or a list of values, or a multi-dict with
    `getlist` (Starlette's `FormData`). Numbers that do not parse stay text, so that
    `validate` names the field; empty inputs are left out; names the form does not have
    (the CSRF token, the submit button) are ignored.
    """
    getlist = _getlist(posted)
    names = list(posted.keys())
    out: dict[str, Any] = {}
    for f in form.fields:
        if f.type == "group":
            rows = _group_rows(f, getlist, names)
            if rows:
                out[f.id] = rows
        elif f.type == "materials":
            out[f.id] = _material_rows(f, getlist, item)
        else:
            value = _value(f, getlist(f.id))
            if value is not None:
                out[f.id] = value
    return out


def _getlist(posted: Any) -> Any:
    if hasattr(posted, "getlist"):
        return lambda name: [v for v in posted.getlist(name) if isinstance(v, str)]

    def getlist(name: str) -> list[str]:
        value = posted.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]

    return getlist


def _value(f: Field, raw: list[str]) -> Any:
    if f.type == "multi_select":
        chosen = [v for v in raw if v.strip()]
        return chosen or None
    text = raw[-1].strip() if raw else ""
    if text == "":
        return None
    if f.type == "integer" and _INTEGER.match(text):
        return int(text)
    if f.type == "decimal" and _DECIMAL.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if f.type == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if f.type == "datetime":
        return text.replace(" ", "T", 1)
    if f.type in ("id_number", "credit_code"):
        return text.upper()
    if f.type == "long_text":
        return raw[-1].replace("\r\n", "\n").strip()
    return text


def _group_rows(f: Field, getlist: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    indexes = sorted({int(m.group(1)) for n in names
                      if (m := re.match(re.escape(f.id) + r"\.(\d+)\.", n))})
    rows = []
    for i in indexes:
        row = {}
        for sub in f.fields:
            value = _value(sub, getlist(f"{f.id}.{i}.{sub.id}"))
            if value is not None:
                row[sub.id] = value
        if row:
            rows.append(row)
    return rows


def _material_rows(f: Field, getlist: Any, item: Any) -> list[dict[str, Any]]:
    rows = []
    for i, material in enumerate(item_materials(item)):
        prefix = f"{f.id}.{i}."
        row: dict[str, Any] = {"id": str(get(material, "id")), "received": "true" in getlist(prefix + "received")}
        for key in ("form", "copies", "pages", "note"):
            raw = getlist(prefix + key)
            text = raw[-1].strip() if raw else ""
            if text:
                row[key] = int(text) if key in ("copies", "pages") and _INTEGER.match(text) else text
        if not row["received"]:
            row.pop("pages", None)  # pages are counted for what was handed in
        rows.append(row)
    return rows


