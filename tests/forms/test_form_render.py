"""Form HTML: every control labelled, help and errors tied to their control, a summary that
leads to each error, a CSRF field, and a form that works with JavaScript off (and, with it on,
shows conditional fields and adds rows)."""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser

import pytest
from bianmin.forms import clean, validate
from bianmin.forms.conditions import when_script
from bianmin.forms.layout import BLANK_ROWS
from bianmin.forms.posted import add_row, parse_submission
from bianmin.forms.render import MAX_ROWS, form_stylesheet, render_form

CONTROLS = ("input", "select", "textarea")
VOID = {"input", "br", "meta", "link", "img", "hr", "col", "area", "base", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None, order: int) -> None:
        self.tag, self.attrs, self.parent, self.order = tag, attrs, parent, order
        self.children: list[Node] = []
        self.text = ""

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class Dom(HTMLParser):
    """Just enough of a DOM: elements with attributes, their parents, order and text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None, 0)
        self.stack, self.nodes = [self.root], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.stack[-1], len(self.nodes))
        self.stack[-1].children.append(node)
        self.nodes.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data):
        self.stack[-1].text += data

    def find(self, tag=None, **attrs):
        return [n for n in self.nodes if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, id_):
        found = [n for n in self.nodes if n.attrs.get("id") == id_]
        assert len(found) == 1, f"id {id_!r} appears {len(found)} times"
        return found[0]

    def controls(self):
        return [n for n in self.nodes if n.tag in CONTROLS and n.attrs.get("type") != "hidden"]


ALL_TYPES = """\
  - {id: name, label: 姓名, type: text, required: true, max_length: 20, help: 与身份证一致}
  - {id: story, label: 情况说明, type: long_text}
  - {id: address, label: 地址, type: address, required_when: data.delivery == "post"}
  - {id: count, label: 数量, type: integer, min: 1, max: 9}
  - {id: amount, label: 金额, type: decimal}
  - {id: day, label: 日期, type: date, min: today}
  - {id: at, label: 时间, type: datetime}
  - id: delivery
    label: 领取方式
    type: enum
    required: true
    options: [{value: window, label: 窗口}, {value: post, label: 邮寄}]
  - id: window
    label: 窗口
    type: enum
    options_from: windows
  - id: level
    label: 等级
    type: enum
    options: [{value: a, label: 一}, {value: b, label: 二}, {value: c, label: 三}, {value: d, label: 四}, {value: e, label: 五}, {value: f, label: 六}]
  - id: tags
    label: 标签
    type: multi_select
    options: [{value: x, label: 甲}, {value: w, label: 乙}]
  - {id: agent, label: 委托代理, type: boolean, default: false}
  - {id: agent_phone, label: 代理人电话, type: phone, when: data.agent, required: true}
  - {id: id_number, label: 身份证号码, type: id_number}
  - {id: credit_code, label: 统一社会信用代码, type: credit_code}
  - id: rows
    label: 所收材料
    type: group
    max_items: 4
    fields:
      - {id: what, label: 名称, type: text, required: true}
      - {id: count, label: 数量, type: integer}
      - {id: kind, label: 类别, type: enum, options: [{value: o, label: 原件}, {value: c, label: 复印件}]}
      - {id: why, label: 原因, type: text, when: row.kind == "c"}
  - {id: materials, label: 申请材料, type: materials, required: true}
"""


@pytest.fixture
def all_types(make_form):
    return make_form(ALL_TYPES, form_id="all_types", title="全部类型")


@pytest.fixture
def page(all_types, item, choices):
    return Dom(str(render_form(all_types, item=item, choices=choices, csrf_token="tok")))


def test_the_sample_form_has_every_field_type(all_types):
    from bianmin.forms import FIELD_TYPES

    assert {f.type for _, f in all_types.walk()} == set(FIELD_TYPES)


def test_every_control_has_a_label_bound_to_it(page):
    labels = {n.attrs["for"]: n for n in page.find("label") if n.attrs.get("for")}
    controls = page.controls()
    assert len(controls) > 40
    ids = [c.attrs.get("id") for c in controls]
    assert None not in ids, "a control without an id cannot be labelled"
    assert len(set(ids)) == len(ids), "ids are unique"
    unlabelled = [i for i in ids if i not in labels or not labels[i].all_text().strip()]
    assert not unlabelled, unlabelled
    assert all(c.attrs.get("name") for c in controls), "every control posts a value"
    assert set(labels) <= set(ids), "no label points at nothing"


def test_sets_of_radios_and_checkboxes_are_fieldsets_with_a_legend(page):
    for control in page.controls():
        if control.attrs.get("type") in ("radio", "checkbox") and "-materials-" not in control.attrs["id"]:
            fieldset = next(a for a in control.ancestors() if a.tag == "fieldset")
            legend = next(c for c in fieldset.children if c.tag == "legend")
            assert legend.all_text().strip(), control.attrs["id"]


def test_each_type_gets_a_fitting_control(page):
    def control(id_):
        return page.by_id(f"all_types-{id_}")

    assert control("name").attrs["type"] == "text" and control("name").attrs["maxlength"] == "20"
    assert control("story").tag == "textarea"
    assert control("address").attrs["autocomplete"] == "street-address"
    assert (control("count").attrs["type"], control("count").attrs["min"], control("count").attrs["max"]) == ("number", "1", "9")
    assert control("amount").attrs["step"] == "any"
    assert control("day").attrs["type"] == "date" and len(control("day").attrs["min"]) == 10  # today, resolved
    assert control("at").attrs["type"] == "datetime-local"
    assert control("delivery").attrs["type"] == "radio"
    assert control("level").tag == "select"  # more than five options
    assert control("tags").attrs["type"] == "checkbox"
    assert control("agent").attrs["type"] == "radio" and "checked" in control("agent-1").attrs  # 否
    assert control("agent_phone").attrs["type"] == "tel"
    assert control("id_number").attrs["maxlength"] == "18" and control("credit_code").attrs["maxlength"] == "18"
    assert page.by_id("all_types-rows-0-what").attrs["name"] == "rows.0.what"
    assert page.by_id("all_types-rows-0-kind").tag == "select"


def test_help_is_announced_with_its_control(page):
    name = page.by_id("all_types-name")
    assert page.by_id(name.attrs["aria-describedby"]).all_text() == "与身份证一致"


def test_required_fields_are_marked(page):
    name = page.by_id("all_types-name")
    assert "required" in name.attrs and name.attrs["aria-required"] == "true"
    assert "(必填)" in page.find("label", for_="all_types-name")[0].all_text()
    # A conditional field is marked but not `required` to the browser: with JS off it shows
    # even when it does not apply, and must not block the submission.
    phone = page.by_id("all_types-agent_phone")
    assert "required" not in phone.attrs and "(必填)" in page.find("label", for_="all_types-agent_phone")[0].all_text()
    assert "required" not in page.by_id("all_types-address").attrs  # required_when


def test_the_csrf_token_is_a_hidden_field(all_types, item, choices):
    html = str(render_form(all_types, item=item, choices=choices, csrf_token='a"b<c'))
    assert '<input type="hidden" name="csrf_token" value="a&#34;b&lt;c">' in html
    assert "csrf_token" not in str(render_form(all_types, item=item, choices=choices))


def test_nothing_is_hidden_without_javascript(page, all_types, item, choices):
    html = str(render_form(all_types, item=item, choices=choices))
    assert not [n for n in page.nodes if "hidden" in n.attrs], "markup never hides a field"
    assert "display:none" not in html.replace(" ", "")
    # "add a row" is a submit button of the server's (the script only intercepts it)
    button, = page.find("button", name="_add_row:rows")
    assert button.attrs["type"] == "submit" and "formnovalidate" in button.attrs and "disabled" not in button.attrs
    assert button.text == "添加一行" and button.parent.attrs.get("data-group") == "rows"
    # Enter in a field presses the form's first submit button: the real one, not "add a row"
    first = next(n for n in page.nodes if n.tag == "button")
    assert "name" not in first.attrs and first.text == "提交" and first.attrs["tabindex"] == "-1"
    when = page.by_id("all_types-agent_phone-field")
    assert when.attrs["data-when"] == "data.agent" and when.attrs["data-when-ast"] == '["data","agent"]'
    rows = [n for n in page.find("fieldset") if n.attrs.get("data-row")]
    assert len(rows) == BLANK_ROWS  # no answers yet: the blank rows


def test_answered_rows_and_blank_rows_up_to_max_items(all_types, item, choices):
    answered = {"rows": [{"what": "身份证", "count": 1}, {"what": "户口簿", "count": 1}, {"what": "租赁合同", "count": 2}]}
    page = Dom(str(render_form(all_types, item=item, choices=choices, values=answered)))
    rows = [n for n in page.find("fieldset") if n.attrs.get("data-row")]
    assert len(rows) == 4  # three answered and one blank: max_items 4
    assert page.by_id("all_types-rows-2-what").attrs["value"] == "租赁合同"


def test_the_materials_checklist_shows_the_item(page, item):
    fieldset = page.by_id("all_types-materials")
    assert "未指定办理事项" not in fieldset.all_text()
    for i, material in enumerate(item["materials"]):
        row = page.by_id(f"all_types-materials-{i}")
        assert [a.tag for a in row.ancestors()][:2] == ["tbody", "table"]
        text = row.all_text()
        assert material["name"] in text
        assert ("核心" if material["core"] else "非核心(可容缺)") in text
        form = page.by_id(f"all_types-materials-{i}-form")
        chosen = [o for o in form.children if o.tag == "option" and "selected" in o.attrs]
        assert [o.attrs["value"] for o in chosen] == [material["form"]]
        assert page.by_id(f"all_types-materials-{i}-copies").attrs["value"] == str(material["copies"])
    assert "标明尺寸" in page.by_id("all_types-materials-2").all_text()  # the catalogue's note


# -- errors ------------------------------------------------------------------------------------------

BAD_INTAKE = {"applicant_type": "person", "id_number": "110105194912310021", "phone": "12", "delivery": "post",
              "through_agent": True, "agent_name": "<b>李四</b>",
              "materials": [{"id": "application", "received": True}, {"id": "licence", "received": False},
                            {"id": "floor_plan", "received": False}]}


@pytest.fixture
def with_errors(forms, item):
    errors = validate(forms["intake"], BAD_INTAKE, item)
    return errors, Dom(str(render_form(forms["intake"], item=item, values=BAD_INTAKE, errors=errors)))


def test_every_error_is_in_the_summary_with_a_link_to_its_field(with_errors):
    errors, page = with_errors
    assert len(errors) >= 6
    summary = page.find("div", role="alert")[0]
    links = [n for n in page.nodes if n.tag == "a" and summary in n.ancestors()]
    assert [a.all_text() for a in links] == [str(e) for e in errors]
    for a in links:
        target = page.by_id(a.attrs["href"][1:])
        assert target.tag in CONTROLS or target.tag == "fieldset", a.attrs["href"]
    assert "提交的内容有" in summary.all_text()


def test_each_error_stands_next_to_its_field(with_errors):
    errors, page = with_errors
    for error in errors:
        control_id = {"$.applicant_name": "intake-applicant_name", "$.id_number": "intake-id_number",
                      "$.phone": "intake-phone", "$.address": "intake-address",
                      "$.agent_id_number": "intake-agent_id_number", "$.agent_phone": "intake-agent_phone",
                      "$.materials[0].pages": "intake-materials-0-pages"}[error.path]
        control = page.by_id(control_id)
        message = page.by_id(control_id + "-error")
        assert error.message in message.all_text()
        assert control.attrs.get("aria-invalid") == "true"
        assert control_id + "-error" in control.attrs["aria-describedby"].split()
        # next to it: in the same field (or checklist cell), just before the control
        box = next(a for a in control.ancestors() if a.tag in ("td",) or "bm-field" in (a.attrs.get("class") or ""))
        assert box in message.ancestors() and message.order < control.order


def test_answers_are_shown_again_and_escaped(with_errors):
    _, page = with_errors
    assert page.by_id("intake-agent_name").attrs["value"] == "<b>李四</b>"
    assert "checked" in page.by_id("intake-delivery-1").attrs  # post
    assert "checked" in page.by_id("intake-through_agent").attrs  # yes


def test_a_field_without_errors_is_not_marked_invalid(with_errors):
    _, page = with_errors
    assert "aria-invalid" not in page.by_id("intake-note").attrs


# -- without JavaScript: what the browser posts ------------------------------------------------------------

def posted_by_browser(page: Dom, typed: dict[str, str], ticked: set[str]) -> list[tuple[str, str]]:
    """The name/value pairs a browser sends for the form (HTML's "successful controls"), after a
    user typed into some inputs and ticked some boxes (by id)."""
    out = []
    for n in page.nodes:
        name, kind = n.attrs.get("name"), n.attrs.get("type", "text")
        if not name or n.tag not in CONTROLS:
            continue
        if kind in ("radio", "checkbox"):
            if n.attrs.get("id") in ticked or ("checked" in n.attrs and not any(
                    t for t in ticked if page.by_id(t).attrs.get("name") == name and kind == "radio")):
                out.append((name, n.attrs.get("value", "on")))
        elif n.tag == "select":
            chosen = [o for o in n.children if o.tag == "option" and "selected" in o.attrs]
            out.append((name, typed.get(n.attrs["id"], chosen[0].attrs["value"] if chosen else "")))
        elif n.tag == "textarea":
            out.append((name, typed.get(n.attrs["id"], n.all_text())))
        else:
            out.append((name, typed.get(n.attrs.get("id"), n.attrs.get("value", ""))))
    return out


class Posted:
    def __init__(self, pairs):
        self.pairs = pairs

    def keys(self):
        return [k for k, _ in self.pairs]

    def getlist(self, name):
        return [v for k, v in self.pairs if k == name]


def test_the_form_works_with_javascript_off(forms, item):
    form = forms["intake"]
    page = Dom(str(render_form(form, item=item, csrf_token="tok")))
    typed = {"intake-applicant_name": "王建国", "intake-id_number": "11010519491231002x", "intake-phone": "13812345678",
             # visible without the script though the applicant is a person: the server drops it
             "intake-credit_code": "91350100M000100Y43",
             "intake-materials-0-pages": "3", "intake-materials-1-pages": "1"}
    ticked = {"intake-materials-0-received", "intake-materials-1-received"}
    pairs = posted_by_browser(page, typed, ticked)
    assert ("csrf_token", "tok") in pairs
    answers = parse_submission(form, Posted(pairs), item=item)
    assert validate(form, answers, item) == []
    kept = clean(form, answers, item)
    assert "credit_code" not in kept and kept["id_number"] == "11010519491231002X"
    assert kept["materials"][0] == {"id": "application", "received": True, "form": "original", "copies": 1, "pages": 3}
    assert kept["materials"][2] == {"id": "floor_plan", "received": False, "form": "original", "copies": 1}
    assert kept["through_agent"] is False and kept["delivery"] == "window"


def test_posted_groups_numbers_and_choices_come_back_typed(all_types, item, choices):
    pairs = [("rows.0.what", "身份证"), ("rows.0.count", "2"), ("rows.1.what", ""), ("rows.2.what", "户口簿"),
             ("count", "x"), ("amount", "1.5"), ("tags", "x"), ("tags", "w"), ("agent", "true"),
             ("at", "2026-01-05 09:30"), ("name", "  张三 ")]
    answers = parse_submission(all_types, Posted(pairs), item=item)
    assert answers["rows"] == [{"what": "身份证", "count": 2}, {"what": "户口簿"}]
    assert answers["count"] == "x"  # stays text: validate names the field
    assert (answers["amount"], answers["tags"], answers["agent"], answers["at"], answers["name"]) == (
        1.5, ["x", "w"], True, "2026-01-05T09:30", "张三")
    assert [str(e) for e in validate(all_types, answers, item, choices=choices) if e.path == "$.count"] == ["数量: 应为整数"]


def rows_of(page):
    return [n for n in page.find("fieldset") if n.attrs.get("data-row")]


def test_add_row_without_javascript_prints_one_more_row_keeping_the_answers(all_types, item, choices):
    # A first page: BLANK_ROWS blank rows; the clerk fills the first and presses 添加一行.
    pairs = [("csrf_token", "tok"), ("name", "张三"), ("rows.0.what", "身份证"), ("rows.0.kind", "c"),
             ("rows.0.why", "原件遗失"), ("rows.1.what", ""), ("_add_row:rows", "1")]
    rows = add_row(all_types, Posted(pairs))
    assert rows == {"rows": BLANK_ROWS + 1}
    answers = parse_submission(all_types, Posted(pairs), item=item)
    assert (answers["name"], answers["rows"]) == ("张三", [{"what": "身份证", "kind": "c", "why": "原件遗失"}])
    page = Dom(str(render_form(all_types, item=item, choices=choices, values=answers, rows=rows)))
    assert len(rows_of(page)) == BLANK_ROWS + 1
    assert page.by_id("all_types-name").attrs["value"] == "张三"
    assert page.by_id("all_types-rows-0-what").attrs["value"] == "身份证"
    assert page.by_id("all_types-rows-0-why").attrs["value"] == "原件遗失"
    assert "value" not in page.by_id("all_types-rows-2-what").attrs
    assert "disabled" not in page.find("button", name="_add_row:rows")[0].attrs
    # Once more: the fourth row is max_items, so the button is off.
    again = [(k, v) for k, v in pairs if k != "rows.1.what"] + [("rows.1.what", ""), ("rows.2.what", "")]
    rows = add_row(all_types, Posted(again))
    page = Dom(str(render_form(all_types, item=item, choices=choices, values=answers, rows=rows)))
    assert len(rows_of(page)) == 4 and "disabled" in page.find("button", name="_add_row:rows")[0].attrs


def test_a_real_submission_or_a_forged_button_is_no_add_row(all_types):
    assert add_row(all_types, Posted([("rows.0.what", "身份证")])) is None  # the submit button
    assert add_row(all_types, Posted([("_add_row:name", "1")])) is None  # not a group
    assert add_row(all_types, Posted([("_add_row:nothing", "1")])) is None


def test_a_post_cannot_ask_for_more_rows_than_the_group_allows(all_types, item, choices, make_form):
    # max_items 4 for `rows`; MAX_ROWS for a group without a limit
    rows = add_row(all_types, Posted([("rows.9999.what", "x"), ("_add_row:rows", "1")]))
    page = Dom(str(render_form(all_types, item=item, choices=choices, rows=rows)))
    assert len(rows_of(page)) == 4
    open_ended = make_form("  - {id: people, label: 人员, type: group, fields: [{id: who, label: 姓名, type: text}]}\n")
    rows = add_row(open_ended, Posted([("people.9999.who", "x"), ("_add_row:people", "1")]))
    assert rows == {"people": 10001}
    page = Dom(str(render_form(open_ended, rows=rows)))
    assert len(rows_of(page)) == MAX_ROWS and "disabled" in page.find("button", name="_add_row:people")[0].attrs


def test_errors_land_in_rows_added_without_javascript(all_types, item, choices):
    pairs = [("rows.0.what", "身份证"), ("rows.3.count", "2"), ("_add_row:rows", "1")]
    answers = parse_submission(all_types, Posted(pairs), item=item)
    errors = [e for e in validate(all_types, answers, item, choices=choices) if e.path.startswith("$.rows")]
    assert [str(e) for e in errors] == ["所收材料 第2项 名称: 必须填写"]  # blank rows are dropped, so it is the 2nd
    page = Dom(str(render_form(all_types, item=item, choices=choices, values=answers, errors=errors,
                               rows=add_row(all_types, Posted(pairs)))))
    assert page.by_id("all_types-rows-1-what").attrs["aria-invalid"] == "true"


@pytest.mark.parametrize(("expression", "script"), [
    ('data.applicant_type == "person"', '["==",["data","applicant_type"],["const","person"]]'),
    ("not data.reached", '["not",["data","reached"]]'),
    ('data.level in ["a", "b"] and row.kind != "c"',
     '["and",["in",["data","level"],["const",["a","b"]]],["!=",["row","kind"],["const","c"]]]'),
    ("1 < data.n < 5", '["and",["<",["const",1],["data","n"]],["<",["data","n"],["const",5]]]'),
    ("data.x is defined", '["defined",["data","x"]]'),
    ("item.accept_on_commitment", '["const",true]'),
    ("data.name | length > 2", None),  # a filter: the script leaves the field shown
])
def test_conditions_for_the_script(expression, script):
    assert when_script(expression, {"accept_on_commitment": True}) == script


def test_without_an_item_the_checklist_says_so(all_types, choices):
    page = Dom(str(render_form(all_types, choices=choices)))
    assert "未指定办理事项, 无法列出申请材料清单。" in page.by_id("all_types-materials").all_text()
    assert not page.find("table")


def test_the_stylesheet_hides_only_what_it_should():
    css = form_stylesheet()
    assert ".bm-visually-hidden" in css and ".bm-field[hidden]" in css


# -- with JavaScript, in a browser -------------------------------------------------------------------------

def _browser():
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright, path = None, None
    if path is None:
        reason = "chromium and Playwright are needed for the script tests (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    return path, sync_playwright


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    path, sync_playwright = _browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, html: str, javascript: bool = True):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.set_content(f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>{form_stylesheet()}</style>"
                     f"</head><body>{html}</body></html>")
    return context, page


def test_the_script_shows_and_hides_conditional_fields(browser, forms, item):
    context, page = _open(browser, str(render_form(forms["intake"], item=item)))
    try:
        assert page.is_visible("#intake-id_number") and not page.is_visible("#intake-credit_code")
        assert not page.is_visible("#intake-agent_name")
        page.check("#intake-applicant_type-1")  # 法人或其他组织
        assert page.is_visible("#intake-credit_code") and not page.is_visible("#intake-id_number")
        page.check("#intake-through_agent")  # 是
        assert page.is_visible("#intake-agent_name") and page.is_visible("#intake-agent_phone")
    finally:
        context.close()


def test_without_the_script_every_field_shows(browser, forms, item):
    context, page = _open(browser, str(render_form(forms["intake"], item=item)), javascript=False)
    try:
        for field in forms["intake"].fields:
            if field.type not in ("enum", "boolean", "materials"):
                assert page.is_visible(f"#intake-{field.id}"), field.id
    finally:
        context.close()


def test_the_script_adds_rows_with_fresh_names(browser, all_types, item, choices):
    context, page = _open(browser, str(render_form(all_types, item=item, choices=choices)))
    try:
        assert page.locator("[data-row]").count() == BLANK_ROWS
        page.fill("#all_types-rows-1-what", "户口簿")
        page.click("text=添加一行")
        page.click("text=添加一行")
        assert page.locator("[data-row]").count() == 4
        assert page.is_disabled("text=添加一行")  # max_items
        new = page.locator("#all_types-rows-3-what")
        assert new.get_attribute("name") == "rows.3.what" and new.input_value() == ""
        assert page.locator("label[for='all_types-rows-3-what']").count() == 1
        # a row's own condition works in the new row
        assert not page.is_visible("#all_types-rows-3-why")
        page.select_option("#all_types-rows-3-kind", "c")
        assert page.is_visible("#all_types-rows-3-why")
    finally:
        context.close()
