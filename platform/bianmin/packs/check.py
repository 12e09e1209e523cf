"""Semantic checks of a merged pack document: what the schema alone cannot say.

Each check adds :class:`Problem` values naming the rule broken, so a policy officer sees every
problem of a pack in one pass. The checks run on the merged document, whose marks point to
the file (the pack's own or an inherited one) that wrote each value.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.parser import Parser

from .. import plugins as _plugins
from ..calendar import Calendar, CalendarCoverageError
from ..documents.contexts import CONTEXTS
from ..sandbox import environment
from .loader import LoadError, Map, Mark, Seq, load_file
from .problems import Problem
from .source import display_path

START_EVENT = "start"  # the creation of a record, usable in clock bindings
_UNIT_ORDER = {"immediate": 0, "same_day": 1, "working_hour": 2}


TemplateAnalysis = tuple[tuple[tuple[str, int], ...], tuple[str, ...]] | TemplateSyntaxError


@dataclass
class Context:
    document: Map
    folders: tuple[Path, ...]  # the pack's folder, then the folders of what it extends
    forms_dirs: tuple[Path, ...]
    templates_dirs: tuple[Path, ...]
    problems: list[Problem] = field(default_factory=list)
    ids: dict[str, set[str]] = field(default_factory=dict)
    # Shared by every pack one Compiler checks: packs extending `_base` name the same templates.
    template_cache: dict[Path, TemplateAnalysis] = field(default_factory=dict)
    expression_cache: dict[str, str | None] = field(default_factory=dict)
    forms: set[str] | None = None
    form_fields: dict[Path, set[str]] = field(default_factory=dict)
    # What the loaded plugins provide (actions, field types, channels ...); None: the process's.
    plugins: _plugins.Plugins | None = None

    def add(self, mark: Mark, rule: str, message: str) -> None:
        self.problems.append(Problem(mark, rule, message))


def check(ctx: Context) -> list[Problem]:
    doc = ctx.document
    ctx.ids = _collect_ids(doc)
    _load_plugins(ctx, doc)
    for run in (_dates, _sources, _organisation, _items, _time_limits, _complaints, _accountability,
                _appraisal, _register_fields, _workflows, _documents, _calendar, _plugin_settings, _field_types):
        run(ctx, doc)
    return ctx.problems


# --- helpers -------------------------------------------------------------------------------

def _records(doc: Map, *path: str) -> Iterator[Map]:
    node: Any = doc
    for key in path:
        node = node.get(key) if isinstance(node, Map) else None
    if isinstance(node, Seq):
        yield from (e for e in node if isinstance(e, Map))


def _section(doc: Map, key: str) -> Map:
    value = doc.get(key)
    return value if isinstance(value, Map) else Map(doc.mark)


def _collect_ids(doc: Map) -> dict[str, set[str]]:
    def ids(*path: str) -> set[str]:
        return {r["id"] for r in _records(doc, *path) if isinstance(r.get("id"), str)}

    return {
        "sources": ids("sources"), "departments": ids("departments"), "windows": ids("windows"),
        "roles": ids("roles"), "posts": ids("posts"), "items": ids("items"),
        "pause_reasons": ids("time_limits", "pause_reasons"), "clocks": ids("clocks"),
        "workflows": ids("workflows"), "documents": ids("documents"),
        "tiers": ids("accountability", "tiers"), "effects": ids("accountability", "effects"),
        "violations": ids("accountability", "violations"),
    }


def _values(record: Map, key: str) -> Iterator[tuple[str, Mark]]:
    """The string(s) under ``key`` with their marks, whether one value or a list."""
    value = record.get(key)
    if isinstance(value, str):
        yield value, record.value_marks[key]
    elif isinstance(value, Seq):
        for element, mark in zip(value, value.item_marks):
            if isinstance(element, str):
                yield element, mark


def _ref(ctx: Context, record: Map, key: str, kind: str, what: str, extra: Iterable[str] = ()) -> None:
    known = ctx.ids[kind] | set(extra)
    for value, mark in _values(record, key):
        if value not in known:
            _dangling(ctx, mark, value, known, what)


def _dangling(ctx: Context, mark: Mark, value: str, known: Iterable[str], what: str) -> None:
    hint = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    tail = f"; did you mean {hint[0]!r}?" if hint else (
        f"; defined: {', '.join(sorted(known))}" if known else f"; no {what} is defined")
    ctx.add(mark, "dangling-reference", f"{what} {value!r} is not defined{tail}")


# --- checks --------------------------------------------------------------------------------

def _sources(ctx: Context, doc: Map) -> None:
    known = ctx.ids["sources"]

    def walk(node: Any) -> None:
        if isinstance(node, Map):
            for key, value in node.items():
                if key == "source" and isinstance(value, str):
                    cited = value.split(" ", 1)[0]
                    if cited not in known:
                        hint = difflib.get_close_matches(cited, sorted(known), n=1, cutoff=0.5)
                        tail = f"; did you mean {hint[0]!r}?" if hint else "; declare it under `sources`"
                        ctx.add(node.value_marks[key], "source-unknown",
                                f"source {value!r} cites {cited!r}, which is not a declared source{tail}")
                else:
                    walk(value)
        elif isinstance(node, Seq):
            for element in node:
                walk(element)

    for key, value in doc.items():
        if key != "sources":
            walk(value)


def _dates(ctx: Context, doc: Map) -> None:
    """The schema checks a date's shape; the calendar decides whether the day exists."""
    def day(record: Map, key: str) -> None:
        for value, mark in _values(record, key):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                ctx.add(mark, "wrong-date", f"{value!r} is not a day of the calendar")

    day(doc, "effective_from")
    for source in _records(doc, "sources"):
        day(source, "date")
    calendar = _section(doc, "calendar")
    for year in _records(calendar, "years"):
        day(year, "workdays")
        for holiday in _records(year, "holidays"):
            day(holiday, "date")
            day(holiday, "to")
    for override in _records(calendar, "overrides"):
        day(override, "date")
        day(override, "to")


def _organisation(ctx: Context, doc: Map) -> None:
    for window in _records(doc, "windows"):
        _ref(ctx, window, "departments", "departments", "department")
    for post in _records(doc, "posts"):
        _ref(ctx, post, "role", "roles", "role")
        _ref(ctx, post, "window", "windows", "window")
        _ref(ctx, post, "backup", "posts", "post")
        if post.get("backup") == post.get("id"):
            ctx.add(post.value_marks["backup"], "backup-self", f"post {post['id']!r} cannot be its own backup")


def _items(ctx: Context, doc: Map) -> None:
    forms = _form_ids(ctx)
    for item in _records(doc, "items"):
        _ref(ctx, item, "department", "departments", "department")
        _ref(ctx, item, "window", "windows", "window")
        _ref(ctx, item, "pausable_for", "pause_reasons", "pause reason")
        _ref(ctx, item, "workflow", "workflows", "workflow")
        for form_id, mark in _values(item, "form"):
            if form_id not in forms:
                _dangling(ctx, mark, form_id, forms, "form")
        limits = item.get("limits")
        if not isinstance(limits, Map):
            continue
        promised, statutory = limits.get("promised"), limits.get("statutory")
        if isinstance(promised, Map) and isinstance(statutory, Map):
            _limit_order(ctx, item, limits, promised, statutory)
        if item.get("kind") == "immediate" and isinstance(promised, Map) and promised.get("unit") not in ("immediate", "same_day"):
            ctx.add(limits.value_marks["promised"], "immediate-limit",
                    f"item {item.get('id')!r} is an immediate item (即办件) but its promised limit is "
                    f"{_words(promised)}; use unit immediate or same_day, or make it `kind: promised`")
        _ref(ctx, limits, "lead_department", "departments", "department")
        steps = limits.get("steps")
        if isinstance(steps, Seq) and steps and isinstance(promised, Map):
            for step in _records(limits, "steps"):
                _ref(ctx, step, "department", "departments", "department")
            _steps_sum(ctx, item, limits, steps, promised)


def _words(duration: Map) -> str:
    return f"{duration.get('value', '')} {duration.get('unit')}".strip()


def _comparable(a: Map, b: Map) -> tuple[int, int] | None:
    """Order two durations when that is possible without a calendar."""
    ua, ub = a.get("unit"), b.get("unit")
    if ua == ub:
        return (a.get("value") or 0, b.get("value") or 0)
    ra, rb = _UNIT_ORDER.get(ua, 3), _UNIT_ORDER.get(ub, 3)
    if ra != rb and min(ra, rb) < 2:  # immediate < same day < any counted period
        return (ra, rb)
    return None


def _limit_order(ctx: Context, item: Map, limits: Map, promised: Map, statutory: Map) -> None:
    order = _comparable(promised, statutory)
    mark = limits.value_marks["promised"]
    if order is None:
        ctx.add(mark, "limit-units", f"item {item.get('id')!r}: promised ({_words(promised)}) and "
                f"statutory ({_words(statutory)}) limits use units that cannot be compared; use the same unit")
    elif order[0] > order[1]:
        ctx.add(mark, "promised-exceeds-statutory",
                f"item {item.get('id')!r}: the promised limit ({_words(promised)}) is longer than the "
                f"statutory limit ({_words(statutory)}); a promise may only shorten it (jiangyin 三(三)4)")


def _steps_sum(ctx: Context, item: Map, limits: Map, steps: Seq, promised: Map) -> None:
    units = {s.get("limit", {}).get("unit") for s in steps if isinstance(s, Map)}
    if units != {promised.get("unit")}:
        ctx.add(limits.value_marks["steps"], "limit-units",
                f"item {item.get('id')!r}: every step limit must use the promised limit's unit ({promised.get('unit')})")
        return
    total = sum(s["limit"].get("value") or 0 for s in steps if isinstance(s, Map))
    if total > (promised.get("value") or 0):
        ctx.add(limits.value_marks["steps"], "steps-exceed-limit",
                f"item {item.get('id')!r}: the steps add up to {total} {promised.get('unit')}, more than the "
                f"promised limit of {promised.get('value')}")


def _time_limits(ctx: Context, doc: Map) -> None:
    limits = _section(doc, "time_limits")
    extension = limits.get("extension")
    if isinstance(extension, Map):
        _ref(ctx, extension, "approver_roles", "roles", "role")
        _ref(ctx, extension, "notice", "documents", "document")
    pause = limits.get("pause")
    if isinstance(pause, Map):
        _ref(ctx, pause, "notice", "documents", "document")
    for clock in _records(doc, "clocks"):
        limit = clock.get("limit")
        if isinstance(limit, Map) and isinstance(limit.get("cases"), Map) and not limit["cases"]:
            ctx.add(clock.value_marks["limit"], "clock-cases", f"clock {clock.get('id')!r} lists no cases")


def _complaints(ctx: Context, doc: Map) -> None:
    complaints = _section(doc, "complaints")
    for category in _records(complaints, "categories"):
        _ref(ctx, category, "route_to", "roles", "role")
    confidential = complaints.get("confidential")
    if isinstance(confidential, Map):
        _ref(ctx, confidential, "visible_to", "roles", "role")
    _expression(ctx, complaints, "written_required_when")


def _accountability(ctx: Context, doc: Map) -> None:
    acc = _section(doc, "accountability")
    for tier in _records(acc, "tiers"):
        _ref(ctx, tier, "effects", "effects", "effect")
        _deduct_range(ctx, tier)
    for violation in _records(acc, "violations"):
        _ref(ctx, violation, "tier", "tiers", "tier")
        _ref(ctx, violation, "effects", "effects", "effect")
        _deduct_range(ctx, violation)
        detect = violation.get("detect")
        if isinstance(detect, Map):
            _ref(ctx, detect, "clock", "clocks", "clock")
            _ref(ctx, detect, "document", "documents", "document")
    for kind in ("aggravating", "mitigating"):
        for circumstance in _records(acc, kind):
            _expression(ctx, circumstance, "when")
            adjust = circumstance.get("adjust")
            if isinstance(adjust, Map):
                _ref(ctx, adjust, "effects", "effects", "effect")


def _deduct_range(ctx: Context, record: Map) -> None:
    deduct = record.get("deduct")
    if isinstance(deduct, Map) and isinstance(deduct.get("from"), (int, float)) and isinstance(deduct.get("to"), (int, float)):
        if deduct["from"] > deduct["to"]:
            ctx.add(record.value_marks["deduct"], "deduction-range",
                    f"{record.get('id')!r}: deduction range runs from {deduct['from']} down to {deduct['to']}; "
                    "write the smaller number under `from`")


def _appraisal(ctx: Context, doc: Map) -> None:
    appraisal = _section(doc, "appraisal")
    dimensions = list(_records(appraisal, "dimensions"))
    weights = [d.get("weight") for d in dimensions if isinstance(d.get("weight"), (int, float))]
    if dimensions and abs(sum(weights) - 1) > 1e-6:
        ctx.add(appraisal.value_marks["dimensions"], "weights-sum",
                f"appraisal dimension weights add up to {sum(weights):g}, not 1")
    for selection in _records(appraisal, "selections"):
        _ref(ctx, selection, "disqualify", "effects", "effect")


# Registers list the answers of a form: each field named must be one the form asks for.
_REGISTERS = (("inquiry", "register_fields", "inquiry"), ("unresolved_matter", "register_fields", "unresolved_matter"),
              ("agency", "ledger_fields", "agency"))


def _register_fields(ctx: Context, doc: Map) -> None:
    for section, key, form_id in _REGISTERS:
        record = doc.get(section)
        if not isinstance(record, Map) or key not in record:
            continue
        path = find_file(ctx.forms_dirs, f"{form_id}.yaml")
        if path is None:
            continue  # a missing form is reported where a workflow names it
        fields = ctx.form_fields.get(path)
        if fields is None:
            fields = ctx.form_fields[path] = _field_ids(path)
        for value, mark in _values(record, key):
            if value not in fields:
                _dangling(ctx, mark, value, fields, f"{form_id} form field")


def _field_ids(path: Path) -> set[str]:
    try:
        form = load_file(path)
    except LoadError:
        return set()  # the form's own check reports it
    fields = form.get("fields") if isinstance(form, dict) else None
    return {f["id"] for f in fields or () if isinstance(f, dict) and isinstance(f.get("id"), str)}


def _workflows(ctx: Context, doc: Map) -> None:
    forms = _form_ids(ctx)
    for workflow in _records(doc, "workflows"):
        _workflow(ctx, workflow, forms)


def _workflow(ctx: Context, wf: Map, forms: set[str]) -> None:
    name = wf.get("id")
    states = {s["id"]: s for s in _records(wf, "states") if isinstance(s.get("id"), str)}
    transitions = list(_records(wf, "transitions"))
    transition_ids = {t.get("id") for t in transitions}
    initial = wf.get("initial")
    if isinstance(initial, str) and initial not in states:
        _dangling(ctx, wf.value_marks["initial"], initial, states, f"state (workflow {name!r})")
    edges: dict[str, set[str]] = {s: set() for s in states}
    for t in transitions:
        _ref(ctx, t, "roles", "roles", "role")
        for state, mark in _values(t, "from"):
            if state == "*":
                continue
            if state not in states:
                _dangling(ctx, mark, state, states, f"state (workflow {name!r})")
        for state, mark in _values(t, "to"):
            if state not in states:
                _dangling(ctx, mark, state, states, f"state (workflow {name!r})")
        sources = list(states) if t.get("from") == "*" else [s for s, _ in _values(t, "from") if s in states]
        for s in sources:
            if t.get("to") in states:
                edges[s].add(t["to"])
        for form_id, mark in _values(t, "form"):
            if form_id not in forms:
                _dangling(ctx, mark, form_id, forms, "form")
        _expression(ctx, t, "guard")
        _actions(ctx, t)
    _reachability(ctx, wf, states, edges, initial)
    for binding in _records(wf, "clocks"):
        _ref(ctx, binding, "id", "clocks", "clock")
        for key in ("start_on", "stop_on", "pause_on", "resume_on"):
            for event, mark in _values(binding, key):
                if event not in transition_ids and event != START_EVENT:
                    _dangling(ctx, mark, event, transition_ids | {START_EVENT}, f"transition (workflow {name!r})")
    bound = {b.get("id") for b in _records(wf, "clocks")}
    for timer in _records(wf, "timers"):
        for clock, mark in _values(timer, "clock"):
            if clock not in bound:
                _dangling(ctx, mark, clock, bound, f"clock bound in workflow {name!r}")
        _actions(ctx, timer)


def _reachability(ctx: Context, wf: Map, states: dict[str, Map], edges: dict[str, set[str]], initial: Any) -> None:
    terminal = {s for s, rec in states.items() if rec.get("terminal") is True}
    if states and not terminal:
        ctx.add(wf.value_marks["states"], "no-terminal-state",
                f"workflow {wf.get('id')!r} has no state with `terminal: true`, so no record could ever close")
    if initial not in states:
        return
    seen, todo = {initial}, [initial]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for state_id, record in states.items():
        if state_id not in seen:
            ctx.add(record.mark, "unreachable-state",
                    f"state {state_id!r} of workflow {wf.get('id')!r} cannot be reached from {initial!r}")
        elif state_id not in terminal and not edges[state_id]:
            ctx.add(record.mark, "dead-end-state",
                    f"state {state_id!r} of workflow {wf.get('id')!r} is not terminal but has no transition out")


def _actions(ctx: Context, owner: Map) -> None:
    if ctx.plugins is None:  # plugins failed to load: reported once, as plugin-error
        return
    for action in _records(owner, "actions"):
        name = action.get("do")
        if not isinstance(name, str):
            continue
        spec = ctx.plugins.actions.get(name)
        if spec is None:
            _missing(ctx, action.value_marks["do"], name, "actions")
            continue
        args = action.get("with")
        for key, section in spec.refers.items():
            if not isinstance(args, Map) or key not in args:
                ctx.add(action.mark, "action-argument", f"action {name!r} needs `with: {{{key}: ...}}`")
                continue
            _names(ctx, action, args, key, section)
        for key, section in spec.optional.items():
            if isinstance(args, Map) and key in args:
                _names(ctx, action, args, key, section)


def _names(ctx: Context, action: Map, args: Map, key: str, section: str) -> None:
    """Check an action argument naming records of a pack section or entries of a plugin registry."""
    assert ctx.plugins is not None
    if section in ctx.ids:
        _ref(ctx, args, key, section, section.removesuffix("s").replace("_", " "))
    elif section == "forms":
        forms = _form_ids(ctx)
        for value, mark in _values(args, key):
            if value not in forms:
                _dangling(ctx, mark, value, forms, "form")
    elif section in _plugins.REGISTRY_HOOK:
        known = ctx.plugins.registry(section)
        for value, mark in _values(args, key):
            if value not in known:
                _missing(ctx, mark, value, section)
    else:
        provider = ctx.plugins.provider("actions", action["do"])
        ctx.add(action.mark, "action-argument", f"action {action['do']!r} (plugin {provider!r}) says `{key}` "
                f"names {section!r}, which is neither a pack section nor a plugin registry")


def _missing(ctx: Context, mark: Mark, value: str, registry: str, what: str = "", where: str = "") -> None:
    """A name that no loaded plugin provides: say which plugin would, when one in the plugin
    folders does, else what is close."""
    assert ctx.plugins is not None
    what = what or _plugins.REGISTRIES[_plugins.REGISTRY_HOOK[registry]][0]
    provider = ctx.plugins.not_enabled_provider(registry, value)
    if provider:
        tail = f"; plugin {provider!r} provides it but is not loaded: {ctx.plugins.how_to_enable(provider)}"
    else:
        known = sorted(ctx.plugins.registry(registry))
        hint = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        tail = f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(known)}" if known else ""
        tail = f" by the engine or any loaded plugin{tail}"
    ctx.add(mark, "dangling-reference", f"{what} {value!r}{where} is not defined{tail}")


def _load_plugins(ctx: Context, doc: Map) -> None:
    if ctx.plugins is None:
        try:
            ctx.plugins = _plugins.get_plugins()
        except _plugins.PluginError as exc:
            ctx.add(doc.mark, "plugin-error", f"plugins could not be loaded: {exc}")


def _plugin_settings(ctx: Context, doc: Map) -> None:
    """`plugins: {name: settings}`: each a loaded plugin's, valid under the schema it provides."""
    from jsonschema import Draft202012Validator

    from .schema import _explain_at

    settings = doc.get("plugins")
    if not isinstance(settings, Map) or ctx.plugins is None:
        return
    schemas = ctx.plugins.pack_schemas
    for key, value in settings.items():
        if key in schemas:
            for error in Draft202012Validator(dict(schemas[key])).iter_errors(value):
                ctx.problems.extend(_explain_at(error, doc, ["plugins", key, *error.absolute_path]))
            continue
        provider = ctx.plugins.not_enabled_provider("pack_schemas", key)
        fix = ctx.plugins.how_to_enable(provider) if provider else (
            f"install it, or remove the key; loaded plugins: {', '.join(ctx.plugins.names())}")
        ctx.add(settings.key_marks[key], "plugin-missing",
                f"`plugins: {key}` configures a plugin that is not loaded; {fix}")


def _field_types(ctx: Context, doc: Map) -> None:
    """Each field type of the forms the pack uses is one the engine or a loaded plugin provides."""
    if ctx.plugins is None:
        return
    known = ctx.plugins.field_types
    forms = {i.get("form", "intake") for i in _records(doc, "items")}
    for workflow in _records(doc, "workflows"):
        forms |= {t["form"] for t in _records(workflow, "transitions") if isinstance(t.get("form"), str)}
    for form_id in sorted(f for f in forms if isinstance(f, str)):
        path = find_file(ctx.forms_dirs, f"{form_id}.yaml")
        if path is None:
            continue
        stat = path.stat()
        for type_name, mark in _form_field_types(path, stat.st_mtime_ns, stat.st_size):
            if type_name not in known:
                _missing(ctx, mark, type_name, "field_types", where=f" (form {form_id!r})")


@lru_cache(maxsize=512)
def _form_field_types(path: Path, mtime_ns: int, size: int) -> tuple[tuple[str, Mark], ...]:
    """The `type` of every field of a form file, with its place; () when the file does not load
    (the forms loader reports that)."""
    try:
        form = load_file(path, display_path(path))
    except (LoadError, OSError):
        return ()
    found: list[tuple[str, Mark]] = []

    def walk(fields: Any) -> None:
        for f in fields if isinstance(fields, Seq) else ():
            if isinstance(f, Map) and isinstance(f.get("type"), str):
                found.append((f["type"], f.value_marks["type"]))
                walk(f.get("fields"))

    walk(form.get("fields") if isinstance(form, Map) else None)
    return tuple(found)


def _expression(ctx: Context, record: Map, key: str) -> None:
    text = record.get(key)
    if not isinstance(text, str):
        return
    if text not in ctx.expression_cache:
        ctx.expression_cache[text] = _expression_error(text)
    error = ctx.expression_cache[text]
    if error:
        ctx.add(record.value_marks[key], "expression", f"{key} `{text}` is not a valid expression: {error}")
    elif ctx.plugins is not None:
        known = {*ctx.plugins.guard_functions, *DEFAULT_NAMESPACE}
        for name in _called_names(text):
            if name not in known:
                _missing(ctx, record.value_marks[key], name, "guard_functions", "function", f" (called in {key})")


@lru_cache(maxsize=4096)
def _called_names(text: str) -> tuple[str, ...]:
    """Names an expression calls as functions (`stamp_valid(data.seal)` → stamp_valid)."""
    tree = Parser(environment(), text, state="variable").parse_expression()
    calls = [tree, *tree.find_all(nodes.Call)]  # find_all leaves out the root
    return tuple(dict.fromkeys(c.node.name for c in calls if isinstance(c, nodes.Call) and isinstance(c.node, nodes.Name)))


def _expression_error(text: str) -> str | None:
    try:
        environment().compile_expression(text)
    except TemplateSyntaxError as exc:
        return exc.message or "syntax error"
    return None


def _documents(ctx: Context, doc: Map) -> None:
    for document in _records(doc, "documents"):
        name, context = document.get("template"), document.get("context")
        if not isinstance(name, str) or not isinstance(context, str):
            continue
        path = find_file(ctx.templates_dirs, name)
        mark = document.value_marks["template"]
        if path is None:
            ctx.add(mark, "template-missing", f"template {name!r} is not in any of: "
                    + ", ".join(display_path(d) for d in ctx.templates_dirs))
            continue
        _template(ctx, mark, path, name, context)


def _template(ctx: Context, mark: Mark, path: Path, name: str, context: str) -> None:
    allowed = CONTEXTS.get(context, frozenset())
    if path not in ctx.template_cache:
        ctx.template_cache[path] = _analyse_template(path)
    analysis = ctx.template_cache[path]
    if isinstance(analysis, TemplateSyntaxError):
        ctx.add(Mark(display_path(path), analysis.lineno or 1, 1), "template-syntax", analysis.message or "syntax error")
        return
    names, includes = analysis
    for variable, line in names:
        if variable not in allowed:
            ctx.add(Mark(display_path(path), line, 1), "template-variable",
                    f"template {name!r} uses {variable!r}, which a {context!r} document does not provide; "
                    f"available: {', '.join(sorted(allowed))}")
    for ref in includes:
        if find_file(ctx.templates_dirs, ref) is None:
            ctx.add(mark, "template-missing", f"template {name!r} includes {ref!r}, which does not exist")


def _analyse_template(path: Path) -> TemplateAnalysis:
    """Free variables (with the line of first use) and included templates of one file."""
    env = environment()
    try:
        parsed = env.parse(path.read_text("utf-8"), path.name, str(path))
    except TemplateSyntaxError as exc:
        return exc
    # One walk of the tree instead of meta.find_undeclared_variables (which runs the code
    # generator's frame analysis, the slowest part of a cold check): a name is free unless the
    # template binds it (for targets, set, macro parameters) or Jinja2 provides it.
    loads: dict[str, int] = {}
    bound = {"loop", "caller", "varargs", "kwargs", *env.globals}
    for node in parsed.find_all(nodes.Name):
        if node.ctx == "load":
            loads.setdefault(node.name, node.lineno)
        else:
            bound.add(node.name)
    for imp in parsed.find_all(nodes.Import):
        bound.add(imp.target)
    for imp in parsed.find_all(nodes.FromImport):
        bound.update(n if isinstance(n, str) else n[1] for n in imp.names)
    first = {name: line for name, line in loads.items() if name not in bound}
    includes = tuple(ref for ref in meta.find_referenced_templates(parsed) if ref)
    return tuple(sorted(first.items())), includes


def _calendar(ctx: Context, doc: Map) -> None:
    from .compile import calendar_config  # the compiler owns YAML → CalendarConfig

    effective = doc.get("effective_from")
    if not isinstance(effective, str):
        return
    try:
        day = dt.date.fromisoformat(effective)
    except ValueError:  # reported by _dates
        return
    try:
        calendar = Calendar.build(calendar_config(doc))
        calendar.is_workday(day)
    except CalendarCoverageError as exc:
        ctx.add(doc.value_marks["effective_from"], "calendar-coverage", str(exc))
    except ValueError as exc:
        ctx.add(_section(doc, "calendar").mark, "calendar", str(exc))


# --- files ---------------------------------------------------------------------------------

def find_file(folders: Iterable[Path], name: str) -> Path | None:
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _form_ids(ctx: Context) -> set[str]:
    if ctx.forms is None:
        ctx.forms = {p.stem for d in ctx.forms_dirs if d.is_dir() for p in d.glob("*.yaml")}
    return ctx.forms
