"""Generated forms on the desk pages beyond plain fields: repeated groups (xupu's first-inquiry
register lists the materials received, one row each) with the no-JavaScript "添加一行" button,
and a plugin's field type printed with its own widget and attributes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
INQUIRIES = "/staff/xupu/inquiries"


def _inquiry(token: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "received_at": "2026-11-20T09:30", "visitor_name": "赵六",
            "visitor_phone": "13712345678", "matter_kind": "apply", "matter": "办理食品经营许可",
            "officer": "王窗口", "visitor_signed": "true", "handling": "immediate", **extra}


def _inquiries(h) -> list:
    from bianmin.store.models import Record

    return h.run(lambda: Record.filter(jurisdiction_id="xupu", workflow_id="inquiry").order_by("id"))


def test_an_inquiry_is_registered_with_two_rows_of_materials(h):
    h.sign_in(h.staff("xupu", "clerk"))
    page = h.client.get(INQUIRIES)
    assert page.status_code == 200
    # The group prints its rows (blank ones to fill in) and its button, not a hint to use the API.
    assert 'name="materials_received.0.name"' in page.text and 'name="materials_received.1.count"' in page.text
    assert 'name="_add_row:materials_received"' in page.text and "添加一行" in page.text
    token = h.csrf_of(page.text)

    bad = h.client.post(INQUIRIES, data=_inquiry(token, **{"materials_received.0.name": "营业执照",
                                                           "materials_received.0.count": "0"}))
    assert bad.status_code == 422 and _inquiries(h) == []
    assert 'value="营业执照"' in bad.text and "bm-field-error" in bad.text  # the row's error, at the row

    done = h.client.post(INQUIRIES, data=_inquiry(token, **{
        "materials_received.0.name": "营业执照", "materials_received.0.count": "1",
        "materials_received.1.name": "身份证复印件", "materials_received.1.count": "2",
        "materials_received.2.name": "", "materials_received.2.count": ""}), follow_redirects=False)
    assert done.status_code == 303, done.text[:2000]
    stored, = _inquiries(h)
    assert stored.subject["materials_received"] == [{"name": "营业执照", "count": 1},
                                                    {"name": "身份证复印件", "count": 2}]
    record = h.client.get(done.headers["location"])
    assert record.status_code == 200 and stored.number in record.text


def test_add_row_prints_the_form_again_with_the_answers_and_stores_nothing(h):
    h.sign_in(h.staff("xupu", "clerk"))
    token = h.csrf_of(h.client.get(INQUIRIES).text)
    again = h.client.post(INQUIRIES, data=_inquiry(token, **{
        "materials_received.0.name": "营业执照", "materials_received.0.count": "1",
        "materials_received.1.name": "", "materials_received.1.count": "",
        "_add_row:materials_received": "1"}), follow_redirects=False)
    assert again.status_code == 200, again.text[:2000]
    assert _inquiries(h) == []  # a press of the button is no submission
    text = again.text
    assert 'value="赵六"' in text and 'value="13712345678"' in text and "办理食品经营许可" in text
    assert 'value="营业执照"' in text
    # Two rows were on the page: three now, and no errors for the fields not filled in yet.
    assert 'name="materials_received.2.name"' in text and 'name="materials_received.3.name"' not in text
    assert "bm-error" not in text and 'class="error"' not in text
    # Enter in a field still submits: the form's first submit button is the real one.
    form = text[text.index('<form method="post" action="/staff/xupu/inquiries"'):]
    first = form[form.index("<button"):]
    assert first.startswith('<button type="submit" class="bm-visually-hidden"')


# -- a plugin's field type -------------------------------------------------------------------------------

def _web_helpers():
    """This folder's conftest as a module (conftest modules are not importable by name)."""
    name = "bianmin_tests_web_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("conftest.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def sealed_desk(tmp_path):
    """The desk with xupu's intake form asking for a seal number, a type of the test plugin
    ``civic_seal`` (tests/plugins/fixtures/plugins) with its own input attributes."""
    from tortoise.backends.base import executor

    from bianmin import plugins
    from bianmin.web import create_app
    from bianmin.workflow import submission

    fixtures = ROOT / "tests" / "plugins" / "fixtures"
    config = plugins.Config(enabled=("civic_seal",), dirs=(fixtures / "plugins",), entry_points=False, home=fixtures)
    extra = tmp_path / "forms"
    extra.mkdir()
    intake = (ROOT / "forms" / "intake.yaml").read_text("utf-8")
    (extra / "intake.yaml").write_text(
        intake + "  - {id: seal, label: 印章编码, type: seal_number, required: true, placeholder: 3201-0000-0000-8}\n",
        "utf-8")
    web = _web_helpers()
    with plugins.use_plugins(plugins.load(config)):
        submission.use_forms_dirs(lambda pack: [*submission.default_dirs(pack), extra])
        executor.EXECUTOR_CACHE.clear()
        try:
            app = create_app(web.database_url("sqlite", tmp_path), secret=web.SECRET, var=tmp_path / "var")
            with TestClient(app, base_url="http://testserver") as client:
                web.sign_in(client, web.make_staff(client, "xupu", "clerk"))
                yield client
        finally:
            submission.use_forms_dirs(None)


def test_a_plugin_field_prints_with_its_widget_and_attributes(sealed_desk):
    client = sealed_desk
    pack = client.app.state.web.pack("xupu")
    item = next(i for i in pack.items if i.kind == "promised")
    page = client.get(f"/staff/xupu/cases/new?item={item.id}")
    assert page.status_code == 200
    start = page.text.index('name="seal"')
    tag = page.text[page.text.rindex("<input", 0, start):page.text.index(">", start) + 1]
    for attr in ('type="text"', 'inputmode="numeric"', 'maxlength="16"', 'autocomplete="off"',
                 'placeholder="3201-0000-0000-8"', "required"):
        assert attr in tag, (attr, tag)
    assert "印章编码" in page.text
