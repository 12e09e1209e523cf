"""Public pages, no sign-in: catalogue, service guides, commitments, complaints, case status, rating.

The status lookup takes a case number and the last four digits of the applicant's phone. A wrong
number and wrong digits give the same page, byte for byte, after the same work (one indexed read
and one constant-time comparison either way), and tries are rate limited per client address and
per case number (ratelimit.py), so case numbers cannot be enumerated.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...forms.render import form_stylesheet
from ...store import open_record
from ...store.models import Rating, Record
from ...workflow import Actor, TransitionError
from .. import formview, ratelimit, trail
from ..authz import PUBLIC
from ..rendering import render
from ..routing import page, web_of
from ..services import case_view, clerk_renderer, rate_case

PUBLIC_ACTOR = Actor("public", "公众", frozenset({"public"}))
RATE_TOKEN_AGE = 30 * 60
_NUMBER = re.compile(r"^[A-Za-z0-9\-]{1,48}$")


async def form_css(request: Request) -> Response:
    """The forms package's stylesheet (groups, plugin widgets, hidden labels of the generated forms)."""
    return Response(form_stylesheet(), media_type="text/css", headers={"cache-control": "public, max-age=3600"})


async def home(request: Request) -> Response:
    return render(request, "public/home.html", packs=web_of(request).jurisdictions())


async def jurisdiction(request: Request) -> Response:
    return render(request, "public/jurisdiction.html", pack=request.state.pack)


async def item_guide(request: Request) -> Response:
    pack = request.state.pack
    try:
        item = pack.item(request.path_params["item"])
    except KeyError:
        return render(request, "error.html", status=404, status_code=404, message="没有这个事项")
    departments = {d.id: d for d in pack.departments}
    windows = {w.id: w for w in pack.windows}
    return render(request, "public/item.html", pack=pack, item=item,
                  department=departments.get(item.department), window=windows.get(item.window))


async def commitments(request: Request) -> Response:
    return render(request, "public/commitments.html", pack=request.state.pack)


async def complaint(request: Request) -> Response:
    pack = request.state.pack
    form = formview.form_of(pack, "complaint")
    if request.method == "GET":
        return render(request, "public/complaint.html", pack=pack, fv=formview.view(pack, form))
    posted = await request.form()
    data = formview.from_html(form, posted)
    rows = formview.rows_to_add(form, posted)
    if rows is not None:  # "添加一行": the same answers with one more row, nothing stored
        return render(request, "public/complaint.html", pack=pack, fv=formview.view(pack, form, None, data, rows=rows))
    data.setdefault("channel", "online")
    cleaned, errors = formview.check(pack, form, data, None)
    if errors:
        return render(request, "public/complaint.html", status=422, pack=pack,
                      fv=formview.view(pack, form, None, data, errors))
    try:
        result = await open_record(pack.id, "complaint", cleaned, PUBLIC_ACTOR, cleaned,
                                   dt.datetime.now().replace(microsecond=0),
                                   registry=web_of(request).registry,
                                   renderer=await clerk_renderer(request))
    except TransitionError as exc:
        return render(request, "public/complaint.html", status=422, pack=pack,
                      fv=formview.view(pack, form, None, data, exc.field_errors), message=exc.message)
    await trail.record("complaint_create", request, number=result.record.number, channel=cleaned.get("channel"))
    return render(request, "public/complaint_done.html", pack=pack, number=result.record.number)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(web_of(request).secret, salt="rate-case")


async def status(request: Request) -> Response:
    pack = request.state.pack
    if request.method == "GET":
        # The QR code printed on documents links here with ?number=: the form comes with the
        # number filled in, nothing is looked up, and the digits are still asked for (and rate
        # limited) as for a number typed by hand.
        wanted = request.query_params.get("number", "").strip().upper()
        return render(request, "public/status.html", pack=pack, found=None,
                      prefill=wanted if _NUMBER.match(wanted) else "")
    posted = await request.form()
    number = str(posted.get("number") or "").strip().upper()
    digits = str(posted.get("digits") or "").strip()
    web = web_of(request)
    ip = request.client.host if request.client else "?"
    if not (web.limiter.hit(f"ip:{ip}", ratelimit.LOOKUP_PER_IP)
            and web.limiter.hit(f"case:{pack.id}:{number}", ratelimit.LOOKUP_PER_CASE)):
        return render(request, "public/status.html", status=429, pack=pack, found=None, limited=True)
    record = None
    if _NUMBER.match(number):
        record = await Record.get_or_none(jurisdiction_id=pack.id, number=number, kind="case")
    phone = str((record.subject or {}).get("phone") or "") if record is not None else ""
    expected = phone[-4:] if len(phone) >= 4 else "\0" * 8
    matched = hmac.compare_digest(expected.encode(), digits.encode()[:8]) and record is not None
    if not matched:
        return render(request, "public/status.html", status=200, pack=pack, found=False)
    view = await case_view(web, pack.id, record.number, public=True)
    rated = await Rating.exists(record_id=record.id)
    token = _serializer(request).dumps({"j": pack.id, "n": record.number})
    return render(request, "public/status.html", pack=pack, found=True, case=view, rated=rated,
                  rate_token=token, levels=view.pack.ratings.levels)


async def rate(request: Request) -> Response:
    pack = request.state.pack
    posted = await request.form()
    try:
        claim = _serializer(request).loads(str(posted.get("token") or ""), max_age=RATE_TOKEN_AGE)
    except BadSignature:
        return render(request, "public/status.html", status=400, pack=pack, found=None, expired=True)
    if claim.get("j") != pack.id:
        return render(request, "public/status.html", status=400, pack=pack, found=None, expired=True)
    outcome = await rate_case(web_of(request), pack.id, claim["n"], str(posted.get("level") or ""),
                              str(posted.get("comment") or "")[:500], channel="online", request=request)
    if outcome is not None:
        return render(request, "public/status.html", status=422, pack=pack, found=None, rate_error=outcome)
    return render(request, "public/rated.html", pack=pack)


def routes() -> list[Route]:
    j = "/{jurisdiction}"
    return [
        page("/", home, PUBLIC, name="home"),
        page("/forms.css", form_css, PUBLIC, name="form_css"),
        page(j + "/", jurisdiction, PUBLIC, name="jurisdiction"),
        page(j + "/items/{item}", item_guide, PUBLIC, name="item_guide"),
        page(j + "/commitments", commitments, PUBLIC, name="commitments"),
        page(j + "/complaints/new", complaint, PUBLIC, ("GET", "POST"), name="complaint_new"),
        page(j + "/status", status, PUBLIC, ("GET", "POST"), name="status"),
        page(j + "/status/rate", rate, PUBLIC, ("POST",), name="rate"),
    ]

