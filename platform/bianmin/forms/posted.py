"""The fields a browser posts back from a form of `render.render_form`, as form answers.

    answers = parse_submission(forms["intake"], await request.form(), item=item)
    errors = validate(forms["intake"], answers, item)

Names are those `render_form` writes: `phone`; `materials_received.0.name` in a repeated
group; `materials.2.pages` in a checklist. Values come back typed as `validate` expects them:
each field type's `parse` (types.py) turns the text into a value — whole numbers as int, yes/no
as bool, a plugin's own conversion — and checkboxes are lists; a text that does not parse stays
text so that `validate` names the field, empty inputs are left out, and names the form does not
have (the CSRF token, a button) are ignored.

"Add a row" without JavaScript: each repeated group has a submit button named
`_add_row:<group>`. A post of that button is no submission: :func:`add_row` says so, and gives
the rows each group shows when the form is printed again with the answers kept:

    rows = add_row(form, posted)
    if rows is not None:
        return render_form(form, values=parse_submission(form, posted, item), rows=rows, ...)
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from .choices import get, item_materials
from .model import Field, Form
from .types import field_type

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
ADD_ROW = "_add_row:"  # the name of a group's "add a row" button: _add_row:<group id>


# -- the parse of the engine's own types (registered in bianmin.builtins) ---------------------------

def parse_integer(text: str) -> int:
    if not _INTEGER.match(text):  # int() would also take "1_000" and other scripts' digits
        raise ValueError(text)
    return int(text)


def parse_decimal(text: str) -> int | float:
    if not _DECIMAL.match(text):
        raise ValueError(text)
    number = float(text)
    return int(number) if number.is_integer() and "." not in text else number


def parse_boolean(text: str) -> bool:
    answers = {"true": True, "false": False}
    if text not in answers:
        raise ValueError(text)
    return answers[text]


def parse_datetime(text: str) -> str:
    return text.replace(" ", "T", 1)


def parse_long_text(text: str) -> str:
    return text.replace("\r\n", "\n")


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


def parse_value(f: Field, raw: Sequence[str]) -> Any:
    """The answer of one field from the texts posted under its name: None when empty, a list
    for checkboxes, else the last text, stripped and parsed by the field type's `parse`."""
    if f.type == "multi_select":
        chosen = [v for v in raw if v.strip()]
        return chosen or None
    text = raw[-1].strip() if raw else ""
    if text == "":
        return None
    parse = field_type(f.type).parse
    if parse is None:
        return text
    try:
        return parse(text)
    except (ValueError, TypeError):  # kept as text: the schema then names the field
        return text


_value = parse_value


def add_row(form: Form, posted: Any) -> dict[str, int] | None:
    """None for a submission; for a press of a group's "add a row" button (`_add_row:<group>`),
    the rows each repeated group should print again: as many as were posted, and one more in
    the group whose button was pressed."""
    names = list(posted.keys())
    pressed = next((n[len(ADD_ROW):] for n in names if n.startswith(ADD_ROW)), None)
    group = form.field(pressed) if pressed is not None else None
    if group is None or group.type != "group":
        return None
    rows = posted_rows(form, posted)
    rows[group.id] = rows.get(group.id, 0) + 1
    return rows


def posted_rows(form: Form, posted: Any) -> dict[str, int]:
    """The rows each repeated group had on the page that was posted (blank ones included)."""
    names = list(posted.keys())
    out = {}
    for f in form.fields:
        if f.type == "group":
            pattern = re.compile(re.escape(f.id) + r"\.(\d+)\.")
            indexes = [int(m.group(1)) for n in names if (m := pattern.match(n))]
            out[f.id] = max(indexes) + 1 if indexes else 0
    return out


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


