"""Pack scenarios (情景测试): every ``policies/<pack>/tests/*.yaml`` file is a list of scenarios,
and each scenario is one pytest item named after its ``name``.

A pytest plugin (registered by ``tests/conftest.py``). A scenario replays events against the
pack's clocks and compares what it expects (format: docs/time-limits.md)::

    - name: 补正告知逾期, 时限自收到材料之日起计算
      source: jiangyin 三(三)5
      item: food_business_licence           # or `clock: <id>` with `data:` / `category:`
      events:
        - {at: 2026-09-28T10:00, do: received}
        - {at: 2026-10-12T09:00, do: correction_notice}
      now: 2026-10-12T12:00
      expect:
        promised: {deadline: 2026-10-10, status: overdue}

A scenario naming a ``workflow`` drives records through the workflow interpreter instead
(``bianmin.workflow.scenario``; format: docs/workflows.md) and may also expect the record's
``state``, the ``documents`` issued, the records ``opened``, the ``violations`` and ``timers``.

A failing scenario prints what differs and the explanation of the clocks involved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .calendar import Calendar, CalendarCoverageError
from .packs import Compiler, PackError
from .packs.loader import LoadError, Map, load_file
from .packs.model import Clock, Item, Pack
from .packs.source import display_path
from .timelimits import (ClockError, ClockState, compute, extension_targets, item_clocks, parse_events,
                         steps_deadlines, summary, with_extension_targets)
from .timelimits.events import parse_date, parse_datetime, unknown

SCENARIO_KEYS = ("name", "source", "item", "clock", "data", "category", "events", "now", "expect",
                 "provisional", "note")
REQUIRED = ("name", "source", "events", "now", "expect")
CLOCK_KEYS = ("deadline", "deadline_at", "status", "level", "remaining", "provisional", "start")
LATER_KEYS = ("state", "documents", "violations", "opened", "timers")  # workflow scenarios only


class ScenarioError(Exception):
    """A scenario file or scenario that is not well formed (not a failed expectation)."""


class ScenarioFailure(AssertionError):
    """A scenario whose expectations were not met."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent.name == "tests" and \
            (file_path.parent.parent / "pack.yaml").is_file():
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        try:
            raw = load_file(self.path, display_path(self.path))
        except LoadError as exc:
            raise ScenarioError(str(exc)) from None
        if not isinstance(raw, list):
            raise ScenarioError(f"{display_path(self.path)}:1:1: a scenario file is a list of scenarios "
                                "(- name: ...)")
        seen: dict[str, int] = {}
        for entry, mark in zip(raw, raw.item_marks):  # type: ignore[attr-defined]
            name = entry.get("name") if isinstance(entry, Map) else None
            if not isinstance(name, str) or not name.strip():
                raise ScenarioError(f"{mark}: every scenario is a mapping with a `name`")
            if name in seen:
                raise ScenarioError(f"{mark}: scenario name {name!r} is used twice (first at line {seen[name]})")
            seen[name] = mark.line
            yield ScenarioItem.from_parent(self, name=name, spec=entry, where=str(mark))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    def __init__(self, *, spec: Map, where: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec, self.where = spec, where

    def runtest(self) -> None:
        run(self.spec, load_pack(self.path.parent.parent), self.where)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (ScenarioError, ScenarioFailure)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, int(self.where.rsplit(":", 2)[-2]) - 1, f"scenario: {self.name}"


_compilers: dict[Path, Compiler] = {}
_packs: dict[Path, Pack | ScenarioError] = {}


def load_pack(folder: Path) -> Pack:
    """The compiled pack of a scenario folder, compiled once per test session."""
    folder = folder.resolve()
    if folder not in _packs:
        compiler = _compilers.setdefault(folder.parent, Compiler(folder.parent))
        try:
            _packs[folder] = compiler.compile(folder)
        except PackError as exc:
            _packs[folder] = ScenarioError(f"pack {folder.name!r} does not compile:\n{exc}")
    pack = _packs[folder]
    if isinstance(pack, ScenarioError):
        raise pack
    return pack


def run(spec: Map, pack: Pack, where: str) -> None:
    """Check one scenario against ``pack``; raise ScenarioFailure listing every difference."""
    if spec.get("workflow") is not None:
        from .workflow.scenario import run_workflow

        return run_workflow(spec, pack, where)
    _check_keys(spec, where)
    head = f"{where}: scenario {spec['name']!r} ({spec['source']})"
    item = _record(pack.item, pack.items, spec, "item", where) if spec.get("item") is not None else None
    clock = _record(pack.clock, pack.clocks, spec, "clock", where) if spec.get("clock") is not None else None
    expect = spec["expect"]
    if not isinstance(expect, Mapping) or not expect:
        raise ScenarioError(f"{_mark(spec, 'expect', where)}: expect is a mapping such as "
                            "{promised: {deadline: 2026-10-20, status: running}}")
    clocks = _clocks(pack, item, clock, expect, spec, where)
    try:
        states = _states(pack, item, clocks, spec, where)
    except (ClockError, CalendarCoverageError) as exc:
        if "error" in expect:
            if str(expect["error"]) not in str(exc):
                raise ScenarioFailure(f"{head}\nexpected an error containing {expect['error']!r}, got:\n{exc}") from None
            return
        raise ScenarioFailure(f"{head}\n{exc}") from None
    if "error" in expect:
        raise ScenarioFailure(f"{head}\nexpected an error containing {expect['error']!r}, but the events "
                              "are accepted:\n" + "\n".join(summary(s, pack) for s in states.values()))
    problems = [p for cid, st in states.items() if cid in expect for p in _compare(cid, expect[cid], st, spec, where)]
    if "steps" in expect:
        problems += _steps(pack, item, states, expect["steps"], spec, where)
    if problems:
        shown = [cid for cid in states if any(p.startswith(f"{cid}.") for p in problems)] or list(states)
        story = "\n".join(f"{summary(states[c], pack)}\n" + "\n".join(f"  {line}" for line in states[c].explanation)
                          for c in shown)
        raise ScenarioFailure(f"{head}\n" + "\n".join(problems) + f"\n\n{story}")


def _check_keys(spec: Map, where: str) -> None:
    for key in spec:
        if key not in SCENARIO_KEYS:
            raise ScenarioError(f"{_key(spec, key, where)}: " + unknown("scenario key", key, SCENARIO_KEYS))
    for key in REQUIRED:
        if spec.get(key) is None:
            raise ScenarioError(f"{where}: scenario {spec.get('name')!r} needs `{key}`")
    if spec.get("item") is None and spec.get("clock") is None:
        raise ScenarioError(f"{where}: scenario {spec['name']!r} names an `item` or a `clock`")


def _record(get: Any, records: tuple[Any, ...], spec: Map, key: str, where: str) -> Any:
    try:
        return get(spec[key])
    except KeyError:
        known = ", ".join(r.id for r in records) or "(none)"
        raise ScenarioError(f"{_mark(spec, key, where)}: the pack has no {key} {spec[key]!r}; {key}s: {known}") from None


def _clocks(pack: Pack, item: Item | None, clock: Clock | None, expect: Mapping[str, Any], spec: Map,
            where: str) -> list[Clock]:
    known = {c.id: c for c in pack.clocks}
    for key in expect:
        if key in known or key in ("steps", "error"):
            continue
        mark = _key(expect, key, _mark(spec, "expect", where))
        if key in LATER_KEYS:
            raise ScenarioError(f"{mark}: expect.{key} is a workflow expectation, not supported yet by "
                                "the time-limit scenarios; name the scenario's `workflow` to drive a record "
                                "through it (docs/workflows.md)")
        raise ScenarioError(f"{mark}: unknown expect key {key!r}; expected a clock id "
                            f"({', '.join(known)}), steps or error")
    if "error" in expect and len(expect) > 1:
        raise ScenarioError(f"{_mark(spec, 'expect', where)}: expect.error stands alone")
    chosen = [clock] if clock else list(item_clocks(pack, item)) if item else []
    return chosen + [known[k] for k in expect if k in known and known[k] not in chosen]


def _states(pack: Pack, item: Item | None, clocks: list[Clock], spec: Map, where: str) -> dict[str, ClockState]:
    try:
        events = parse_events(spec["events"], _mark(spec, "events", where))
    except ClockError as exc:
        raise ScenarioError(str(exc)) from None
    try:
        now = parse_datetime(spec["now"], "now")
    except ClockError as exc:
        raise ScenarioError(f"{_mark(spec, 'now', where)}: {exc}") from None
    events = with_extension_targets(events, extension_targets(pack, item.workflow) if item else ())
    # A scenario may set `provisional: true|false` to replay under either setting of the pack.
    allowed = spec["provisional"] if isinstance(spec.get("provisional"), bool) else pack.calendar.provisional_allowed
    calendar = Calendar.build(dataclasses.replace(pack.calendar, provisional_allowed=allowed))
    data = spec.get("data") or {}
    return {c.id: compute(c, events, calendar, pack=pack, item=item, data=data, category=spec.get("category"),
                          now=now) for c in clocks}


def _compare(cid: str, want: Any, state: ClockState, spec: Map, where: str) -> list[str]:
    mark = _key(spec["expect"], cid, where)
    if not isinstance(want, Mapping):
        raise ScenarioError(f"{mark}: expect.{cid} is a mapping such as {{deadline: 2026-10-20, status: running}}")
    problems = []
    for key, value in want.items():
        if key not in CLOCK_KEYS:
            raise ScenarioError(f"{_key(want, key, mark)}: expect.{cid}: " + unknown("key", key, CLOCK_KEYS))
        try:
            expected = _parse(key, value)
        except ClockError as exc:
            raise ScenarioError(f"{_key(want, key, mark)}: {exc}") from None
        got = getattr(state, key)
        if got != expected:
            problems.append(f"{cid}.{key}: expected {_show(expected)}, got {_show(got)}")
    return problems


def _parse(key: str, value: Any) -> Any:
    if key in ("deadline", "start"):
        return parse_date(value, key)
    if key == "deadline_at":
        return parse_datetime(value, key)
    if key == "provisional" and not isinstance(value, bool):
        raise ClockError(f"provisional is true or false, got {value!r}")
    if key == "remaining" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ClockError(f"remaining is a number, got {value!r}")
    return value


def _steps(pack: Pack, item: Item | None, states: dict[str, ClockState], want: Any, spec: Map, where: str) -> list[str]:
    mark = _key(spec["expect"], "steps", where)
    if item is None or not item.limits.steps:
        raise ScenarioError(f"{mark}: expect.steps needs an item with steps (联办)")
    if not isinstance(want, Mapping):
        raise ScenarioError(f"{mark}: expect.steps maps step ids to their last day")
    promised = next((s for c, s in states.items() if pack.clock(c).limit.from_ == "item.promised"), None)
    if promised is None or promised.start is None:
        return ["steps: the promised clock has not started"]
    calendar = Calendar.build(pack.calendar)
    got = {s.step.id: s.deadline for s in steps_deadlines(item, promised.start, calendar)}
    problems = []
    for step, value in want.items():
        if step not in got:
            raise ScenarioError(f"{_key(want, step, mark)}: item {item.id!r} has no step {step!r}; steps: {', '.join(got)}")
        expected = parse_date(value, f"steps.{step}")
        if got[step] != expected:
            problems.append(f"steps.{step}: expected {expected}, got {got[step]}")
    return problems


def _show(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else repr(value)


def _mark(spec: Any, key: str, default: str) -> str:
    marks = getattr(spec, "value_marks", None)
    return str(marks[key]) if marks and key in marks else default


def _key(spec: Any, key: str, default: str) -> str:
    marks = getattr(spec, "key_marks", None)
    return str(marks[key]) if marks and key in marks else default
