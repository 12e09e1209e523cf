"""The JSON API: tokens, cases end to end, idempotency, errors, complaints and ratings; every
response checked against the OpenAPI document (the contract)."""

from __future__ import annotations

import re

import jsonschema
import pytest
from starlette.routing import Route

PHONE = "13812345678"


class Contract:
    """Checks each response against ``/openapi.json``: its status is documented for the operation,
    and its body matches the documented schema."""

    def __init__(self, client) -> None:
        self.client = client
        self.doc = client.get("/openapi.json").json()
        self.seen: set[tuple[str, str, str]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        for template, ops in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in ops:
                return template, ops[method.lower()]
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def call(self, method: str, path: str, **kwargs):
        response = self.client.request(method, path, **kwargs)
        template, op = self.operation(method, path)
        status = str(response.status_code)
        assert status in op["responses"], f"{method} {template}: status {status} not documented: {response.text}"
        schema = op["responses"][status]["content"]["application/json"]["schema"]
        jsonschema.validate(response.json(), {"components": self.doc["components"], **schema},
                            cls=jsonschema.Draft202012Validator)
        self.seen.add((method, template, status))
        return response


@pytest.fixture
def api(client):
    return Contract(client)


def _intake_data(pack, item):
    return {"applicant_type": "person", "applicant_name": "张三", "id_number": "11010519491231002X", "phone": PHONE,
            "delivery": "window", "materials": [{"id": m.id, "received": True, "pages": 2} for m in item.materials]}


def _promised(client, jurisdiction="xupu"):
    pack = client.app.state.web.pack(jurisdiction)
    return pack, next(i for i in pack.items if i.kind == "promised")


def test_document_lists_every_api_route(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    routes = {(r.path, m.lower()) for r in client.app.routes if isinstance(r, Route)
              and r.path.startswith("/api/") for m in r.methods if m != "HEAD"}
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented
    jsonschema.Draft202012Validator.check_schema({"components": doc["components"]})


def test_without_token_401_with_a_bad_one_401(api):
    assert api.call("GET", "/api/v1/jurisdictions").status_code == 401
    bad = api.call("GET", "/api/v1/jurisdictions", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthenticated"


def test_cookies_do_not_authenticate_the_api(h, api):
    h.sign_in(h.staff("xupu", "clerk"))
    assert api.call("GET", "/api/v1/xupu/items").status_code == 401


def test_catalogue_and_form_schema(h, api):
    headers = h.bearer(h.staff("xupu", "clerk"))
    assert any(j["id"] == "xupu" for j in api.call("GET", "/api/v1/jurisdictions", headers=headers).json())
    items = api.call("GET", "/api/v1/xupu/items", headers=headers).json()
    schema = api.call("GET", f"/api/v1/xupu/items/{items[0]['id']}/form", headers=headers).json()
    assert schema["$schema"].endswith("2020-12/schema") and "applicant_name" in schema["properties"]
    assert api.call("GET", "/api/v1/xupu/items/none/form", headers=headers).status_code == 404


def test_case_lifecycle_with_idempotency(h, api):
    clerk = h.staff("xupu", "clerk")
    headers = h.bearer(clerk)
    pack, item = _promised(h.client)
    body = {"item": item.id, "data": _intake_data(pack, item)}
    first = api.call("POST", "/api/v1/xupu/cases", json=body, headers={**headers, "Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    again = api.call("POST", "/api/v1/xupu/cases", json=body, headers={**headers, "Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    number = first.json()["number"]
    assert api.call("GET", f"/api/v1/xupu/cases/{number}", headers=headers).json()["state"] == "received"
    accepted = api.call("POST", f"/api/v1/xupu/cases/{number}/transitions/accept", json={"expected_version": 1},
                        headers=headers)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    stale = api.call("POST", f"/api/v1/xupu/cases/{number}/transitions/pause", json={"expected_version": 1},
                     headers=headers)
    assert stale.status_code == 409
    deadline = api.call("GET", f"/api/v1/xupu/cases/{number}/deadline", headers=headers).json()
    assert deadline["clocks"] and any(c["explanation"] for c in deadline["clocks"])
    wrong = api.call("POST", f"/api/v1/xupu/cases/{number}/transitions/deliver", json={}, headers=headers)
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "wrong_state"
    done = api.call("POST", f"/api/v1/xupu/cases/{number}/transitions/complete",
                    json={"data": {"outcome": "approved"}}, headers=headers)
    assert done.status_code == 200, done.text
    level = pack.ratings.levels[0].id
    assert api.call("POST", f"/api/v1/xupu/cases/{number}/ratings", json={"level": level}, headers=headers).status_code == 201
    assert api.call("POST", f"/api/v1/xupu/cases/{number}/ratings", json={"level": level}, headers=headers).status_code == 409


def test_form_errors_have_paths(h, api):
    headers = h.bearer(h.staff("xupu", "clerk"))
    _pack, item = _promised(h.client)
    bad = api.call("POST", "/api/v1/xupu/cases", json={"item": item.id, "data": {"phone": "123"}}, headers=headers)
    assert bad.status_code == 422
    paths = {f["path"] for f in bad.json()["error"]["fields"]}
    assert "$.applicant_name" in paths and "$.phone" in paths


def test_bad_json_and_unknown_item(h, api):
    headers = h.bearer(h.staff("xupu", "clerk"))
    raw = api.call("POST", "/api/v1/xupu/cases", content=b"{nope", headers={**headers, "content-type": "application/json"})
    assert raw.status_code == 400 and raw.json()["error"]["code"] == "invalid_json"
    unknown = api.call("POST", "/api/v1/xupu/cases", json={"item": "nothing", "data": {}}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["path"] == "$.item"


def test_role_refused_by_the_workflow_is_403(h, api):
    clerk, leader = h.staff("xupu", "clerk"), h.staff("xupu", "leader")
    pack, item = _promised(h.client)
    number = api.call("POST", "/api/v1/xupu/cases", json={"item": item.id, "data": _intake_data(pack, item)},
                      headers=h.bearer(clerk)).json()["number"]
    refused = api.call("POST", f"/api/v1/xupu/cases/{number}/transitions/accept", json={}, headers=h.bearer(leader))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_other_jurisdiction_cannot_read_or_write(h, api):
    clerk, outsider = h.staff("xupu", "clerk"), h.staff("jiangyin", "clerk")
    pack, item = _promised(h.client)
    number = api.call("POST", "/api/v1/xupu/cases", json={"item": item.id, "data": _intake_data(pack, item)},
                      headers=h.bearer(clerk)).json()["number"]
    assert api.call("GET", f"/api/v1/xupu/cases/{number}", headers=h.bearer(outsider)).status_code == 403
    assert api.call("GET", f"/api/v1/jiangyin/cases/{number}", headers=h.bearer(outsider)).status_code == 404


def test_complaint_identity_only_for_named_roles(h, api):
    clerk, officer = h.staff("dahepin", "clerk"), h.staff("dahepin", "complaint_officer")
    pack = h.client.app.state.web.pack("dahepin")
    body = {"target": "某窗口", "matter": "推诿", "occurred_at": "2026-11-20 10:00", "place": "大厅",
            "category": pack.complaints.categories[0].id, "channel": "phone",
            "complainant_name": "王五", "complainant_phone": PHONE}
    created = api.call("POST", "/api/v1/dahepin/complaints", json=body, headers=h.bearer(clerk))
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    hidden = api.call("GET", f"/api/v1/dahepin/complaints/{number}", headers=h.bearer(clerk)).json()
    assert "complainant_name" not in hidden["subject"] and hidden["identity_visible"] is False
    shown = api.call("GET", f"/api/v1/dahepin/complaints/{number}", headers=h.bearer(officer)).json()
    assert shown["subject"]["complainant_name"] == "王五"


def test_request_size_limit(h, api):
    headers = h.bearer(h.staff("xupu", "clerk"))
    big = api.call("POST", "/api/v1/xupu/cases", content=b"x" * (1024 * 1024 + 1),
                   headers={**headers, "content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"


def test_a_deadline_past_the_holiday_data_is_shown_as_missing_not_guessed(h, api, monkeypatch):
    """A pack that turns provisional deadlines off (calendar.provisional.allowed: false), a case
    taken and accepted on 2026-12-28 whose limits run into 2027 (no holiday data): nothing is
    refused or lost, no date is guessed; the deadline endpoint says why with a 422, the record
    page names the missing year; with provisional data allowed the dates appear, marked 暂定."""
    import dataclasses
    import datetime as dt

    from bianmin.web.routes import api as api_routes

    registry = h.client.app.state.web.registry

    def provisional(allowed: bool) -> None:
        for pack in registry.versions("xupu"):
            registry.add(dataclasses.replace(pack, calendar=dataclasses.replace(pack.calendar,
                                                                                provisional_allowed=allowed)))

    provisional(False)
    monkeypatch.setattr(api_routes, "_now", lambda: dt.datetime(2026, 12, 28, 10, 0))
    clerk = h.staff("xupu", "clerk")
    headers = h.bearer(clerk)
    pack, item = _promised(h.client)
    taken = api.call("POST", "/api/v1/xupu/cases", json={"item": item.id, "data": _intake_data(pack, item)},
                     headers=headers)
    assert taken.status_code == 201, taken.text
    number = taken.json()["number"]
    accepted = api.call("POST", f"/api/v1/xupu/cases/{number}/transitions/accept", json={"expected_version": 1},
                        headers=headers)
    assert accepted.status_code == 200 and accepted.json()["deadlines"] == []
    h.sign_in(clerk)
    page = h.client.get(f"/staff/xupu/records/{number}")
    assert page.status_code == 200 and "2027 年的节假日安排尚未收录" in page.text
    provisional(True)
    shown = api.call("GET", f"/api/v1/xupu/cases/{number}", headers=headers).json()
    assert shown["deadlines"] and all(d["provisional"] for d in shown["deadlines"] if d["deadline"] >= "2027")
