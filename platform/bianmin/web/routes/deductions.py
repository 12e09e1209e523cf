"""The deduction hearing desk (扣分听证): the person charged sees the deductions proposed against
them and states their case (陈述申辩, xupu 八(八)); a supervisor decides the points within the
tier's range, with the aggravating and mitigating circumstances the pack declares (八(四)–(七));
supervisors record the violations the log cannot see, with evidence and attachments.

Who sees a deduction: supervisors and leaders of the jurisdiction, the person it charges, and
the head of the window it charges (八(四) 追究窗口负责人及其岗位责任人的责任). Anyone else gets
404, as for a record that does not exist. Only the person charged (or the window head for a
window) states the case; only a supervisor decides. The store's workflow still checks the roles
of each transition and that ``decide`` follows the hearing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from ... import privacy
from ...scoring import recording
from ...scoring.deductions import CHARGED_NAMES, DeductionError
from ...store import ConflictError, RecordNotFound
from ...store.models import Event, Record, RoleAssignment, Staff
from ...workflow import TransitionError
from .. import trail
from ..auth import Principal
from ..authz import STAFF, roles
from ..rendering import environment, error_page, render
from ..routing import page, web_of

DECIDERS = ("supervisor",)
OVERSEERS = ("supervisor", "leader")  # see every deduction of the jurisdiction
OPEN_STATES = ("proposed", "heard", "under_review")
LIST_LIMIT = 300
# Statements and evidence are free text: ID and phone numbers in them are shown masked.
environment().filters.setdefault("mask_text", privacy.mask_text)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def attachments_dir(request: Request) -> Path:
    """Where recorded attachments are kept, content-addressed: ``<var>/attachments``."""
    return web_of(request).uploads.parent / "attachments"


async def _headed_windows(principal: Principal, jurisdiction: str) -> set[str]:
    rows = await RoleAssignment.filter(staff_id=principal.id, jurisdiction_id=jurisdiction,
                                       role="window_head").values_list("window", flat=True)
    return {str(w) for w in rows if w}


def _oversees(principal: Principal, jurisdiction: str) -> bool:
    return bool(principal.roles_in(jurisdiction) & set(OVERSEERS))


def _answers_for(principal: Principal, subject: Mapping[str, Any], headed: set[str]) -> bool:
    """Whether ``principal`` is the one who states this deduction's case."""
    if subject.get("charged") in ("staff", "window_head"):
        return str(subject.get("staff") or "") == str(principal.id)
    return bool(subject.get("window")) and str(subject.get("window")) in headed


def _may_see(principal: Principal, jurisdiction: str, subject: Mapping[str, Any], headed: set[str]) -> bool:
    return _oversees(principal, jurisdiction) or _answers_for(principal, subject, headed) or \
        str(subject.get("staff") or "") == str(principal.id) or str(subject.get("window") or "") in headed


async def listing(request: Request) -> Response:
    """The deductions this person may see: their own, their window's, or all (supervisors)."""
    pack = request.state.pack
    principal: Principal = request.state.principal
    headed = await _headed_windows(principal, pack.id)
    rows = await Record.filter(jurisdiction_id=pack.id, kind="deduction").order_by("-created_at").limit(LIST_LIMIT)
    visible = [r for r in rows if _may_see(principal, pack.id, r.subject or {}, headed)]
    waiting = [r for r in visible if r.state in OPEN_STATES]
    done = [r for r in visible if r.state not in OPEN_STATES]
    mine = [r for r in waiting if r.state == "proposed" and _answers_for(principal, r.subject or {}, headed)]
    return render(request, "staff/hearings.html", pack=pack, waiting=waiting, done=done, mine=mine, span=_span,
                  states=_state_names(pack), charged_names=CHARGED_NAMES,
                  may_record=bool(principal.roles_in(pack.id) & set(DECIDERS)))


def _span(subject: Mapping[str, Any]) -> str:
    """The deduction range as people write it (10–15), or '' when the tier sets none."""
    low, high = subject.get("points_from"), subject.get("points_to")
    return "" if low is None or high is None else f"{float(low):g}–{float(high):g}"


def _state_names(pack: Any) -> dict[str, str]:
    workflow = next((w for w in pack.workflows if w.id == "deduction"), None)
    return {s.id: s.name for s in workflow.states} if workflow else {}


async def _load(request: Request) -> tuple[Record | None, set[str]]:
    pack = request.state.pack
    record = await Record.get_or_none(jurisdiction_id=pack.id, number=request.path_params["number"], kind="deduction")
    headed = await _headed_windows(request.state.principal, pack.id)
    if record is None or not _may_see(request.state.principal, pack.id, record.subject or {}, headed):
        return None, headed
    return record, headed


async def _detail(request: Request, record: Record, headed: set[str], *, status: int = 200,
                  message: str = "", posted: Mapping[str, Any] | None = None) -> Response:
    pack = request.state.pack
    principal: Principal = request.state.principal
    events = await Event.filter(record_id=record.id).order_by("seq")
    names = {e.id: e.name for e in pack.accountability.effects}
    decider = bool(principal.roles_in(pack.id) & set(DECIDERS))
    outlook = None
    if decider and record.state == "heard":
        try:
            outlook = await recording.outlook(pack.id, record.number, registry=web_of(request).registry)
        except (recording.RecordingError, DeductionError) as exc:
            message = message or exc.message
    workflow = next((w for w in pack.workflows if w.id == "deduction"), None)
    tnames = {"start": "拟扣分", **({t.id: t.name for t in workflow.transitions} if workflow else {})}
    declared = [str(c) for c in posted.getlist("circumstances")] if hasattr(posted, "getlist") else []
    return render(request, "staff/hearing.html", status=status, pack=pack, record=record, s=record.subject or {},
                  events=events, states=_state_names(pack), charged_names=CHARGED_NAMES, effect_names=names,
                  tnames=tnames, declared=declared, ev=(record.subject or {}).get("evidence") or {},
                  span=_span(record.subject or {}),
                  may_state=record.state == "proposed" and _answers_for(principal, record.subject or {}, headed),
                  may_decide=decider and record.state == "heard", outlook=outlook, message=message,
                  posted=posted or {}, attachments=(record.subject or {}).get("evidence", {}).get("attachments", []))


async def detail(request: Request) -> Response:
    record, headed = await _load(request)
    if record is None:
        return error_page(request, 404, "errors.not_found")
    return await _detail(request, record, headed)


async def statement(request: Request) -> Response:
    """陈述申辩: the person charged states their case, or waives it."""
    record, headed = await _load(request)
    if record is None:
        return error_page(request, 404, "errors.not_found")
    pack = request.state.pack
    principal: Principal = request.state.principal
    if not _answers_for(principal, record.subject or {}, headed):
        await trail.record("denied", request)
        return error_page(request, 403, "errors.forbidden")
    form = await request.form()
    waived = form.get("waived") == "true"
    text = str(form.get("statement") or "").strip()
    evidence = str(form.get("evidence") or "").strip()
    if not waived and not text:
        return await _detail(request, record, headed, status=422, message="请填写陈述申辩意见, 或选择放弃陈述申辩",
                             posted=form)
    try:
        await recording.hear(pack.id, record.number, actor=principal.actor(pack.id), now=_now(), statement=text,
                             waived=waived, evidence=evidence, registry=web_of(request).registry)
    except TransitionError as exc:
        return await _detail(request, record, headed, status=403 if exc.code == "forbidden" else 422,
                             message=exc.message, posted=form)
    await trail.record("deduction_statement", request, jurisdiction=pack.id, number=record.number, waived=waived)
    return RedirectResponse(f"/staff/{pack.id}/hearings/{record.number}", status_code=303)


def _points(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # NaN, infinity


async def decision(request: Request) -> Response:
    """The supervisor's decision: points within the range the circumstances allow, and reasons."""
    record, headed = await _load(request)
    if record is None:
        return error_page(request, 404, "errors.not_found")
    pack = request.state.pack
    principal: Principal = request.state.principal
    form = await request.form()
    points = _points(str(form.get("points") or "").strip())
    if points is None:
        return await _detail(request, record, headed, status=422, message="扣分分值须是数字", posted=form)
    declared = [str(c) for c in form.getlist("circumstances")]
    version = str(form.get("version") or "")
    try:
        _result, worked = await recording.decide(
            pack.id, record.number, actor=principal.actor(pack.id), points=points,
            reasons=str(form.get("reasons") or "").strip(), now=_now(), circumstances=declared,
            expected_version=int(version) if version.isdigit() else None, registry=web_of(request).registry)
    except (recording.RecordingError, DeductionError) as exc:
        return await _detail(request, record, headed, status=422, message=exc.message, posted=form)
    except TransitionError as exc:
        return await _detail(request, record, headed, status=403 if exc.code == "forbidden" else 422,
                             message=exc.message, posted=form)
    except ConflictError as exc:
        return await _detail(request, record, headed, status=409, message=str(exc), posted=form)
    await trail.record("deduction_decide", request, jurisdiction=pack.id, number=record.number, points=worked.points)
    return RedirectResponse(f"/staff/{pack.id}/hearings/{record.number}", status_code=303)


async def attachment(request: Request) -> Response:
    """An attachment of a recorded violation, to those who may see the deduction."""
    record, _headed = await _load(request)
    sha = request.path_params["sha"]
    metas = (record.subject or {}).get("evidence", {}).get("attachments", []) if record else []
    meta = next((m for m in metas if m.get("sha256") == sha), None)
    path = attachments_dir(request) / sha[:2] / sha
    if meta is None or not path.is_file():
        return error_page(request, 404, "errors.not_found")
    return FileResponse(path, media_type=meta["type"], filename=meta["name"],
                        headers={"cache-control": "private, no-store", "x-content-type-options": "nosniff"})


async def record_violation(request: Request) -> Response:
    """A supervisor records a violation the system cannot see (态度、擅自收费 ...)."""
    pack = request.state.pack
    colleagues = await Staff.filter(roles__jurisdiction_id=pack.id, active=True).distinct().order_by("id")
    values: dict[str, Any] = {"occurred_at": _now().strftime("%Y-%m-%dT%H:%M")}
    if request.method == "GET":
        return render(request, "staff/record_violation.html", pack=pack, colleagues=colleagues, v=values,
                      message="", max_files=recording.MAX_ATTACHMENTS)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("violation", "staff", "window", "department", "case",
                                                           "occurred_at", "evidence")}
    try:
        uploads = [recording.Upload(f.filename or "attachment", await f.read(), f.content_type or "")
                   for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
    finally:
        await form.close()  # the uploaded files' temporary storage

    def again(message: str, status: int = 422) -> Response:
        return render(request, "staff/record_violation.html", status=status, pack=pack, colleagues=colleagues,
                      v=values, message=message, max_files=recording.MAX_ATTACHMENTS)

    try:
        occurred = dt.datetime.fromisoformat(values["occurred_at"])
    except ValueError:
        return again("请填写违规发生时间 (年-月-日 时:分)")
    principal: Principal = request.state.principal
    try:
        result = await recording.record(
            pack.id, values["violation"], actor=principal.actor(pack.id), now=_now(), occurred_at=occurred,
            evidence=values["evidence"], staff=values["staff"], window=values["window"],
            department=values["department"], case=values["case"], attachments=uploads,
            attachments_dir=attachments_dir(request), registry=web_of(request).registry)
    except (recording.RecordingError, DeductionError) as exc:
        return again(exc.message)
    except (TransitionError, RecordNotFound) as exc:
        return again(getattr(exc, "message", str(exc)))
    await trail.record("deduction_record", request, jurisdiction=pack.id, number=result.record.number,
                       violation=values["violation"], attachments=len(uploads))
    return RedirectResponse(f"/staff/{pack.id}/hearings/{result.record.number}", status_code=303)


def routes() -> list[Route]:
    j = "/staff/{jurisdiction}/hearings"
    return [
        page(j, listing, STAFF, name="hearings"),
        page(j + "/record", record_violation, roles(*DECIDERS), ("GET", "POST"), name="hearing_record"),
        page(j + "/{number}", detail, STAFF, name="hearing"),
        page(j + "/{number}/statement", statement, STAFF, ("POST",), name="hearing_statement"),
        page(j + "/{number}/decision", decision, roles(*DECIDERS), ("POST",), name="hearing_decision"),
        page(j + "/{number}/attachments/{sha}", attachment, STAFF, name="hearing_attachment"),
    ]
