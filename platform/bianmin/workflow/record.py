"""What guards see of a record: its subject, its state, and the facts derived from materials.

This is the one place where a case's materials are compared with its item's catalogue. The
subject lists what the applicant handed in, ``materials: [{id, received: bool}, ...]`` (the
answer of the `materials` form); the item's catalogue (``items[].materials``) says what is
needed and which materials are core (核心材料). From the two:

- ``missing_materials``: ids of catalogue materials not received, in catalogue order;
- ``missing_core_materials``: those of them that are core;
- ``materials_complete``: nothing is missing;
- ``only_non_core_missing``: something is missing and none of it is core (容缺受理, taihe 三(四)1).

A record without an item compares its materials list with itself (every listed material is
needed); a record with neither needs nothing, so its materials are complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..packs.model import Item

DERIVED = ("state", "materials_complete", "missing_materials", "missing_core_materials",
           "only_non_core_missing")


def _is_map(value: Any) -> bool:
    return type(value) in (dict, MappingProxyType) or isinstance(value, Mapping)


def received_ids(subject: Mapping[str, Any]) -> set[str]:
    rows = subject.get("materials") or ()
    return {str(r.get("id")) for r in rows
            if (type(r) in _MAPS or isinstance(r, Mapping)) and r.get("received")}


_MAPS = (dict, MappingProxyType)


_CATALOGUES: dict[int, tuple[Item, tuple[tuple[str, bool], ...]]] = {}


def _catalogue(item: Item) -> tuple[tuple[str, bool], ...]:
    """(id, core) of the item's materials, once per item (an Item and its materials are frozen)."""
    found = _CATALOGUES.get(id(item))
    if found is None or found[0] is not item:
        if len(_CATALOGUES) > 4096:
            _CATALOGUES.clear()
        found = _CATALOGUES[id(item)] = (item, tuple((m.id, m.core) for m in item.materials))
    return found[1]


def missing(subject: Mapping[str, Any], item: Item | None) -> tuple[list[str], list[str]]:
    """(missing material ids, the core ones among them), in catalogue order."""
    received = received_ids(subject)
    if item is not None:
        needed = _catalogue(item) if type(item) is Item else [(m.id, m.core) for m in item.materials]
    else:
        rows = subject.get("materials") or ()
        needed = [(str(r.get("id")), bool(r.get("core", True))) for r in rows if _is_map(r)]
    gone = [(mid, core) for mid, core in needed if mid not in received]
    if not gone:  # the usual case at acceptance
        return [], []
    return [mid for mid, _ in gone], [mid for mid, core in gone if core]


def view(subject: Mapping[str, Any], state: str, item: Item | None) -> dict[str, Any]:
    """The `case` / `record` variable of a guard: the subject plus the derived facts."""
    absent, core = missing(subject, item)
    out = dict(subject)
    out.update(state=state, materials_complete=not absent, missing_materials=absent,
               missing_core_materials=core, only_non_core_missing=bool(absent) and not core)
    return out


def material_names(item: Item | None, ids: list[str] | set[str]) -> str:
    """`营业执照复印件、经营场所平面图` for messages (ids when the item does not name them)."""
    names = {m.id: m.name for m in item.materials} if item else {}
    ordered = [m.id for m in item.materials if m.id in ids] if item else sorted(ids)
    ordered += sorted(set(ids) - set(ordered))
    return "、".join(names.get(i, i) for i in ordered)
