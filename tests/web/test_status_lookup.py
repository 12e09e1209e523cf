"""Case status lookup: no enumeration (same body for a wrong number and wrong digits), rate
limits per client and per case number, and rating once the case is completed."""

from __future__ import annotations

import datetime as dt

from bianmin.store import intake, transition
from bianmin.web import ratelimit

PHONE = "13812345678"


def _case(h, jurisdiction: str = "xupu"):
    clerk = h.staff(jurisdiction, "clerk")
    pack = h.client.app.state.web.pack(jurisdiction)
    item = next(i for i in pack.items if i.kind == "promised")
    subject = {"applicant_name": "张三", "phone": PHONE,
               "materials": [{"id": m.id, "received": True} for m in item.materials]}
    from bianmin.web.auth import load_principal

    actor = h.run(load_principal, clerk.id).actor(jurisdiction)
    result = h.run(intake, jurisdiction, item.id, subject, actor, {}, dt.datetime.now().replace(microsecond=0),
                   registry=h.client.app.state.web.registry)
    return result.record.number, actor


def _look(h, number: str, digits: str, jurisdiction: str = "xupu"):
    token = h.csrf_of(h.client.get(f"/{jurisdiction}/status").text)
    return h.client.post(f"/{jurisdiction}/status", data={"csrf_token": token, "number": number, "digits": digits})


def test_found_with_the_right_digits(h):
    number, _ = _case(h)
    page = _look(h, number, PHONE[-4:])
    assert page.status_code == 200
    assert number in page.text and "已收件" in page.text
    assert "张*" in page.text and "张三" not in page.text  # the name is masked


def test_wrong_number_and_wrong_digits_look_the_same(h):
    number, _ = _case(h)
    wrong_digits = _look(h, number, "0000")
    h.client.app.state.web.limiter.reset()
    wrong_number = _look(h, number[:-1] + ("9" if number[-1] != "9" else "8"), PHONE[-4:])
    assert wrong_digits.status_code == wrong_number.status_code == 200
    assert wrong_digits.text == wrong_number.text
    assert number not in wrong_digits.text


def test_lookups_are_rate_limited_per_case_number(h):
    number, _ = _case(h)
    for _ in range(ratelimit.LOOKUP_PER_CASE):
        assert _look(h, number, "0000").status_code == 200
    assert _look(h, number, PHONE[-4:]).status_code == 429  # even the right digits now


def test_lookups_are_rate_limited_per_client(h):
    codes = [_look(h, f"XP-2026-{i:06d}", "1234").status_code for i in range(ratelimit.LOOKUP_PER_IP + 1)]
    assert codes[:-1] == [200] * ratelimit.LOOKUP_PER_IP and codes[-1] == 429


def test_lookup_without_csrf_token_is_refused(h):
    number, _ = _case(h)
    h.client.get("/xupu/status")
    assert h.client.post("/xupu/status", data={"number": number, "digits": "5678"}).status_code == 403


def test_rating_after_completion_once(h):
    number, actor = _case(h)
    web = h.client.app.state.web
    pack = web.pack("xupu")
    levels = [lv.id for lv in pack.ratings.levels]
    level = levels[0]
    now = dt.datetime.now().replace(microsecond=0)
    page = _look(h, number, PHONE[-4:])
    assert 'name="level"' not in page.text  # not completed yet
    from bianmin.web.services import rate_case

    assert h.run(rate_case, web, "xupu", number, level, "", "online") == "办件尚未办结, 暂不能评价"
    h.run(transition, "xupu", number, "accept", actor, {}, now, registry=web.registry)
    h.run(transition, "xupu", number, "complete", actor, {"outcome": "approved"}, now, registry=web.registry)
    web.limiter.reset()
    page = _look(h, number, PHONE[-4:])
    assert 'name="level"' in page.text
    token = h.csrf_of(page.text)
    rate_token = page.text.split('name="token" value="')[1].split('"')[0]
    done = h.client.post("/xupu/status/rate", data={"csrf_token": token, "token": rate_token, "level": level})
    assert done.status_code == 200, done.text
    again = h.client.post("/xupu/status/rate", data={"csrf_token": token, "token": rate_token, "level": level})
    assert again.status_code == 422 and "已经评价" in again.text


def test_the_documents_qr_link_fills_in_the_number_and_still_asks_for_the_digits(h):
    number, _ = _case(h)
    page = h.client.get(f"/xupu/status?number={number.lower()}")  # as a phone's QR reader may send it
    assert page.status_code == 200
    assert f'name="number" required maxlength="48" autocomplete="off" value="{number}"' in page.text
    assert 'id="digits" name="digits" required' in page.text and PHONE[-4:] not in page.text
    assert "已收件" not in page.text  # nothing is looked up without the digits
    # An unknown number is filled in just the same: the link tells nothing about which cases exist.
    unknown = h.client.get("/xupu/status?number=XP-2026-999999")
    assert unknown.text.replace("XP-2026-999999", number) == page.text
    junk = h.client.get('/xupu/status?number="><script>')
    assert "<script>" not in junk.text and 'value="' not in junk.text.split('id="number"')[1].split(">")[0]
    # The lookup itself is unchanged: the digits, and the per-number rate limit.
    assert _look(h, number, "0000").text == _look(h, "XP-2026-999999", PHONE[-4:]).text
    for _ in range(ratelimit.LOOKUP_PER_CASE - 1):
        assert _look(h, number, "0000").status_code == 200
    assert _look(h, number, PHONE[-4:]).status_code == 429
