"""The JSON API under ``/api/v1``: bearer tokens, one error shape, documented in openapi.py.

Errors: ``{"error": {"code", "message", "fields": [{"path", "message"}]}}`` with the status
of the cause (400 bad JSON, 401 no token, 403 role, 404 unknown, 409 state or version conflict,
422 form errors). ``Idempotency-Key`` on case creation returns the first case again for a retry.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...forms import to_json_schema
from ...store import ConflictError, RecordNotFound, StoreError, intake, open_record, transition
from ...workflow import TransitionError
from ...workflow.submission import forms_of
from .. import authz, formview, serialize, trail
from ..authz import STAFF, roles
from ..openapi import document
from ..rendering import error_json
from ..routing import api, web_of
from ..services import case_view, clerk_renderer, issue_receipt, rate_case, view_of

STATUS = {"forbidden": 403, "wrong_state": 409, "unknown_transition": 404, "unknown_item": 404,
          "unknown_workflow": 404, "invalid_form": 422, "guard_failed": 422, "clock_rule": 422,
          "unknown_action": 422}
INTAKE = roles("clerk")


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("请求体不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象")
    return body


def _fields(errors: list[Any]) -> list[dict[str, str]]:
    return [{"path": getattr(e, "path", ""), "message": getattr(e, "message", str(e))} for e in errors]


def _transition_error(exc: TransitionError) -> JSONResponse:
    return error_json(STATUS.get(exc.code, 422), exc.code, exc.message, _fields(exc.field_errors))


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


async def jurisdictions(request: Request) -> Response:
    web = web_of(request)
    return JSONResponse([{"id": p.id, "name": p.name, "version": p.version,
                          "effective_from": p.effective_from.isoformat()} for p in web.jurisdictions()])


async def items(request: Request) -> Response:
    pack = request.state.pack
    return JSONResponse([{"id": i.id, "code": i.code, "name": i.name, "kind": i.kind, "type": i.type,
                          "promised": str(i.limits.promised), "statutory": str(i.limits.statutory),
                          "form": i.form} for i in pack.items])


async def item_form(request: Request) -> Response:
    pack = request.state.pack
    try:
        item = pack.item(request.path_params["item"])
    except KeyError:
        return error_json(404, "not_found", "没有这个事项")
    forms, choices = forms_of(pack)
    return JSONResponse(to_json_schema(forms[item.form], item, choices=choices))


async def create_case(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    try:
        body = await _body(request)
    except BadRequest as exc:
        return error_json(400, "invalid_json", exc.message)
    item_id, data = body.get("item"), body.get("data", {})
    if not isinstance(item_id, str) or not isinstance(data, dict):
        return error_json(422, "invalid_request", "须给出 item (事项 id) 和 data (表单数据对象)",
                          [{"path": "$.item", "message": "必填"}] if not isinstance(item_id, str) else
                          [{"path": "$.data", "message": "须为对象"}])
    try:
        item = pack.item(item_id)
    except KeyError:
        return error_json(422, "unknown_item", f"事项 {item_id!r} 不在目录中", [{"path": "$.item", "message": "未知事项"}])
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 128):
        return error_json(400, "invalid_idempotency_key", "Idempotency-Key 须为 1–128 个字符")
    cleaned, errors = formview.check(pack, formview.form_of(pack, item.form), data, item)
    if errors:
        return error_json(422, "invalid_form", "表单填写有误", _fields(errors))
    principal = request.state.principal
    actor = principal.actor(pack.id)
    base = str(request.base_url).rstrip("/")
    try:
        result = await intake(pack.id, item.id, cleaned, actor, cleaned, _now(),
                              idempotency_key=key, registry=web.registry, renderer=await clerk_renderer(request))
        await issue_receipt(result, actor, base, phone=principal.phone)
    except TransitionError as exc:
        return _transition_error(exc)
    except StoreError as exc:
        return error_json(422, "store", str(exc))
    if not result.replayed:  # a retry changed nothing
        await trail.record("case_create", request, number=result.record.number, item=item.id)
    view = view_of(web, result.record, result.instance, explain=False)
    return JSONResponse(serialize.case(view), status_code=200 if result.replayed else 201,
                        headers={"Location": f"/api/v1/{pack.id}/cases/{result.record.number}"})


async def _case_or_404(request: Request, kind: str = "case"):
    web = web_of(request)
    pack = request.state.pack
    try:
        view = await case_view(web, pack.id, request.path_params["number"])
    except RecordNotFound:
        return None
    return view if view.record.kind == kind else None


async def get_case(request: Request) -> Response:
    view = await _case_or_404(request)
    if view is None:
        return error_json(404, "not_found", "没有这个办件")
    return JSONResponse(serialize.case(view))


async def deadline(request: Request) -> Response:
    view = await _case_or_404(request)
    if view is None:
        return error_json(404, "not_found", "没有这个办件")
    return JSONResponse({"number": view.record.number, "clocks": [serialize.clock(c) for c in view.clocks]})


async def fire_transition(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    try:
        body = await _body(request)
    except BadRequest as exc:
        return error_json(400, "invalid_json", exc.message)
    data, expected = body.get("data", {}), body.get("expected_version")
    if not isinstance(data, dict) or not (expected is None or isinstance(expected, int)):
        return error_json(422, "invalid_request", "data 须为对象, expected_version 须为整数")
    number, name = request.path_params["number"], request.path_params["name"]
    view = await _case_or_404(request)
    if view is None:
        return error_json(404, "not_found", "没有这个办件")
    actor = request.state.principal.actor(pack.id)
    try:
        result = await transition(pack.id, number, name, actor, data, _now(), expected, registry=web.registry,
                                  renderer=await clerk_renderer(request, view.instance))
    except TransitionError as exc:
        if exc.code == "forbidden":
            await trail.record("denied", request, number=number, transition=name)
        return _transition_error(exc)
    except ConflictError as exc:
        return error_json(409, "conflict", str(exc))
    await trail.record("transition", request, number=number, transition=name, kind=result.record.kind)
    return JSONResponse(serialize.case(view_of(web, result.record, result.instance, explain=False)))


async def create_complaint(request: Request) -> Response:
    pack = request.state.pack
    web = web_of(request)
    try:
        body = await _body(request)
    except BadRequest as exc:
        return error_json(400, "invalid_json", exc.message)
    cleaned, errors = formview.check(pack, formview.form_of(pack, "complaint"), body, None)
    if errors:
        return error_json(422, "invalid_form", "投诉登记填写有误", _fields(errors))
    try:
        result = await open_record(pack.id, "complaint", cleaned, request.state.principal.actor(pack.id), cleaned,
                                   _now(), registry=web.registry, renderer=await clerk_renderer(request))
    except TransitionError as exc:
        return _transition_error(exc)
    await trail.record("complaint_create", request, number=result.record.number)
    view = await case_view(web, pack.id, result.record.number)
    identity = authz.may(request.state.principal, pack.id, pack, pack_roles=authz.confidential_roles)
    return JSONResponse(serialize.complaint(view, identity), status_code=201)


async def get_complaint(request: Request) -> Response:
    pack = request.state.pack
    view = await _case_or_404(request, "complaint")
    if view is None:
        return error_json(404, "not_found", "没有这个投诉")
    identity = authz.may(request.state.principal, pack.id, pack, pack_roles=authz.confidential_roles)
    return JSONResponse(serialize.complaint(view, identity))


async def create_rating(request: Request) -> Response:
    pack = request.state.pack
    try:
        body = await _body(request)
    except BadRequest as exc:
        return error_json(400, "invalid_json", exc.message)
    level, comment, channel = body.get("level"), body.get("comment", ""), body.get("channel", "online")
    if not isinstance(level, str) or not isinstance(comment, str) or not isinstance(channel, str):
        return error_json(422, "invalid_request", "level 必填; comment、channel 须为字符串",
                          [{"path": "$.level", "message": "必填"}])
    view = await _case_or_404(request)
    if view is None:
        return error_json(404, "not_found", "没有这个办件")
    problem = await rate_case(web_of(request), pack.id, view.record.number, level, comment[:500], channel[:32],
                              request=request)
    if problem is not None:
        return error_json(409 if "已经评价" in problem or "尚未办结" in problem else 422, "rating_refused", problem)
    return JSONResponse({"number": view.record.number, "level": level}, status_code=201)


async def openapi(request: Request) -> Response:
    return JSONResponse(document(web_of(request)))


def routes() -> list[Route]:
    from ..authz import PUBLIC

    j = "/api/v1/{jurisdiction}"
    return [
        api("/openapi.json", openapi, PUBLIC, name="openapi"),
        api("/api/v1/jurisdictions", jurisdictions, STAFF, name="api_jurisdictions"),
        api(j + "/items", items, STAFF, name="api_items"),
        api(j + "/items/{item}/form", item_form, STAFF, name="api_item_form"),
        api(j + "/cases", create_case, INTAKE, ("POST",), name="api_create_case"),
        api(j + "/cases/{number}", get_case, STAFF, name="api_case"),
        api(j + "/cases/{number}/deadline", deadline, STAFF, name="api_deadline"),
        api(j + "/cases/{number}/transitions/{name}", fire_transition, STAFF, ("POST",), name="api_transition"),
        api(j + "/cases/{number}/ratings", create_rating, STAFF, ("POST",), name="api_rating"),
        api(j + "/complaints", create_complaint, STAFF, ("POST",), name="api_create_complaint"),
        api(j + "/complaints/{number}", get_complaint, STAFF, name="api_complaint"),
    ]
