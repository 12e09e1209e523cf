"""What does not change between two renders of a form: the static HTML of each control.

A form's labels, hints, ids, names, attributes, options and conditions are the same for every
submission of the same form, item and option lists. They are printed once by the macros of
`templates/_controls.html.j2` into the fragments of frozen :class:`Control` values, cached on
the form; a render (`render.py`) then only adds answers and errors. This keeps the HTML in the
templates and a render about as fast as a hand-written template of the same form.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from .choices import MATERIAL_FORMS, Choices, get, item_materials, options_for
from .conditions import when_script
from .jsonschema import MATERIAL_ROW_LABELS
from .model import Field, Form, Option
from .types import field_type
from .validators import _choices_key

BLANK_ROWS = 2  # blank rows printed under the answered rows of a repeated group
CHOICE_LIMIT = 5  # an enum with more options than this is a <select>; up to this, radios
_BOOLEAN = (Option("true", "是"), Option("false", "否"))
MATERIAL_KEYS = ("received", "form", "copies", "pages", "note")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The environment of the engine's own form macros (trusted code, autoescaped, strict)."""
    return Environment(loader=PackageLoader("bianmin.forms", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def _macros() -> Any:
    return environment().get_template("_controls.html.j2").module


@dataclass(frozen=True, slots=True)
class OptionView:
    value: str
    open: Markup  # the <input>/<option> up to where `checked`/`selected` goes
    close: Markup  # the rest: `>` and the label


@dataclass(slots=True)
class Control:
    """One field, or one group row, as the macros print it (ids and names are absolute).

    A render prints ``before, value, after`` — or, with errors, ``open_error``, the messages,
    ``before_error, value, after_error`` — where the value is the part that depends on the
    answer (`value="…"`, the text of a textarea, the options with the chosen ones marked).
    """

    field: Field
    id: str  # DOM id of the control (of the first radio or checkbox of a set; of a fieldset)
    name: str  # the posted name
    path: str  # JSON path of the answer: $.phone, $.materials_received[0].name
    widget: str  # input | textarea | select | radios | checkboxes | group | materials | row
    kind: str  # what the script reads: text | number | boolean | multi
    attrs: Markup  # static attributes of the control (type, maxlength, min, required ...)
    options: tuple[Option, ...]
    when_ast: str | None  # the `when` condition as JSON for the script; None: always shown
    item: Any = None  # materials: the item whose checklist this is
    built_with: tuple[Any, ...] = ()  # group: (form, item, choices, today) to build its rows
    max_items: int = 0
    error_id: str = ""
    before: Markup = Markup()
    after: Markup = Markup()
    open_error: Markup = Markup()
    before_error: Markup = Markup()
    after_error: Markup = Markup()
    close: Markup = Markup()  # a group, row or checklist: what closes it
    add_row: tuple[Markup, Markup] = (Markup(), Markup())  # a group's "add a row" button: enabled, disabled
    choices: tuple[OptionView, ...] = ()
    rows: list[tuple[Control, tuple[Control, ...]]] = field(default_factory=list)  # group rows, lazily
    materials: tuple[MaterialView, ...] = ()
    _printed: dict[Any, Markup] = field(default_factory=dict)

    def options_html(self, chosen: frozenset[str], error: bool) -> Markup:
        """The options (radios, checkboxes or <option>s) with the chosen ones marked."""
        key = (chosen, error)
        found = self._printed.get(key)
        if found is None:
            mark = Markup(" selected" if self.widget == "select" else " checked")
            invalid = Markup(' aria-invalid="true"' if error and self.widget != "select" else "")
            found = Markup("").join(o.open + (mark if o.value in chosen else "") + invalid + o.close
                                    for o in self.choices)
            if len(self._printed) < 256:  # a multi_select's combinations are not bounded
                self._printed[key] = found
        return found


@dataclass(frozen=True, slots=True)
class Cell:
    """One input of a checklist row: its hidden label, the input up to its value, and what an
    error adds."""

    label: Markup
    tag: Markup
    aria_error: Markup
    error_id: str


@dataclass(frozen=True, slots=True)
class MaterialView:
    """One row of a materials checklist: fragments between the parts an answer changes
    (`a` checked `b` options `c` copies `d` pages `e` note `f`), and its cells for a row
    with errors."""

    id: str
    path: str  # $.materials[2]
    error_id: str
    form: str  # the catalogue's form: the default of the row's select
    copies: Any  # the catalogue's copies: the default of the copies input
    a: Markup
    b: Markup
    c: Markup
    d: Markup
    e: Markup
    f: Markup
    head: Markup  # <tr><th> with the hidden id, the name and the note
    mark: Markup  # </th> and the core / non-core cell
    received: Cell
    form_select: Cell
    copies_input: Cell
    pages_input: Cell
    note_input: Cell
    form_options: tuple[OptionView, ...]
    _printed: dict[str, Markup] = field(default_factory=dict, compare=False)

    def options_html(self, chosen: str) -> Markup:
        found = self._printed.get(chosen)
        if found is None:
            found = self._printed[chosen] = Markup("").join(
                o.open + (Markup(" selected") if o.value == chosen else "") + o.close for o in self.form_options)
        return found


@dataclass(frozen=True, slots=True)
class Layout:
    form: Form
    dom_id: str
    controls: tuple[Control, ...]
    defaults: Mapping[str, Any]
    # A group's "add a row" is a submit button: the form's first one would be the default that
    # Enter in a field presses, so a form with a group starts with the real submit (not shown).
    groups: bool = False


def layout(form: Form, item: Any = None, choices: Choices | None = None, today: date | None = None) -> Layout:
    """The static part of a form's HTML, built once per form, item, option lists and day."""
    today = today or date.today()
    key = ("layout", _item_identity(item), _choices_key(form, choices), today)
    found = form._cache.get(key)
    if found is None:
        controls = tuple(control(form, f, f"{form.id}-{f.id}", f.id, f"$.{f.id}", item, choices, today)
                         for f in form.fields)
        found = form._cache[key] = Layout(form, f"form-{form.id}", controls, _defaults(form, item),
                                          any(c.widget == "group" for c in controls))
    return found


def _item_identity(item: Any) -> Any:
    if item is None:
        return None
    try:
        hash(item)
        return item
    except TypeError:  # a mapping (not compiled yet): its content is its identity
        return repr(item)


def _defaults(form: Form, item: Any) -> dict[str, Any]:
    out: dict[str, Any] = {f.id: f.default for f in form.fields if f.default is not None}
    for f in form.fields:
        if f.type == "materials":
            out[f.id] = [{"id": str(get(m, "id")), "received": False, "form": get(m, "form"),
                          "copies": get(m, "copies")} for m in item_materials(item)]
    return out


# -- one control ----------------------------------------------------------------------------------

def _attr(name: str, value: Any) -> str:
    return f' {name}="{escape(str(value))}"'


def _widget(f: Field, today: date) -> tuple[str, str, str]:
    """(widget, kind, static attributes) of a field's control, from its type's registration
    (`widget`, `input_type`, `attrs`; types.py): the engine's own and a plugin's alike."""
    t = f.type
    spec = field_type(t)
    # The field's own lengths replace the type's.
    attrs = "".join(_attr(k, v) for k, v in spec.attrs.items()
                    if not (k == "maxlength" and f.max_length is not None or k == "minlength" and f.min_length is not None))
    a = ""
    if spec.widget == "textarea":
        widget, kind, a = "textarea", "text", attrs
    elif spec.widget != "input":  # choices, group, materials: the engine's own types
        widget = {"multi_select": "checkboxes", "group": "group", "materials": "materials"}.get(t, "radios")
        kind = {"multi_select": "multi", "boolean": "boolean"}.get(t, "text")
    else:
        widget = "input"
        # What the script compares: numbers as numbers.
        kind = "number" if spec.schema.get("type") in ("integer", "number") else "text"
        a = _attr("type", spec.input_type) + attrs
        for name in ("min", "max"):
            bound = getattr(f, name)
            if bound is not None:
                a += _attr(name, today.isoformat() if bound == "today" else bound)
        if f.placeholder:
            a += _attr("placeholder", f.placeholder)
    if f.max_length is not None:
        a += _attr("maxlength", f.max_length)
    if f.min_length is not None:
        a += _attr("minlength", f.min_length)
    return widget, kind, a


def control(form: Form, f: Field, dom_id: str, name: str, path: str, item: Any, choices: Choices | None,
            today: date, in_group: bool = False) -> Control:
    widget, kind, attrs = _widget(f, today)
    options: tuple[Option, ...] = ()
    if f.type in ("enum", "multi_select"):
        options = options_for(form, f, item, choices)
        if f.type == "enum" and (in_group or len(options) > CHOICE_LIMIT):
            widget = "select"
    elif f.type == "boolean":
        options = _BOOLEAN
    # Only a field required whatever the answers tells the browser and assistive technology so:
    # with the script off, a conditional field shows though it may not apply.
    if f.required and not f.conditional and widget in ("input", "textarea", "select"):
        attrs += ' required aria-required="true"'
    c = Control(field=f, id=dom_id, name=name, path=path, widget=widget, kind=kind, attrs=Markup(attrs),
                options=options, when_ast=when_script(f.when, item) if f.when else None,
                item=item if f.type == "materials" else None, max_items=f.max_items or 0,
                built_with=(form, item, choices, today) if f.type == "group" else ())
    _print(c)
    return c


def _print(c: Control) -> None:
    """Fill the control's fragments from the macros."""
    m = _macros()
    c.error_id = c.id + "-error"
    if c.widget == "materials":  # the table's fragments depend on there being rows
        c.materials = tuple(_material(c, i, mat) for i, mat in enumerate(item_materials(c.item)))
    elif c.widget == "group":
        c.add_row = (m.add_row_button(c, False), m.add_row_button(c, True))
    opened, c.open_error = m.open(c, False), m.open(c, True)
    tag, aria, aria_error, close = m.tag(c), m.aria(c, False), m.aria(c, True), m.close(c)
    if c.widget == "input":
        c.before, c.after = opened + tag, aria + Markup(">") + close
        c.before_error, c.after_error = tag, aria_error + Markup(">") + close
    elif c.widget in ("textarea", "select"):
        first = m.blank_option() if c.widget == "select" else Markup()
        c.before, c.after = opened + tag + aria + Markup(">") + first, close
        c.before_error, c.after_error = tag + aria_error + Markup(">") + first, close
    else:  # sets of radios or checkboxes; groups and checklists, closed by a `close` slot
        c.before, c.before_error = opened + tag, tag
        c.after = c.after_error = close if c.widget in ("radios", "checkboxes") else Markup()
        c.close = close
    if c.widget == "select":
        c.choices = tuple(OptionView(o.value, m.option_open(o), m.option_close(o)) for o in c.options)
    elif c.widget in ("radios", "checkboxes"):
        c.choices = tuple(OptionView(o.value, m.choice_open(c, o, c.id if i == 0 else f"{c.id}-{i}"),
                                     m.choice_close(c, o, c.id if i == 0 else f"{c.id}-{i}"))
                          for i, o in enumerate(c.options))


def _material(c: Control, i: int, mat: Any) -> MaterialView:
    m = _macros()
    rid = f"{c.id}-{i}"
    v = {
        "id": str(get(mat, "id")), "name": str(get(mat, "name")), "note": str(get(mat, "note") or ""),
        "rid": rid, "rname": f"{c.name}.{i}.",
        "mark": "核心" if get(mat, "core") else ("非核心(可容缺)" if get(c.item, "accept_on_commitment") else "非核心"),
    }

    def cell(key: str) -> Cell:
        return Cell(m.cell_label(v, key, MATERIAL_ROW_LABELS[key]), m.material_input(v, key), m.cell_aria(v, key),
                    f"{rid}-{key}-error")

    head, mark = m.material_head(v), m.material_mark(v)
    received, form, copies, pages, note = (cell(k) for k in MATERIAL_KEYS)
    td, end = Markup("<td>"), Markup("></td>")
    return MaterialView(
        id=v["id"], path=f"{c.path}[{i}]", error_id=f"{rid}-error", form=str(get(mat, "form") or ""),
        copies=get(mat, "copies"),
        a=head + mark + td + received.label + received.tag,
        b=end + td + form.label + form.tag + Markup(">"),
        c=Markup("</select></td>") + td + copies.label + copies.tag,
        d=end + td + pages.label + pages.tag,
        e=end + td + note.label + note.tag,
        f=end + Markup("</tr>"),
        head=head, mark=mark, received=received, form_select=form, copies_input=copies, pages_input=pages,
        note_input=note,
        form_options=tuple(OptionView(o.value, m.option_open(o), m.option_close(o)) for o in MATERIAL_FORMS),
    )


_ROWS = threading.Lock()


def group_row(c: Control, i: int) -> tuple[Control, tuple[Control, ...]]:
    """Row `i` of a group: its fieldset (a Control whose fragments open and close it) and the
    controls of its fields; built on first use and kept on the group's control."""
    if len(c.rows) <= i:
        with _ROWS:
            form, item, choices, today = c.built_with
            m = _macros()
            while len(c.rows) <= i:
                n = len(c.rows)
                row = Control(field=c.field, id=f"{c.id}-{n}", name=f"{c.name}.{n}.", path=f"{c.path}[{n}]",
                              widget="row", kind="", attrs=Markup(), options=(), when_ast=None)
                row.error_id = row.id + "-error"
                row.before, row.open_error, row.close = m.row_open(row, n, False), m.row_open(row, n, True), m.close(row)
                subs = tuple(control(form, sub, f"{row.id}-{sub.id}", f"{row.name}{sub.id}", f"{row.path}.{sub.id}",
                                     item, choices, today, in_group=True) for sub in c.field.fields)
                c.rows.append((row, subs))
    return c.rows[i]
