"""What document templates see of the compiled pack: the shapes docs/documents.md promises.

The compiled pack keeps references as ids (an item's `department: market_regulation`) and
spells `from` as `from_`; a template reads `item.department.name` and `p["from"]`. These views
resolve the references and rename the keys, once per document, so that templates stay plain.
"""

from __future__ import annotations

from typing import Any

from ..packs.model import Department, Item, Pack, Window


class PackView:
    """The `pack` variable: the compiled pack, with `office_hours` as `{periods: [{from, to}]}`."""

    __slots__ = ("_pack", "office_hours")

    def __init__(self, pack: Pack) -> None:
        self._pack = pack
        hours = pack.office_hours
        self.office_hours = None if hours is None else {
            "periods": [{"from": p.from_, "to": p.to} for p in hours.periods], "source": hours.source,
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pack, name)


def _or_none(value: Any) -> Any:
    return value if value not in ("", (), None) else None


def department_view(pack: Pack, department: str | Department | None) -> dict[str, Any] | None:
    """`{id, name, phone, address}` of a department id (None when there is none)."""
    if not department:
        return None
    found = department if isinstance(department, Department) else next(
        (d for d in pack.departments if d.id == department), None)
    if found is None:
        return {"id": department, "name": department, "phone": None, "address": None}
    return {"id": found.id, "name": found.name, "phone": _or_none(found.phone), "address": _or_none(found.address)}


def window_view(pack: Pack | None, window: Any) -> dict[str, Any] | None:
    """`{id, name, phone}` of a window given by id, as a pack `Window`, or as a mapping."""
    if not window:
        return None
    if isinstance(window, str):
        found = next((w for w in pack.windows if w.id == window), None) if pack is not None else None
        if found is None:
            raise KeyError(f"no window {window!r} in pack {getattr(pack, 'id', None)!r}")
        window = found
    if isinstance(window, Window):
        return {"id": window.id, "name": window.name, "phone": _or_none(window.phone)}
    return {"id": window.get("id"), "name": window["name"], "phone": _or_none(window.get("phone"))}


def item_view(pack: Pack, item: Item | str) -> dict[str, Any]:
    """The `item` variable of case, item, negative_report and agency documents."""
    if isinstance(item, str):
        item = pack.item(item)
    departments = {d.id: d.name for d in pack.departments}
    limits = item.limits
    return {
        "id": item.id, "code": item.code, "name": item.name, "type": item.type, "kind": item.kind,
        "subject": _or_none(item.subject),
        "department": department_view(pack, item.department),
        "window": window_view(pack, item.window) if item.window else None,
        "limits": {
            "statutory": limits.statutory, "promised": limits.promised,
            "steps": [{"id": s.id, "name": s.name, "department": departments.get(s.department, s.department),
                       "limit": s.limit} for s in limits.steps] or None,
        },
        "materials": [{"id": m.id, "name": m.name, "form": m.form, "copies": m.copies, "core": m.core,
                       "pages": m.pages, "note": _or_none(m.note)} for m in item.materials],
        "conditions": list(item.conditions) or None,
        "legal_basis": list(item.legal_basis),
        "fee": {"free": item.fee.free, "standard": _or_none(item.fee.standard), "basis": _or_none(item.fee.basis)},
        "result": _or_none(item.result),
        "phones": {"consult": _or_none(item.phones.consult), "supervise": _or_none(item.phones.supervise)},
        "online": item.online, "visits": item.visits, "delivery": list(item.delivery),
        "quantity_limit": _or_none(item.quantity_limit),
        "faq": [{"q": f.q, "a": f.a} for f in item.faq],
        "accept_on_commitment": item.accept_on_commitment,
    }
