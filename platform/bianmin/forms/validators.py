"""Checking a submission against its form: every error at once, in plain Chinese.

`validate` runs in three steps:

1. `clean`: drop empty answers ("", blanks, None, [], blank group rows) and the fields whose
   `when` is false (a hidden field is neither required nor checked, and is not kept);
2. the form's Draft 2020-12 schema (`jsonschema.to_json_schema`; validators are built once per
   form, item materials and option lists, and cached on the form; jsonschema-rs answers "valid?"
   first and the `jsonschema` walk that lists every error runs only for an invalid submission);
3. what JSON Schema cannot say: `required` under `when`, `required_when`, the validator of the
   field's type (resident ID and credit code checksums, phone numbers, a plugin's check; see
   types.py), real calendar dates and date bounds such as `max: today`.

Conditions are sandboxed Jinja2 expressions over `data` (the answers, without those hidden by an
earlier field's `when`), `item` and, in a group, `row` (the group's row). A condition that cannot
be computed (a comparison with a missing answer) counts as false; each is evaluated once per
submission (and row).

Fast path (the workflow interpreter validates a form on many transitions): a condition made of
names, attributes, constant subscripts, constants, comparisons and `and`/`or`/`not` runs as the
plain Python function :func:`python_expression` builds, which performs exactly the operations the
Jinja2-compiled template performs (the sandbox's `getattr`/`getitem`, Python's operators) without
building a template context; the checks of step 3 visit only the fields that can fail one (a
per-form :class:`_Plan`); the validators are found by the identity of the frozen item and option
lists. ``FAST_PATH = False`` turns all of it off, for the tests that prove both paths agree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from jinja2 import Environment, Undefined, nodes
from jinja2.exceptions import TemplateError, TemplateSyntaxError
from jinja2.parser import Parser
from jinja2.sandbox import SandboxedEnvironment
import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError

from ..sandbox import environment
from .choices import Choices, get, item_materials, options_for
from .jsonschema import MATERIAL_ROW_LABELS, PHONE_PATTERN, to_json_schema
from .model import Field, Form
from .types import field_type, is_own, registry

# -- the three checksummed or shaped identifiers ------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 province codes, plus 81-83 (Hong Kong, Macao and Taiwan residents' residence
# permits) and 9x (foreigners' permanent residence ID cards, 2023 edition).
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)
_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PHONE = re.compile(PHONE_PATTERN[1:-1])


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def check_id_number(s: str, today: date | None = None) -> str | None:
    """None for a valid 18-digit resident ID number (GB 11643), else what is wrong, in Chinese."""
    if not isinstance(s, str) or len(s) != 18:
        return "应为18位身份证号码"
    if not s[:17].isascii() or not s[:17].isdigit():
        return "前17位应为数字"
    if s[17] not in "0123456789X":
        return "最后一位应为数字或大写字母X"
    if s[:2] not in _PROVINCES and s[0] != "9":
        return "前两位地址码不正确"
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return "出生日期(第7至14位)不是有效日期"
    if born.year < 1900 or born > (today or date.today()):
        return "出生日期(第7至14位)不在合理范围内"
    if id_number_check_char(s[:17]) != s[17]:
        return "校验位不正确"
    return None


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a credit code."""
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(first17, _CC_WEIGHTS))
    return _CC_CHARS[(31 - total % 31) % 31]


def check_credit_code(s: str) -> str | None:
    """None for a valid unified social credit code (GB 32100-2015), else what is wrong."""
    if not isinstance(s, str) or len(s) != 18:
        return "应为18位统一社会信用代码"
    bad = [c for c in s if c not in _CC_CHARS]
    if bad:
        return "只能包含数字和大写字母(不含 I、O、Z、S、V)"
    if not s[2:8].isdigit():
        return "第3至8位行政区划码应为数字"
    if credit_code_check_char(s[:17]) != s[17]:
        return "校验位不正确"
    return None


def check_phone(s: str) -> str | None:
    """None for an 11-digit mainland mobile or a landline with its area code (and extension)."""
    if not isinstance(s, str) or not _PHONE.fullmatch(s):
        return "应为11位手机号码或带区号的固定电话(如 0510-86860211)"
    return None


# -- conditions --------------------------------------------------------------------------------

# The project's sandbox (bianmin.sandbox), but with a lenient undefined: in a condition, a
# question not answered yet is simply false (`not data.anonymous` holds until it is answered).
_ENV: SandboxedEnvironment = environment().overlay(undefined=Undefined)


# Set to False to validate the slow way everywhere (Jinja2 templates for conditions, every field
# visited by the Python checks, validators keyed by value): the tests compare both paths.
FAST_PATH = True


@functools.lru_cache(maxsize=4096)
def compile_condition(expression: str) -> Callable[..., Any]:
    """Compile a `when`/`required_when` expression; raises TemplateSyntaxError."""
    return _ENV.compile_expression(expression)


@functools.lru_cache(maxsize=4096)
def _fast_condition(expression: str) -> Callable[[Mapping[str, Any]], Any] | None:
    return python_expression(_ENV, expression)


def condition_env() -> SandboxedEnvironment:
    return _ENV


def holds(expression: str, data: Mapping[str, Any], item: Any = None, row: Any = None) -> bool:
    try:
        fast = _fast_condition(expression) if FAST_PATH else None
        if fast is not None:
            return bool(fast({"data": data, "item": item, "row": row}))
        return bool(compile_condition(expression)(data=data, item=item, row=row))
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError):
        return False


# -- expressions as plain Python ----------------------------------------------------------------

_COMPARISONS = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=",
                "in": "in", "notin": "not in"}
_DICT_ATTRIBUTES = frozenset(dir(dict))  # `data.items` is the method, not the answer `items`


def python_expression(env: Environment, text: str) -> Callable[[Mapping[str, Any]], Any] | None:
    """``text`` as a plain Python function of the variables, or None when it uses more than
    names, attributes, constant subscripts, constants, lists, tuples, comparisons, `and`, `or`
    and `not` (filters, tests, calls, arithmetic ... stay with Jinja2).

    The function does what the code Jinja2 generates for ``env.compile_expression(text)`` does,
    in the same order: each name is looked up in the variables, then in ``env.globals``, else is
    ``env.undefined``; ``a.b`` and ``a[c]`` go through the (sandboxed) environment's
    ``getattr``/``getitem`` (for a plain dict, the same lookup done directly); comparisons and
    the boolean operators are Python's, which is what Jinja2 emits for them (the sandbox
    intercepts no operator). It returns the raw value (an Undefined stays Undefined), raises
    what the template would raise, and skips only the template context."""
    try:
        parser = Parser(env, text, state="variable")
        tree = parser.parse_expression()
        if not parser.stream.eos:
            return None
    except TemplateSyntaxError:
        return None
    names: dict[str, str] = {}
    constants: dict[str, Any] = {}

    def const(value: Any) -> str:
        key = f"_c{len(constants)}"
        constants[key] = value
        return key

    def gen(node: nodes.Node) -> str:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            var = names.setdefault(node.name, f"_n{len(names)}")
            return f"(_undefined(name={const(node.name)}) if {var} is _missing else {var})"
        if isinstance(node, nodes.Const):
            return const(node.value)
        if isinstance(node, nodes.Getattr) and node.ctx == "load":
            lookup = "_getattr" if node.attr in _DICT_ATTRIBUTES else "_attr"
            return f"{lookup}({gen(node.node)}, {const(node.attr)})"
        if isinstance(node, nodes.Getitem) and node.ctx == "load" and isinstance(node.arg, nodes.Const):
            return f"_item({gen(node.node)}, {const(node.arg.value)})"
        if isinstance(node, nodes.List):
            return "[" + ", ".join(gen(i) for i in node.items) + "]"
        if isinstance(node, nodes.Tuple) and node.ctx == "load":
            items = [gen(i) for i in node.items]
            return "(" + ", ".join(items) + (",)" if len(items) == 1 else ")")
        if isinstance(node, nodes.Compare) and all(op.op in _COMPARISONS for op in node.ops):
            return "(" + gen(node.expr) + "".join(f" {_COMPARISONS[op.op]} {gen(op.expr)}" for op in node.ops) + ")"
        if isinstance(node, (nodes.And, nodes.Or)):
            return f"({gen(node.left)} {'and' if isinstance(node, nodes.And) else 'or'} {gen(node.right)})"
        if isinstance(node, nodes.Not):
            return f"(not {gen(node.node)})"
        raise _NotPlain

    try:
        body = gen(tree)
    except _NotPlain:
        return None
    lines = ["def expression(_v):"]
    for name, var in names.items():
        lines += [f"    {var} = _v.get({name!r}, _missing)",
                  f"    if {var} is _missing:",
                  f"        {var} = _globals.get({name!r}, _missing)"]
    lines.append(f"    return {body}")
    scope = {"_missing": _MISSING, "_globals": env.globals, "_undefined": env.undefined,
             "_getattr": env.getattr, "_attr": _dict_getattr(env), "_item": _dict_getitem(env), **constants}
    exec(compile("\n".join(lines), f"<expression {text!r}>", "exec"), scope)  # noqa: S102 - our own code
    return scope["expression"]  # type: ignore[no-any-return]


class _NotPlain(Exception):
    pass


_MISSING = object()


def _dict_getattr(env: Environment) -> Callable[[Any, str], Any]:
    """``env.getattr`` for a name no dict attribute has: on a plain dict, the sandbox's
    ``getattr(obj, name)`` fails and it returns ``obj[name]`` or an undefined; so do we, directly."""
    slow, undefined = env.getattr, env.undefined

    def attr(obj: Any, name: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[name]
            except KeyError:
                return undefined(obj=obj, name=name)
        return slow(obj, name)
    return attr


def _dict_getitem(env: Environment) -> Callable[[Any, Any], Any]:
    """``env.getitem``: its first step, ``obj[key]``, done directly on a plain dict."""
    slow = env.getitem

    def item(obj: Any, key: Any) -> Any:
        if type(obj) is dict:
            try:
                return obj[key]
            except (KeyError, TypeError):
                pass
        return slow(obj, key)
    return item


# -- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem of a submission: where (JSON path), which field (label), what (message)."""

    path: str  # e.g. $.agent_phone, $.materials_received[0].count
    label: str  # Chinese breadcrumb: 所收材料 第1项 数量
    message: str  # plain Chinese: 校验位不正确
    kind: str  # required, type, enum, pattern, checksum, minimum, ... (for tests and UIs)

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, dict)) and not value)


class _Conditions:
    """Conditions of one submission, each evaluated once per row (a form repeats them)."""

    def __init__(self, data: Mapping[str, Any], item: Any) -> None:
        self.data, self.item = data, item
        self.memo: dict[tuple[str, int], bool] = {}

    def holds(self, expression: str, row: Mapping[str, Any] | None = None) -> bool:
        key = (expression, id(row))
        if key not in self.memo:
            self.memo[key] = holds(expression, self.data, self.item, row)
        return self.memo[key]


def clean(form: Form, data: Mapping[str, Any], item: Any = None) -> dict[str, Any]:
    """The submission without empty answers and without the fields hidden by their `when`."""
    return _clean(form, data, item)[0]


def _clean(form: Form, data: Mapping[str, Any], item: Any) -> tuple[dict[str, Any], _Conditions]:
    # _empty, written out: None, blank text, an empty list, tuple or mapping are not answers.
    out = {k: v for k, v in data.items() if not (
        v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, (list, tuple, dict)) and not v))}
    conditions = _Conditions(out, item)
    plan = _plan(form) if FAST_PATH else None
    # In form order, so that a field hidden earlier no longer counts for a later condition.
    for f in (form.fields if plan is None else plan.shown_when):
        if f.when and not conditions.holds(f.when) and f.id in out:
            del out[f.id]
            conditions.memo.clear()  # the answers changed
    for f in (form.fields if plan is None else plan.groups):
        if f.type == "group" and isinstance(out.get(f.id), list):
            rows = [_clean_row(f, row, conditions) for row in out[f.id]]
            out[f.id] = [r for r in rows if not _empty(r)]
            if not out[f.id]:
                del out[f.id]
    return out, conditions


def _clean_row(group: Field, row: Any, conditions: _Conditions) -> Any:
    if not isinstance(row, Mapping):
        return row
    answered = {k: v for k, v in row.items() if not _empty(v)}
    for f in group.fields:
        if f.when and not holds(f.when, conditions.data, conditions.item, answered):
            answered.pop(f.id, None)
    return answered


def validate(form: Form, data: Any, item: Any = None, *, choices: Choices | None = None,
             today: date | None = None) -> list[FieldError]:
    """Every error of a submission, in the order of the form's fields; [] when it is valid."""
    if type(data) is not dict and not isinstance(data, Mapping):
        return [FieldError("$", form.title, "提交的数据格式不正确", "type")]
    cleaned, conditions = _clean(form, data, item)
    python, compiled = _validators(form, item, choices)
    # The compiled validator answers "valid?" many times faster; only an invalid submission
    # pays for the walk that yields every error with its path.
    valid = compiled is not None and compiled.is_valid(cleaned)
    if FAST_PATH and valid:  # then only the Python checks can fail, on the fields that have some
        plan = form._cache[_PLAN]  # _plan(form), made by _clean
        if _passes(plan, cleaned, conditions):
            return []
        checked = plan.checked
        ctx = _Context(form, item, choices, today or date.today(), conditions)
        errors = list(ctx.python_checks(cleaned, checked))
        return _sorted(form, errors) if errors else errors
    ctx = _Context(form, item, choices, today or date.today(), conditions)
    errors: list[FieldError] = []
    if not valid:
        errors = [e for error in python.iter_errors(cleaned) for e in ctx.from_schema(error)]
    seen = {e.path for e in errors}
    ctx.failed = seen
    errors += [e for e in ctx.python_checks(cleaned) if not any(_under(e.path, p) for p in seen)]
    return _sorted(form, errors)


def _sorted(form: Form, errors: list[FieldError]) -> list[FieldError]:
    order = {f.id: i for i, f in enumerate(form.fields)}
    return sorted(errors, key=lambda e: (order.get(_top(e.path), len(order)), e.path))


@dataclass(frozen=True, slots=True)
class _Plan:
    """What validating a form needs to know of the form alone, worked out once per form."""

    uses_item: bool  # a materials field or options from the item's materials: validators per item
    names: tuple[str, ...]  # the pack option lists it uses (`options_from`), sorted
    shown_when: tuple[Field, ...]  # the top-level fields with a `when`, in order (_clean)
    groups: tuple[Field, ...]  # the top-level groups, in order (_clean)
    # For each fields tuple (the form's, each group's): the fields the Python checks can fail,
    # in order. Any other field passes them whatever its answer (see _Context.check_fields).
    checked: Mapping[int, tuple[Field, ...]]
    top_checked: tuple[Field, ...]  # checked[id(form.fields)]
    valued: frozenset[str]  # the types whose answers the Python checks look at (_passes)


_NO_CHOICES: Mapping[str, Any] = {}
_PLAN = ("validators", "plan")  # keys of Form._cache (other modules key theirs otherwise)
_BY_IDENTITY = ("validators", "by identity")


def _plan(form: Form) -> _Plan:
    found = form._cache.get(_PLAN)
    if found is None:
        valued = frozenset({"group", "date", "datetime", *registry().checkers})
        checked: dict[int, tuple[Field, ...]] = {}
        for fields in (form.fields, *(f.fields for f in form.fields if f.fields)):
            checked[id(fields)] = tuple(f for f in fields if _checkable(f, valued))
        found = form._cache[_PLAN] = _Plan(
            uses_item=any(f.type == "materials" or f.options_from == "item_materials" for _, f in form.walk()),
            names=tuple(sorted({f.options_from for _, f in form.walk()
                                if f.options_from and f.options_from != "item_materials"})),
            shown_when=tuple(f for f in form.fields if f.when),
            groups=tuple(f for f in form.fields if f.type == "group"),
            checked=checked, top_checked=checked[id(form.fields)], valued=valued)
    return found


def _passes(plan: _Plan, cleaned: Mapping[str, Any], conditions: _Conditions) -> bool:
    """True when _Context.check_fields surely yields nothing for the top-level fields: no field
    whose answer it checks (a checksum, a date, a group) is answered, and every conditional
    required field left out is hidden or not required (the same conditions, in the same order,
    through the same memo). False: let check_fields run (it finds the errors, if any)."""
    holds = conditions.holds
    valued = plan.valued
    for f in plan.top_checked:
        if f.id in cleaned:
            if f.type not in valued:
                continue
            return False
        shown = not f.when or holds(f.when, None)
        if shown and f.conditional and (f.required or (f.required_when and holds(f.required_when, None))):
            return False
    return True


def _checkable(f: Field, valued: frozenset[str]) -> bool:
    """Whether check_fields can report an error on this field: a missing conditional required
    answer, a group's rows, or a value with a validator, a calendar date or a date bound."""
    return (f.conditional and (f.required or bool(f.required_when))) or f.type in valued


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _top(path: str) -> str:
    return re.split(r"[.\[]", path[2:], maxsplit=1)[0] if path.startswith("$.") else ""


def _validators(form: Form, item: Any, choices: Choices | None) -> tuple[Draft202012Validator, Any]:
    """The form's validators (jsonschema, and jsonschema-rs when it accepts the schema), built once."""
    if FAST_PATH:
        # The same validators, found by the identity of what they were built from when that is
        # immutable (a frozen Item, tuples of frozen Options): no key to rebuild and hash.
        plan = _plan(form)
        names = plan.names
        get = (choices or _NO_CHOICES).get
        if not names:
            lists: tuple[Any, ...] = ()
        elif len(names) == 1:
            lists = (get(names[0], ()),)
        else:
            lists = tuple([get(n, ()) for n in names])
        used = item if plan.uses_item else None
        if type(used) in _FROZEN_ITEMS and all([type(o) is tuple for o in lists]):
            memo = form._cache.get(_BY_IDENTITY)
            if memo is None:
                memo = form._cache[_BY_IDENTITY] = {}
            ident = (id(used), *[id(o) for o in lists]) if len(lists) != 1 else (id(used), id(lists[0]))
            hit = memo.get(ident)
            if hit is not None and hit[0] is used and (
                    hit[1][0] is lists[0] if len(lists) == 1 else all([a is b for a, b in zip(hit[1], lists)])):
                return hit[2]  # type: ignore[no-any-return]
            if len(memo) > 64:
                memo.clear()
            found = _validators_by_key(form, item, choices)
            memo[ident] = (used, lists, found)  # holds what it names: an id is not reused meanwhile
            return found
    return _validators_by_key(form, item, choices)


def _validators_by_key(form: Form, item: Any, choices: Choices | None) -> tuple[Draft202012Validator, Any]:
    key = (_item_key(form, item), _choices_key(form, choices))
    found = form._cache.get(key)
    if found is None:
        schema = to_json_schema(form, item, choices=choices)
        try:
            compiled = jsonschema_rs.validator_for(schema)
        except (ValueError, jsonschema_rs.ValidationError):  # a pattern only Python's re reads
            compiled = None
        found = form._cache[key] = (Draft202012Validator(schema), compiled)
    return found


def _item_key(form: Form, item: Any) -> Any:
    uses = any(f.type == "materials" or f.options_from == "item_materials" for _, f in form.walk())
    if not uses or item is None:
        return None
    return tuple(tuple(str(get(m, k)) for k in ("id", "name", "form", "copies", "core"))
                 for m in item_materials(item))


def _choices_key(form: Form, choices: Choices | None) -> Any:
    names = sorted({f.options_from for _, f in form.walk()
                    if f.options_from and f.options_from != "item_materials"})
    return tuple((n, tuple((choices or {}).get(n, ()))) for n in names)


def _json_path(steps: Iterable[str | int]) -> str:
    out = "$"
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else f".{s}"
    return out


_TYPE_WORDS = {"string": "应为文字", "integer": "应为整数", "number": "应为数字",
               "boolean": "应为“是”或“否”", "array": "应为列表", "object": "格式不正确"}


class _Context:
    """What error messages need: the form, the item (material names) and the option labels."""

    def __init__(self, form: Form, item: Any, choices: Choices | None, today: date,
                 conditions: _Conditions) -> None:
        self.form, self.item, self.choices, self.today = form, item, choices, today
        self.conditions = conditions
        self.checkers = registry().checkers
        self.failed: set[str] | frozenset[str] = frozenset()  # paths the schema rejected

    # -- naming a place in the submission

    def locate(self, steps: Sequence[str | int]) -> tuple[str, Field | None, str | None]:
        """(Chinese breadcrumb, innermost field, key inside a materials row) of a path."""
        labels: list[str] = []
        fields, field, row_key = self.form.fields, None, None
        for step in steps:
            if isinstance(step, int):
                name = ""
                if field is not None and field.type == "materials":
                    materials = item_materials(self.item)
                    if step < len(materials):
                        name = f"({get(materials[step], 'name')})"
                labels.append(f"第{step + 1}项{name}")
            elif field is not None and field.type == "materials":
                row_key = step
                labels.append(MATERIAL_ROW_LABELS.get(step, step))
            else:
                found = next((f for f in fields if f.id == step), None)
                labels.append(found.label if found else f"「{step}」")
                field, fields = found, (found.fields if found else ())
        return " ".join(labels) or self.form.title, field, row_key

    def error(self, steps: Sequence[str | int], message: str, kind: str) -> FieldError:
        return FieldError(_json_path(steps), self.locate(steps)[0], message, kind)

    # -- schema errors

    def from_schema(self, e: ValidationError) -> list[FieldError]:
        steps = list(e.absolute_path)
        kind = str(e.validator)
        if kind == "required":
            missing = [p for p in e.validator_value if e.message == f"{p!r} is a required property"]
            return [self.error(steps + missing[:1], "必须填写", "required")]
        if kind == "additionalProperties":
            known = e.schema.get("properties", {})
            return [self.error(steps + [k], "不是本表的填写项", "unknown")
                    for k in e.instance if k not in known]
        return [self.error(steps, self.schema_message(e, steps), kind)]

    def schema_message(self, e: ValidationError, steps: list[str | int]) -> str:
        _, field, row_key = self.locate(steps)
        kind, limit = e.validator, e.validator_value
        ftype = field.type if field is not None and row_key is None else None
        if ftype is not None and not is_own(ftype) and not (kind == "minLength" and limit == 1):
            # A plugin's type: its validator sees only values the schema accepts, so a rejected
            # value is told the field's pattern_message or the type's message.
            if kind == "pattern" and field is not None and field.pattern_message:
                return field.pattern_message
            if field_type(ftype).message:
                return field_type(ftype).message
        if kind == "type":
            return _TYPE_WORDS.get(limit if isinstance(limit, str) else "", "格式不正确")
        if kind == "enum":
            return self.enum_message(e.instance, field, row_key)
        if kind == "const":
            return f"应为「{limit}」(与事项材料清单一致)"
        if kind == "minimum":
            return f"不能小于 {limit}"
        if kind == "maximum":
            return f"不能大于 {limit}"
        if kind == "minLength":
            return "必须填写" if limit == 1 else f"至少 {limit} 个字"
        if kind == "maxLength":
            return f"不能超过 {limit} 个字"
        if kind == "pattern":
            return self.pattern_message(e.instance, field)
        if kind in ("minItems", "maxItems"):
            return self.count_message(kind, limit, ftype)
        if kind == "uniqueItems":
            return "选项不能重复"
        return "填写内容不符合要求"

    def enum_message(self, value: Any, field: Field | None, row_key: str | None) -> str:
        if field is None or row_key is not None:
            return f"「{value}」不是可选项"
        options = options_for(self.form, field, self.item, self.choices)
        listed = "、".join(o.label for o in options)
        return f"「{value}」不是可选项" + (f", 可选: {listed}" if len(options) <= 10 else "")

    def pattern_message(self, value: Any, field: Field | None) -> str:
        if field is None:
            return "格式不正确"
        if field.pattern_message:
            return field.pattern_message
        if field.type == "date":
            return "日期格式应为 YYYY-MM-DD, 例如 2026-01-04"
        if field.type == "datetime":
            return "时间格式应为 YYYY-MM-DD HH:MM, 例如 2026-01-04 09:30"
        checker = self.checkers.get(field.type)
        return (checker(value, self.today) if checker and isinstance(value, str) else None) or "格式不正确"

    @staticmethod
    def count_message(kind: str, limit: int, ftype: str | None) -> str:
        if ftype == "materials":
            return f"应逐项列出事项的全部 {limit} 项材料"
        verb = "选择" if ftype == "multi_select" else "填写"
        if kind == "minItems":
            return f"必须{verb}" if limit == 1 else f"至少{verb} {limit} 项"
        return f"最多{verb} {limit} 项"

    # -- what the schema cannot say

    def python_checks(self, data: Mapping[str, Any],
                      checked: Mapping[int, tuple[Field, ...]] | None = None) -> Iterable[FieldError]:
        """``checked`` (a :class:`_Plan`'s): visit only the fields that can fail a check."""
        yield from self.check_fields(self.form.fields, data, None, [], checked)

    def check_fields(self, fields: Sequence[Field], values: Mapping[str, Any],
                     row: Mapping[str, Any] | None, steps: list[str | int],
                     checked: Mapping[int, tuple[Field, ...]] | None = None) -> Iterable[FieldError]:
        holds = self.conditions.holds
        for f in (fields if checked is None else checked[id(fields)]):
            here = steps + [f.id]
            if f.id not in values:
                # An answered field is shown (clean dropped hidden answers); a missing one may not be.
                shown = not f.when or holds(f.when, row)
                if shown and f.conditional and (f.required or (f.required_when and holds(f.required_when, row))):
                    yield self.error(here, "必须填写", "required")
                continue
            value = values[f.id]
            if f.type == "group" and isinstance(value, list):
                for i, r in enumerate(value):
                    if isinstance(r, Mapping):
                        yield from self.check_fields(f.fields, r, r, here + [i], checked)
                continue
            if self.failed and _json_path(here) in self.failed:
                continue  # the schema's error says it; a validator may not expect this value
            message = self.check_value(f, value)
            if message:
                yield self.error(here, message, "checksum" if f.type in self.checkers else "range")

    def check_value(self, f: Field, value: Any) -> str | None:
        checker = self.checkers.get(f.type)
        if checker is not None and not is_own(f.type):
            return checker(value, self.today)  # a plugin's type: whatever JSON value its schema allows
        if not isinstance(value, str):
            return None
        if checker:
            return checker(value, self.today)
        if f.type == "date":
            return self.check_date(f, value)
        if f.type == "datetime":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                return "不是有效的日期时间"
            return self.check_bounds(f, value[:10], value)
        return None

    def check_date(self, f: Field, value: str) -> str | None:
        try:
            date.fromisoformat(value)
        except ValueError:
            return "不是有效的日期"
        return self.check_bounds(f, value, value)

    def check_bounds(self, f: Field, day: str, value: str) -> str | None:
        # ISO dates and datetimes order as strings; `today` compares by the day.
        low = self.today.isoformat() if f.min == "today" else f.min
        high = self.today.isoformat() if f.max == "today" else f.max
        if isinstance(low, str) and (day if f.min == "today" else value) < low:
            return "不能早于今天" if f.min == "today" else f"不能早于 {low}"
        if isinstance(high, str) and (day if f.max == "today" else value) > high:
            return "不能晚于今天" if f.max == "today" else f"不能晚于 {high}"
        return None


def _frozen_items() -> frozenset[type]:
    from ..packs.model import Item  # frozen, with tuples of frozen materials

    return frozenset({type(None), Item})


_FROZEN_ITEMS = _frozen_items()
