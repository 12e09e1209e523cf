"""Appraisal on the desk: the reports (效能报表, mounted from :mod:`bianmin.reports.web`) and the
marks appraisers give staff members on the pack's weighted dimensions (xupu 九(二)2②
德、能、勤、绩、廉), which the appraisal of that period then uses.

Both are for supervisors and leaders of the jurisdiction (xupu 九(三): the 督查室 with the
效能投诉中心 organises the appraisal). Registers with personal data unmasked only for the roles
the pack lets see complainants' identity. An appraiser never marks themselves (九(一)1 客观公正).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ...reports import pages
from ...reports import web as report_web
from ...scoring import queries
from ...scoring.appraisal import Period
from ...store import db
from ...store.models import AppraisalMark, Staff
from .. import authz
from .. import trail
from ..rendering import error_page, render
from ..routing import page, web_of

APPRAISERS = authz.roles("supervisor", "leader")


def _authorize(request: Request, actor: Any, jurisdiction: str, action: str) -> bool:
    """The guard already admitted supervisors and leaders; unmasked registers need more."""
    if action == "export_unmasked":
        pack = request.state.pack
        return authz.may(request.state.principal, jurisdiction, pack, pack_roles=authz.confidential_roles)
    return True


def _layout(request: Request, title: str, body: str) -> Response:
    # The report's HTML is built by bianmin.reports.pages, which escapes every value itself.
    return render(request, "staff/report.html", pack=request.state.pack, title=title, body=Markup(body))


def report_routes() -> list[BaseRoute]:
    """The report router's routes, each behind the desk's guard, mounted under the desk."""
    inner = report_web.router(_authorize, registry=lambda request: web_of(request).registry, layout=_layout)
    guarded = [page(r.path, r.endpoint, APPRAISERS, sorted(r.methods - {"HEAD"}) if r.methods else ("GET",),
                    name=r.name) for r in inner.routes if isinstance(r, Route)]
    return [Mount("/staff/{jurisdiction}/reports", routes=guarded)]


def _period(request: Request) -> Period:
    q = request.query_params
    return pages.parse_period(q.get("period"), q.get("year"), q.get("n"), dt.date.today())


async def marks(request: Request) -> Response:
    """The marks of every staff member of the jurisdiction for one period: shown, and saved."""
    pack = request.state.pack
    dims = pack.appraisal.dimensions
    if not dims:
        return error_page(request, 404, "errors.not_found")
    try:
        period = _period(request)
    except ValueError:
        return error_page(request, 400, "accountability.bad_period")
    base = float(pack.appraisal.base_score)
    people = await Staff.filter(roles__jurisdiction_id=pack.id, active=True).distinct().order_by("id")
    given = (await queries.marks(pack.id, [period.year])).get((period.kind, period.year, period.n), {})
    values = {(str(p.id), d.id): given.get(("staff", str(p.id)), {}).get(d.id) for p in people for d in dims}
    principal = request.state.principal
    errors: dict[tuple[str, str], str] = {}
    if request.method == "POST":
        form = await request.form()
        wanted: dict[tuple[str, str], float | None] = {}
        for p in people:
            for d in dims:
                text = str(form.get(f"m.{p.id}.{d.id}") or "").strip()
                if text == "":
                    wanted[(str(p.id), d.id)] = None
                    continue
                try:
                    mark = float(text)
                except ValueError:
                    mark = float("nan")
                if not 0 <= mark <= base:  # NaN fails too
                    errors[(str(p.id), d.id)] = f"{d.name}: 须为 0–{base:g} 之间的数"
                elif p.id == principal.id and mark != values[(str(p.id), d.id)]:
                    errors[(str(p.id), d.id)] = "不能为本人评分"
                wanted[(str(p.id), d.id)] = mark
        if errors:
            values.update({k: v for k, v in wanted.items()})
            return render(request, "staff/marks.html", status=422, pack=pack, period=period, people=people, dims=dims,
                          values=values, errors=errors, base=base, message="部分评分有误, 未保存")
        changed = await _save(request, pack.id, period, principal.id, values, wanted)
        return RedirectResponse(f"/staff/{pack.id}/appraisal/marks?period={period.kind}&year={period.year}"
                                f"&n={period.n}&saved={len(changed)}", status_code=303)
    saved = request.query_params.get("saved")
    return render(request, "staff/marks.html", pack=pack, period=period, people=people, dims=dims, values=values,
                  errors=errors, base=base, message=f"已保存 {saved} 项评分" if saved and saved.isdigit() else "")


async def _save(request: Request, jurisdiction: str, period: Period, appraiser: int,
                before: dict[tuple[str, str], float | None], wanted: dict[tuple[str, str], float | None]) -> list[str]:
    """Write what changed (a cleared field removes the mark), with its audit entry in the same
    transaction; ``staff:dimension old→new`` each."""
    now = dt.datetime.now().replace(microsecond=0)
    changed: list[str] = []
    async with db.transaction() as tx:
        for (sid, dim), mark in wanted.items():
            old = before.get((sid, dim))
            if mark == old:
                continue
            key = {"jurisdiction_id": jurisdiction, "staff_id": int(sid), "period_kind": period.kind,
                   "year": period.year, "n": period.n, "dimension": dim}
            if mark is None:
                await AppraisalMark.filter(**key).delete()
            else:
                await AppraisalMark.update_or_create(defaults={"mark": mark, "marked_by": str(appraiser),
                                                               "marked_at": now}, **key)
            changed.append(f"{sid}:{dim} {old if old is not None else '-'}→{mark if mark is not None else '-'}")
        await trail.record("appraisal_marks", request, tx=tx, jurisdiction=jurisdiction, period=period.slug,
                           changed=changed)
    return changed


def routes() -> list[BaseRoute]:
    return [page("/staff/{jurisdiction}/appraisal/marks", marks, APPRAISERS, ("GET", "POST"), name="appraisal_marks"),
            *report_routes()]
