"""Public pages: catalogue, service guide, commitments, complaint, no sign-in needed."""

from __future__ import annotations




def test_home_lists_every_jurisdiction(client):
    page = client.get("/")
    assert page.status_code == 200
    for name in ("溆浦县", "江阴市", "台山市"):
        assert name in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_guide_shows_the_published_fields(client):
    page = client.get("/taishan/items/food_business_licence")
    assert page.status_code == 200
    for label in ("办事指南", "设立依据", "申请材料", "承诺时限", "法定时限", "收费标准", "咨询"):
        assert label in page.text


def test_unknown_jurisdiction_and_item_are_404(client):
    assert client.get("/nowhere/").status_code == 404
    assert client.get("/xupu/items/nothing").status_code == 404


def test_commitments_and_hotlines(client):
    page = client.get("/xupu/commitments")
    assert page.status_code == 200 and "监督电话" in page.text


def test_complaint_is_validated_then_numbered(client, h):
    form = client.get("/dahepin/complaints/new")
    assert form.status_code == 200 and "投诉对象" in form.text
    token = h.csrf_of(form.text)
    bad = client.post("/dahepin/complaints/new", data={"csrf_token": token, "target": "某窗口"})
    assert bad.status_code == 422 and "投诉事项" in bad.text
    categories = client.app.state.web.pack("dahepin").complaints.categories
    good = client.post("/dahepin/complaints/new", data={
        "csrf_token": token, "target": "某窗口 某人", "matter": "办事推诿", "occurred_at": "2026-11-20T10:00",
        "place": "中心大厅", "category": categories[0].id, "channel": "online",
        "complainant_name": "王五", "complainant_phone": "13812345678"})
    assert good.status_code == 200, good.text
    assert "投诉编号" in good.text


def test_english_catalogue_switch(client):
    page = client.get("/?lang=en")
    assert "Service centres" in page.text
    assert "Service centres" in client.get("/").text  # kept in the session
    assert "政务服务中心" in client.get("/?lang=zh_CN").text
