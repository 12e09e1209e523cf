"""Loading form definitions: strict YAML, the form JSON Schema, then checks with line numbers.

Every problem of a file is reported in one pass as `file:line:col: rule: message`; the rules are
listed in docs/forms.md. A file with any problem gives no form.
"""

from __future__ import annotations

import difflib
import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.parser import Parser
from jsonschema import Draft202012Validator, ValidationError

from ..packs.loader import LoadError, Map, Mark, Seq, load_file
from ..packs.problems import Problem, sort_problems
from ..plugins import FIELD_KEYS
from .jsonschema import field_schema
from .model import OPTION_SOURCES, Field, Form, Option
from .types import registry
from .validators import compile_condition, condition_env

SCHEMA_PATH = Path(__file__).parent / "schema" / "form.schema.json"

# Keys every field may have; the keys that apply to a type are in its registration
# (`FieldType.keys`, types.py), from the keys of the format (bianmin.plugins.FIELD_KEYS).
_COMMON_KEYS = frozenset({"id", "label", "type", "required", "required_when", "when", "help"})
_NAMES = frozenset({"data", "item"})  # what a condition may name; `row` too inside a group


class FormError(Exception):
    """One or more form files are not acceptable; `problems` lists every problem found, each a
    pack :class:`~bianmin.packs.problems.Problem` (`file:line:col: rule: message`)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sort_problems(list(problems))
        super().__init__("\n".join(map(str, self.problems)))


def load_form(path: Path, display: str | None = None) -> Form:
    """Load and check one form file; raise :class:`FormError` listing all its problems."""
    name = display or str(path)
    try:
        doc = load_file(path, name)
    except LoadError as exc:
        raise FormError([Problem(exc.mark, exc.rule, exc.message)]) from None
    if not isinstance(doc, Map):
        mark = doc.mark if isinstance(doc, Seq) else Mark(name, 1, 1)
        raise FormError([Problem(mark, "wrong-type", "a form file is a mapping with id, title and fields")])
    problems = list(_schema_problems(doc, registry().names))
    problems += _Checker(doc, path.stem, structure_ok=not problems).problems()
    if problems:
        raise FormError(problems)
    return _build(doc, name)


def load_forms(dirs: Iterable[Path]) -> dict[str, Form]:
    """All forms of several folders by id; a later folder's form replaces an earlier one's.

    Typically `[forms/, policies/<pack>/forms/]`. A folder that does not exist is skipped.
    Problems of every file are collected and raised together.
    """
    forms: dict[str, Form] = {}
    problems: list[Problem] = []
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.yaml")):
            try:
                form = load_form(path)
            except FormError as exc:
                problems += exc.problems
            else:
                forms[form.id] = form
    if problems:
        raise FormError(problems)
    return forms


# -- structure (JSON Schema) -------------------------------------------------------------------


@cache
def _schema_validator(types: tuple[str, ...]) -> Draft202012Validator:
    """The form format, its `type` enum being the field types registered now (form.schema.json
    lists the engine's own, for editors)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["$defs"]["field"]["properties"]["type"]["enum"] = list(types)
    return Draft202012Validator(schema)


def _schema_problems(doc: Map, types: tuple[str, ...]) -> Iterator[Problem]:
    for e in _schema_validator(types).iter_errors(doc):
        yield from _from_schema_error(doc, e)


def _node_at(doc: Any, path: Iterable[Any]) -> tuple[Any, Mark]:
    node, mark = doc, doc.mark
    for step in path:
        if isinstance(node, Map) and step in node:
            node, mark = node[step], node.value_marks[step]
        elif isinstance(node, Seq) and isinstance(step, int) and step < len(node):
            node, mark = node[step], node.item_marks[step]
        else:
            break
    return node, mark


def _where(path: list[Any], doc: Map) -> str:
    """`field 'phone'` / `field 'name' of group 'agents'` / `the form`, for messages."""
    if len(path) >= 2 and path[0] == "fields":
        field = _node_at(doc, path[:2])[0]
        fid = field.get("id") if isinstance(field, Map) else None
        where = f"field {fid!r}" if isinstance(fid, str) else f"field {path[1] + 1}"
        if len(path) >= 4 and path[2] == "fields":
            sub = _node_at(doc, path[:4])[0]
            sid = sub.get("id") if isinstance(sub, Map) else None
            where = (f"field {sid!r}" if isinstance(sid, str) else f"field {path[3] + 1}") + f" of group {where}"
        return where
    return "the form"


def _from_schema_error(doc: Map, e: ValidationError) -> Iterator[Problem]:
    path = list(e.absolute_path)
    node, mark = _node_at(doc, path)
    where = _where(path, doc)
    if e.validator == "additionalProperties" and isinstance(node, Map):
        allowed = list(e.schema.get("properties", {}))
        for key in node:
            if key not in allowed:
                yield Problem(node.key_marks[key], "unknown-key",
                              f"unknown key {key!r} in {where}{_did_you_mean(key, allowed)}")
        return
    if e.validator == "required":
        missing = next((k for k in e.validator_value if e.message.startswith(repr(k))), "?")
        unknown = [k for k in node if k not in e.schema.get("properties", {})] if isinstance(node, Map) else []
        misspelt = difflib.get_close_matches(missing, unknown, n=1)
        if not misspelt:  # a misspelt key is reported once, as unknown-key with "did you mean"
            yield Problem(mark, "missing-key", f"{where} needs the key {missing!r}")
        return
    key = path[-1] if path and isinstance(path[-1], str) else None
    if e.validator == "type":
        found = _a(_json_type(node))
        yield Problem(mark, "wrong-type", f"{key or 'value'} of {where} should be {_a(e.validator_value)}, found {found}")
    elif e.validator == "pattern" and key == "id":
        yield Problem(mark, "wrong-format", f"{node!r} is not an id: use lower-case letters, digits and "
                                            "underscores, starting with a letter (e.g. applicant_name)")
    elif e.validator == "pattern":
        yield Problem(mark, "wrong-format", f"{key} of {where}: {_schema_words(e)}")
    elif e.validator == "enum" and key == "type":
        yield Problem(mark, "wrong-value", _unknown_type(str(node), [str(v) for v in e.validator_value]))
    elif e.validator == "enum":
        allowed = [str(v) for v in e.validator_value]
        hint = _did_you_mean(str(node), allowed)
        yield Problem(mark, "wrong-value", f"{key} of {where} is {node!r}{hint}; allowed: {', '.join(allowed)}")
    else:
        yield Problem(mark, "wrong-value", f"{key or 'value'} of {where}: {_schema_words(e)}")


def _unknown_type(name: str, types: list[str]) -> str:
    """Names the plugin that would provide the type when one in the plugin folders does."""
    plugins = registry().plugins
    provider = plugins.not_enabled_provider("field_types", name)
    if provider:
        return f"field type {name!r} is provided by plugin {provider!r}, which is not loaded: {plugins.how_to_enable(provider)}"
    return f"{name!r} is not a field type{_did_you_mean(name, types)}; types: {', '.join(types)}"


def _schema_words(e: ValidationError) -> str:
    if e.validator == "pattern" and e.schema.get("description"):
        return f"{e.instance!r} is not in the expected form. {e.schema['description']}"
    if e.validator in ("minItems", "minLength"):
        return "must not be empty"
    if e.validator == "minimum":
        return f"must be at least {e.validator_value}"
    return e.message


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, Map):
        return "object"
    if isinstance(value, Seq):
        return "array"
    return "null" if value is None else "string"


_ARTICLES = {"object": "a mapping", "array": "a list", "string": "text", "boolean": "true or false",
             "integer": "a whole number", "number": "a number", "null": "nothing"}


def _a(json_type: Any) -> str:
    if isinstance(json_type, list):
        return " or ".join(_ARTICLES.get(t, t) for t in json_type)
    return _ARTICLES.get(json_type, str(json_type))


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# -- meaning --------------------------------------------------------------------------------------


class _Checker:
    """Checks JSON Schema cannot make. Defensive: runs even when the structure is wrong."""

    def __init__(self, doc: Map, stem: str, structure_ok: bool) -> None:
        self.doc, self.stem, self.structure_ok = doc, stem, structure_ok
        self.found: list[Problem] = []

    def problems(self) -> list[Problem]:
        doc = self.doc
        fid = doc.get("id")
        if isinstance(fid, str) and fid != self.stem:
            self.add(doc.value_marks["id"], "id-mismatch",
                     f"the form id is {fid!r} but the file is {self.stem}.yaml; they must be the same")
        fields = doc.get("fields")
        if isinstance(fields, Seq):
            self.fields(fields, top=_ids(fields), group=None)
        return self.found

    def add(self, mark: Mark, rule: str, message: str) -> None:
        self.found.append(Problem(mark, rule, message))

    def fields(self, fields: Seq, top: frozenset[str], group: Map | None) -> None:
        seen: dict[str, Mark] = {}
        siblings = _ids(fields)
        for f in fields:
            if not isinstance(f, Map):
                continue
            fid = f.get("id")
            if isinstance(fid, str):
                if fid in seen:
                    self.add(f.value_marks["id"], "duplicate-field",
                             f"field id {fid!r} is used twice (first at line {seen[fid].line})")
                else:
                    seen[fid] = f.value_marks["id"]
            self.field(f, top, siblings if group is not None else None)
            if group is not None and f.get("type") in ("group", "materials"):
                self.add(f.value_marks["type"], "nesting",
                         f"a {f['type']} cannot be inside group {group.get('id')!r}")
            sub = f.get("fields")
            if f.get("type") == "group" and isinstance(sub, Seq) and group is None:
                self.fields(sub, top, group=f)

    def field(self, f: Map, top: frozenset[str], row: frozenset[str] | None) -> None:
        ftype = f.get("type")
        name = f.get("id", "?")
        type_keys = registry().keys
        if ftype not in type_keys:
            return  # the schema reports it
        allowed = _COMMON_KEYS | type_keys[ftype]
        for key in f:
            if key not in allowed and key in _ALL_KEYS:
                users = [t for t, keys in type_keys.items() if key in keys]
                self.add(f.key_marks[key], "key-not-for-type",
                         f"{key!r} does not apply to field {name!r} of type {ftype}; it is for: {', '.join(users)}")
        self.options(f, ftype, name)
        if ftype == "group" and not (isinstance(f.get("fields"), Seq) and f["fields"]):
            self.add(f.mark, "group-without-fields", f"group {name!r} needs `fields`: the fields of one row")
        if f.get("required") is True and "required_when" in f:
            self.add(f.key_marks["required_when"], "required-conflict",
                     f"field {name!r} is `required: true` and has `required_when`; keep one")
        self.bounds(f, ftype, name)
        self.pattern(f, name)
        for key in ("when", "required_when"):
            if isinstance(f.get(key), str):
                self.expression(f, key, top, row)
        if "default" in f and key_applies("default", ftype) and self.structure_ok:
            self.default(f, ftype, name)

    def options(self, f: Map, ftype: str, name: str) -> None:
        if ftype not in ("enum", "multi_select"):
            return
        if "options" in f and "options_from" in f:
            self.add(f.key_marks["options_from"], "options-conflict",
                     f"field {name!r} has both `options` and `options_from`; keep one")
        elif "options" not in f and "options_from" not in f:
            self.add(f.value_marks["type"], "options-missing",
                     f"{ftype} field {name!r} needs `options` or `options_from` "
                     f"({', '.join(OPTION_SOURCES)})")
        options = f.get("options")
        if isinstance(options, Seq):
            seen: set[Any] = set()
            for o in options:
                value = o.get("value") if isinstance(o, Map) else None
                if value is not None and value in seen:
                    self.add(o.value_marks["value"], "duplicate-option",
                             f"option value {value!r} appears twice in field {name!r}")
                seen.add(value)

    def bounds(self, f: Map, ftype: str, name: str) -> None:
        values: dict[str, Any] = {}
        for key in ("min", "max"):
            if key in f and key_applies(key, ftype):
                value = _bound(f[key], ftype)
                if value is None:
                    self.add(f.value_marks[key], "bound-type", f"{key} of {ftype} field {name!r} must be "
                             + _BOUND_WORDS[ftype] + f", found {f[key]!r}")
                else:
                    values[key] = value
        for low, high in (("min", "max"), ("min_length", "max_length"), ("min_items", "max_items")):
            a, b = values.get(low, f.get(low)), values.get(high, f.get(high))
            if low == "min" and (low not in values or high not in values):
                continue
            if _comparable(a, b) and a > b:
                self.add(f.value_marks[low], "bound-order", f"{low} of field {name!r} ({f[low]}) is above {high} ({f[high]})")

    def pattern(self, f: Map, name: str) -> None:
        pattern = f.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                self.add(f.value_marks["pattern"], "pattern-invalid", f"pattern of field {name!r} is not a regular expression: {exc}")
            if "pattern_message" not in f:
                self.add(f.key_marks["pattern"], "pattern-message-missing",
                         f"field {name!r} has a pattern but no pattern_message: say in Chinese what is expected")

    def expression(self, f: Map, key: str, top: frozenset[str], row: frozenset[str] | None) -> None:
        text, mark, name = f[key], f.value_marks[key], f.get("id", "?")
        try:
            compile_condition(text)
            node = Parser(condition_env(), text, state="variable").parse_expression()
        except TemplateSyntaxError as exc:
            self.add(mark, "expression-syntax", f"{key} of field {name!r} is not an expression: {exc.message}")
            return
        allowed = _NAMES | ({"row"} if row is not None else set())
        for n in _find(node, nodes.Name):
            if n.name not in allowed:
                self.add(mark, "expression-unknown-name",
                         f"{key} of field {name!r} uses {n.name!r}; a condition may use "
                         + ", ".join(sorted(allowed)) + _did_you_mean(n.name, allowed))
        for owner, attr in _attributes(node):
            known = top if owner == "data" else row
            if known is not None and attr not in known:
                self.add(mark, "expression-unknown-field",
                         f"{key} of field {name!r} uses {owner}.{attr}, but the form has no field {attr!r}"
                         + _did_you_mean(attr, known))

    def default(self, f: Map, ftype: str, name: str) -> None:
        field = _field(f)
        if ftype in ("enum", "multi_select") and field.options_from:
            return  # its options are known only with the pack
        form = Form(id="_", title="_", fields=(field,))
        schema = field_schema(form, field)
        errors = list(Draft202012Validator(schema).iter_errors(f["default"]))
        if not errors and ftype == "date" and isinstance(f["default"], str):
            errors = [] if _bound(f["default"], "date") not in (None, "today") else ["not a date"]
        if errors:
            self.add(f.value_marks["default"], "default-invalid",
                     f"default {f['default']!r} is not a valid answer for {ftype} field {name!r}")


_ALL_KEYS = frozenset(FIELD_KEYS)
_BOUND_WORDS = {
    "integer": "a whole number", "decimal": "a number",
    "date": "a date YYYY-MM-DD or `today`", "datetime": "a date and time YYYY-MM-DDTHH:MM",
}


def key_applies(key: str, ftype: str) -> bool:
    return key in _COMMON_KEYS or key in registry().keys.get(ftype, ())


def _ids(fields: Seq) -> frozenset[str]:
    return frozenset(f["id"] for f in fields if isinstance(f, Map) and isinstance(f.get("id"), str))


def _bound(value: Any, ftype: str) -> Any:
    """The bound as a comparable value, `today` kept as the word; None when it does not fit."""
    if ftype in ("integer", "decimal"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return value if ok and (ftype == "decimal" or isinstance(value, int)) else None
    if not isinstance(value, str):
        return None
    if ftype == "date":
        if value == "today":
            return value
        try:
            return date.fromisoformat(value).isoformat() if len(value) == 10 else None
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(value).isoformat() if len(value) >= 16 else None
    except ValueError:
        return None


def _comparable(a: Any, b: Any) -> bool:
    if "today" in (a, b):
        return False
    return (isinstance(a, str) and isinstance(b, str)) or (
        isinstance(a, (int, float)) and isinstance(b, (int, float)))


def _find(node: nodes.Node, *kinds: type[nodes.Node]) -> Iterator[Any]:
    """Nodes of these kinds in an expression, the expression itself included."""
    if isinstance(node, kinds):
        yield node
    yield from node.find_all(kinds)


def _attributes(node: nodes.Node) -> Iterator[tuple[str, str]]:
    """`data.x`, `data["x"]`, `row.x`: the answers a condition reads."""
    for n in _find(node, nodes.Getattr, nodes.Getitem):
        owner = n.node
        if isinstance(owner, nodes.Name) and owner.name in ("data", "row"):
            if isinstance(n, nodes.Getattr):
                yield owner.name, n.attr
            elif isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str):
                yield owner.name, n.arg.value


# -- building the frozen form ---------------------------------------------------------------------


def _build(doc: Map, file: str) -> Form:
    return Form(
        id=doc["id"], title=doc["title"], description=doc.get("description"),
        source=doc.get("source"), path=file,
        fields=tuple(_field(f) for f in doc["fields"]),
    )


def _field(f: Map) -> Field:
    return Field(
        id=f["id"], label=f["label"], type=f["type"],
        required=bool(f.get("required", False)),
        required_when=f.get("required_when"), when=f.get("when"),
        help=f.get("help"), placeholder=f.get("placeholder"),
        options=tuple(Option(o["value"], o["label"]) for o in f.get("options", ())),
        options_from=f.get("options_from"),
        min=f.get("min"), max=f.get("max"),
        min_length=f.get("min_length"), max_length=f.get("max_length"),
        pattern=f.get("pattern"), pattern_message=f.get("pattern_message"),
        default=_freeze(f.get("default")),
        fields=tuple(_field(s) for s in f.get("fields", ()) if isinstance(s, Map)),
        min_items=f.get("min_items"), max_items=f.get("max_items"),
        source=f.get("source", "item") if f["type"] == "materials" else None,
        mark=f.mark,
    )


def _freeze(value: Any) -> Any:
    """Lists become tuples, so that a form stays hashable and immutable."""
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value
