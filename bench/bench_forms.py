"""Forms: HTML rendering and validation throughput, each against its bare baseline, in one run.

    python bench/bench_forms.py [--seconds S]

(a) `render_form` of the shared `intake` form (with a six-material item, answers and no
    errors) against bare Jinja2 rendering a hand-written template of the same form: same
    fields, same markup and accessibility attributes, same values. Target: ≥ 70% of bare.
(b) `bianmin.forms.validate` of valid intake submissions against a bare `jsonschema`
    Draft202012Validator built once (schema from `to_json_schema`). Target: ≥ 10×.
    Invalid submissions: every error must still be returned (the count is checked against the
    bare validator's and against the known errors), and the throughput is shown.

Prints throughputs, ratios and PASS/FAIL; exits 1 on any FAIL.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from bianmin.forms import load_forms, to_json_schema, validate  # noqa: E402
from bianmin.forms.render import form_script, render_form  # noqa: E402
from bianmin.packs import Compiler  # noqa: E402

RENDER_TARGET = 0.70
VALIDATE_TARGET = 10.0

# The intake form written by hand: what a developer would write for this one form, with the
# same markup render_form prints (labels, hints, describedby, errors next to fields, checked
# states, the checklist) and the same script.
BARE = r"""
{%- macro err(path, id) -%}{% if path in errors %}<p class="bm-error" id="{{ id }}-error"><span class="bm-visually-hidden">错误: </span>{{ errors[path] }}</p>{% endif %}{%- endmacro -%}
<form class="bm-form" id="form-intake" method="post" action="{{ action }}" accept-charset="utf-8" novalidate data-form="intake">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<h2 class="bm-form-title">申请登记</h2>
<p class="bm-form-description">窗口收件时登记申请人信息并逐项核对申请材料。</p>
<p class="bm-required-note">标有 <span class="bm-required">*</span> 的为必填项。</p>
<div class="bm-field bm-field-enum" id="intake-applicant_type-field"><fieldset class="bm-fieldset">
<legend class="bm-label">申请人类型<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></legend>{{ err("$.applicant_type", "intake-applicant_type") }}<div class="bm-choices">
<div class="bm-choice"><input type="radio" id="intake-applicant_type" name="applicant_type" value="person" data-kind="text"{% if values.applicant_type == "person" %} checked{% endif %}><label for="intake-applicant_type">自然人</label></div>
<div class="bm-choice"><input type="radio" id="intake-applicant_type-1" name="applicant_type" value="organisation" data-kind="text"{% if values.applicant_type == "organisation" %} checked{% endif %}><label for="intake-applicant_type-1">法人或其他组织</label></div>
</div></fieldset></div>
<div class="bm-field bm-field-text" id="intake-applicant_name-field"><label class="bm-label" for="intake-applicant_name">申请人姓名或名称<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.applicant_name", "intake-applicant_name") }}
<input id="intake-applicant_name" name="applicant_name" type="text" maxlength="100" required aria-required="true" data-kind="text"{% if values.applicant_name %} value="{{ values.applicant_name }}"{% endif %}{% if "$.applicant_name" in errors %} aria-describedby="intake-applicant_name-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-id_number" id="intake-id_number-field" data-when="data.applicant_type == &#34;person&#34;" data-when-ast="[&#34;==&#34;,[&#34;data&#34;,&#34;applicant_type&#34;],[&#34;const&#34;,&#34;person&#34;]]"><label class="bm-label" for="intake-id_number">身份证号码<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.id_number", "intake-id_number") }}
<input id="intake-id_number" name="id_number" type="text" maxlength="18" autocomplete="off" spellcheck="false" autocapitalize="characters" data-kind="text"{% if values.id_number %} value="{{ values.id_number }}"{% endif %}{% if "$.id_number" in errors %} aria-describedby="intake-id_number-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-credit_code" id="intake-credit_code-field" data-when="data.applicant_type == &#34;organisation&#34;" data-when-ast="[&#34;==&#34;,[&#34;data&#34;,&#34;applicant_type&#34;],[&#34;const&#34;,&#34;organisation&#34;]]"><label class="bm-label" for="intake-credit_code">统一社会信用代码<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.credit_code", "intake-credit_code") }}
<input id="intake-credit_code" name="credit_code" type="text" maxlength="18" autocomplete="off" spellcheck="false" autocapitalize="characters" data-kind="text"{% if values.credit_code %} value="{{ values.credit_code }}"{% endif %}{% if "$.credit_code" in errors %} aria-describedby="intake-credit_code-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-text" id="intake-legal_representative-field" data-when="data.applicant_type == &#34;organisation&#34;" data-when-ast="[&#34;==&#34;,[&#34;data&#34;,&#34;applicant_type&#34;],[&#34;const&#34;,&#34;organisation&#34;]]"><label class="bm-label" for="intake-legal_representative">法定代表人(负责人)<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.legal_representative", "intake-legal_representative") }}
<input id="intake-legal_representative" name="legal_representative" type="text" maxlength="50" data-kind="text"{% if values.legal_representative %} value="{{ values.legal_representative }}"{% endif %}{% if "$.legal_representative" in errors %} aria-describedby="intake-legal_representative-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-phone" id="intake-phone-field"><label class="bm-label" for="intake-phone">联系电话<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.phone", "intake-phone") }}
<input id="intake-phone" name="phone" type="tel" autocomplete="tel" inputmode="tel" maxlength="20" placeholder="13812345678 或 0510-86860211" required aria-required="true" data-kind="text"{% if values.phone %} value="{{ values.phone }}"{% endif %}{% if "$.phone" in errors %} aria-describedby="intake-phone-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-enum" id="intake-delivery-field"><fieldset class="bm-fieldset">
<legend class="bm-label">结果领取方式<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></legend>{{ err("$.delivery", "intake-delivery") }}<div class="bm-choices">
<div class="bm-choice"><input type="radio" id="intake-delivery" name="delivery" value="window" data-kind="text"{% if values.delivery == "window" %} checked{% endif %}><label for="intake-delivery">窗口领取</label></div>
<div class="bm-choice"><input type="radio" id="intake-delivery-1" name="delivery" value="post" data-kind="text"{% if values.delivery == "post" %} checked{% endif %}><label for="intake-delivery-1">邮寄送达</label></div>
<div class="bm-choice"><input type="radio" id="intake-delivery-2" name="delivery" value="online" data-kind="text"{% if values.delivery == "online" %} checked{% endif %}><label for="intake-delivery-2">网上领取</label></div>
</div></fieldset></div>
<div class="bm-field bm-field-address" id="intake-address-field"><label class="bm-label" for="intake-address">联系地址</label>
<p class="bm-hint" id="intake-address-help">选择邮寄送达时必填, 办理结果寄往此地址。</p>{{ err("$.address", "intake-address") }}
<input id="intake-address" name="address" type="text" autocomplete="street-address" maxlength="200" data-kind="text"{% if values.address %} value="{{ values.address }}"{% endif %} aria-describedby="intake-address-help{% if "$.address" in errors %} intake-address-error" aria-invalid="true{% endif %}"></div>
<div class="bm-field bm-field-boolean" id="intake-through_agent-field"><fieldset class="bm-fieldset">
<legend class="bm-label">委托代理人办理</legend>{{ err("$.through_agent", "intake-through_agent") }}<div class="bm-choices">
<div class="bm-choice"><input type="radio" id="intake-through_agent" name="through_agent" value="true" data-kind="boolean"{% if values.through_agent is sameas true %} checked{% endif %}><label for="intake-through_agent">是</label></div>
<div class="bm-choice"><input type="radio" id="intake-through_agent-1" name="through_agent" value="false" data-kind="boolean"{% if values.through_agent is sameas false %} checked{% endif %}><label for="intake-through_agent-1">否</label></div>
</div></fieldset></div>
<div class="bm-field bm-field-text" id="intake-agent_name-field" data-when="data.through_agent" data-when-ast="[&#34;data&#34;,&#34;through_agent&#34;]"><label class="bm-label" for="intake-agent_name">代理人姓名<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.agent_name", "intake-agent_name") }}
<input id="intake-agent_name" name="agent_name" type="text" maxlength="50" data-kind="text"{% if values.agent_name %} value="{{ values.agent_name }}"{% endif %}{% if "$.agent_name" in errors %} aria-describedby="intake-agent_name-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-id_number" id="intake-agent_id_number-field" data-when="data.through_agent" data-when-ast="[&#34;data&#34;,&#34;through_agent&#34;]"><label class="bm-label" for="intake-agent_id_number">代理人身份证号码<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.agent_id_number", "intake-agent_id_number") }}
<input id="intake-agent_id_number" name="agent_id_number" type="text" maxlength="18" autocomplete="off" spellcheck="false" autocapitalize="characters" data-kind="text"{% if values.agent_id_number %} value="{{ values.agent_id_number }}"{% endif %}{% if "$.agent_id_number" in errors %} aria-describedby="intake-agent_id_number-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-phone" id="intake-agent_phone-field" data-when="data.through_agent" data-when-ast="[&#34;data&#34;,&#34;through_agent&#34;]"><label class="bm-label" for="intake-agent_phone">代理人联系电话<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></label>{{ err("$.agent_phone", "intake-agent_phone") }}
<input id="intake-agent_phone" name="agent_phone" type="tel" autocomplete="tel" inputmode="tel" maxlength="20" data-kind="text"{% if values.agent_phone %} value="{{ values.agent_phone }}"{% endif %}{% if "$.agent_phone" in errors %} aria-describedby="intake-agent_phone-error" aria-invalid="true"{% endif %}></div>
<div class="bm-field bm-field-materials" id="intake-materials-field"><fieldset class="bm-fieldset" id="intake-materials" aria-describedby="intake-materials-help">
<legend class="bm-label">申请材料<span class="bm-required" aria-hidden="true">*</span><span class="bm-visually-hidden">(必填)</span></legend>
<p class="bm-hint" id="intake-materials-help">逐项核对事项目录所列材料, 记录是否收取、形式、份数和页数。</p>{{ err("$.materials", "intake-materials") }}<table class="bm-checklist">
<thead><tr><th scope="col">材料名称</th><th scope="col">核心材料</th><th scope="col">是否已收取</th><th scope="col">材料形式</th><th scope="col">份数</th><th scope="col">页数</th><th scope="col">备注</th></tr></thead>
<tbody>
{%- set answered = values.materials or [] %}
{%- for mat in item.materials %}{% set i = loop.index0 %}{% set row = answered[i] if i < answered | length else {} %}
<tr id="intake-materials-{{ i }}"><th scope="row"><input type="hidden" name="materials.{{ i }}.id" value="{{ mat.id }}">{{ mat.name }}{% if mat.note %}<span class="bm-hint">{{ mat.note }}</span>{% endif %}</th><td>{{ "核心" if mat.core else "非核心(可容缺)" }}</td>
<td><label class="bm-visually-hidden" for="intake-materials-{{ i }}-received">{{ mat.name }} 是否已收取</label><input type="checkbox" id="intake-materials-{{ i }}-received" name="materials.{{ i }}.received" value="true"{% if row.received %} checked{% endif %}></td>
<td><label class="bm-visually-hidden" for="intake-materials-{{ i }}-form">{{ mat.name }} 材料形式</label><select id="intake-materials-{{ i }}-form" name="materials.{{ i }}.form">{% set f = row.form or mat.form %}<option value="original"{% if f == "original" %} selected{% endif %}>原件</option><option value="copy"{% if f == "copy" %} selected{% endif %}>复印件</option><option value="original_and_copy"{% if f == "original_and_copy" %} selected{% endif %}>原件及复印件</option><option value="electronic"{% if f == "electronic" %} selected{% endif %}>电子件</option></select></td>
<td><label class="bm-visually-hidden" for="intake-materials-{{ i }}-copies">{{ mat.name }} 份数</label><input type="number" id="intake-materials-{{ i }}-copies" name="materials.{{ i }}.copies" min="0" step="1" inputmode="numeric" value="{{ row.copies or mat.copies }}"></td>
<td><label class="bm-visually-hidden" for="intake-materials-{{ i }}-pages">{{ mat.name }} 页数</label><input type="number" id="intake-materials-{{ i }}-pages" name="materials.{{ i }}.pages" min="1" step="1" inputmode="numeric"{% if row.pages %} value="{{ row.pages }}"{% endif %}></td>
<td><label class="bm-visually-hidden" for="intake-materials-{{ i }}-note">{{ mat.name }} 备注</label><input type="text" id="intake-materials-{{ i }}-note" name="materials.{{ i }}.note"{% if row.note %} value="{{ row.note }}"{% endif %}></td></tr>
{%- endfor %}
</tbody></table></fieldset></div>
<div class="bm-field bm-field-long_text" id="intake-note-field"><label class="bm-label" for="intake-note">备注</label>{{ err("$.note", "intake-note") }}
<textarea id="intake-note" name="note" rows="4" maxlength="1000" data-kind="text"{% if "$.note" in errors %} aria-describedby="intake-note-error" aria-invalid="true"{% endif %}>{{ values.note or "" }}</textarea></div>
<div class="bm-actions"><button type="submit">提交</button></div>
</form>
<script>{{ script }}</script>
"""


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `fn`, over about `seconds` (after a warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        n += 20
    return n / elapsed


def rates(baseline: Callable[[], Any], ours: Callable[[], Any], seconds: float, rounds: int = 5) -> tuple[float, float]:
    """Best rate of each over interleaved rounds: a machine whose load changes during the run
    slows both sides alike, instead of whichever happened to run second."""
    a, b = [], []
    for _ in range(rounds):
        a.append(rate(baseline, seconds / rounds))
        b.append(rate(ours, seconds / rounds))
    return max(a), max(b)


def intake_answers(item: Any) -> dict[str, Any]:
    rows = [{"id": m.id, "received": True, "form": m.form, "copies": m.copies, "pages": 2 + i}
            for i, m in enumerate(item.materials)]
    return {
        "applicant_type": "person", "applicant_name": "王建国", "id_number": "11010519491231002X",
        "phone": "13812345678", "delivery": "post", "address": "江西省吉安市泰和县澄江镇白凤大道1号",
        "through_agent": False, "materials": rows, "note": "申请人要求邮寄送达",
    }


def invalid_answers(item: Any) -> tuple[dict[str, Any], int]:
    """A submission with known errors, and how many: one per broken field."""
    rows = [{"id": m.id, "received": True, "pages": 0 if i == 0 else 1} for i, m in enumerate(item.materials)]
    data = {
        "applicant_type": "person", "applicant_name": "王建国", "id_number": "110105194912310021",  # checksum
        "phone": "1381234567",  # one digit short
        "delivery": "post",  # no address: required_when
        "through_agent": True, "agent_name": "李四", "agent_id_number": "11010519491231002X",
        "agent_phone": "02-123",  # bad landline
        "materials": rows,  # first row: pages 0
        "note": "x" * 1001,  # too long
    }
    return data, 6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="time per side of each comparison")
    seconds = parser.parse_args().seconds
    forms = load_forms([ROOT / "forms"])
    form = forms["intake"]
    pack = Compiler(ROOT / "policies", ROOT / "forms", ROOT / "templates").compile(ROOT / "policies" / "taihe")
    item = pack.item("food_business_licence")
    answers = intake_answers(item)
    results: list[tuple[str, bool]] = []

    # (a) rendering
    bare_template = Environment(autoescape=True).from_string(BARE)
    script = form_script()

    def bare() -> str:
        return bare_template.render(values=answers, errors={}, item=item, csrf_token="t0k3n",
                                    action="/cases", script=script)

    def ours() -> str:
        return render_form(form, item=item, values=answers, csrf_token="t0k3n", action="/cases")

    ours_html, bare_html = str(ours()), bare()
    size_ratio = len(ours_html) / len(bare_html)
    r_bare, r_ours = rates(bare, ours, seconds)
    ratio = r_ours / r_bare
    print(f"(a) render intake ({len(item.materials)} materials; HTML {len(ours_html)} vs {len(bare_html)} bytes)")
    print(f"    bare Jinja2, hand-written:  {r_bare:10.0f} renders/s")
    print(f"    render_form:                {r_ours:10.0f} renders/s   = {ratio:.0%} of bare "
          f"(target ≥ {RENDER_TARGET:.0%})  {'PASS' if ratio >= RENDER_TARGET else 'FAIL'}")
    results.append(("render", ratio >= RENDER_TARGET))
    equivalent = 0.9 <= size_ratio <= 1.1
    print(f"    same output size within 10%: {size_ratio:.2f}  {'PASS' if equivalent else 'FAIL'}")
    results.append(("equivalent", equivalent))

    # (b) validation, valid submissions
    schema = to_json_schema(form, item)
    bare_validator = Draft202012Validator(schema)
    assert validate(form, answers, item) == [], validate(form, answers, item)
    assert bare_validator.is_valid(answers)
    r_bare, r_ours = rates(lambda: list(bare_validator.iter_errors(answers)), lambda: validate(form, answers, item),
                           seconds)
    ratio = r_ours / r_bare
    print("(b) validate intake, valid submissions")
    print(f"    jsonschema Draft202012Validator (built once): {r_bare:10.0f} /s")
    print(f"    bianmin.forms.validate:                       {r_ours:10.0f} /s   = {ratio:.1f}× "
          f"(target ≥ {VALIDATE_TARGET:.0f}×)  {'PASS' if ratio >= VALIDATE_TARGET else 'FAIL'}")
    results.append(("validate valid", ratio >= VALIDATE_TARGET))

    # (b) invalid submissions: every error, and at what speed
    bad, expected = invalid_answers(item)
    ours_errors = validate(form, bad, item)
    schema_errors = list(bare_validator.iter_errors(bad))
    r_bare, r_ours = rates(lambda: list(bare_validator.iter_errors(bad)), lambda: validate(form, bad, item), seconds)
    every = len(ours_errors) == expected
    print(f"    invalid submission: validate returns {len(ours_errors)} errors (expected {expected}; "
          f"bare JSON Schema finds {len(schema_errors)}: it cannot check the ID checksum or required_when)")
    for e in ours_errors:
        print(f"      - {e}")
    print(f"    jsonschema, every error:  {r_bare:10.0f} /s")
    print(f"    validate, every error:    {r_ours:10.0f} /s   = {r_ours / r_bare:.1f}×  "
          f"{'PASS' if every else 'FAIL'} (every error returned)")
    results.append(("every error", every))

    failed = [name for name, ok in results if not ok]
    print("FAIL: " + ", ".join(failed) if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
