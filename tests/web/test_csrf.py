"""CSRF: every unsafe page route refuses a post without the session's token, or with another
session's token, before its handler runs; the JSON API takes no cookies and needs none."""

from __future__ import annotations

from starlette.routing import Route

ALL_ROLES = ("clerk", "window_head", "unit_head", "leader", "supervisor", "complaint_officer",
             "policy_officer", "admin", "section_head")


def _unsafe_page_routes(app):
    return [r for r in app.routes if isinstance(r, Route) and hasattr(r.endpoint, "access")
            and not r.endpoint.api and "POST" in r.methods]


def _path(route):
    values = {"jurisdiction": "xupu", "number": "XP-2026-000001", "item": "x", "name": "accept", "id": "1"}
    return route.path.format(**{k: values[k] for k in route.param_convertors})


def _everyone(h):
    from bianmin.web.bootstrap import create_staff

    h.run(create_staff, "all-roles", h.PASSWORD, "全部角色", [("xupu", r) for r in ALL_ROLES])

    class S:
        username = "all-roles"

    h.sign_in(S)


def test_every_unsafe_page_route_needs_the_token(h):
    _everyone(h)
    routes = _unsafe_page_routes(h.client.app)
    assert len(routes) >= 10
    for route in routes:
        missing = h.client.post(_path(route), data={"x": "1"}, follow_redirects=False)
        assert missing.status_code == 403, f"{route.path}: {missing.status_code}"
        assert "表单已失效" in missing.text


def test_another_sessions_token_is_refused(h):
    h.client.cookies.clear()
    foreign = h.csrf_of(h.client.get("/staff/sign-in").text)  # a real token, of an anonymous session
    h.client.cookies.clear()
    _everyone(h)
    for route in _unsafe_page_routes(h.client.app):
        response = h.client.post(_path(route), data={"csrf_token": foreign}, follow_redirects=False)
        assert response.status_code == 403, route.path


def test_sign_in_itself_needs_the_token(h):
    clerk = h.staff("xupu", "clerk")
    response = h.client.post("/staff/sign-in", data={"username": clerk.username, "password": h.PASSWORD},
                             follow_redirects=False)
    assert response.status_code == 403


def test_header_token_works_for_scripts(h):
    token = h.csrf_of(h.client.get("/xupu/status").text)
    response = h.client.post("/xupu/status", data={"number": "X", "digits": "0000"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200


def test_api_needs_no_csrf_token(h):
    headers = h.bearer(h.staff("xupu", "clerk"))
    response = h.client.post("/api/v1/xupu/cases", json={"item": "nothing", "data": {}}, headers=headers)
    assert response.status_code == 422
