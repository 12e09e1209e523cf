"""The authorization matrix: every route of the route table × every role (and nobody) × own or
another jurisdiction. A route is opened when the guard lets the request through (any status but
401, 403 or the redirect to sign-in) and must be opened exactly when the route's declared access
allows it; the declarations themselves are pinned for the restricted routes below."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.routing import Mount, Route

from bianmin.store import intake
from bianmin.web import authz
from bianmin.web.auth import load_principal

ROLES = ("clerk", "window_head", "unit_head", "leader", "supervisor", "complaint_officer", "agent",
         "policy_officer", "admin", "section_head")
OWN, OTHER = "xupu", "jiangyin"
# The restricted routes and who opens them in xupu (whose pack names section_head, leader and
# unit_head as negative-report reviewers, and complaint_officer for complainants' identity).
PINNED = {
    "new_case": {"clerk"},
    "admin_console": {"policy_officer", "admin"}, "admin_upload": {"policy_officer", "admin"},
    "admin_activate": {"policy_officer", "admin"}, "admin_traceability": {"policy_officer", "admin"},
    "register_complaint": {"complaint_officer", "supervisor"},
    "register_negative_report": {"leader", "section_head", "unit_head"},
    "api_create_case": {"clerk"},
    "hearing_record": {"supervisor"}, "hearing_decision": {"supervisor"},
    "appraisal_marks": {"supervisor", "leader"}, "reports": {"supervisor", "leader"},
    "reports_appraisal": {"supervisor", "leader"}, "reports_export": {"supervisor", "leader"},
    "reports_register": {"supervisor", "leader"},
}


def _routes(app):
    """Every guarded route, those of mounted routers (the reports) included, with their full path."""
    found = []
    for r in app.routes:
        if isinstance(r, Mount):
            found += [Route(r.path + sub.path, sub.endpoint, methods=sub.methods, name=sub.name)
                      for sub in r.routes if isinstance(sub, Route) and hasattr(sub.endpoint, "access")]
        elif isinstance(r, Route) and hasattr(r.endpoint, "access"):
            found.append(r)
    return found


def _path(route: Route, number: str, item: str) -> str:
    values = {"jurisdiction": OWN, "number": number, "item": item, "name": "accept", "id": "1",
              "sha": "0" * 64, "register": "inquiry", "fmt": "csv"}
    return route.path.format(**{k: values[k] for k in route.param_convertors})


def _expected(route: Route, role: str | None, own: bool, pack) -> bool:
    access = route.endpoint.access
    if access.kind == "public":
        return True
    if role is None:
        return False
    if "jurisdiction" not in route.param_convertors:
        return True
    if not own:
        return False
    return access.kind == "staff" or role in authz.allowed_roles(access, pack)


def _opened(response, api: bool = True) -> bool:
    if response.status_code == 403 or (api and response.status_code == 401):
        return False
    return not (response.status_code == 303 and "/staff/sign-in" in response.headers.get("location", ""))


def test_restricted_routes_are_declared_as_pinned(app):
    pack = app.state.web.pack(OWN)
    for route in _routes(app):
        if route.name in PINNED:
            declared = {r for r in ROLES if _expected(route, r, True, pack)}
            assert declared == PINNED[route.name], route.name


def test_matrix(h):
    app = h.client.app
    web = app.state.web
    pack = web.pack(OWN)
    item = next(i for i in pack.items if i.kind == "promised")
    maker = h.staff(OWN, "clerk")
    actor = h.run(load_principal, maker.id).actor(OWN)
    subject = {"applicant_name": "张三", "phone": "13812345678",
               "materials": [{"id": m.id, "received": True, "pages": 1} for m in item.materials]}
    number = h.run(intake, OWN, item.id, subject, actor, {}, dt.datetime.now().replace(microsecond=0),
                   registry=web.registry).record.number
    # Signing in and out change the session itself: tested in test_staff.py.
    routes = [r for r in _routes(app) if r.name not in ("sign_in", "sign_out")]
    failures = []
    checked = 0
    for role in (None, *ROLES):
        for own in (True, False):
            if role is None and not own:
                continue
            h.client.cookies.clear()
            headers = {}
            if role is not None:
                staff = h.staff(OWN if own else OTHER, role)
                h.sign_in(staff)
                headers = h.bearer(staff)
            token = h.csrf_of(h.client.get("/staff/sign-in").text)
            for route in routes:
                path = _path(route, number, item.id)
                for method in sorted(route.methods - {"HEAD"}):
                    if route.endpoint.api:
                        saved = dict(h.client.cookies)
                        h.client.cookies.clear()
                        response = h.client.request(method, path, headers=headers,
                                                    json={} if method == "POST" else None)
                        h.client.cookies.update(saved)
                    else:
                        data = {"csrf_token": token} if method == "POST" else None
                        response = h.client.request(method, path, data=data, follow_redirects=False)
                    want = _expected(route, role, own, pack)
                    checked += 1
                    if _opened(response, route.endpoint.api) != want:
                        failures.append(f"{role or 'anonymous'} {'own' if own else 'other'} {method} {path}: "
                                        f"{response.status_code}, expected {'open' if want else 'refused'}")
    assert not failures, "\n".join(failures)
    assert checked > 400


@pytest.mark.parametrize("path", ["/staff/xupu/", "/api/v1/xupu/items"])
def test_deactivated_account_loses_access(h, path):
    from bianmin.store.models import Staff

    clerk = h.staff(OWN, "clerk")
    h.sign_in(clerk)
    headers = h.bearer(clerk)

    async def deactivate():
        await Staff.filter(id=clerk.id).update(active=False)

    h.run(deactivate)
    cache = h.client.app.state.web.principals
    later = cache.clock() + cache.ttl + 1
    cache.clock = lambda: later  # roles are cached for PRINCIPAL_TTL seconds at most
    response = h.client.get(path, headers=headers, follow_redirects=False)
    assert not _opened(response)
