"""What pages and the API both need from the store: a case as shown, a rating stored.

One function per need, each reading through the store's public functions, so the HTML pages and
the JSON API can never disagree about a case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from ..calendar import Calendar
from ..documents.issue import DEFAULT_BASE_URL, make_renderer, sources
from ..packs.model import Item, Pack
from ..store import Result, db, load, records
from ..store.models import Document, Rating, Record
from ..timelimits import ClockState
from ..workflow import (
    Actor,
    Effect,
    Instance,
    TransitionError,
    rate,
    thaw,
)
from ..workflow.clocks import computable_states
from . import trail
from .context import Web
from .svg import timeline_svg

RATEABLE = ("completed", "delivered")
RECEIPT = "receipt_slip"  # the receipt printed at intake (收件回执单), docs/documents.md


@dataclass
class ClockView:
    id: str
    name: str
    state: ClockState
    svg: str


@dataclass
class CaseView:
    record: Record
    instance: Instance
    pack: Pack
    item: Item | None
    state_name: str
    clocks: list[ClockView]
    uncomputed: dict[str, str] = field(default_factory=dict)  # clock name → why it has no deadline

    @property
    def events(self) -> tuple[Any, ...]:
        return self.instance.events

    @property
    def subject(self) -> dict[str, Any]:
        return thaw(self.instance.subject)


async def case_view(web: Web, jurisdiction: str, number: str, *, public: bool = False,
                    now: dt.datetime | None = None) -> CaseView:
    record, instance = await load(jurisdiction, number, registry=web.registry)
    return view_of(web, record, instance, explain=not public, now=now)


def view_of(web: Web, record: Record, instance: Instance, *, explain: bool = True,
            now: dt.datetime | None = None) -> CaseView:
    """A record as shown, from what the store just returned (no second read)."""
    jurisdiction = record.jurisdiction_id
    pack = instance.pack
    now = now or dt.datetime.now().replace(microsecond=0)
    if instance.events:  # a clock never looks at a moment before the record's last event
        now = max(now, instance.events[-1].at)
    calendar = Calendar.build(web.registry.active(jurisdiction, now.date()).calendar)
    states, failed = computable_states(instance, now, calendar, explain=explain)
    names = {c.id: c.name for c in pack.clocks}
    clocks = [ClockView(cid, names.get(cid, cid), st, timeline_svg(st) if explain else "")
              for cid, st in states.items()]
    state_name = instance.workflow.state(instance.state).name
    return CaseView(record, instance, pack, instance.item, state_name, clocks,
                    {names.get(cid, cid): str(exc) for cid, exc in failed.items()})


async def rate_case(web: Web, jurisdiction: str, number: str, level: str, comment: str,
                    channel: str, request: HTTPConnection | None = None) -> str | None:
    """Store a rating of a completed case (once); the error message, or None when stored. The
    audit entry (``request`` given: who and from where) commits with the rating."""
    record, instance = await load(jurisdiction, number, registry=web.registry)
    if instance.state not in RATEABLE:
        return "办件尚未办结, 暂不能评价"
    if await Rating.exists(record_id=record.id):
        return "该办件已经评价过"
    now = dt.datetime.now().replace(microsecond=0)
    try:
        effects = rate(instance, level, data={"comment": comment, "channel": channel} if comment else
                       {"channel": channel}, now=now)
    except TransitionError as exc:
        return exc.message
    async with db.transaction() as tx:
        ctx = records.Context(tx, instance.pack, record, instance, records.SYSTEM, now)
        rectification = None
        for effect in effects:
            if effect.action == "open_workflow":
                rectification = await records.open_child(ctx, effect)
        for effect in effects:
            if effect.action == "record_rating":
                args = thaw(effect.args)
                await Rating.create(using_db=tx, record_id=record.id, level=args["level"], score=args["score"],
                                    bad=args["bad"], channel=args.get("channel") or channel,
                                    comment=args.get("comment", ""), rated_at=now, rectification=rectification)
        await trail.record("rating", request, tx=tx, jurisdiction=jurisdiction, number=number, level=level,
                           channel=channel)
    return None


# -- issued documents -------------------------------------------------------------------------

def renderer(base_url: str | None, actor: Actor | None = None, instance: Instance | None = None, *,
             phone: str | None = None) -> records.Renderer:
    """The document renderer the store is given (documents/issue.py): ``base_url`` for the status
    link and its QR code, the acting staff member as the clerk (``phone``: their ``Staff.phone``,
    ``Principal.phone`` in a request), and the record's log so far (``instance``, before a
    transition) for its steps and deadlines."""
    return make_renderer((base_url or DEFAULT_BASE_URL).rstrip("/"),
                         clerk={"name": actor.name, "phone": phone or None} if actor is not None else None,
                         events=instance.events if instance is not None else ())


async def clerk_renderer(request: HTTPConnection, instance: Instance | None = None) -> records.Renderer:
    """The renderer for the signed-in staff member of ``request`` (name and phone), in the
    route's jurisdiction; anonymous requests (public pages) issue with no clerk. Before a
    transition (``instance``) it also reads the record's opening record and the accounts of the
    staff in the logs (documents.issue.sources): a negative report prints the refused case."""
    principal = getattr(request.state, "principal", None)
    base = str(request.base_url).rstrip("/")
    actor = principal.actor(request.path_params.get("jurisdiction") or "") if principal is not None else None
    clerk = {"name": actor.name, "phone": principal.phone or None} if actor is not None else None
    if instance is None:
        return make_renderer(base, clerk=clerk)
    found = await sources(db.connection(), instance.pack.id, thaw(instance.subject), instance.events)
    return make_renderer(base, clerk=clerk, events=instance.events, sources=found)


async def issue_receipt(result: Result, actor: Actor, base_url: str | None, *,
                        phone: str | None = None) -> Document | None:
    """The receipt slip of a case just received, stored like any issued document.

    When the pack's intake issues documents itself (the ``start`` actions), those are the
    receipt; otherwise ``receipt_slip`` is rendered here, through the same renderer, and stored
    for the start event (once: a replayed intake finds it)."""
    record, instance = result.record, result.instance
    if result.documents:
        return next((d for d in result.documents if d.document_id == RECEIPT), result.documents[0])
    pack = instance.pack
    if record.kind != "case" or not any(d.id == RECEIPT for d in pack.documents) or not instance.events:
        return None
    start = instance.events[0]
    found = await Document.filter(record_id=record.id, event_seq=start.seq).order_by("id").first()
    if found is not None:
        return found
    if result.replayed:
        return None
    start_only = Instance(pack, instance.workflow_id, start.to_state or instance.state, instance.subject,
                          (start,), instance.item_id)
    async with db.transaction() as tx:
        ctx = records.Context(tx, pack, record, start_only, actor, start.at, renderer(base_url, actor, phone=phone))
        return await records.issue_document(ctx, RECEIPT, Effect("issue_document", {"document": RECEIPT}), start.seq)


async def receipt_of(record: Record) -> Document | None:
    """The stored receipt of a case: the receipt slip issued at intake (else the first one issued)."""
    docs = await Document.filter(record_id=record.id, document_id=RECEIPT).order_by("event_seq", "id")
    return docs[0] if docs else None
