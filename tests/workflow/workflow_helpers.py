"""Helpers of the workflow tests: actors, a case factory, pack variants (imported by the tests;
`conftest.py` puts this folder on the path)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from bianmin.packs.model import Pack
from bianmin.workflow import Actor, Instance, Outcome, fire, start

PACKS = ("_base", "jiangyin", "xupu", "taihe", "dahepin", "taishan")


def at(text: str) -> dt.datetime:
    """``at("2026-03-02 09:00")``."""
    return dt.datetime.fromisoformat(text)


def person(id: str, *roles: str, name: str | None = None) -> Actor:
    return Actor(id, name or id, frozenset(roles))


CLERK = person("clerk-1", "clerk", name="王窗口")
HEAD = person("head-1", "unit_head", name="李主任")


def materials(pack: Pack, item_id: str, missing: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The subject's materials list: every catalogue material received but ``missing``."""
    return [{"id": m.id, "received": m.id not in missing} for m in pack.item(item_id).materials]


def open_case(pack: Pack, item_id: str, *, missing: tuple[str, ...] = (), when: str = "2026-03-02 09:00",
              actor: Actor = CLERK, **subject: Any) -> Instance:
    """A case received at ``when`` with every material but ``missing``."""
    subject = {"number": "TEST-0001", "applicant": "张三", **subject,
               "materials": materials(pack, item_id, missing)}
    return start(pack, "case", subject=subject, actor=actor, data={}, now=at(when), item_id=item_id).instance


def run(instance: Instance, *steps: tuple[Any, ...]) -> Outcome:
    """Fire ``(transition, when, actor[, data])`` steps in turn; the last outcome."""
    outcome = None
    for step in steps:
        transition, when, actor, *rest = step
        outcome = fire(instance, transition, actor=actor, data=rest[0] if rest else {}, now=at(when))
        instance = outcome.instance
    assert outcome is not None
    return outcome


def with_workflow(pack: Pack, workflow_id: str, **changes: Any) -> Pack:
    """The pack with one workflow changed (its content hash kept: tests only)."""
    workflows = tuple(dataclasses.replace(w, **changes) if w.id == workflow_id else w for w in pack.workflows)
    return dataclasses.replace(pack, workflows=workflows)


def with_transition(pack: Pack, workflow_id: str, transition_id: str, **changes: Any) -> Pack:
    wf = pack.workflow(workflow_id)
    transitions = tuple(dataclasses.replace(t, **changes) if t.id == transition_id else t for t in wf.transitions)
    return with_workflow(pack, workflow_id, transitions=transitions)


PAUSE = {"reason": "on_site_audit", "expected_duration": 5, "duration_unit": "working_day"}
DECISION = {"outcome": "approved", "result_document": "食品经营许可证 JY3202810001"}


def effects(outcome: Outcome, action: str) -> list[dict[str, Any]]:
    """The arguments of the outcome's effects named ``action``, as plain dicts."""
    return [dict(e.args) for e in outcome.effects if e.action == action]


