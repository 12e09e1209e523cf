"""The deduction hearing desk, manual recording, the marks form and the mounted reports, through
the web client on SQLite and PostgreSQL: who sees and does what (xupu 八(八) the right to be
heard before a decision; 八(四)–(七) points within the tier's range; 九(二)2 德能勤绩廉 marks)."""

from __future__ import annotations

import datetime as dt
import re

from bianmin.store.models import AppraisalMark, Record, RoleAssignment

J = "xupu"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EVIDENCE = "窗口录像显示对申办人态度粗暴, 申办人电话 13812345678 已核实"


def _form(h, path: str) -> str:
    return h.csrf_of(h.client.get(path).text)


def _in_window(h, staff, window: str) -> None:
    async def put():
        await RoleAssignment.filter(staff_id=staff.id, jurisdiction_id=J).update(window=window)

    h.run(put)


def _record(h, supervisor, charged, *, violation="rude_or_repeatedly_late", files=None, evidence=EVIDENCE):
    h.sign_in(supervisor)
    token = _form(h, f"/staff/{J}/hearings/record")
    when = (dt.datetime.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return h.client.post(f"/staff/{J}/hearings/record", data={
        "csrf_token": token, "violation": violation, "staff": str(charged.id), "occurred_at": when,
        "evidence": evidence}, files=files or [], follow_redirects=False)


def test_hearing_then_decision_within_the_range(h):
    """xupu 八(五)7: 10–15 points charged to the post holder, decided only after the statement."""
    clerk, other, sup = h.staff(J, "clerk"), h.staff(J, "clerk"), h.staff(J, "supervisor")
    _in_window(h, clerk, "market_window")
    made = _record(h, sup, clerk, files=[("attachments", ("录像截图.png", PNG, "image/png"))])
    assert made.status_code == 303, made.text
    page_path = made.headers["location"]
    number = page_path.rsplit("/", 1)[1]
    page = h.client.get(page_path).text
    assert "10–15" in page and "13812345678" not in page and "138****5678" in page
    # Before the hearing no decision: the form is not offered and a post is refused.
    assert 'action="/staff/xupu/hearings/%s/decision"' % number not in page
    token = h.csrf_of(page)
    early = h.client.post(f"{page_path}/decision", data={"csrf_token": token, "points": "12", "reasons": "属实"})
    assert early.status_code == 422 and "陈述" in early.text
    # A colleague not charged does not see it, nor state a case for it.
    h.sign_in(other)
    assert h.client.get(page_path).status_code == 404
    token = _form(h, f"/staff/{J}/hearings")
    assert h.client.post(f"{page_path}/statement", data={"csrf_token": token, "statement": "x"}).status_code == 404
    # The person charged sees it among theirs and states their case; without the CSRF token, refused.
    h.sign_in(clerk)
    listing = h.client.get(f"/staff/{J}/hearings").text
    assert "待我陈述申辩" in listing and number in listing
    assert h.client.post(f"{page_path}/statement", data={"statement": "当时系统故障"}).status_code == 403
    page = h.client.get(page_path).text
    assert "陈述申辩意见" in page
    stated = h.client.post(f"{page_path}/statement", data={"csrf_token": h.csrf_of(page), "statement": "当时系统故障"},
                           follow_redirects=False)
    assert stated.status_code == 303
    attachment = h.client.get(f"{page_path}/attachments/" + re.search(r"/attachments/([0-9a-f]{64})", page)[1])
    assert attachment.status_code == 200 and attachment.content == PNG
    # The charged clerk cannot decide their own case (route: supervisors only).
    assert h.client.post(f"{page_path}/decision", data={"csrf_token": h.csrf_of(page), "points": "10",
                                                        "reasons": "x"}).status_code == 403
    h.sign_in(sup)
    page = h.client.get(page_path).text
    assert "扣分幅度 10–15 分" in page and "当时系统故障" in page
    token = h.csrf_of(page)
    high = h.client.post(f"{page_path}/decision", data={"csrf_token": token, "points": "20", "reasons": "属实"})
    assert high.status_code == 422 and "超出可选范围" in high.text
    # 从轻 (八(七)1 declared by the officer): the lower half, down to 免于处理.
    done = h.client.post(f"{page_path}/decision", data={"csrf_token": token, "points": "8", "reasons": "已道歉",
                                                        "circumstances": "apologised_and_forgiven"},
                         follow_redirects=False)
    assert done.status_code == 303, done.text

    async def state():
        return await Record.get(number=number)

    record = h.run(state)
    assert record.state == "decided"
    assert "决定扣分 8" in h.client.get(page_path).text


def test_recording_refuses_bad_input_with_a_message(h):
    clerk, sup = h.staff(J, "clerk"), h.staff(J, "supervisor")
    fake = _record(h, sup, clerk, files=[("attachments", ("证据.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))])
    assert fake.status_code == 422 and "不是可接受的类型" in fake.text
    empty = _record(h, sup, clerk, evidence="  ")
    assert empty.status_code == 422 and "请填写违规事实和证据" in empty.text
    unknown = _record(h, sup, clerk, violation="no_such_thing")
    assert unknown.status_code == 422 and "没有违规行为" in unknown.text

    async def count():
        return await Record.filter(kind="deduction").count()

    assert h.run(count) == 0


def test_only_supervisors_of_the_jurisdiction_record(h):
    h.sign_in(h.staff(J, "clerk"))
    assert h.client.get(f"/staff/{J}/hearings/record").status_code == 403
    h.sign_in(h.staff("jiangyin", "supervisor"))
    assert h.client.get(f"/staff/{J}/hearings/record").status_code == 403
    h.sign_in(h.staff(J, "supervisor"))
    assert h.client.get(f"/staff/{J}/hearings/record").status_code == 200


def test_reports_are_mounted_for_supervisors_and_leaders(h):
    base = f"/staff/{J}/reports"
    h.client.cookies.clear()
    anonymous = h.client.get(base + "/", follow_redirects=False)
    assert anonymous.status_code == 303 and "/staff/sign-in" in anonymous.headers["location"]
    h.sign_in(h.staff(J, "clerk"))
    assert h.client.get(base + "/").status_code == 403
    h.sign_in(h.staff("jiangyin", "supervisor"))
    assert h.client.get(base + "/").status_code == 403
    h.sign_in(h.staff(J, "leader"))
    page = h.client.get(base + "/", params={"period": "year", "year": "2026"})
    assert page.status_code == 200 and "<svg" in page.text and 'href="/staff/xupu/hearings"' in page.text
    assert f'href="{base}/registers/inquiry.csv' in page.text  # the mount's prefix in its links
    assert h.client.get(base + "/export.csv", params={"table": "windows"}).content.startswith(b"\xef\xbb\xbf")
    assert h.client.get(base + "/", params={"period": "month", "n": "13"}).status_code == 400
    # Unmasked registers: only the roles the pack lets see complainants (not a leader of xupu).
    assert h.client.get(base + "/registers/complaint.csv", params={"unmasked": "1"}).status_code == 403
    assert h.client.get(base + "/registers/complaint.csv").status_code == 200
    assert "效能报表" in h.client.get(f"/staff/{J}/").text  # in the desk navigation


def test_marks_feed_the_appraisal_of_their_period(h):
    """xupu 九(二)2② 德、能、勤、绩、廉, weights 0.2 each: 0.2 × (90 + 80 + 100 + 70 + 60) = 80."""
    clerk, sup = h.staff(J, "clerk"), h.staff(J, "supervisor")
    h.sign_in(sup)
    path = f"/staff/{J}/appraisal/marks?period=year&year=2026&n=1"
    page = h.client.get(path).text
    token = h.csrf_of(page)
    given = {"de": "90", "neng": "80", "qin": "100", "ji": "70", "lian": "60"}
    bad = h.client.post(path, data={"csrf_token": token, **{f"m.{clerk.id}.{k}": v for k, v in given.items()},
                                    f"m.{clerk.id}.de": "120"})
    assert bad.status_code == 422 and "须为 0–100 之间的数" in bad.text
    own = h.client.post(path, data={"csrf_token": token, f"m.{sup.id}.de": "100"})
    assert own.status_code == 422 and "不能为本人评分" in own.text
    assert h.client.post(path, data={f"m.{clerk.id}.de": "90"}).status_code == 403  # no CSRF token
    saved = h.client.post(path, data={"csrf_token": token, **{f"m.{clerk.id}.{k}": v for k, v in given.items()}},
                          follow_redirects=False)
    assert saved.status_code == 303 and "saved=5" in saved.headers["location"]

    async def marks():
        return sorted((m.dimension, m.mark) for m in await AppraisalMark.filter(staff_id=clerk.id))

    assert h.run(marks) == sorted((k, float(v)) for k, v in given.items())
    year = h.client.get(f"/staff/{J}/reports/appraisal", params={"period": "year", "year": "2026"}).text
    assert "德 90×0.2 + 能 80×0.2 + 勤 100×0.2 + 绩 70×0.2 + 廉 60×0.2 = 80" in year
    month = h.client.get(f"/staff/{J}/reports/appraisal", params={"period": "month", "year": "2026", "n": "3"}).text
    assert "= 80" not in month  # marks count in the period they were given for only
    cleared = h.client.post(path, data={"csrf_token": token, **{f"m.{clerk.id}.{k}": v for k, v in given.items()},
                                        f"m.{clerk.id}.lian": ""}, follow_redirects=False)
    assert cleared.status_code == 303 and len(h.run(marks)) == 4
    h.sign_in(clerk)
    assert h.client.get(path).status_code == 403
