"""Cases, clocks and complaints as JSON values: what the API returns (and the OpenAPI schemas
in openapi.py describe, field for field)."""

from __future__ import annotations

from typing import Any

from ..privacy import mask_id_number, mask_name, mask_phone
from ..timelimits import ClockState
from ..workflow import thaw
from .services import CaseView, ClockView

PERSONAL = {"id_number": mask_id_number, "agent_id_number": mask_id_number, "phone": mask_phone,
            "agent_phone": mask_phone, "complainant_phone": mask_phone, "complainant_name": mask_name}
CONFIDENTIAL = ("complainant_name", "complainant_phone", "complainant_address", "complainant_id_number")


def masked(subject: dict[str, Any]) -> dict[str, Any]:
    return {k: PERSONAL[k](v) if k in PERSONAL and isinstance(v, str) else v for k, v in subject.items()}


def clock(view: ClockView, explain: bool = True) -> dict[str, Any]:
    st: ClockState = view.state
    out: dict[str, Any] = {
        "clock": view.id, "name": view.name, "status": st.status, "level": st.level,
        "limit": str(st.limit), "deadline": st.deadline.isoformat() if st.deadline else None,
        "remaining": st.remaining, "unit": st.unit, "provisional": st.provisional,
    }
    if explain:
        out["explanation"] = [
            {"rule": line.text, "source": line.source} if line.day is None else
            {"day": line.day.isoformat(), "counted": bool(line.counted), "count": line.count, "text": line.text}
            for line in st.explanation]
    return out


def case(view: CaseView) -> dict[str, Any]:
    record = view.record
    return {
        "number": record.number, "jurisdiction": record.jurisdiction_id, "item": record.item_id,
        "state": view.instance.state, "state_name": view.state_name, "version": record.version,
        "created_at": record.created_at.isoformat(), "updated_at": record.updated_at.isoformat(),
        "subject": thaw(view.instance.subject),
        "events": [{"seq": e.seq, "at": e.at.isoformat(), "transition": e.transition, "from": e.from_state,
                    "to": e.to_state, "actor": e.actor, "acting_for": e.acting_for} for e in view.events],
        "deadlines": [clock(c, explain=False) for c in view.clocks],
    }


def complaint(view: CaseView, identity: bool) -> dict[str, Any]:
    subject = thaw(view.instance.subject)
    if not identity:
        subject = {k: v for k, v in subject.items() if k not in CONFIDENTIAL}
    return {"number": view.record.number, "jurisdiction": view.record.jurisdiction_id,
            "state": view.instance.state, "state_name": view.state_name, "version": view.record.version,
            "created_at": view.record.created_at.isoformat(), "subject": subject,
            "identity_visible": identity}
