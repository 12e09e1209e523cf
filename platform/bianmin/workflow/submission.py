"""The data submitted with a transition: its form, and what the form alone cannot check.

Forms are loaded once per pack version from the shared ``forms/`` folder and the folders of the
pack and the packs it extends (``policies/<id>/forms/``; a nearer folder's form replaces the
shared one, as the pack checker resolves them). Options a form takes from the pack
(``options_from: pause_reasons`` ...) come from the compiled pack, the materials from the item.

Two record rules live here as well, because they compare a form's answer with the record.

**A pause is for a special procedure the item lists** (``items[].pausable_for``, jiangyin 三(三)5):
a form answer ``reason`` taken from the pack's ``pause_reasons`` must be one of them when the item
lists any (the clock engine enforces the same rule; here it becomes an error on the field).

**A list of missing materials must be the case's own** (一次性告知, 行政许可法 §32, xupu 二(一),
dahepin 二.2). A field ``missing_materials`` (rows with a ``material``, the `correction` form) or
``missing`` (a multi-select of the item's materials, the `commitment` form) must name every
material the case lacks, and may mark as missing (``problem: missing``, or any entry of a
``missing`` list) only materials that are in fact missing; other rows (``wrong_form`` ...) may name
received materials. A pack may turn the rule off with ``correction_notice.complete_list: false``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable, Iterable

from .. import paths
from ..forms import Field, FieldError, Form, Option, load_forms, validate
from ..forms.choices import PACK_LISTS, get
from ..packs.model import Item, Pack
from . import record

FormsDirs = Callable[[Pack], list[Path]]


def default_dirs(pack: Pack) -> list[Path]:
    """Shared forms first, then each pack of the lineage from the farthest to the pack itself."""
    policies = paths.policies_dir()
    return [paths.forms_dir(), *(policies / pid / "forms" for pid in reversed(pack.lineage))]


_dirs: FormsDirs = default_dirs
_cache: dict[tuple[int, str], tuple[Pack, dict[str, Form], dict[str, tuple[Option, ...]]]] = {}


def use_forms_dirs(dirs: FormsDirs | None) -> None:
    """Where forms are read from (tests, an installed deployment); None restores the default."""
    global _dirs
    _dirs = dirs or default_dirs
    _cache.clear()
    _checks.clear()


def forms_of(pack: Pack) -> tuple[dict[str, Form], dict[str, tuple[Option, ...]]]:
    """(forms by id, option lists by `options_from` name) of a pack version, built once."""
    key = (id(pack), pack.content_hash)
    found = _cache.get(key)
    if found is None or found[0] is not pack:
        if len(_cache) > 64:
            _cache.clear()
        _checks.clear()  # they hold forms of the entries just dropped or replaced
        found = _cache[key] = (pack, load_forms(_dirs(pack)), choices(pack))
    return found[1], found[2]


# (id(pack), form id) -> (pack, form, option lists, whether the pause rule applies, whether the
# missing-list rule applies): what check() looks up on every submission, found once.
_checks: dict[tuple[int, str], tuple[Pack, Form, dict[str, tuple[Option, ...]], bool, bool]] = {}


def choices(pack: Pack) -> dict[str, tuple[Option, ...]]:
    """The compiled pack's `{id, name}` lists, by the names forms use in `options_from`."""
    out: dict[str, tuple[Option, ...]] = {}
    for name, keys in PACK_LISTS.items():
        node: Any = pack
        for key in keys:
            node = get(node, key) if node is not None else None
        if node is not None:
            out[name] = tuple(Option(str(get(r, "id")), str(get(r, "name"))) for r in node)
    return out


def check(pack: Pack, form_id: str, data: Mapping[str, Any], subject: Mapping[str, Any],
          item: Item | None, now: dt.datetime) -> tuple[Form, list[FieldError]]:
    """The form and every error of ``data``: the form's own, then the record rule above."""
    found = _checks.get((id(pack), form_id))
    if found is None or found[0] is not pack:
        forms, options = forms_of(pack)
        form = forms[form_id]
        reason = _fields(form)[0]
        found = (pack, form, options, reason is not None and reason.options_from == "pause_reasons",
                 _complete_list(pack) and _fields(form)[1])
        if len(_checks) > 1024:
            _checks.clear()
        _checks[(id(pack), form_id)] = found
    _, form, options, pause_rule, list_rule = found
    errors = validate(form, data, item, choices=options, today=now.date())
    if not errors and pause_rule:  # (pause_reason_errors finds nothing on any other form)
        errors = pause_reason_errors(form, data, item, options)
    if not errors and list_rule:
        errors = missing_list_errors(form, data, subject, item)
    return form, errors


_FIELDS = ("submission", "fields")  # key of Form._cache


def _fields(form: Form) -> tuple[Field | None, bool, bool]:
    """(the `reason` field, whether the form has a `missing_materials` or `missing` field, whether
    its `materials` field is a materials checklist), once per form."""
    found = form._cache.get(_FIELDS)
    if found is None:
        materials = form.field("materials")
        found = form._cache[_FIELDS] = (
            form.field("reason"),
            form.field("missing_materials") is not None or form.field("missing") is not None,
            materials is not None and materials.type == "materials")
    return found  # type: ignore[no-any-return]


def replaces_materials(form: Form) -> bool:
    """Whether the form's answer replaces the record's `materials` (the `materials` form)."""
    return _fields(form)[2]


def pause_reason_errors(form: Form, data: Mapping[str, Any], item: Item | None,
                        options: Mapping[str, tuple[Option, ...]]) -> list[FieldError]:
    """A pause reason the item does not list (see the module docstring)."""
    field = _fields(form)[0]
    if item is None or not item.pausable_for or field is None or field.options_from != "pause_reasons":
        return []
    if data.get("reason") in item.pausable_for:
        return []
    names = {o.value: o.label for o in options.get("pause_reasons", ())}
    allowed = "、".join(names.get(r, r) for r in item.pausable_for)
    return [FieldError("$.reason", field.label, f"本事项只能因{allowed}暂停计时", "not_pausable")]


def _complete_list(pack: Pack) -> bool:
    rule = pack.time_limits.correction_notice
    return rule is None or rule.complete_list


def missing_list_errors(form: Form, data: Mapping[str, Any], subject: Mapping[str, Any],
                        item: Item | None) -> list[FieldError]:
    """A listed set of missing materials that is not the case's (see the module docstring)."""
    errors: list[FieldError] = []
    absent: set[str] | None = None
    for field_id, row_key in (("missing_materials", "material"), ("missing", None)):
        field = form.field(field_id)
        if field is None or field_id not in data:
            continue
        if absent is None:
            absent = set(record.missing(subject, item)[0])
        listed, marked = _listed(data[field_id], row_key)
        path, label = f"$.{field_id}", field.label
        untold = absent - listed
        if untold:
            errors.append(FieldError(path, label, "未列出缺少的材料: " + record.material_names(item, untold)
                                     + "; 须一次性告知需要补正的全部内容", "incomplete_list"))
        wrong = marked - absent
        if wrong:
            errors.append(FieldError(path, label, "以下材料已收到, 不能列为缺少: "
                                     + record.material_names(item, wrong), "not_missing"))
    return errors


def _listed(value: Any, row_key: str | None) -> tuple[set[str], set[str]]:
    """(every material named, those named as missing)."""
    if row_key is None:
        names = {str(v) for v in _iter(value)}
        return names, names
    listed, marked = set(), set()
    for row in _iter(value):
        if isinstance(row, Mapping) and row.get(row_key) is not None:
            listed.add(str(row[row_key]))
            if row.get("problem", "missing") == "missing":
                marked.add(str(row[row_key]))
    return listed, marked


def _iter(value: Any) -> Iterable[Any]:
    return value if isinstance(value, (list, tuple)) else ()
