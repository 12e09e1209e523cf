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

Every context is built here: ``case``, ``inquiry``, ``complaint``, ``negative_report``,
``unresolved_matter``, ``agency``, ``register`` (a one-row register: the issuing record), ``item``
and ``pack``. A record opened by another (a negative report opened by a refusal) reads the
opening record too: ``parent`` (:class:`Parent`); staff named in the logs are ``people``
(``{staff id: {name, phone}}``), so the handler's and the officer's phones come from their
accounts. :func:`sources` reads both for a record, and :func:`renderer_for` builds the whole
renderer from the database (the sweeper: timers issue documents too).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
# Status links of documents issued outside a request (the sweeper, the demo cases).
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
SYSTEM_NAME = "系统"  # the sweeper's actor, as printed


@dataclass(frozen=True)
class Parent:
    """The record that opened the one issuing (``subject.parent_number``): a refused case for
    its negative report."""

    number: str
    workflow: str
    item_id: str | None
    state: str
    subject: Mapping[str, Any]
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Sources:
    """What a document may need beyond the snapshot: the opening record and the staff in the logs."""

    parent: Parent | None = None
    people: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def make_renderer(base_url: str, *, clerk: Mapping[str, Any] | None = None,
                  events: Sequence[Event] = (), sources: Sources | None = None) -> Renderer:
    """The ``renderer`` the store's intake, transition and open_record take.

    ``base_url`` is where the public site is (the status page is printed with its QR code);
    ``clerk`` is ``{name, phone}`` of the staff member issuing; ``events`` the record's log
    before the issuing event (empty at intake); ``sources`` the opening record and the staff
    of the logs (:func:`sources`).
    """
    base = base_url.rstrip("/")
    history = tuple(events)
    extra = sources or Sources()

    def render(pack: Pack, document_id: str, snapshot: Mapping[str, Any]) -> str:
        return render_snapshot(pack, document_id, snapshot, base_url=base, clerk=clerk, events=history,
                               sources=extra)

    return render


def render_snapshot(pack: Pack, document_id: str, snapshot: Mapping[str, Any], *, base_url: str,
                    clerk: Mapping[str, Any] | None = None, events: Sequence[Event] = (),
                    sources: Sources | None = None) -> str:
    """The HTML of document ``document_id`` for a store snapshot."""
    try:
        doc = pack.document(document_id)
    except KeyError:
        raise DocumentError(f"pack {pack.id!r} has no document {document_id!r}") from None
    issued_at = _datetime(snapshot.get("issued_at")) or dt.datetime.now()
    record = snapshot.get("record") or {}
    number = record.get("number")
    item = _item(pack, record.get("item_id"))
    window = _window(pack, snapshot, item)
    sources = sources or Sources()
    if doc.context == "case":
        context = case_context(pack, snapshot, item, window=window, clerk=clerk, events=events, sources=sources)
    elif doc.context == "item":
        if item is None:
            return ""
        view = item_view(pack, item)
        context = {"item": view, "department": view["department"], "window": view["window"]}
    elif doc.context == "pack":
        context = {}
    else:
        parts = _Parts(pack, snapshot, events, item, clerk, sources)
        context = _BUILDERS[doc.context](parts, window)
    status_url = f"{base_url}/{pack.id}/status?number={number}" if number else f"{base_url}/{pack.id}/status"
    rendered = render_document(pack, document_id, context, number=snapshot.get("number"),
                               issued_on=issued_at.date(), window=window, status_url=status_url)
    return rendered.html


def case_context(pack: Pack, snapshot: Mapping[str, Any], item: Any, *, window: Any = None,
                 clerk: Mapping[str, Any] | None = None, events: Sequence[Event] = (),
                 sources: Sources | None = None) -> dict[str, Any]:
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
        "clerk": _clerk(clerk, last, (sources or Sources()).people),
        "window": window_view(pack, window) if window else None,
        "data": data,
    }


# -- records other than cases ----------------------------------------------------------------

class _Parts:
    """What every non-case context reads from a snapshot: the record, its opening answers
    (labelled; a required field not answered prints as a blank), its steps, the issuing answers."""

    def __init__(self, pack: Pack, snapshot: Mapping[str, Any], events: Sequence[Event], item: Any,
                 clerk: Mapping[str, Any] | None, sources: Sources) -> None:
        self.pack, self.snapshot, self.item, self.clerk, self.sources = pack, snapshot, item, clerk, sources
        self.record = snapshot.get("record") or {}
        self.subject = dict(snapshot.get("subject") or {})
        self.log = _log(events, snapshot.get("event") or {})
        self.forms, self.choices = forms_of(pack)
        workflow_id = self.record.get("workflow") or self.record.get("kind") or ""
        self.workflow = pack.workflow(workflow_id)
        self.state = self.record.get("state") or (self.log[-1].to_state if self.log else self.workflow.initial)
        transitions = {t.id: t for t in self.workflow.transitions}
        opening = self.forms.get(self.workflow.subject) or self.forms.get(self.workflow.id)
        self.answers = _labelled(opening, self.subject, item, self.choices)
        if opening is not None:
            for f in opening.fields:
                if f.required and f.id not in self.answers:
                    self.answers[f.id] = ""
        self.steps: dict[str, Any] = {}
        for e in self.log:
            if e.transition == "start":
                continue
            t = transitions.get(e.transition)
            form = self.forms.get(t.form) if t is not None and t.form else None
            self.steps[e.transition] = {"at": e.at, "by": self.person(e.actor)["name"],
                                        "data": _labelled(form, dict(e.data), item, self.choices)}
        last = self.log[-1] if self.log else None
        issuing = transitions.get(last.transition) if last is not None else None
        form = self.forms.get(issuing.form) if issuing is not None and issuing.form else None
        self.data = _labelled(form, dict(last.data), item, self.choices) if last and last.transition != "start" else {}
        self.opened_at = self.log[0].at if self.log else _datetime(snapshot.get("issued_at"))

    def person(self, staff_id: str | None) -> dict[str, Any]:
        """``{name, phone}`` of a staff id of the logs (the system, or an unknown id, as is)."""
        if staff_id == "system":
            return {"name": SYSTEM_NAME, "phone": None}
        found = self.sources.people.get(str(staff_id)) if staff_id else None
        if found is not None:
            return {"name": found.get("name") or str(staff_id), "phone": found.get("phone") or None}
        if self.clerk and self.log and staff_id == self.log[-1].actor:
            return {"name": self.clerk.get("name") or str(staff_id), "phone": self.clerk.get("phone") or None}
        return {"name": str(staff_id or ""), "phone": None}

    def base(self, **extra: Any) -> dict[str, Any]:
        """The record variable: number, state, steps and the opening answers."""
        state_names = {st.id: st.name for st in self.workflow.states}
        return {**{k: v for k, v in self.answers.items() if k not in ("number", "state", "steps")},
                "number": self.record.get("number"), "state": Choice(self.state, state_names.get(self.state, self.state)),
                "steps": self.steps, **extra}

    def deadline(self, *clock_ids: str) -> Any:
        """The first of these clocks' deadlines (or of the workflow's first clock), or None."""
        found = _deadlines(self.pack, self.record, self.subject, self.log, self.state)
        for cid in clock_ids or tuple(found):
            if found.get(cid):
                return found[cid]
        return None


def _inquiry(parts: _Parts, window: Any) -> dict[str, Any]:
    a = parts.answers
    receipt = parts.steps.get("issue_receipt", {}).get("data", {})
    registrar = parts.person(parts.log[0].actor if parts.log else None)
    officer_name = a.get("officer") or registrar["name"]
    # The officer's phone: given on the receipt form, else the account's of whoever registered.
    officer_phone = parts.data.get("officer_phone") or receipt.get("officer_phone") or (
        registrar["phone"] if officer_name == registrar["name"] else None)
    return {
        "inquiry": parts.base(registered_at=parts.opened_at, reply_due=parts.deadline("inquiry_reply")),
        "visitor": {"name": a.get("visitor_name") or "", "phone": a.get("visitor_phone") or None},
        "officer": {"name": officer_name, "phone": officer_phone},
        "handler": {"name": a["handler"], "phone": None} if a.get("handler") else None,
        "window": window_view(parts.pack, window) if window else None,
        "data": parts.data,
    }


def _complaint(parts: _Parts, window: Any) -> dict[str, Any]:
    a = parts.answers
    chosen = a.get("category")
    cid = getattr(chosen, "value", chosen)
    found = next((c for c in parts.pack.complaints.categories if c.id == cid), None)
    category = ({"id": found.id, "name": found.name, "route_to": found.route_to,
                 "limit": {"value": found.limit.value, "unit": found.limit.unit} if found.limit else None}
                if found is not None else {"id": cid or "", "name": getattr(chosen, "label", cid) or "",
                                           "route_to": None, "limit": None})
    anonymous = bool(parts.subject.get("anonymous")) or not a.get("complainant_name")
    return {
        "complaint": parts.base(received_at=parts.opened_at),
        "category": category,
        "complainant": None if anonymous else {"name": a.get("complainant_name"),
                                               "phone": a.get("complainant_phone") or None},
        "data": parts.data,
    }


def _negative_report(parts: _Parts, window: Any) -> dict[str, Any]:
    """A report opened by a refusal has no answers of its own: what the form asks is taken from
    the refused case (matter, applicant, reasons) and from the account of who refused it."""
    a = parts.answers
    parent = parts.sources.parent
    case = item = applicant = None
    reason = ""
    if parent is not None:
        parent_item = _item(parts.pack, parent.item_id)
        snap = {"record": {"number": parent.number, "item_id": parent.item_id, "state": parent.state,
                           "workflow": parent.workflow}, "subject": parent.subject, "event": None}
        built = case_context(parts.pack, snap, parent_item, events=parent.events, sources=parts.sources)
        case, item, applicant = built["case"], built["item"], built["applicant"]
        refusal = next((e for e in reversed(parent.events) if e.data.get("reasons") or e.data.get("reason")), None)
        reason = str((refusal.data.get("reasons") or refusal.data.get("reason")) if refusal else "")
    handler = parts.person(parts.log[0].actor if parts.log else None)
    defaults = {
        "handler_department": item["department"]["name"] if item and item.get("department") else "",
        "handler_name": handler["name"], "handler_title": "", "handler_phone": handler["phone"] or "",
        "matter": item["name"] if item else "", "reason": reason,
        "applicant_name": applicant["name"] if applicant else "", "applicant_phone": (applicant or {}).get("phone") or "",
    }
    report = parts.base(filed_at=parts.opened_at)
    for key, value in defaults.items():
        if report.get(key) in ("", None):
            report[key] = value
    return {"report": report, "case": case, "item": item, "applicant": applicant,
            "handler": {"name": report["handler_name"], "title": report["handler_title"] or None,
                        "phone": report["handler_phone"] or None},
            "data": parts.data}


def _unresolved_matter(parts: _Parts, window: Any) -> dict[str, Any]:
    a = parts.answers
    dispatched = parts.steps.get("dispatch", {}).get("data", {}).get("window")
    wid = getattr(dispatched, "value", dispatched)
    try:
        where = window_view(parts.pack, wid) if wid else (window_view(parts.pack, window) if window else None)
    except KeyError:  # a window the pack no longer has: its label as given
        where = {"id": wid, "name": getattr(dispatched, "label", wid), "phone": None}
    clocks = [c.id for c in parts.workflow.clocks]
    return {
        "matter": parts.base(registered_at=parts.opened_at, due=parts.deadline(*clocks) if clocks else None),
        "reporter": {"name": a.get("reporter_name") or "", "phone": a.get("reporter_phone") or None},
        "window": where,
        "data": parts.data,
    }


def _agency(parts: _Parts, window: Any) -> dict[str, Any]:
    a = parts.answers
    agent = parts.person(parts.log[0].actor if parts.log else None)
    return {
        "agency": parts.base(),
        "client": {"name": a.get("client_name") or "", "phone": a.get("client_phone") or None},
        "agent": {"name": a.get("agent_name") or agent["name"], "phone": agent["phone"]},
        "item": _item_view(parts.pack, parts.item),
        "data": parts.data,
    }


def _register(parts: _Parts, window: Any) -> dict[str, Any]:
    """A register issued by one record: its row (the record's answers, number, state, times)."""
    row = {**parts.answers, "number": parts.record.get("number"), "state": parts.base()["state"],
           "received_at": parts.answers.get("received_at") or parts.opened_at,
           "registered_at": parts.opened_at, "filed_at": parts.opened_at}
    return {"title": None, "rows": [row], "period": None, "columns": []}


_BUILDERS: dict[str, Callable[[_Parts, Any], dict[str, Any]]] = {
    "inquiry": _inquiry, "complaint": _complaint, "negative_report": _negative_report,
    "unresolved_matter": _unresolved_matter, "agency": _agency, "register": _register,
}


def _clerk(clerk: Mapping[str, Any] | None, last: Event | None, people: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The issuing staff member: given by the caller, else the account of the event's actor."""
    actor = last.actor if last is not None else ""
    known = people.get(actor) or {}
    name = (clerk or {}).get("name") or known.get("name") or (SYSTEM_NAME if actor == "system" else actor)
    return {"name": name, "phone": (clerk or {}).get("phone") or known.get("phone") or None}


# -- reading the sources ----------------------------------------------------------------------

async def sources(conn: Any, jurisdiction: str, subject: Mapping[str, Any], events: Sequence[Event]) -> Sources:
    """The opening record (``subject.parent_number``) with its log, and ``{name, phone}`` of every
    staff account acting in either log, read on ``conn`` (a transaction or the connection)."""
    from ..store import db
    from ..store.records import EVENT_COLUMNS, RECORD_COLUMNS, record_from_row, to_flow_event

    parent = None
    actors = {e.actor for e in events}
    number = subject.get("parent_number")
    if number:
        cols = ", ".join(f"r.{c}" for c in RECORD_COLUMNS) + ", " + ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
        rows = await db.fetch(conn, f"SELECT {cols} FROM records r JOIN events e ON e.record_id = r.id "
                              "WHERE r.jurisdiction_id = ? AND r.number = ? ORDER BY e.seq", [jurisdiction, number])
        if rows:
            row = record_from_row(rows[0])
            log_ = tuple(to_flow_event(r) for r in rows)
            parent = Parent(row.number, row.workflow_id, row.item_id, row.state, row.subject, log_)
            actors |= {e.actor for e in log_}
    ids = sorted(int(a) for a in actors if str(a).isdigit())
    people: dict[str, dict[str, Any]] = {}
    if ids:
        for r in await db.fetch(conn, f"SELECT id, display_name, phone FROM staff WHERE id IN ({db.marks(len(ids))})", ids):
            people[str(r["id"])] = {"name": r["display_name"], "phone": r["phone"] or None}
    return Sources(parent, people)


async def renderer_for(tx: Any, pack: Pack, record: Any, *, base_url: str = DEFAULT_BASE_URL) -> Renderer:
    """The renderer for documents a record issues without a request (the sweeper's timers):
    the record's log, its opening record and the staff of both, read in ``tx``.

    ``record`` is the store's ``Record`` (``id``, ``jurisdiction_id``, ``subject``)."""
    from ..store import db
    from ..store.records import EVENT_COLUMNS, to_flow_event

    rows = await db.fetch(tx, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE record_id = ? ORDER BY seq",
                          [record.id])
    events = tuple(to_flow_event(r) for r in rows)
    found = await sources(tx, record.jurisdiction_id, record.subject or {}, events)
    return make_renderer(base_url, events=events, sources=found)


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


__all__ = ["DEFAULT_BASE_URL", "Parent", "Sources", "case_context", "make_renderer", "render_snapshot",
           "renderer_for", "sources"]
