"""Generated forms on pages: what the field template needs, and HTML posts back to form data.

HTML sends every value as text; :func:`from_html` gives each field its type (numbers, booleans,
lists, the materials checklist as ``[{id, received}]``) so that the same ``bianmin.forms.validate``
checks page posts and API calls alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from ..forms import FieldError, Form, OptionsUnavailable, clean, options_for, validate
from ..packs.model import Item, Pack
from ..workflow.submission import forms_of

SKIPPED = ("group",)  # repeated rows are filled in through the API; pages show a hint


@dataclass
class FormView:
    form: Form
    values: dict[str, Any]
    errors: list[FieldError]
    options: dict[str, Any]
    materials: tuple[Any, ...]

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
         errors: list[FieldError] | None = None) -> FormView:
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
    return FormView(form, values, list(errors or []), options, item.materials if item else ())


def from_html(form: Form, posted: FormData, item: Item | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in form.fields:
        if f.type in SKIPPED:
            continue
        if f.type == "boolean":
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
                data[f.id] = _typed(f.type, raw.strip())
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
