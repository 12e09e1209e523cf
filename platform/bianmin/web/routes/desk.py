"""Desks beside the case queue: first inquiry, complaints, unresolved matters, negative reports for
leaders, deduction hearings, and the backup-post switch (AB岗).

Each register lists the records of one workflow and, where staff open them, the generated form
of that workflow's opening. Who may open each page is declared below (authz.py): complaints
for the complaint roles and the roles the pack lets see complainants, negative reports for the
pack's review roles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...store import db, open_record, transition
from ...store.models import BackupAssignment, Record, RoleAssignment, Staff
from ...workflow import TransitionError
from .. import authz, formview, trail
from ..authz import STAFF, roles
from ..rendering import error_page, render
from ..routing import page, web_of
from ..serialize import CONFIDENTIAL
from ..services import clerk_renderer


@dataclass(frozen=True)
class Register:
    slug: str
    workflow: str
    title_key: str
    form: str | None  # the opening form, when staff open these records here
    access: authz.Access


REGISTERS = (
    Register("inquiries", "inquiry", "staff.inquiry", "inquiry", STAFF),
    Register("complaints", "complaint", "staff.complaints", "complaint",
             roles("complaint_officer", "supervisor", pack_roles=authz.confidential_roles)),
    Register("unresolved", "unresolved_matter", "staff.unresolved", "unresolved_matter", STAFF),
    Register("negative-reports", "negative_report", "staff.negative_reports", None,
             roles("leader", pack_roles=authz.review_roles)),
    Register("deductions", "deduction", "staff.deductions", None, STAFF),
)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _register_view(reg: Register):
    async def listing(request: Request) -> Response:
        pack = request.state.pack
        if not any(w.id == reg.workflow for w in pack.workflows):
            return error_page(request, 404, "errors.not_found")
        form = formview.form_of(pack, reg.form) if reg.form else None
        records = await Record.filter(jurisdiction_id=pack.id, workflow_id=reg.workflow).order_by("-created_at").limit(200)
        show_identity = reg.workflow != "complaint" or authz.may(
            request.state.principal, pack.id, pack, pack_roles=authz.confidential_roles)
        if request.method == "GET" or form is None:
            return render(request, "staff/register.html", pack=pack, reg=reg, records=records,
                          fv=formview.view(pack, form) if form else None, show_identity=show_identity,
                          hidden=CONFIDENTIAL, workflow=pack.workflow(reg.workflow))
        posted = await request.form()
        data = formview.from_html(form, posted)
        rows = formview.rows_to_add(form, posted)
        if rows is not None:  # "添加一行": the same answers with one more row, nothing stored
            return render(request, "staff/register.html", pack=pack, reg=reg, records=records,
                          fv=formview.view(pack, form, None, data, rows=rows), show_identity=show_identity,
                          hidden=CONFIDENTIAL, workflow=pack.workflow(reg.workflow))
        if reg.workflow == "complaint":
            data.setdefault("channel", "in_person")
        cleaned, errors = formview.check(pack, form, data, None)
        message = None
        if not errors:
            try:
                actor = request.state.principal.actor(pack.id)
                result = await open_record(pack.id, reg.workflow, cleaned, actor, cleaned, _now(),
                                           registry=web_of(request).registry,
                                           renderer=await clerk_renderer(request))
            except TransitionError as exc:
                message, errors = exc.message, exc.field_errors
            else:
                await trail.record("record_open", request, number=result.record.number, workflow=reg.workflow)
                return RedirectResponse(f"/staff/{pack.id}/records/{result.record.number}", status_code=303)
        return render(request, "staff/register.html", status=422, pack=pack, reg=reg, records=records,
                      fv=formview.view(pack, form, None, data, errors), message=message,
                      show_identity=show_identity, hidden=CONFIDENTIAL, workflow=pack.workflow(reg.workflow))

    listing.__name__ = f"register_{reg.workflow}"
    return listing


async def backup(request: Request) -> Response:
    """AB岗: B starts covering for an absent colleague A, and ends it; B then acts with A's roles."""
    pack = request.state.pack
    principal = request.state.principal
    now = _now()
    if request.method == "POST":
        form = await request.form()
        action = form.get("action")
        if action == "start":
            absent_id = str(form.get("absent") or "")
            same = absent_id.isdigit() and await RoleAssignment.exists(staff_id=int(absent_id), jurisdiction_id=pack.id)
            if not same or int(absent_id) == principal.id:
                return error_page(request, 422, "errors.forbidden")
            absent = await Staff.get(id=int(absent_id))
            record = None
            if any(w.id == "handover" for w in pack.workflows):
                result = await open_record(pack.id, "handover", {"absent": str(absent.id), "backup": str(principal.id)},
                                           principal.actor(pack.id), {"reason": str(form.get("reason") or "")[:200]},
                                           now, registry=web_of(request).registry,
                                           renderer=await clerk_renderer(request))
                record = result.record
            async with db.transaction() as tx:  # the assignment and its audit entry together
                await BackupAssignment.create(using_db=tx, jurisdiction_id=pack.id, absent_id=absent.id,
                                              backup_id=principal.id, starts_at=now, handover=record)
                await trail.record("backup_start", request, tx=tx, number=record.number if record else "",
                                   absent=absent.id)
            web_of(request).principals.forget(principal.id)
        elif action == "end":
            cover_id = str(form.get("cover") or "")
            cover = await BackupAssignment.get_or_none(id=int(cover_id), backup_id=principal.id,
                                                       jurisdiction_id=pack.id, ends_at=None) if cover_id.isdigit() else None
            if cover is None:
                return error_page(request, 404, "errors.not_found")
            cover.ends_at = now
            async with db.transaction() as tx:
                await cover.save(using_db=tx, update_fields=["ends_at"])
                await trail.record("backup_end", request, tx=tx, absent=cover.absent_id)
            if cover.handover_id:
                handover = await Record.get(id=cover.handover_id)
                try:
                    await transition(pack.id, handover.number, "return", principal.actor(pack.id), {}, now,
                                     registry=web_of(request).registry,
                                     renderer=await clerk_renderer(request))
                except TransitionError:
                    pass  # the hand-over's own roles may differ; the assignment has ended all the same
            web_of(request).principals.forget(principal.id)
        return RedirectResponse(f"/staff/{pack.id}/backup", status_code=303)
    colleagues = await Staff.filter(roles__jurisdiction_id=pack.id, active=True).exclude(id=principal.id).distinct()
    covers = await BackupAssignment.filter(backup_id=principal.id, jurisdiction_id=pack.id, ends_at=None).prefetch_related("absent")
    return render(request, "staff/backup.html", pack=pack, colleagues=colleagues, covers=covers)


def routes() -> list[Route]:
    j = "/staff/{jurisdiction}"
    out = [page(f"{j}/{reg.slug}", _register_view(reg), reg.access,
                ("GET", "POST") if reg.form else ("GET",), name=f"register_{reg.workflow}") for reg in REGISTERS]
    out.append(page(j + "/backup", backup, STAFF, ("GET", "POST"), name="backup"))
    return out
