"""The staff desk: queue, new case, record pages with deadlines and transitions, documents.

A "record" is any workflow instance (case, complaint, inquiry, negative report, ...); its page
shows the events, each clock with its day-by-day explanation and timeline drawing, the
transitions this user may take (the workflow decides: ``available``), and the documents issued.
What a role may do inside a record is the workflow's rule; who may open the page is authz's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ...store import ConflictError, RecordNotFound, StoreError, intake, transition
from ...store.models import Document, Event, Record
from ...packs.registry import UnknownPack
from ...timelimits import SEVERITY
from ...workflow import TransitionError, available, clock_states
from .. import authz, formview, trail
from ..authz import STAFF, roles
from ..rendering import error_page, render
from ..routing import page, web_of
from ..serialize import CONFIDENTIAL
from ..services import case_view, clerk_renderer, issue_receipt, receipt_of

QUEUE_LIMIT = 200
LEVEL_ORDER = {"overdue": 9, **{lv: i for i, lv in enumerate(SEVERITY)}}


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


async def desk(request: Request) -> Response:
    principal = request.state.principal
    web = web_of(request)
    packs = [p for p in (web.pack(j) for j in principal.jurisdictions()) if p is not None]
    if len(packs) == 1:
        return RedirectResponse(f"/staff/{packs[0].id}/", status_code=303)
    return render(request, "staff/desk.html", packs=packs)


async def queue(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    principal = request.state.principal
    q = request.query_params
    kind, state, item, level = q.get("kind", "case"), q.get("state", ""), q.get("item", ""), q.get("level", "")
    query = Record.filter(jurisdiction_id=pack.id, kind=kind)
    if q.get("closed") != "1":
        query = query.filter(is_open=True)
    if state:
        query = query.filter(state=state)
    if item:
        query = query.filter(item_id=item)
    if q.get("mine") == "1":
        ids = [str(principal.id), *(str(sid) for sid, _n, _r in principal.covering.get(pack.id, ()))]
        mine = await Event.filter(actor__in=ids, record__jurisdiction_id=pack.id).values_list("record_id", flat=True)
        query = query.filter(id__in=list(set(mine)) or [0])
    rows = []
    now = _now()
    for record in await query.order_by("created_at").limit(QUEUE_LIMIT):
        rows.append(await _row(web, record, now))
    if level:
        rows = [r for r in rows if r["level"] == level]
    rows.sort(key=lambda r: -LEVEL_ORDER.get(r["level"], 0))
    kinds = sorted({w.subject for w in pack.workflows})
    return render(request, "staff/queue.html", pack=pack, rows=rows, kinds=kinds, levels=[*SEVERITY, "overdue"],
                  f={"kind": kind, "state": state, "item": item, "level": level, "mine": q.get("mine", ""),
                     "closed": q.get("closed", "")},
                  states=_states(pack, kind), covering=principal.covering.get(pack.id, ()))


def _states(pack: Any, kind: str) -> list[Any]:
    return [s for w in pack.workflows if w.subject == kind for s in w.states]


async def _row(web: Any, record: Record, now: dt.datetime) -> dict[str, Any]:
    from ...store import load

    try:
        _rec, instance = await load(record.jurisdiction_id, record.number, registry=web.registry)
    except UnknownPack:  # a record whose pack version is gone still lists
        states, state_name = {}, record.state
    else:
        states = clock_states(instance, max(now, instance.events[-1].at), explain=False)
        state_name = instance.workflow.state(instance.state).name
    level = max((s.level for s in states.values()), key=lambda lv: LEVEL_ORDER.get(lv, 0), default="green")
    deadline = min((s.deadline for s in states.values() if s.deadline and s.status in ("running", "paused", "overdue")),
                   default=None)
    subject = record.subject or {}
    return {"record": record, "level": level, "deadline": deadline, "state_name": state_name,
            "name": subject.get("applicant_name") or subject.get("visitor_name") or subject.get("matter_name") or "",
            "phone": subject.get("phone") or subject.get("visitor_phone") or ""}


async def new_case(request: Request) -> Response:
    pack = request.state.pack
    item_id = request.query_params.get("item")
    if not item_id:
        return render(request, "staff/new_case.html", pack=pack, item=None, fv=None)
    try:
        item = pack.item(str(item_id))
    except KeyError:
        return error_page(request, 404, "errors.not_found")
    form = formview.form_of(pack, item.form)
    if request.method == "GET":
        return render(request, "staff/new_case.html", pack=pack, item=item, fv=formview.view(pack, form, item))
    posted = await request.form()
    data = formview.from_html(form, posted, item)
    rows = formview.rows_to_add(form, posted)
    if rows is not None:  # "添加一行": the same answers with one more row, nothing stored
        return render(request, "staff/new_case.html", pack=pack, item=item,
                      fv=formview.view(pack, form, item, data, rows=rows))
    cleaned, errors = formview.check(pack, form, data, item)
    if errors:
        return render(request, "staff/new_case.html", status=422, pack=pack, item=item,
                      fv=formview.view(pack, form, item, data, errors))
    principal = request.state.principal
    actor = principal.actor(pack.id)
    base = _base_url(request)
    try:
        result = await intake(pack.id, item.id, cleaned, actor, cleaned, _now(),
                              registry=web_of(request).registry, renderer=await clerk_renderer(request))
        await issue_receipt(result, actor, base, phone=principal.phone)
    except (TransitionError, StoreError) as exc:
        return render(request, "staff/new_case.html", status=422, pack=pack, item=item,
                      fv=formview.view(pack, form, item, data), message=getattr(exc, "message", str(exc)))
    await trail.record("case_create", request, number=result.record.number, item=item.id)
    return RedirectResponse(f"/staff/{pack.id}/records/{result.record.number}/receipt", status_code=303)


async def _view_or_404(request: Request):
    try:
        return await case_view(web_of(request), request.state.pack.id, request.path_params["number"])
    except RecordNotFound:
        return None


def identity_visible(request: Request) -> bool:
    pack = request.state.pack
    return authz.may(request.state.principal, pack.id, pack, pack_roles=authz.confidential_roles)


async def record_page(request: Request) -> Response:
    view = await _view_or_404(request)
    if view is None:
        return error_page(request, 404, "errors.not_found")
    principal = request.state.principal
    pack = request.state.pack
    actor = principal.actor(pack.id)
    subject = view.subject
    hidden = view.record.kind == "complaint" and not identity_visible(request)
    if hidden:
        subject = {k: v for k, v in subject.items() if k not in CONFIDENTIAL}
    documents = await Document.filter(record_id=view.record.id).order_by("issued_at")
    events = await Event.filter(record_id=view.record.id).order_by("seq")
    form_id = view.item.form if view.item else view.record.workflow_id
    workflow = view.instance.workflow
    names = {t.id: t.name for t in workflow.transitions} | {"start": "登记"}
    states = {st.id: st.name for st in workflow.states}
    return render(request, "staff/record.html", pack=pack, case=view, subject=subject, hidden=hidden,
                  fields=formview.described(view.pack, form_id, subject), names=names, state_names=states,
                  transitions=available(view.instance, actor), documents=documents, events=events,
                  error=request.query_params.get("error"))


async def take_transition(request: Request) -> Response:
    view = await _view_or_404(request)
    if view is None:
        return error_page(request, 404, "errors.not_found")
    pack = request.state.pack
    name = request.path_params["name"]
    t = next((t for t in view.instance.workflow.transitions if t.id == name), None)
    if t is None:
        return error_page(request, 404, "errors.not_found")
    form = formview.form_of(view.pack, t.form) if t.form else None
    item = view.item
    if request.method == "GET":
        return render(request, "staff/transition.html", pack=pack, case=view, t=t,
                      fv=formview.view(view.pack, form, item) if form else None)
    posted = await request.form()
    data = formview.from_html(form, posted, item) if form else {}
    rows = formview.rows_to_add(form, posted) if form else None
    if rows is not None:  # "添加一行": the same answers with one more row, nothing stored
        return render(request, "staff/transition.html", pack=pack, case=view, t=t,
                      fv=formview.view(view.pack, form, item, data, rows=rows))
    version = str(posted.get("version") or "")
    actor = request.state.principal.actor(pack.id)
    try:
        await transition(pack.id, view.record.number, name, actor, data, _now(),
                         int(version) if version.isdigit() else None, registry=web_of(request).registry,
                         renderer=await clerk_renderer(request, view.instance))
    except TransitionError as exc:
        if exc.code == "forbidden":
            await trail.record("denied", request, number=view.record.number, transition=name)
        return render(request, "staff/transition.html", status=422 if exc.code != "forbidden" else 403, pack=pack,
                      case=view, t=t, message=exc.message,
                      fv=formview.view(view.pack, form, item, data, exc.field_errors) if form else None)
    except ConflictError as exc:
        return render(request, "staff/transition.html", status=409, pack=pack, case=view, t=t, message=str(exc),
                      fv=formview.view(view.pack, form, item, data) if form else None)
    await trail.record("transition", request, number=view.record.number, transition=name,
                       kind=view.record.kind)
    return RedirectResponse(f"/staff/{pack.id}/records/{view.record.number}", status_code=303)


async def receipt(request: Request) -> Response:
    view = await _view_or_404(request)
    if view is None:
        return error_page(request, 404, "errors.not_found")
    stored = await receipt_of(view.record)
    if stored is not None and stored.content:  # the receipt slip as issued: a reprint, byte for byte
        return printed(stored.content)
    base = _base_url(request)  # a case received before receipts were stored
    return render(request, "staff/receipt.html", pack=request.state.pack, case=view,
                  status_url=f"{base}/{view.pack.id}/status")


async def document(request: Request) -> Response:
    pack = request.state.pack
    doc_id = request.path_params["id"]
    doc = await Document.get_or_none(id=int(doc_id), jurisdiction=pack.id) if doc_id.isdigit() else None
    if doc is None:
        return error_page(request, 404, "errors.not_found")
    if doc.content:  # the rendered document as issued (documents/issue.py): served unchanged
        return printed(doc.content)
    return render(request, "staff/document.html", pack=pack, doc=doc)


# An issued document is one self-contained page (its print.css inlined by the layout, the QR
# code an inline <svg>): inline styles allowed, nothing else, no scripts.
PRINTED_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
               "frame-ancestors 'none'; base-uri 'none'")


def printed(html: str) -> HTMLResponse:
    """A stored document as issued: the same bytes on every reprint."""
    return HTMLResponse(html, headers={"content-security-policy": PRINTED_CSP, "cache-control": "no-store"})


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def routes() -> list[Route]:
    j = "/staff/{jurisdiction}"
    from . import desk as extra

    return [
        page("/staff/", desk, STAFF, name="desk"),
        page(j + "/", queue, STAFF, name="queue"),
        page(j + "/cases/new", new_case, roles("clerk"), ("GET", "POST"), name="new_case"),
        page(j + "/records/{number}", record_page, STAFF, name="record"),
        page(j + "/records/{number}/receipt", receipt, STAFF, name="receipt"),
        page(j + "/records/{number}/transitions/{name}", take_transition, STAFF, ("GET", "POST"), name="transition"),
        page(j + "/documents/{id}", document, STAFF, name="document"),
        *extra.routes(),
    ]
