"""The interpreter's fast paths give the answers of the slow ones (docs/workflows.md, Performance).

- Forms: ``validate`` with ``FAST_PATH`` on and off gives the same errors and ``clean`` the same
  data, for every shipped form, on generated valid answers and on broken variants of them.
- Conditions and guards: the plain-Python form of an expression gives the value (or the error)
  of the Jinja2 template, for every condition and guard the packs and forms ship.
- Clocks: ``plain_state`` gives ``state_of``'s status, deadline and evidence, and
  ``plain_accepts`` holds only when the engine raises nothing, on generated event logs (plain
  ones, and ones with correction notices, extensions, refusals, pauses out of turn ...).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from bianmin import paths
from bianmin.calendar import Calendar, CalendarCoverageError, CalendarDay
from bianmin.forms import Form, clean, load_forms, validate
from bianmin.forms import validators as V
from bianmin.forms.choices import item_materials, options_for
from bianmin.packs.model import Pack
from bianmin.sandbox import environment
from bianmin.timelimits import ClockError
from bianmin.workflow import Event, Instance, machine, record, submission
from bianmin.workflow.clocks import events_for, plain_accepts, plain_state, state_of
from bianmin.workflow.guards import compile_guard

FOOD = "food_business_licence"


# -- forms --------------------------------------------------------------------------------------

def shipped_forms(pack: Pack) -> dict[str, Form]:
    return load_forms(submission.default_dirs(pack))


def _id_number() -> str:
    first = "11010519491231002"
    return first + V.id_number_check_char(first)


def _credit_code() -> str:
    first = "91320281MA1XY4123"
    return first + V.credit_code_check_char(first)


def answer(form: Form, f: Any, item: Any, choices: Any, today: dt.date) -> Any:
    """A valid answer to field ``f`` (None: leave it out)."""
    if f.type in ("text", "long_text", "address"):
        if f.pattern:
            return None
        low, high = f.min_length or 1, f.max_length or 40
        return ("示例内容" * 20)[:max(low, min(high, 8))]
    if f.type in ("integer", "decimal"):
        low = f.min if isinstance(f.min, (int, float)) else 1
        high = f.max if isinstance(f.max, (int, float)) else low + 10
        return int(low) if f.type == "integer" else float(low) + (0.5 if high > low else 0)
    if f.type in ("date", "datetime"):
        day = today
        for bound, step in ((f.min, 1), (f.max, -1)):
            if isinstance(bound, str) and bound != "today":
                limit = dt.date.fromisoformat(bound[:10])
                day = max(day, limit) if step == 1 else min(day, limit)
        return day.isoformat() if f.type == "date" else f"{day.isoformat()}T09:30"
    if f.type in ("enum", "multi_select"):
        options = options_for(form, f, item, choices)
        if not options:
            return None
        return options[0].value if f.type == "enum" else [options[0].value]
    if f.type == "boolean":
        return True
    if f.type == "phone":
        return "13800138000"
    if f.type == "id_number":
        return _id_number()
    if f.type == "credit_code":
        return _credit_code()
    if f.type == "group":
        row = {s.id: a for s in f.fields if (a := answer(form, s, item, choices, today)) is not None}
        return [row]
    if f.type == "materials":
        return [{"id": str(m.id), "received": True, "pages": 2} for m in item_materials(item)]
    raise AssertionError(f.type)


def valid_answers(form: Form, item: Any, choices: Any, today: dt.date) -> dict[str, Any]:
    return {f.id: a for f in form.fields if (a := answer(form, f, item, choices, today)) is not None}


def variants(form: Form, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Broken and edge-case versions of valid answers: each field left out, blanked, of the wrong
    type, out of range, with a bad checksum or date; conditions flipped; unknown keys."""
    out = [{}, {**data, "not_a_field": 1}]
    for f in form.fields:
        rest = {k: v for k, v in data.items() if k != f.id}
        out += [rest, {**rest, f.id: ""}, {**rest, f.id: None}, {**rest, f.id: 12345}, {**rest, f.id: "文字"},
                {**rest, f.id: [1, 2]}, {**rest, f.id: {"x": 1}}, {**rest, f.id: True}, {**rest, f.id: -5}]
        if f.type in ("date", "datetime"):
            out += [{**rest, f.id: "2026-02-30"}, {**rest, f.id: "1999-01-01"}, {**rest, f.id: "2099-12-31"}]
        if f.type == "id_number":
            out.append({**rest, f.id: _id_number()[:-1] + ("0" if _id_number()[-1] != "0" else "1")})
        if f.type == "credit_code":
            out.append({**rest, f.id: _credit_code()[:-1] + "0"})
        if f.type == "group" and isinstance(data.get(f.id), list):
            row = data[f.id][0]
            out += [{**rest, f.id: [{}]}, {**rest, f.id: [{**row, "bogus": 1}]},
                    {**rest, f.id: [{k: v for k, v in row.items() if k != s.id} for s in f.fields][:1]}]
        if f.type == "materials" and isinstance(data.get(f.id), list):
            rows = data[f.id]
            out += [{**rest, f.id: rows[:-1]}, {**rest, f.id: [{**r, "received": False} for r in rows]},
                    {**rest, f.id: [{k: v for k, v in r.items() if k != "pages"} for r in rows]}]
        for option in (f.options or ())[1:3]:  # other choices switch conditions on and off
            out.append({**data, f.id: option.value})
    return out


def both_ways(form: Form, data: Any, item: Any, choices: Any, today: dt.date) -> tuple[Any, Any]:
    results = []
    for fast in (True, False):
        V.FAST_PATH = fast
        try:
            results.append((validate(form, data, item, choices=choices, today=today),
                            clean(form, data, item) if isinstance(data, dict) else None))
        finally:
            V.FAST_PATH = True
    return results[0], results[1]


@pytest.mark.parametrize("pack_id", ["jiangyin", "dahepin", "taishan"])
def test_fast_and_slow_validation_agree_on_every_shipped_form(packs, pack_id):
    pack = packs[pack_id]
    forms, options = submission.forms_of(pack)
    item = next(i for i in pack.items if i.materials) if pack_id != "jiangyin" else pack.item(FOOD)
    today = dt.date(2026, 3, 2)
    valid = 0
    for form in shipped_forms(pack).values():
        form = forms[form.id]  # the pack's own objects: validators found by identity
        data = valid_answers(form, item, options, today)
        fast, slow = both_ways(form, data, item, options, today)
        assert fast == slow, form.id
        valid += fast[0] == []
        for broken in variants(form, data):
            fast, slow = both_ways(form, broken, item, options, today)
            assert fast == slow, (form.id, broken)
    assert valid >= len(forms) - 3  # the generator fills in nearly every form correctly


def test_a_valid_submission_is_cleaned_the_same_way(packs):
    """The stored data (what `clean` keeps) does not depend on the path that checked it."""
    pack = packs["jiangyin"]
    forms, options = submission.forms_of(pack)
    item = pack.item(FOOD)
    for form in forms.values():
        data = valid_answers(form, item, options, dt.date(2026, 3, 2))
        data["blank"] = "  "
        (_, fast), (_, slow) = both_ways(form, data, item, options, dt.date(2026, 3, 2))
        assert fast == slow and "blank" not in fast, form.id


def test_validators_are_found_by_identity_only_for_frozen_inputs(packs):
    pack = packs["jiangyin"]
    forms, options = submission.forms_of(pack)
    pause = forms["pause"]
    first = V._validators(pause, None, options)
    assert V._validators(pause, None, options) is first
    changed = {**options, "pause_reasons": options["pause_reasons"][:1]}  # another list: other validators
    assert V._validators(pause, None, changed) is not first
    assert validate(pause, {"reason": options["pause_reasons"][1].value, "expected_duration": 1,
                            "duration_unit": "working_day"}, choices=changed)[0].kind == "enum"


# -- conditions and guards ----------------------------------------------------------------------

SAMPLES: list[Any] = [
    {}, {"outcome": "denied"}, {"outcome": "approved"}, {"delivery": "post"}, {"delivery": "window"},
    {"level": "dissatisfied"}, {"level": "satisfied"}, {"respondent": "unit"}, {"target_kind": "department"},
    {"reached": False}, {"reached": True}, {"anonymous": True}, {"outcome": None}, {"items": 3},
    {"outcome": ["denied"]}, {"level": 5}, None,
]


def shipped_conditions() -> set[str]:
    found: set[str] = set()
    for folder in [paths.forms_dir(), *Path(paths.policies_dir()).glob("*/forms")]:
        for form in load_forms([folder]).values():
            for _, f in form.walk():
                found.update(e for e in (f.when, f.required_when) if e)
    return found


def outcome(run: Any) -> Any:
    try:
        return "value", run()
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer
        return "error", type(exc), str(exc)


def test_conditions_run_as_python_give_the_templates_values():
    conditions = shipped_conditions() | {
        'data.outcome == "denied" and not row.x or data["k"] in [1, 2]', "data.items", "data.a < data.b",
        "data.level in ('a', 'b',)", "not data.x.y", 'data["missing"] != 1', "item.id == 'x'"}
    assert len(conditions) > 5
    for text in conditions:
        fast = V.python_expression(V.condition_env(), text)
        assert fast is not None, text
        template = V.compile_condition(text)
        for data in SAMPLES:
            for row in (None, {"x": 1}, {}):
                got = outcome(lambda: fast({"data": data, "item": None, "row": row}))
                want = outcome(lambda: template(data=data, item=None, row=row))
                if got[0] == want[0] == "value":
                    # compile_expression turns an undefined result into None; holds() reads bool()
                    assert bool(got[1]) == bool(want[1]), (text, data, row)
                else:
                    assert got == want, (text, data, row)


def test_only_plain_expressions_become_python():
    env = environment()
    for text in ('data.x | length', 'data.get("x")', "data.x is defined", "data.x + 1", "case.__class__()",
                 "[x for x in y]" if False else "range(3)"):
        assert V.python_expression(env, text) is None, text
    assert V.python_expression(env, "case.materials_complete and not data.urgent") is not None


def guard_variables(pack: Pack, state: str, missing: tuple[str, ...], data: dict[str, Any]) -> list[dict[str, Any]]:
    item = pack.item(FOOD)
    subject = {"number": "T-1", "materials": [{"id": m.id, "received": m.id not in missing} for m in item.materials]}
    rec = record.view(subject, state, item)
    actor = machine.Actor("a", "甲", frozenset({"clerk"}))
    base = {"case": rec, "record": rec, "item": item, "data": data, "actor": actor, "pack": pack,
            "now": dt.datetime(2026, 3, 2, 9)}
    return [base, {**base, "item": None}, {k: v for k, v in base.items() if k != "data"}]


def test_guards_run_as_python_give_the_templates_answers(packs):
    seen = 0
    for pack in packs.values():
        item = pack.item(FOOD) if any(i.id == FOOD for i in pack.items) else None
        if item is None:
            continue
        for wf in pack.workflows:
            for t in wf.transitions:
                if not t.guard:
                    continue
                guard = compile_guard(t.guard)
                slow = dataclasses.replace(guard, plain=None)
                seen += guard.plain is not None
                for missing in ((), (item.materials[0].id,), tuple(m.id for m in item.materials)):
                    for data in ({}, {"reporter_agreed": True, "serious": False}, {"urgent": 1}):
                        for variables in guard_variables(pack, wf.initial, missing, data):
                            assert outcome(lambda: guard.holds(dict(variables))) == \
                                outcome(lambda: slow.holds(dict(variables))), (t.guard, variables.keys())
    assert seen >= 3


# -- clocks -------------------------------------------------------------------------------------

def log(pack: Pack, workflow_id: str, steps: list[Any], item_id: str | None = FOOD) -> Instance:
    """An instance with these events, as the store would load it (nothing checked)."""
    events = [Event(1, steps[0][1], "clerk-1", "start", "", "received", {}, pack.content_hash)]
    for seq, (transition, at, data, role) in enumerate(steps[1:], start=2):
        events.append(Event(seq, at, "clerk-1", transition, "x", "y", data, pack.content_hash, None, role))
    return Instance(pack, workflow_id, "y", {"number": "T-1"}, tuple(events), item_id)


Step = tuple[str, dt.datetime, dict[str, Any], str]


def random_steps(rng: random.Random, pack: Pack, transitions: list[str]) -> list[Step]:
    at = dt.datetime(2026, rng.choice((1, 3, 4, 9, 12)), rng.randint(1, 28), rng.choice((8, 9, 17)))
    steps = [("start", at, {}, "")]
    allowed = list(pack.item(FOOD).pausable_for) or [r.id for r in pack.time_limits.pause_reasons]
    reasons = [r.id for r in pack.time_limits.pause_reasons] + ["no_such_reason"]
    plain = [t for t in transitions if t in ("accept", "pause", "resume", "complete")]
    usual = {"start": "accept", "accept": "pause", "pause": "resume", "resume": "complete", "complete": "deliver"}
    for _ in range(rng.randint(0, 7)):
        at += dt.timedelta(days=rng.choice((0, 1, 2, 3, 5, 9, 16, 30)), hours=rng.choice((0, 1, 5)))
        if rng.random() < 0.05:
            at -= dt.timedelta(days=2)  # out of order
        roll = rng.random()
        name = usual.get(steps[-1][0], "complete") if roll < 0.5 else rng.choice(plain if roll < 0.9 else transitions)
        if name not in transitions:
            name = rng.choice(plain)
        data: dict[str, Any] = {}
        if name == "pause":
            data = {"reason": rng.choice(allowed if rng.random() < 0.7 else reasons), "duration_unit": "working_day"}
            days = rng.choice((None, 0, 1, 3, 10, -1, True, "5") if rng.random() < 0.3 else (1, 3, 5, 10))
            if days is not None:
                data["expected_duration"] = days
        elif name == "extend":
            data = rng.choice(({"new_deadline": (at + dt.timedelta(days=10)).date().isoformat(), "reason": "需核查"},
                               {"days": rng.randint(1, 12), "reason": "需核查"}, {"days": 3}))
        elif name == "request_correction":
            data = {"missing_materials": [{"material": "layout", "problem": "missing"}]}
        steps.append((name, at, data, rng.choice(("clerk", "unit_head", ""))))
    return steps


def engine(instance: Instance, clock: Any, now: dt.datetime) -> Any:
    c = machine.compiled(instance.pack, instance.workflow_id)
    try:
        state = state_of(instance, c.clocks, clock, now, c.calendar, explain=False, roles=c.extension_roles)
    except ClockError as exc:
        return "error", str(exc)
    except CalendarCoverageError as exc:  # past the calendar's data (2027 and later here)
        return "error", "coverage", str(exc)
    seqs = events_for(instance, c.clocks, clock.id, c.extension_roles)[1]
    return state.status, state.deadline, seqs


def with_clock_start(pack: Pack, event: str) -> Pack:
    tl = pack.time_limits
    assert tl.clock_start is not None
    return dataclasses.replace(pack, time_limits=dataclasses.replace(
        tl, clock_start=dataclasses.replace(tl.clock_start, event=event)))


@pytest.mark.parametrize("pack_id", ["jiangyin", "xupu", "taihe", "accepted_start"])
def test_plain_clocks_agree_with_the_engine(packs, pack_id):
    pack = with_clock_start(packs["jiangyin"], "accepted") if pack_id == "accepted_start" else packs[pack_id]
    c = machine.compiled(pack, "case")
    transitions = [t.id for t in c.workflow.transitions]
    rng = random.Random(pack_id)
    answered = refused_pauses = 0
    for _ in range(700):
        instance = log(pack, "case", random_steps(rng, pack, transitions))
        last = instance.events[-1].at
        for now in (last, last + dt.timedelta(days=rng.choice((1, 7, 40)))):
            shared: dict[int, Any] = {}  # one pass over the log for the clocks that hear the same events
            for clock in c.clocks.clocks:
                want = engine(instance, clock, now)
                got = plain_state(instance, c.clocks, clock, now, c.calendar)
                assert plain_state(instance, c.clocks, clock, now, c.calendar, shared) == got, (clock.id, instance.events)
                if got is not None:
                    answered += 1
                    assert want[0] != "error", (clock.id, instance.events, want)
                    assert (got.status, got.deadline) == want[:2], (clock.id, instance.events, now)
                    if got.status != "not_started":
                        assert got.seqs == want[2]
                if plain_accepts(instance, c.clocks, clock, now):
                    # The one difference: plain_accepts does no deadline arithmetic, so it does not
                    # ask whether the calendar covers the deadlines (a pause does not depend on it).
                    assert want[0] != "error" or want[1] == "coverage", (clock.id, instance.events, want)
                elif want[0] == "error":
                    refused_pauses += 1
    assert answered > 500 and refused_pauses > 50


def test_plain_clocks_leave_other_records_to_the_engine(packs):
    pack = packs["jiangyin"]
    c = machine.compiled(pack, "case")
    at = dt.datetime(2026, 3, 2, 9)
    promised = c.clocks.by_id["promised"]
    notice = log(pack, "case", [("start", at, {}, ""), ("request_correction", at + dt.timedelta(days=1), {}, "")])
    assert plain_state(notice, c.clocks, promised, at + dt.timedelta(days=2), c.calendar) is None
    unknown_item = log(pack, "case", [("start", at, {}, ""), ("accept", at, {}, "")], item_id="nope")
    assert plain_state(unknown_item, c.clocks, promised, at, c.calendar) is None
    no_item = log(pack, "case", [("start", at, {}, ""), ("accept", at, {}, "")], item_id=None)
    assert plain_state(no_item, c.clocks, promised, at, c.calendar) is None  # the engine: "name the item"


def test_plain_clocks_follow_a_changed_calendar(packs):
    """plain_state keeps the limit and the meter per clock, item and calendar: a calendar with a
    new rest day (a local closure inside the period) gives the new deadline, the engine's, and
    the old calendar still gives the old one."""
    pack = packs["jiangyin"]
    c = machine.compiled(pack, "case")
    at = dt.datetime(2026, 3, 2, 9)
    steps = [("start", at, {}, ""), ("accept", at + dt.timedelta(hours=1), {}, ""),
             ("complete", at + dt.timedelta(days=8), {}, "")]
    instance = log(pack, "case", steps)
    promised = c.clocks.by_id["promised"]
    before = plain_state(instance, c.clocks, promised, steps[-1][1], c.calendar)
    assert before is not None and before.deadline is not None
    closed = Calendar.build(dataclasses.replace(pack.calendar, overrides=(
        *pack.calendar.overrides, CalendarDay(dt.date(2026, 3, 4), "closure", "停电闭厅", "test"))))
    after = plain_state(instance, c.clocks, promised, steps[-1][1], closed)
    assert after is not None and after.deadline == c.calendar.add(before.deadline, 1)
    state = state_of(instance, c.clocks, promised, steps[-1][1], closed, explain=False, roles=c.extension_roles)
    assert after.deadline == state.deadline
    assert plain_state(instance, c.clocks, promised, steps[-1][1], c.calendar) == before
