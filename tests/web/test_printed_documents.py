"""Printed documents through the web: the acceptance notice and the receipt slip are the pack's
rendered templates (documents/issue.py), stored when issued and served unchanged on reprint."""

from __future__ import annotations

import hashlib
import re

from bianmin import paths
from bianmin.store.models import Document, Record

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


def _intake_data(item):
    return {"applicant_type": "person", "applicant_name": "张三", "id_number": ID_NUMBER, "phone": PHONE,
            "delivery": "window", "materials": [{"id": m.id, "received": True, "pages": 2} for m in item.materials]}


def _promised(client, jurisdiction):
    pack = client.app.state.web.pack(jurisdiction)
    return pack, next(i for i in pack.items if i.kind == "promised")


async def _documents(number: str) -> list[Document]:
    record = await Record.get(number=number)
    return await Document.filter(record_id=record.id).order_by("event_seq", "id")


def _check_stored(doc: Document) -> None:
    assert doc.content, "the rendered HTML is stored"
    assert doc.content_hash == hashlib.sha256(doc.content.encode("utf-8")).hexdigest()


def test_acceptance_notice_through_the_api_is_the_rendered_template(h):
    clerk = h.staff("jiangyin", "clerk")
    headers = h.bearer(clerk)
    pack, item = _promised(h.client, "jiangyin")
    created = h.client.post("/api/v1/jiangyin/cases", json={"item": item.id, "data": _intake_data(item)},
                            headers=headers)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    accepted = h.client.post(f"/api/v1/jiangyin/cases/{number}/transitions/accept", json={"expected_version": 1},
                             headers=headers)
    assert accepted.status_code == 200, accepted.text

    docs = h.run(_documents, number)
    notice = next(d for d in docs if d.document_id == "acceptance_notice")
    _check_stored(notice)
    h.sign_in(clerk)
    first = h.client.get(f"/staff/jiangyin/documents/{notice.id}")
    assert first.status_code == 200
    html = first.content.decode("utf-8")
    assert html == notice.content  # the stored HTML, not a page around it
    assert number in html and item.name in html and pack.centre.name in html
    assert "<svg" in html and "&lt;svg" not in html  # the QR code, as markup
    assert notice.number in html and "受理通知书" in html
    assert ID_NUMBER not in html
    assert hashlib.sha256(first.content).hexdigest() == notice.content_hash
    again = h.client.get(f"/staff/jiangyin/documents/{notice.id}")
    assert again.content == first.content  # a reprint is byte for byte the same
    assert "style-src 'unsafe-inline'" in again.headers["content-security-policy"]
    assert "script-src" not in again.headers["content-security-policy"]
    # The record page lists it for printing.
    page = h.client.get(f"/staff/jiangyin/records/{number}").text
    assert f"/staff/jiangyin/documents/{notice.id}" in page


def test_receipt_slip_is_issued_at_intake_and_reprinted_unchanged(h):
    clerk = h.staff("xupu", "clerk")
    pack, item = _promised(h.client, "xupu")
    headers = h.bearer(clerk)
    created = h.client.post("/api/v1/xupu/cases", json={"item": item.id, "data": _intake_data(item)},
                            headers={**headers, "Idempotency-Key": "receipt-1"})
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    replay = h.client.post("/api/v1/xupu/cases", json={"item": item.id, "data": _intake_data(item)},
                           headers={**headers, "Idempotency-Key": "receipt-1"})
    assert replay.status_code == 200
    docs = h.run(_documents, number)
    receipts = [d for d in docs if d.document_id == "receipt_slip"]
    assert len(receipts) == 1 and receipts[0].event_seq == 1  # once, for the intake (start) event
    receipt = receipts[0]
    _check_stored(receipt)
    h.sign_in(clerk)
    first = h.client.get(f"/staff/xupu/records/{number}/receipt")
    assert first.status_code == 200
    html = first.content.decode("utf-8")
    assert html == receipt.content
    assert number in html and item.name in html and pack.centre.name in html and "<svg" in html
    assert "收件回执单" in html
    again = h.client.get(f"/staff/xupu/records/{number}/receipt")
    assert again.content == first.content
    assert h.client.get(f"/staff/xupu/documents/{receipt.id}").content == first.content


def test_case_received_at_the_desk_prints_the_receipt_slip(h):
    clerk = h.staff("jiangyin", "clerk")
    _, item = _promised(h.client, "jiangyin")
    h.sign_in(clerk)
    path = f"/staff/jiangyin/cases/new?item={item.id}"
    form = h.client.get(path).text
    token = h.csrf_of(form)
    posted = {"csrf_token": token, "applicant_type": "person", "applicant_name": "李四", "id_number": ID_NUMBER,
              "phone": PHONE, "delivery": "window"}
    for m in item.materials:
        posted[f"materials.{m.id}.received"] = "on"
        posted[f"materials.{m.id}.pages"] = "1"
    response = h.client.post(path, data=posted, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    receipt_url = response.headers["location"]
    number = re.search(r"/records/([^/]+)/receipt", receipt_url).group(1)
    first = h.client.get(receipt_url)
    assert first.status_code == 200
    receipt = next(d for d in h.run(_documents, number) if d.document_id == "receipt_slip")
    _check_stored(receipt)
    assert first.content.decode("utf-8") == receipt.content
    assert number in receipt.content and item.name in receipt.content and "<svg" in receipt.content
    assert "李四" in receipt.content
    assert h.client.get(receipt_url).content == first.content


def test_an_admin_sets_the_clerks_phone_and_the_receipt_prints_it(h):
    clerk = h.staff("xupu", "clerk")
    admin = h.staff("xupu", "admin")
    h.sign_in(admin)
    page = h.client.get("/admin/xupu/phones")
    assert page.status_code == 200 and clerk.username in page.text
    token = h.csrf_of(page.text)
    bad = h.client.post("/admin/xupu/phones", data={"csrf_token": token, f"phone.{clerk.id}": "12345"})
    assert bad.status_code == 422 and "电话号码格式不正确" in bad.text
    saved = h.client.post("/admin/xupu/phones", data={"csrf_token": token, f"phone.{clerk.id}": "0745-3221234"})
    assert saved.status_code == 200 and 'value="0745-3221234"' in saved.text
    h.sign_in(h.staff("xupu", "clerk"))  # a clerk may not set phones
    assert h.client.get("/admin/xupu/phones").status_code == 403

    h.sign_in(clerk)
    _, item = _promised(h.client, "xupu")
    path = f"/staff/xupu/cases/new?item={item.id}"
    posted = {"csrf_token": h.csrf_of(h.client.get(path).text), "applicant_type": "person", "applicant_name": "李四",
              "id_number": ID_NUMBER, "phone": PHONE, "delivery": "window"}
    for m in item.materials:
        posted[f"materials.{m.id}.received"] = "on"
        posted[f"materials.{m.id}.pages"] = "1"
    response = h.client.post(path, data=posted, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    receipt = h.client.get(response.headers["location"]).text
    assert "经办人电话" in receipt and "0745-3221234" in receipt and f"{clerk.role}@xupu" in receipt


def test_a_complaint_reply_is_printed_from_its_stored_html(h):
    officer = h.staff("jiangyin", "complaint_officer")
    h.sign_in(officer)
    pack = h.client.app.state.web.pack("jiangyin")
    register = h.client.get("/staff/jiangyin/complaints")
    posted = {"csrf_token": h.csrf_of(register.text), "target": "综合窗口 工作人员", "matter": "多次询问无人答复",
              "occurred_at": "2026-01-02T10:00", "place": "一楼大厅", "category": pack.complaints.categories[0].id,
              "complainant_name": "钱文静", "complainant_phone": "13607459876"}
    opened = h.client.post("/staff/jiangyin/complaints", data=posted, follow_redirects=False)
    assert opened.status_code == 303, opened.text[:3000]
    number = opened.headers["location"].rsplit("/", 1)[1]
    page = h.client.get(f"/staff/jiangyin/records/{number}")
    reply = h.client.post(f"/staff/jiangyin/records/{number}/transitions/reply",
                          data={"csrf_token": h.csrf_of(page.text), "method": "written", "reply": "已核实并致歉。"},
                          follow_redirects=False)
    assert reply.status_code == 303, reply.text[:3000]
    (doc,) = [d for d in h.run(_documents, number) if d.document_id == "complaint_reply"]
    _check_stored(doc)
    first = h.client.get(f"/staff/jiangyin/documents/{doc.id}")
    assert first.content.decode("utf-8") == doc.content
    assert "投诉答复书" in doc.content and "钱文静" in doc.content and "已核实并致歉。" in doc.content
    assert f"/jiangyin/status?number={number}" in doc.content
    assert h.client.get(f"/staff/jiangyin/documents/{doc.id}").content == first.content


def test_deadlines_on_provisional_calendar_data_are_marked_on_the_pages(h):
    """A pack that allows provisional calendar data (docs/calendar.md): a statutory deadline past
    the published holidays shows as provisional on the record page and the public status page."""
    import datetime as dt

    from bianmin.store import intake
    from bianmin.web.auth import load_principal

    officer = h.staff("xupu", "policy_officer")
    h.sign_in(officer)
    original = (paths.policies_dir() / "xupu" / "pack.yaml").read_text(encoding="utf-8")
    allowing = original + "\ncalendar:\n  provisional:\n    allowed: true\n    source: 年节放假办法 第二条\n"
    token = h.csrf_of(h.client.get("/admin/xupu/").text)
    review = h.client.post("/admin/xupu/upload", data={"csrf_token": token},
                           files={"pack": ("pack.yaml", allowing.encode(), "text/yaml")})
    assert review.status_code == 200, review.text
    content_hash = review.text.split('name="hash" value="')[1].split('"')[0]
    assert h.client.post("/admin/xupu/activate", data={"csrf_token": h.csrf_of(review.text), "hash": content_hash,
                                                       "effective_from": "2026-01-01"},
                         follow_redirects=False).status_code == 303
    web = h.client.app.state.web
    pack, item = _promised(h.client, "xupu")
    assert pack.calendar.provisional_allowed
    clerk = h.staff("xupu", "clerk")
    actor = h.run(load_principal, clerk.id).actor("xupu")
    received = dt.datetime(2026, 12, 21, 9, 0)  # ten working days run into 2027, not yet published
    number = h.run(intake, "xupu", item.id, _intake_data(item), actor, {}, received,
                   registry=web.registry).record.number

    h.sign_in(clerk)
    record = h.client.get(f"/staff/xupu/records/{number}").text
    marked = re.findall(r"<h3>([^<]*)<span[^>]*>.*?</h3>", record)
    provisional = [line for line in re.findall(r"<h3>.*?</h3>", record) if "暂定" in line]
    assert provisional, marked
    assert any("2027-" in line for line in provisional)  # the statutory deadline, in 2027
    assert not any("2026-12-" in line for line in provisional)  # the promised one is published data

    h.client.cookies.clear()
    token = h.csrf_of(h.client.get("/xupu/status").text)
    status = h.client.post("/xupu/status", data={"csrf_token": token, "number": number, "digits": PHONE[-4:]}).text
    assert number in status
    dates = re.findall(r"<dd>(\d{4}-\d{2}-\d{2})([^<]*)</dd>", status)
    assert any(d.startswith("2027-") and "暂定" in note for d, note in dates), dates
    assert all("暂定" not in note for d, note in dates if d.startswith("2026-"))
