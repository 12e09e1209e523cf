"""Shared by tests/scoring and tests/reports: staff with roles, cases completed on time or late,
deductions heard and decided."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from bianmin.packs import Registry
from bianmin.scoring import recording
from bianmin.store import db, records, service
from bianmin.store.models import RoleAssignment, Staff
from bianmin.workflow import Actor

ITEM = "food_business_licence"  # xupu: promised 5, statutory 10 working days, market_window
SUPERVISOR_ROLES = frozenset({"supervisor", "clerk", "window_head", "complaint_officer", "leader", "unit_head"})


def store_fixtures() -> ModuleType:
    """tests/store/conftest.py, loaded once by path (conftest modules are not importable under
    --import-mode=importlib), for the scoring and report conftests to re-export its fixtures."""
    name = "_bianmin_store_fixtures"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "store" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


async def people(registry: Registry, jurisdiction: str, rows: list[tuple[str, str, str, str]],
                 at: dt.datetime) -> dict[str, Actor]:
    """Staff with role assignments: rows of (username, name, role, window); Actors by username."""
    pack = registry.active(jurisdiction, at.date())
    async with db.transaction() as tx:
        await records.ensure_jurisdiction(tx, pack, at)
    out: dict[str, Actor] = {}
    for username, name, role, window in rows:
        person = await Staff.get_or_none(username=username)
        if person is None:
            person = await Staff.create(username=username, display_name=name, created_at=at)
        await RoleAssignment.create(staff_id=person.id, jurisdiction_id=jurisdiction, role=role, window=window)
        roles = set(out[username].roles) if username in out else set()
        out[username] = Actor(str(person.id), name, frozenset(roles | {role}))
    return out


def checklist(pack: Any, item_id: str = ITEM) -> list[dict[str, Any]]:
    return [{"id": m.id, "received": True, "pages": 1} for m in pack.item(item_id).materials]


async def case(registry: Registry, jurisdiction: str, clerk: Actor, received: dt.datetime,
               completed: dt.datetime | None, item_id: str = ITEM, completer: Actor | None = None) -> str:
    """A case received, accepted and (if ``completed``) completed then; its number."""
    pack = registry.active(jurisdiction, received.date())
    opened = await service.intake(jurisdiction, item_id, {"applicant": "王五", "materials": checklist(pack, item_id)},
                                  clerk, {}, received, registry=registry)
    number = opened.record.number
    at = received
    if jurisdiction == "xupu":
        at += dt.timedelta(minutes=5)
        await service.transition(jurisdiction, number, "issue_receipt", clerk, {}, at, registry=registry)
    await service.transition(jurisdiction, number, "accept", clerk, {}, at + dt.timedelta(minutes=5), registry=registry)
    if completed is not None:
        await service.transition(jurisdiction, number, "complete", completer or clerk, {"outcome": "approved"},
                                 completed, registry=registry)
    return number


async def decided(registry: Registry, jurisdiction: str, number: str, supervisor: Actor, charged: Actor,
                  points: float, at: dt.datetime, circumstances: tuple[str, ...] = ()) -> Any:
    """Hear then decide a proposed deduction; the assessment."""
    await recording.hear(jurisdiction, number, actor=charged, now=at, statement="情况属实, 已整改", registry=registry)
    _, worked = await recording.decide(jurisdiction, number, actor=supervisor, points=points, reasons="事实清楚",
                                       now=at + dt.timedelta(minutes=10), circumstances=circumstances,
                                       registry=registry)
    return worked
