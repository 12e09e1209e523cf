"""The report routes, as a Starlette ``Router`` the web app mounts under
``/desk/{jurisdiction}/reports``:

============================  ===========================================================
``GET /``                      the report page (``?period=month|quarter|year&year=&n=``)
``GET /appraisal``             every score with how it was reached, and the selections
``GET /export.csv``            one table of the report (``&table=windows|items|...``)
``GET /export.xlsx``           every table, one sheet each
``GET /registers/{id}.csv``    a register (inquiry, negative_report, complaint,
``GET /registers/{id}.xlsx``   unresolved_matter, agency) of the period; ``&unmasked=1``
============================  ===========================================================

The app authenticates: the actor is ``request.state.actor``, else ``request.scope["user"]``, else
the web app's principal (``request.state.principal.actor(jurisdiction)``). Authorization is the
app's too: ``authorize(request, actor, jurisdiction, action)`` (sync or async) with ``action``
one of ``view``, ``export`` and ``export_unmasked`` (personal data in registers); a false
answer is a 403. Pages are fragments put in ``layout(request, title, body)`` when given, else in
a bare document.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, Router

from ..documents.registers import REGISTERS
from ..packs import Registry
from ..packs.registry import UnknownPack
from ..scoring.appraisal import Period
from ..store import service
from . import export, pages

Authorize = Callable[[Request, Any, str, str], "bool | Awaitable[bool]"]
Layout = Callable[[Request, str, str], "Response | Awaitable[Response]"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def actor_of(request: Request, jurisdiction: str) -> Any:
    actor = getattr(request.state, "actor", None)
    if actor is None:
        actor = request.scope.get("user")
    if actor is None:
        principal = getattr(request.state, "principal", None)
        if principal is not None and hasattr(principal, "actor"):
            actor = principal.actor(jurisdiction)
    return actor


def router(authorize: Authorize, *, registry: Registry | Callable[[Request], Registry] | None = None,
           layout: Layout | None = None, today: Callable[[], dt.date] = dt.date.today) -> Router:
    """The report routes; ``registry`` is the packs' registry, or a function of the request giving
    it (the web app's, which grows when packs are activated); ``today`` gives the default period
    (the current year)."""

    def packs(request: Request) -> Registry:
        if callable(registry) and not isinstance(registry, Registry):
            return registry(request)
        return registry or service.default_registry()

    async def allowed(request: Request, action: str) -> tuple[str, Response | None]:
        jurisdiction = request.path_params.get("jurisdiction", "")
        if jurisdiction not in packs(request).jurisdictions():
            return jurisdiction, PlainTextResponse("没有这个辖区", status_code=404)
        actor = actor_of(request, jurisdiction)
        if actor is None:
            return jurisdiction, PlainTextResponse("请先登录", status_code=401)
        answer = authorize(request, actor, jurisdiction, action)
        if inspect.isawaitable(answer):
            answer = await answer
        if not answer:
            return jurisdiction, PlainTextResponse("无权访问", status_code=403)
        return jurisdiction, None

    def period_of(request: Request) -> Period:
        q = request.query_params
        return pages.parse_period(q.get("period"), q.get("year"), q.get("n"), today())

    async def report(request: Request, action: str) -> tuple[pages.Report | None, Response | None]:
        jurisdiction, refused = await allowed(request, action)
        if refused is not None:
            return None, refused
        try:
            period = period_of(request)
        except ValueError as exc:
            return None, PlainTextResponse(f"期间有误: {exc}", status_code=400)
        try:
            return await pages.build(jurisdiction, period, registry=packs(request)), None
        except UnknownPack:
            return None, PlainTextResponse("没有这个辖区", status_code=404)

    async def show(request: Request, title: str, body: str) -> Response:
        if layout is None:
            return HTMLResponse(pages.document(title, body))
        shown = layout(request, title, body)
        return await shown if inspect.isawaitable(shown) else shown

    def base_of(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def index(request: Request) -> Response:
        built, refused = await report(request, "view")
        if built is None:
            return refused  # type: ignore[return-value]
        return await show(request, f"{built.pack.name} 效能报表 {built.period.label}",
                          pages.html(built, base=base_of(request)))

    async def appraisal(request: Request) -> Response:
        built, refused = await report(request, "view")
        if built is None:
            return refused  # type: ignore[return-value]
        return await show(request, f"{built.pack.name} 效能考评 {built.period.label}", pages.appraisal_html(built))

    async def export_report(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            return PlainTextResponse("只支持 csv 和 xlsx", status_code=404)
        built, refused = await report(request, "export")
        if built is None:
            return refused  # type: ignore[return-value]
        tables = export.tables(built)
        name = f"{built.pack.id}-report-{built.period.slug}"
        if fmt == "xlsx":
            return _download(export.to_xlsx(tables, f"{built.pack.name} {built.period.label}"), XLSX, f"{name}.xlsx")
        wanted = request.query_params.get("table", "windows")
        table = next((t for t in tables if t.id == wanted), None)
        if table is None:
            return PlainTextResponse(f"没有表格 {wanted}; 可选: {', '.join(t.id for t in tables)}", status_code=404)
        return _download(export.to_csv(table), CSV, f"{name}-{table.id}.csv")

    async def register(request: Request) -> Response:
        register_id, fmt = request.path_params["register"], request.path_params["fmt"]
        if register_id not in export.KINDS or fmt not in ("csv", "xlsx"):
            return PlainTextResponse("没有这个登记簿", status_code=404)
        unmasked = request.query_params.get("unmasked") == "1"
        jurisdiction, refused = await allowed(request, "export_unmasked" if unmasked else "export")
        if refused is not None:
            return refused
        try:
            period = period_of(request)
            pack = pages.pack_for(packs(request), jurisdiction, period)
        except ValueError as exc:
            return PlainTextResponse(f"期间有误: {exc}", status_code=400)
        if export.KINDS[register_id] not in {w.subject for w in pack.workflows}:
            return PlainTextResponse("本辖区没有这个登记簿", status_code=404)
        data = await export.register_file(pack, register_id, period.start, period.end, fmt, unmasked=unmasked)
        name = f"{pack.id}-{register_id}-{period.slug}.{fmt}"
        return _download(data, XLSX if fmt == "xlsx" else CSV, name, REGISTERS[register_id].name)

    return Router(routes=[
        Route("/", index, name="reports"),
        Route("/appraisal", appraisal, name="reports_appraisal"),
        Route("/export.{fmt}", export_report, name="reports_export"),
        Route("/registers/{register}.{fmt}", register, name="reports_register"),
    ])


def _download(data: bytes, media_type: str, filename: str, title: str = "") -> Response:
    names = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote((title + '-' if title else '') + filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": names,
                                                          "Cache-Control": "private, no-store"})
