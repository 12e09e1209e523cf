"""Generated forms on pages: what the field template needs, and HTML posts back to form data.

HTML sends every value as text; :func:`from_html` gives each field its type (numbers, booleans,
lists, the materials checklist as ``[{id, received}]``, repeated groups as lists of rows, a
plugin's field type through its ``parse``) so that the same ``bianmin.forms.validate`` checks
page posts and API calls alike.

``_form_fields.html`` prints the engine's plain types itself; repeated groups and plugin field
types come from the forms package (:func:`widgets`), so a group prints its rows and its
"添加一行" button, and a plugin type its widget, input type and attributes exactly as
``bianmin.forms.render_form`` prints them. "添加一行" is a submit button (no JavaScript needed):
a handler asks :func:`rows_to_add` first and, for such a post, prints the form again with one
more row and the answers kept, storing nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from starlette.datastructures import FormData

from ..forms import FieldError, Form, OptionsUnavailable, clean, options_for, validate
from ..forms.choices import Choices
from ..forms.layout import layout
from ..forms.posted import add_row, parse_submission, parse_value
from ..forms.render import Slot, _add, _place_errors
from ..forms.types import is_own
from ..packs.model import Item, Pack
from ..workflow.submission import forms_of


@dataclass
class FormView:
    form: Form
    values: dict[str, Any]
    errors: list[FieldError]
    options: dict[str, Any]
    materials: tuple[Any, ...]
    widgets: dict[str, Markup] = field(default_factory=dict)  # HTML by field id (see the module doc)

    @property
    def fields(self) -> tuple[Any, ...]:
        return self.form.fields

    @property
    def field_errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for e in self.errors:
            out.setdefault(e.path.split("[", 1)[0], e.message)
        return out


def form_of(pack: Pack, form_id: str) -> Form:
    return forms_of(pack)[0][form_id]


def view(pack: Pack, form: Form, item: Item | None = None, values: Mapping[str, Any] | None = None,
         errors: list[FieldError] | None = None, rows: Mapping[str, int] | None = None) -> FormView:
    """What the template needs; ``rows`` fixes the rows each group prints (after "添加一行")."""
    _forms, choices = forms_of(pack)
    options = {}
    for f in form.fields:
        try:
            options[f.id] = options_for(form, f, item, choices)
        except OptionsUnavailable:
            options[f.id] = ()
    initial = {f.id: f.default for f in form.fields if f.default is not None}
    values = {**initial, **dict(values or {})}
    pages: dict[str, Any] = {}
    if "materials" in values and isinstance(values["materials"], list):
        pages = {r["id"]: r.get("pages") for r in values["materials"] if isinstance(r, Mapping)}
        values["materials"] = [r["id"] for r in values["materials"] if isinstance(r, Mapping) and r.get("received")]
    values["materials.pages"] = pages
    return FormView(form, values, list(errors or []), options, item.materials if item else (),
                    widgets(form, item, choices, values, errors or (), rows))


def widgets(form: Form, item: Item | None, choices: Choices, values: Mapping[str, Any],
            errors: Sequence[FieldError], rows: Mapping[str, int] | None = None) -> dict[str, Markup]:
    """The HTML of the form's repeated groups and plugin-typed fields, by field id, printed by the
    forms package (labels, hints, errors, rows and the "添加一行" button included)."""
    if all(f.type != "group" and is_own(f.type) for f in form.fields):
        return {}
    lay = layout(form, item, choices)
    rows = rows or {}
    at, _summary = _place_errors(lay, errors, values, rows)
    out: dict[str, Markup] = {}
    for c in lay.controls:
        if c.field.type == "group" or not is_own(c.field.type):
            slots: list[Slot] = []
            _add(slots, c, values.get(c.field.id), at, rows)
            out[c.field.id] = _joined(slots)
    return out


_ERROR = Markup('<p class="bm-error" id="{}"><span class="bm-visually-hidden">错误: </span>{}</p>')


def _joined(slots: Sequence[Slot]) -> Markup:
    """The slots of one control as HTML, as the forms package's form.html.j2 joins them (no
    checklist rows: the desk prints its materials itself)."""
    parts: list[Markup] = []
    for s in slots:
        c = s.c
        if s.kind == "close":
            parts.append(c.close)
        elif s.kind == "add_row":
            parts.append(s.value)
        elif s.errors:
            parts += [c.open_error, _ERROR.format(c.error_id, s.errors), c.before_error, s.value, c.after_error]
        else:
            parts += [c.before, s.value, c.after]
    return Markup("\n").join(parts)


def rows_to_add(form: Form, posted: FormData) -> dict[str, int] | None:
    """None for a submission; for a press of a group's "添加一行", the rows to print again."""
    return add_row(form, posted)


def from_html(form: Form, posted: FormData, item: Item | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    grouped = parse_submission(form, posted, item) if any(f.type == "group" for f in form.fields) else {}
    for f in form.fields:
        if f.type == "group":  # rows posted as <group>.<n>.<field>, as the forms package names them
            if f.id in grouped:
                data[f.id] = grouped[f.id]
        elif f.type == "boolean":
            data[f.id] = posted.get(f.id) in ("true", "on", "1")
        elif f.type == "materials":
            ticked = set(posted.getlist(f.id))
            rows = []
            for m in item.materials if item else ():
                row: dict[str, Any] = {"id": m.id, "received": m.id in ticked}
                pages = posted.get(f"{f.id}.{m.id}.pages")
                if m.id in ticked and isinstance(pages, str) and pages.strip().isdigit():
                    row["pages"] = int(pages)
                rows.append(row)
            data[f.id] = rows
        elif f.type == "multi_select":
            picked = [v for v in posted.getlist(f.id) if isinstance(v, str) and v]
            if picked:
                data[f.id] = picked
        else:
            raw = posted.get(f.id)
            if isinstance(raw, str) and raw.strip():
                data[f.id] = _typed(f.type, raw.strip()) if is_own(f.type) else parse_value(f, [raw])
    return data


def _typed(kind: str, raw: str) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "decimal":
            return float(raw)
    except ValueError:
        return raw
    if kind == "datetime" and len(raw) == 16:
        return raw.replace("T", " ")
    return raw


def check(pack: Pack, form: Form, data: Mapping[str, Any], item: Item | None,
          today: dt.date | None = None) -> tuple[dict[str, Any], list[FieldError]]:
    """(cleaned data, every error) of a submission, pages and API alike."""
    _forms, choices = forms_of(pack)
    errors = validate(form, data, item, choices=choices, today=today or dt.date.today())
    return (clean(form, data, item) if not errors else dict(data)), errors


def described(pack: Pack, form_id: str | None, subject: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(key, label, shown value) of a record's plain fields, labelled by its opening form."""
    forms, choices = forms_of(pack)
    form = forms.get(form_id) if form_id else None
    out = []
    for key, value in subject.items():
        if isinstance(value, (dict, list)) or value in (None, "") or key == "number":  # number: the title
            continue
        field = form.field(key) if form else None
        if field is None:
            out.append((key, key, value))
            continue
        shown: Any = value
        if field.type == "boolean":
            shown = "是" if value else "否"
        elif field.type == "enum":
            try:
                labels = {o.value: o.label for o in options_for(form, field, None, choices)}
            except OptionsUnavailable:
                labels = {}
            shown = labels.get(str(value), value)
        out.append((key, field.label, shown))
    return out
