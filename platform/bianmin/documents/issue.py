"""The store's document renderer: a record snapshot in, the rendered HTML out.

    renderer = make_renderer("https://bianmin.example.cn")
    await store.intake(..., renderer=renderer)      # or transition / open_record

When an ``issue_document`` effect fires, ``store.records.issue_document`` calls
``renderer(pack, document_id, snapshot)`` inside the transaction and stores the returned text as
the document's ``content`` and its sha256 as ``content_hash``. This module builds the
document's context (docs/documents.md) from the snapshot and the pack, and calls
:func:`bianmin.documents.render.render_document`. A reprint serves the stored HTML unchanged: it
is never rendered again.

The snapshot holds the record's subject (its intake answers), the issuing event and its form
answers. What it lacks is given to :func:`make_renderer`: ``events`` (the record's log before
the issuing event, for ``case.received_at``, ``steps`` and the deadlines) and ``clerk`` (the
staff member's name and phone). Deadlines come from ``bianmin.workflow.clock_states`` over
that log, unless the snapshot carries them.

Contexts built here: ``case``, ``item`` and ``pack``. A document of another context (inquiry,
complaint ...) is not rendered yet: the renderer returns ``""`` and the store keeps the
snapshot and its hash, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..calendar import Calendar
from ..forms import Choice, labelled
from ..packs.model import Pack
from ..privacy import mask_id_number
from ..workflow import Event, Instance, clock_states
from ..workflow.submission import forms_of
from .materials import checklist
from .render import DocumentError, render_document
from .views import item_view, window_view

log = logging.getLogger(__name__)

Renderer = Callable[[Pack, str, Mapping[str, Any]], str]
ACCEPTED = ("accept", "accept_on_commitment")
COMPLETED = ("complete", "complete_on_spot")


def make_renderer(base_url: str, *, clerk: Mapping[str, Any] | None = None,
                  events: Sequence[Event] = ()) -> Renderer:
    """The ``renderer`` the store's intake, transition and open_record take.

    ``base_url`` is where the public site is (the status page is printed with its QR code);
    ``clerk`` is ``{name, phone}`` of the staff member issuing; ``events`` the record's log
    before the issuing event (empty at intake).
    """
    base = base_url.rstrip("/")
    history = tuple(events)

    def render(pack: Pack, document_id: str, snapshot: Mapping[str, Any]) -> str:
        return render_snapshot(pack, document_id, snapshot, base_url=base, clerk=clerk, events=history)

    return render


def render_snapshot(pack: Pack, document_id: str, snapshot: Mapping[str, Any], *, base_url: str,
                    clerk: Mapping[str, Any] | None = None, events: Sequence[Event] = ()) -> str:
    """The HTML of document ``document_id`` for a store snapshot ("" when its context is not built here)."""
    try:
        doc = pack.document(document_id)
    except KeyError:
        raise DocumentError(f"pack {pack.id!r} has no document {document_id!r}") from None
    issued_at = _datetime(snapshot.get("issued_at")) or dt.datetime.now()
    record = snapshot.get("record") or {}
    number = record.get("number")
    item = _item(pack, record.get("item_id"))
    window = _window(pack, snapshot, item)
    if doc.context == "case":
        context = case_context(pack, snapshot, item, window=window, clerk=clerk, events=events)
    elif doc.context == "item":
        if item is None:
            return ""
        view = item_view(pack, item)
        context = {"item": view, "department": view["department"], "window": view["window"]}
    elif doc.context == "pack":
        context = {}
    else:
        log.warning("document %s of %s: context %r is not built by documents.issue; stored unrendered",
                    document_id, number, doc.context)
        return ""
    status_url = f"{base_url}/{pack.id}/status?number={number}" if number else f"{base_url}/{pack.id}/status"
    rendered = render_document(pack, document_id, context, number=snapshot.get("number"),
                               issued_on=issued_at.date(), window=window, status_url=status_url)
    return rendered.html


def case_context(pack: Pack, snapshot: Mapping[str, Any], item: Any, *, window: Any = None,
                 clerk: Mapping[str, Any] | None = None, events: Sequence[Event] = ()) -> dict[str, Any]:
    """The variables of a ``case`` document (docs/documents.md, context ``case``)."""
    record = snapshot.get("record") or {}
    subject = dict(snapshot.get("subject") or {})
    event = snapshot.get("event") or {}
    log_ = _log(events, event)
    forms, choices = forms_of(pack)
    workflow = pack.workflow(record.get("workflow") or "case")
    state = record.get("state") or (log_[-1].to_state if log_ else workflow.initial)
    state_names = {s.id: s.name for s in workflow.states}
    transitions = {t.id: t for t in workflow.transitions}

    intake_form = forms.get(item.form) if item is not None and getattr(item, "form", None) else None
    answers = _labelled(intake_form, subject, item, choices)
    received = list(subject.get("materials") or [])
    steps: dict[str, Any] = {}
    for e in log_:
        if e.transition == "start":
            continue
        t = transitions.get(e.transition)
        form = forms.get(t.form) if t is not None and t.form else None
        steps[e.transition] = {"at": e.at, "by": e.actor, "data": _labelled(form, dict(e.data), item, choices)}
    last = log_[-1] if log_ else None
    issuing = transitions.get(last.transition) if last is not None else None
    issuing_form = forms.get(issuing.form) if issuing is not None and issuing.form else None
    data = _labelled(issuing_form, dict(last.data), item, choices) if last is not None and last.transition != "start" else {}

    case = {
        "number": record.get("number"),
        "state": Choice(state, state_names.get(state, state)),
        "received_at": log_[0].at if log_ else _datetime(snapshot.get("issued_at")),
        "accepted_at": _last_at(log_, ACCEPTED),
        "completed_at": _last_at(log_, COMPLETED),
        "steps": steps,
        **{k: v for k, v in answers.items() if k not in ("materials", "number", "state", "steps")},
    }
    return {
        "case": case,
        "item": _item_view(pack, item),
        "applicant": _applicant(subject, answers),
        "materials": checklist(item, received) if item is not None else [],
        "deadlines": snapshot.get("deadlines") or _deadlines(pack, record, subject, log_, state),
        "clerk": {"name": (clerk or {}).get("name") or (last.actor if last else ""),
                  "phone": (clerk or {}).get("phone")},
        "window": window_view(pack, window) if window else None,
        "data": data,
    }


# -- pieces ----------------------------------------------------------------------------------

def _item(pack: Pack, item_id: str | None) -> Any:
    if not item_id:
        return None
    try:
        return pack.item(item_id)
    except KeyError:
        return None


def _item_view(pack: Pack, item: Any) -> dict[str, Any] | None:
    return item_view(pack, item) if item is not None else None


def _window(pack: Pack, snapshot: Mapping[str, Any], item: Any) -> Any:
    """The issuing window: the effect's ``window`` argument, else the item's (if the pack has it)."""
    wanted = (snapshot.get("args") or {}).get("window") or (getattr(item, "window", None) if item is not None else None)
    if wanted and isinstance(wanted, str) and not any(w.id == wanted for w in pack.windows):
        return None
    return wanted or None


def _labelled(form: Any, data: Mapping[str, Any], item: Any, choices: Any) -> dict[str, Any]:
    if form is None:
        return dict(data)
    try:
        return labelled(form, data, item, choices)
    except Exception:  # an answer the form no longer knows: print it as stored
        log.warning("form %s: answers not labelled", getattr(form, "id", form), exc_info=True)
        return dict(data)


def _applicant(subject: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    def get(key: str) -> Any:
        value = subject.get(key)
        return value if value not in ("", None) else None

    agent = None
    if subject.get("through_agent") and get("agent_name"):
        agent = {"name": get("agent_name"), "phone": get("agent_phone"),
                 "id_number": mask_id_number(get("agent_id_number")) if get("agent_id_number") else None}
    kind = answers.get("applicant_type")
    return {
        "kind": kind if kind is not None else Choice("person", "自然人"),
        "name": get("applicant_name") or "", "phone": get("phone"), "address": get("address"),
        "id_number": mask_id_number(get("id_number")) if get("id_number") else None,
        "credit_code": get("credit_code"), "legal_representative": get("legal_representative"),
        "agent": agent,
    }


def _deadlines(pack: Pack, record: Mapping[str, Any], subject: Mapping[str, Any], log_: Sequence[Event],
               state: str) -> dict[str, Any]:
    """``{clock id: {date, provisional, name, limit} | None}`` for every clock the workflow runs
    (and the three the case templates name), from the engine's clocks at the issuing event. A
    clock the engine cannot compute (a year the holiday calendar does not cover yet) is None:
    the document is issued without that date rather than refused."""
    from ..workflow.clocks import needs_data, record_data, state_of
    from ..workflow.machine import compiled

    out: dict[str, Any] = dict.fromkeys(("promised", "statutory", "correction_notice"))
    if not log_:
        return out
    workflow_id = record.get("workflow") or "case"
    instance = Instance(pack, workflow_id, state, subject, tuple(log_), record.get("item_id"))
    now = log_[-1].at
    names = {c.id: c.name for c in pack.clocks}
    try:
        states = clock_states(instance, now, Calendar.build(pack.calendar), explain=False)
    except Exception:  # one clock the engine cannot compute: the others one by one
        log.warning("record %s: clocks not computed together", record.get("number"), exc_info=True)
        states = {}
        plan = compiled(pack, workflow_id)
        calendar = Calendar.build(pack.calendar)
        data = record_data(instance) if any(needs_data(c) for c in plan.clocks.clocks) else {}
        for clock in plan.clocks.clocks:
            out[clock.id] = None
            try:
                states[clock.id] = state_of(instance, plan.clocks, clock, now, calendar, data, False,
                                            plan.extension_roles)
            except Exception:
                log.warning("record %s: clock %s not computed", record.get("number"), clock.id, exc_info=True)
    for cid, st in states.items():
        out[cid] = None if st.deadline is None else {
            "date": st.deadline, "provisional": bool(st.provisional), "name": names.get(cid, cid),
            "limit": {"value": st.limit.value, "unit": st.limit.unit},
        }
    return out


def _log(events: Iterable[Event], event: Mapping[str, Any]) -> list[Event]:
    """The record's log up to and including the issuing event of the snapshot."""
    out = [e for e in events if not event or e.seq < int(event.get("seq", 0))]
    if event:
        out.append(Event(seq=int(event["seq"]), at=_datetime(event["at"]), actor=str(event.get("actor") or ""),
                         transition=str(event.get("transition") or ""), from_state=str(event.get("from_state") or ""),
                         to_state=str(event.get("to_state") or ""), data=event.get("data") or {},
                         pack_hash=str(event.get("pack_hash") or ""), acting_for=event.get("acting_for"),
                         role=str(event.get("role") or "")))
    return out


def _last_at(log_: Sequence[Event], transitions: tuple[str, ...]) -> dt.datetime | None:
    return next((e.at for e in reversed(log_) if e.transition in transitions), None)


def _datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


__all__ = ["case_context", "make_renderer", "render_snapshot"]
