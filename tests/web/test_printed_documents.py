"""Printed documents through the web: the acceptance notice and the receipt slip are the pack's
rendered templates (documents/issue.py), stored when issued and served unchanged on reprint."""

from __future__ import annotations

import hashlib
import re

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
