"""Forms as server-rendered HTML (docs/forms.md, "Form HTML").

    html = render_form(forms["intake"], item=item, values=answers, errors=validate(...),
                       csrf_token=token, action="/cases")

The HTML works with JavaScript off and reads well to a screen reader: every control has a
`<label for>` (a set of radios or checkboxes has a `<legend>`, and each button its own label),
help is tied to its control with `aria-describedby`, required fields are marked, each error
stands next to its field (`aria-invalid`) and in a `role="alert"` summary at the top whose
links lead to the fields. Conditional fields carry their `when` in `data-when`; a few lines of
inline script hide them while the condition is false. Without the script every field shows,
and `validate`/`clean` ignore the answers of fields whose condition is false. Repeated groups
print their answered rows and `BLANK_ROWS` blank ones, and an "add a row" submit button: without
the script the server prints the form again with one more row (`posted.add_row`, `rows=`); with
it, the row is added in place.

The static HTML of a form is printed once by the macros (`layout.py`); a render joins it with
the answers and errors in `templates/form.html.j2`. Everything the template reads is a
slotted dataclass (Jinja2 reads attributes of dataclasses about twice as fast as dict keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from markupsafe import Markup, escape

from .choices import Choices
from .layout import BLANK_ROWS, MATERIAL_KEYS, Control, Layout, MaterialView, environment, group_row, layout
from .model import Form
from .validators import FieldError


@dataclass(frozen=True, slots=True)
class SummaryLine:
    anchor: str  # the DOM id the link leads to
    text: str  # 身份证号码: 校验位不正确


@dataclass(frozen=True, slots=True)
class Slot:
    """One piece of the form in one render: a control with its answer and errors (a group,
    a row or a checklist opens as a `field`), the closing of one (`close`), a checklist row."""

    kind: str  # field | close | material | add_row (a group's button, enabled or not, in `value`)
    c: Any  # a Control, or a MaterialView for `material`
    value: Any = ""  # what the answer changes: value="…", a textarea's text, the options; a MaterialState
    errors: str = ""  # the messages, joined
    cells: Mapping[str, str] | None = None  # material: errors by key of the row


def render_form(form: Form, *, item: Any = None, choices: Choices | None = None,
                values: Mapping[str, Any] | None = None, errors: Sequence[FieldError] | None = None,
                csrf_token: str | None = None, action: str | None = None, today: date | None = None,
                submit_label: str = "提交", rows: Mapping[str, int] | None = None) -> Markup:
    """The form as HTML.

    `values` are the answers to show (a submission sent back with its errors, or a record
    being edited); None shows the fields' defaults. `errors` come from `validate`. `item` and
    `choices` give the materials checklist and the options of `options_from` fields, as for
    `validate`; `today` resolves `min: today` / `max: today` of date inputs. `rows` fixes how
    many rows a repeated group prints (`posted.add_row` after an "add a row" press); a group
    it does not name prints its answered rows and `BLANK_ROWS` blank ones.
    """
    lay = layout(form, item, choices, today)
    data = lay.defaults if values is None else values
    rows = rows or _NO_ROWS
    at, summary = _place_errors(lay, errors or (), data, rows)
    html = _template().render(
        layout=lay, form=form, slots=_slots(lay, data, at, rows), summary=summary,
        csrf_token=csrf_token, action=action, submit_label=submit_label, script=_asset("form.js"),
    )
    return Markup(html)


@lru_cache(maxsize=1)
def _template() -> Any:
    return environment().get_template("form.html.j2")


@lru_cache(maxsize=4)
def _asset(name: str) -> Markup:
    env = environment()
    return Markup(env.loader.get_source(env, name)[0])  # type: ignore[union-attr]


def form_script() -> Markup:
    """The inline script every form carries (conditions, "add a row")."""
    return _asset("form.js")


def form_stylesheet() -> str:
    """The few styles the form HTML needs (visually hidden labels, errors, the layout)."""
    return str(_asset("form.css"))


# -- answers and errors into slots ----------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


_VALUE = Markup(' value="{}"')
_NOTHING = Markup()


def _value_attr(value: Any) -> Markup:
    text = _text(value)
    return _VALUE.format(text) if text else _NOTHING


_NO_ROWS: Mapping[str, int] = {}


def _slots(lay: Layout, data: Mapping[str, Any], at: Mapping[str, list[str]], rows: Mapping[str, int]) -> list[Slot]:
    out: list[Slot] = []
    for c in lay.controls:
        _add(out, c, data.get(c.field.id), at, rows)
    return out


def _add(out: list[Slot], c: Control, value: Any, at: Mapping[str, list[str]],
         counts: Mapping[str, int] = _NO_ROWS) -> None:
    errs = "; ".join(at[c.path]) if at and c.path in at else ""
    widget = c.widget
    if widget == "input":
        if c.field.type == "datetime" and isinstance(value, str):
            value = value.replace(" ", "T", 1)
        out.append(Slot("field", c, _value_attr(value), errs))
    elif widget == "textarea":
        out.append(Slot("field", c, escape(_text(value)), errs))
    elif widget in ("select", "radios", "checkboxes"):
        chosen = frozenset(_text(v) for v in value) if isinstance(value, (list, tuple)) else frozenset((_text(value),))
        out.append(Slot("field", c, c.options_html(chosen, bool(errs)), errs))
    elif widget == "group":
        out.append(Slot("field", c, _NOTHING, errs))
        rows = value if isinstance(value, list) else []
        count = row_count(c, rows, counts.get(c.field.id))
        for i in range(count):
            row, subs = group_row(c, i)
            answers = rows[i] if i < len(rows) and isinstance(rows[i], Mapping) else {}
            out.append(Slot("field", row, _NOTHING, "; ".join(at[row.path]) if row.path in at else ""))
            for sub in subs:
                _add(out, sub, answers.get(sub.field.id), at)
            out.append(Slot("close", row))
        full = bool(c.max_items) and count >= c.max_items or count >= MAX_ROWS
        out.append(Slot("add_row", c, c.add_row[1] if full else c.add_row[0]))
        out.append(Slot("close", c))
    elif widget == "materials":
        out.append(Slot("field", c, _NOTHING, errs))
        answered = {str(r.get("id")): r for r in value if isinstance(r, Mapping)} if isinstance(value, list) else {}
        for mv in c.materials:
            out.append(_material(mv, answered.get(mv.id, {}), at))
        out.append(Slot("close", c))


@dataclass(frozen=True, slots=True)
class MaterialState:
    """What one answer changes in a checklist row, ready to print."""

    checked: Markup
    options: Markup
    copies: Markup
    pages: Markup
    note: Markup
    form: str


_CHECKED = Markup(" checked")


def _material(mv: MaterialView, row: Mapping[str, Any], at: Mapping[str, list[str]]) -> Slot:
    form = _text(row.get("form") or mv.form)
    state = MaterialState(
        checked=_CHECKED if row.get("received") is True else _NOTHING,
        options=mv.options_html(form),
        copies=_value_attr(row.get("copies", mv.copies)),
        pages=_value_attr(row.get("pages")),
        note=_value_attr(row.get("note")),
        form=form,
    )
    cells = None
    prefix = mv.path
    if at and any(p == prefix or p.startswith(prefix + ".") for p in at):
        cells = {k: "; ".join(at[f"{prefix}.{k}"]) for k in MATERIAL_KEYS if f"{prefix}.{k}" in at}
    return Slot("material", mv, state, "; ".join(at[prefix]) if prefix in at else "", cells)


MAX_ROWS = 100  # rows a group prints at most, whatever a post asks for


def row_count(c: Control, answered: Sequence[Any], asked: int | None = None) -> int:
    """Rows a group prints: the answered ones and BLANK_ROWS more — or, when `asked` (the rows
    of a page on which "add a row" was pressed), that many but never fewer than the answered —
    at least min_items, at most max_items."""
    wanted = len(answered) + BLANK_ROWS if asked is None else max(asked, len(answered))
    count = min(max(wanted, c.field.min_items or 0, 1), MAX_ROWS)
    return min(count, c.max_items) if c.max_items else count


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _place_errors(lay: Layout, errors: Iterable[FieldError], data: Mapping[str, Any],
                  rows: Mapping[str, int] = _NO_ROWS) -> tuple[dict[str, list[str]], list[SummaryLine]]:
    """Each error at the nearest printed element of its path, and the summary's links."""
    at: dict[str, list[str]] = {}
    summary: list[SummaryLine] = []
    by_id = {c.field.id: c for c in lay.controls}
    for error in errors:
        place, anchor = _locate(lay, by_id, error.path, data, rows)
        at.setdefault(place, []).append(error.message)
        summary.append(SummaryLine(anchor, str(error)))
    return at, summary


def _locate(lay: Layout, by_id: Mapping[str, Control], path: str, data: Mapping[str, Any],
            rows: Mapping[str, int] = _NO_ROWS) -> tuple[str, str]:
    """(path where the error is printed, DOM id its summary link leads to)."""
    steps = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _STEP.finditer(path)]
    top = by_id.get(steps[0]) if steps and isinstance(steps[0], str) else None
    if top is None:  # not a field of the form (an unknown key): the summary only
        return "$", lay.dom_id
    if len(steps) < 2 or not isinstance(steps[1], int):
        return top.path, top.id
    i = steps[1]
    if top.widget == "group":
        answered = data.get(top.field.id)
        if i < row_count(top, answered if isinstance(answered, list) else [], rows.get(top.field.id)):
            row, subs = group_row(top, i)
            sub = next((s for s in subs if len(steps) > 2 and s.field.id == steps[2]), None)
            return (sub.path, sub.id) if sub is not None else (row.path, row.id)
    elif top.widget == "materials" and i < len(top.materials):
        mv = top.materials[i]
        key = steps[2] if len(steps) > 2 else None
        if key in ("received", "form", "copies", "pages", "note"):
            return f"{mv.path}.{key}", f"{top.id}-{i}-{key}"
        return mv.path, f"{top.id}-{i}-received"
    return top.path, top.id


__all__ = ["BLANK_ROWS", "MAX_ROWS", "Slot", "SummaryLine", "form_script", "form_stylesheet", "render_form",
           "row_count"]
