"""The audit trail: entries for sign-ins, refused sign-ins, transitions and pack activations in the
append-only ``audit_log`` table (the database refuses UPDATE and DELETE), personal data masked,
and the audit page for admins and supervisors of the jurisdiction only."""

from __future__ import annotations

import pytest
from tortoise.exceptions import OperationalError, TransactionManagementError

from bianmin import paths
from bianmin.privacy import mask_details, mask_text
from bianmin.store import db
from bianmin.store.models import AuditEntry


def _entries(h, **filters):
    async def read():
        return [e for e in await AuditEntry.filter(**filters).order_by("id")]

    return h.run(read)


def _fire(h, number, name, jurisdiction="xupu"):
    import re

    page = h.client.get(f"/staff/{jurisdiction}/records/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    return h.client.post(f"/staff/{jurisdiction}/records/{number}/transitions/{name}",
                         data={"csrf_token": h.csrf_of(page.text), "version": version.group(1) if version else ""},
                         follow_redirects=False)


def _new_case(h, jurisdiction="xupu"):
    pack = h.client.app.state.web.pack(jurisdiction)
    item = next(i for i in pack.items if i.kind == "promised")
    form = h.client.get(f"/staff/{jurisdiction}/cases/new?item={item.id}")
    data = {"csrf_token": h.csrf_of(form.text), "applicant_type": "person", "applicant_name": "张三",
            "phone": "13812345678", "id_number": "11010519491231002X", "delivery": "window",
            "materials": [m.id for m in item.materials], **{f"materials.{m.id}.pages": "2" for m in item.materials}}
    done = h.client.post(f"/staff/{jurisdiction}/cases/new?item={item.id}", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    return done.headers["location"].split("/")[-2]


def test_sign_in_and_failed_sign_in_are_entries(h):
    clerk = h.staff("xupu", "clerk")
    token = h.csrf_of(h.client.get("/staff/sign-in").text)
    bad = h.client.post("/staff/sign-in", data={"username": clerk.username, "password": "nope", "csrf_token": token})
    assert bad.status_code == 401
    unknown = h.client.post("/staff/sign-in", data={"username": "13812345678", "password": "x", "csrf_token": token})
    assert unknown.status_code == 401
    h.sign_in(clerk)
    failed = _entries(h, event="sign_in_failed")
    assert [(e.staff_id, e.username, e.jurisdiction) for e in failed] == [
        (clerk.id, clerk.username, "xupu"),  # a known account: listed in its jurisdiction
        (None, "138****5678", ""),  # an unknown name, masked: it may be someone's phone number
    ]
    (signed,) = _entries(h, event="sign_in")
    assert (signed.staff_id, signed.username, signed.jurisdiction, signed.ip) == (clerk.id, clerk.username, "xupu",
                                                                                  "testclient")


def test_a_transition_is_an_entry_with_who_and_which_record(h):
    clerk = h.staff("xupu", "clerk")
    h.sign_in(clerk)
    number = _new_case(h)
    assert _fire(h, number, "accept").status_code == 303
    (created,) = _entries(h, event="case_create")
    (accepted,) = _entries(h, event="transition")
    assert (accepted.staff_id, accepted.number, accepted.jurisdiction) == (clerk.id, number, "xupu")
    assert accepted.details == {"transition": "accept", "kind": "case"} and created.number == number
    assert "13812345678" not in str(created.details) and "11010519491231002X" not in str(created.details)


def test_a_pack_activation_is_an_entry(h):
    officer = h.staff("xupu", "policy_officer")
    h.sign_in(officer)
    original = (paths.policies_dir() / "xupu" / "pack.yaml").read_text(encoding="utf-8")
    token = h.csrf_of(h.client.get("/admin/xupu/").text)
    review = h.client.post("/admin/xupu/upload", data={"csrf_token": token}, files={
        "pack": ("pack.yaml", original.replace("name: 溆浦县", "name: 溆浦县(审计)", 1).encode(), "text/yaml")})
    assert review.status_code == 200, review.text
    content_hash = review.text.split('name="hash" value="')[1].split('"')[0]
    done = h.client.post("/admin/xupu/activate", data={"csrf_token": h.csrf_of(review.text), "hash": content_hash,
                                                       "effective_from": "2026-01-01"}, follow_redirects=False)
    assert done.status_code == 303
    (upload,) = _entries(h, event="pack_upload")
    (activation,) = _entries(h, event="pack_activate")
    assert upload.details["hash"] == content_hash and upload.details["problems"] == 0
    assert activation.staff_id == officer.id and activation.jurisdiction == "xupu"
    assert activation.details["hash"] == content_hash and activation.details["effective_from"] == "2026-01-01"


def test_a_refused_page_is_an_entry_of_the_jurisdiction_asked_for(h):
    clerk = h.staff("jiangyin", "clerk")
    h.sign_in(clerk)
    assert h.client.get("/staff/xupu/").status_code == 403
    (denied,) = _entries(h, event="denied")
    assert (denied.staff_id, denied.jurisdiction, denied.path) == (clerk.id, "xupu", "/staff/xupu/")


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET event = 'x'", "DELETE FROM audit_log"])
def test_entries_cannot_be_changed_or_deleted(h, statement):
    h.sign_in(h.staff("xupu", "clerk"))
    before = _entries(h)
    assert before

    async def tamper():
        async with db.transaction() as tx:
            await db.execute(tx, statement)

    with pytest.raises((OperationalError, TransactionManagementError)) as refused:
        h.run(tamper)
    assert "append-only" in str(refused.value)
    assert [(e.id, e.event) for e in _entries(h)] == [(e.id, e.event) for e in before]


def test_the_audit_page_is_for_admins_and_supervisors_of_the_jurisdiction(h):
    clerk = h.staff("xupu", "clerk")
    h.sign_in(clerk)
    assert h.client.get("/staff/xupu/audit").status_code == 403
    other = h.staff("jiangyin", "clerk")
    h.sign_in(other)  # a jiangyin entry
    supervisor = h.staff("xupu", "supervisor")
    h.sign_in(supervisor)
    page = h.client.get("/staff/xupu/audit")
    assert page.status_code == 200 and "审计日志" in page.text
    assert clerk.username in page.text and supervisor.username in page.text
    assert other.username not in page.text  # another jurisdiction's entries are never listed
    # The clerk's refused visit is listed too; the filters narrow the list.
    assert "拒绝访问" in page.text
    only = h.client.get(f"/staff/xupu/audit?event=denied&username={clerk.username}")
    assert clerk.username in only.text and supervisor.username not in only.text
    assert h.client.get("/staff/jiangyin/audit").status_code == 403
    assert h.client.get("/staff/xupu/audit?start=not-a-date").status_code == 422


def test_details_are_masked():
    assert mask_text("请回电 13812345678, 身份证 11010519491231002X") == "请回电 138****5678, 身份证 110105********002X"
    assert mask_details({"applicant_name": "张三", "phone": "0510-86860211", "note": "13912345678", "points": 2}) == {
        "applicant_name": "张*", "phone": "0510-****0211", "note": "139****5678", "points": 2}
    assert mask_text("0123456789abcdef13812345678") == "0123456789abcdef13812345678"  # part of a hash
