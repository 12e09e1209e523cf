"""The audit trail page: the entries of one jurisdiction, newest first, with filters.

Only the jurisdiction's ``admin`` and ``supervisor`` open it (authz.py); entries of other
jurisdictions are never listed, whatever the filters say. Entries are shown as stored: personal
data was masked when they were written (trail.py).
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import trail
from ..authz import roles
from ..rendering import render
from ..routing import page

AUDITORS = roles("admin", "supervisor")
LIMIT = 200


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def audit_page(request: Request) -> Response:
    pack = request.state.pack
    q = request.query_params
    f = {"event": q.get("event", "") if q.get("event", "") in trail.EVENTS else "",
         "username": q.get("username", "").strip()[:64], "number": q.get("number", "").strip().upper()[:48],
         "start": q.get("start", ""), "end": q.get("end", "")}
    start, end = _date(f["start"]), _date(f["end"])
    bad_dates = (f["start"] and start is None) or (f["end"] and end is None)
    rows = await trail.listing(pack.id, event=f["event"], username=f["username"], number=f["number"],
                               start=start, end=end, limit=LIMIT)
    return render(request, "staff/audit.html", status=422 if bad_dates else 200, pack=pack, rows=rows, f=f,
                  events=trail.EVENTS, limit=LIMIT, bad_dates=bad_dates)


def routes() -> list[Route]:
    return [page("/staff/{jurisdiction}/audit", audit_page, AUDITORS, name="audit")]
