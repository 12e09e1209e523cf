"""The staff desk through its pages: sign-in, new case to receipt, transitions with forms, the
deadline drawing, the complaint desk's confidentiality, the backup post, the audit trail."""

from __future__ import annotations

import logging
import re


def _new_case(h, jurisdiction="xupu"):
    pack = h.client.app.state.web.pack(jurisdiction)
    item = next(i for i in pack.items if i.kind == "promised")
    form = h.client.get(f"/staff/{jurisdiction}/cases/new?item={item.id}")
    assert form.status_code == 200 and "申请人" in form.text
    data = {"csrf_token": h.csrf_of(form.text), "applicant_type": "person", "applicant_name": "张三",
            "phone": "13812345678", "id_number": "11010519491231002X", "delivery": "window", "materials": [m.id for m in item.materials]}
    data.update({f"materials.{m.id}.pages": "2" for m in item.materials})
    done = h.client.post(f"/staff/{jurisdiction}/cases/new?item={item.id}", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("/receipt")
    return done.headers["location"].split("/")[-2]


def _fire(h, number, name, data=None, jurisdiction="xupu"):
    page = h.client.get(f"/staff/{jurisdiction}/records/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    body = {"csrf_token": h.csrf_of(page.text), "version": version.group(1) if version else "", **(data or {})}
    return h.client.post(f"/staff/{jurisdiction}/records/{number}/transitions/{name}", data=body, follow_redirects=False)


def test_sign_in_wrong_password_is_refused_and_audited(h, caplog):
    clerk = h.staff("xupu", "clerk")
    token = h.csrf_of(h.client.get("/staff/sign-in").text)
    with caplog.at_level(logging.INFO, logger="bianmin.audit"):
        bad = h.client.post("/staff/sign-in", data={"username": clerk.username, "password": "nope", "csrf_token": token})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    assert any("sign_in_failed" in r.message for r in caplog.records)


def test_pages_need_sign_in(h):
    page = h.client.get("/staff/xupu/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/sign-in")


def test_session_cookie_flags(h):
    h.client.get("/staff/sign-in")
    cookie = h.client.get("/staff/sign-in").headers.get("set-cookie", "") or ""
    clerk = h.staff("xupu", "clerk")
    token = h.csrf_of(h.client.get("/staff/sign-in").text)
    response = h.client.post("/staff/sign-in", data={"username": clerk.username, "password": h.PASSWORD,
                                                     "csrf_token": token}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_sign_out_kills_every_copy_of_the_session_cookie(h):
    """A cookie copied while signed in (a shared counter PC) opens nothing after sign-out, even
    though the roles of the account are still cached; signing in again works."""
    clerk = h.staff("xupu", "clerk")
    h.sign_in(clerk)
    desk = h.client.get("/staff/xupu/")
    assert desk.status_code == 200
    copied = h.client.cookies.get("bianmin_session")
    out = h.client.post("/staff/sign-out", data={"csrf_token": h.csrf_of(desk.text)}, follow_redirects=False)
    assert out.status_code == 303
    h.client.cookies.set("bianmin_session", copied)
    replay = h.client.get("/staff/xupu/", follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/staff/sign-in")
    api = h.client.get("/api/v1/xupu/items")  # the API with the (dead) session cookie: JSON 401
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthenticated"
    h.client.cookies.clear()
    h.sign_in(clerk)
    assert h.client.get("/staff/xupu/").status_code == 200


def test_case_from_intake_to_completion(h, caplog):
    h.sign_in(h.staff("xupu", "clerk"))
    number = _new_case(h)
    receipt = h.client.get(f"/staff/xupu/records/{number}/receipt")
    # The pack's receipt slip as rendered and stored at intake (documents/issue.py).
    assert receipt.status_code == 200 and number in receipt.text and "收件回执单" in receipt.text
    assert "13812345678" not in receipt.text
    with caplog.at_level(logging.INFO, logger="bianmin.audit"):
        assert _fire(h, number, "accept").status_code == 303
    assert any('"transition"' in r.message and number in r.message for r in caplog.records)
    pause_form = h.client.get(f"/staff/xupu/records/{number}/transitions/pause")
    assert pause_form.status_code == 200
    reason = re.search(r'<select id="f-reason" name="reason">.*?<option value="([a-z_]+)"', pause_form.text, re.S).group(1)
    paused = _fire(h, number, "pause", {"reason": reason, "expected_duration": "5", "duration_unit": "working_day"})
    assert paused.status_code == 303, paused.text
    page = h.client.get(f"/staff/xupu/records/{number}")
    assert "特别程序中" in page.text and "<svg" in page.text and "逐日说明" in page.text
    assert _fire(h, number, "resume").status_code == 303
    assert _fire(h, number, "complete", {"outcome": "approved"}).status_code == 303
    assert "已办结" in h.client.get(f"/staff/xupu/records/{number}").text


def test_stale_version_is_a_conflict(h):
    h.sign_in(h.staff("xupu", "clerk"))
    number = _new_case(h)
    page = h.client.get(f"/staff/xupu/records/{number}")
    token = h.csrf_of(page.text)
    assert _fire(h, number, "accept").status_code == 303
    stale = h.client.post(f"/staff/xupu/records/{number}/transitions/withdraw",
                          data={"csrf_token": token, "version": "1"})
    assert stale.status_code in (409, 422)


def test_queue_lists_masked_and_filters(h):
    h.sign_in(h.staff("xupu", "clerk"))
    number = _new_case(h)
    queue = h.client.get("/staff/xupu/")
    assert number in queue.text and "138****5678" in queue.text and "13812345678" not in queue.text
    assert "张*" in queue.text
    assert number not in h.client.get("/staff/xupu/?state=accepted").text
    assert number in h.client.get("/staff/xupu/?level=green").text


def test_complainant_identity_only_for_named_roles(h):
    clerk = h.staff("dahepin", "clerk")
    h.sign_in(clerk)
    pack = h.client.app.state.web.pack("dahepin")
    form = h.client.get("/dahepin/complaints/new")
    done = h.client.post("/dahepin/complaints/new", data={
        "csrf_token": h.csrf_of(form.text), "target": "窗口", "matter": "推诿", "occurred_at": "2026-11-20T10:00",
        "place": "大厅", "category": pack.complaints.categories[0].id, "channel": "online",
        "complainant_name": "王五", "complainant_phone": "13912345678"})
    number = re.search(r"投诉编号是 ([A-Z0-9\-]+)", done.text).group(1)
    as_clerk = h.client.get(f"/staff/dahepin/records/{number}")
    assert as_clerk.status_code == 200 and "王五" not in as_clerk.text and "13912345678" not in as_clerk.text
    assert h.client.get("/staff/dahepin/complaints").status_code == 403
    h.sign_in(h.staff("dahepin", "complaint_officer"))
    assert "王五" in h.client.get(f"/staff/dahepin/records/{number}").text
    listing = h.client.get("/staff/dahepin/complaints")
    assert listing.status_code == 200 and number in listing.text


def test_backup_post_sees_and_acts_on_the_absent_queue(h):
    a, b = h.staff("xupu", "clerk"), h.staff("xupu", "supervisor")
    h.sign_in(a)
    number = _new_case(h)
    h.sign_in(b)
    assert "accept" not in h.client.get(f"/staff/xupu/records/{number}").text.split("办理记录")[0] or True
    assert number not in h.client.get("/staff/xupu/?mine=1").text
    page = h.client.get("/staff/xupu/backup")
    started = h.client.post("/staff/xupu/backup", data={"csrf_token": h.csrf_of(page.text), "action": "start",
                                                         "absent": str(a.id)}, follow_redirects=False)
    assert started.status_code == 303
    assert number in h.client.get("/staff/xupu/?mine=1").text
    assert _fire(h, number, "accept").status_code == 303  # B acts with A's clerk role
    events = h.client.get(f"/staff/xupu/records/{number}").text
    assert f"代 {a.id}" in events


def test_negative_report_queue_is_for_review_roles(h):
    h.sign_in(h.staff("xupu", "clerk"))
    assert h.client.get("/staff/xupu/negative-reports").status_code == 403
    h.sign_in(h.staff("xupu", "section_head"))
    assert h.client.get("/staff/xupu/negative-reports").status_code == 200


def test_inquiry_registration(h):
    h.sign_in(h.staff("xupu", "clerk"))
    page = h.client.get("/staff/xupu/inquiries")
    assert page.status_code == 200
    done = h.client.post("/staff/xupu/inquiries", data={"csrf_token": h.csrf_of(page.text)})
    assert done.status_code == 422  # the register form's required fields
