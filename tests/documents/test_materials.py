"""Materials: what is missing, the one-time notice that lists all of it, and acceptance on a
written commitment when only non-core materials are missing (taihe 三(四)1)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from bianmin.calendar import Calendar
from bianmin.documents.materials import (
    NotAcceptableOnCommitment,
    accept_on_commitment,
    checklist,
    commitment_until,
    correction_data,
    missing,
    notice_omissions,
    only_non_core_missing,
)
from bianmin.documents.render import render_document
from bianmin.forms import validate
from bianmin.packs.model import Duration

ACCEPTED = date(2026, 1, 5)  # a Monday


@pytest.fixture(scope="module")
def taihe(contexts):
    return contexts.packs["taihe"]


@pytest.fixture(scope="module")
def food(taihe):
    """Taihe's food licence: four core materials, two non-core ones it accepts on commitment."""
    item = taihe.item("food_business_licence")
    assert item.accept_on_commitment and [m.core for m in item.materials] == [True] * 4 + [False] * 2
    return item


@pytest.fixture(scope="module")
def calendar(taihe):
    return Calendar.build(taihe.calendar)


def rows(item, absent=()):
    return [{"id": m.id, "received": m.id not in absent, **({"pages": 2} if m.id not in absent else {})}
            for m in item.materials]


def ids(materials):
    return [m.id for m in materials]


# -- missing -------------------------------------------------------------------------------------------

def test_missing_lists_every_material_not_received_once_in_catalogue_order(food):
    received = [{"id": "health_certificates", "received": False}, {"id": "application", "received": True},
                {"id": "application", "received": True}, {"id": "layout", "received": "yes"},  # not True
                {"id": "not_in_catalogue", "received": True}, "legal_rep_id"]
    assert ids(missing(food, received)) == ["business_licence", "layout", "safety_rules", "health_certificates"]
    assert ids(missing(food, None)) == ids(food.materials)
    assert missing(food, rows(food)) == []


def test_only_non_core_missing(food):
    assert only_non_core_missing(food, rows(food, {"safety_rules"}))
    assert only_non_core_missing(food, rows(food, {"safety_rules", "health_certificates"}))
    assert not only_non_core_missing(food, rows(food))  # nothing missing: accept outright
    assert not only_non_core_missing(food, rows(food, {"safety_rules", "layout"}))  # a core one too


def test_checklist_joins_catalogue_and_receipt(food):
    got = checklist(food, [{"id": "application", "received": True, "pages": 3, "form": "copy", "note": "加盖公章"}])
    first, last = got[0], got[-1]
    assert (first["name"], first["form"].label, first["pages"], first["received"], first["note"]) == (
        "食品经营许可申请书", "复印件", 3, True, "加盖公章")
    assert (last["received"], last["pages"], last["core"], last["note"]) == (False, None, False, "可书面承诺后容缺办理, 在领证前补齐")
    assert [m["id"] for m in got] == ids(food.materials)


# -- the one-time notice (一次性告知) ----------------------------------------------------------------------

def test_the_notice_lists_exactly_the_missing_materials(food, contexts, taihe):
    received = rows(food, {"layout", "health_certificates"})
    data = correction_data(food, received, problems=[
        {"material": "application", "problem": "incomplete", "requirement": "补签申请人签名"},
        {"material": "layout", "problem": "wrong_form"},  # already listed as missing: once only
    ], other="请携带营业执照原件核验")
    listed = [(str(r["material"].value), str(r["problem"])) for r in data["missing_materials"]]
    assert listed == [("layout", "missing"), ("health_certificates", "missing"), ("application", "incomplete")]
    assert notice_omissions(food, received, data) == []
    # The answer is a valid `correction` form answer ...
    plain = {"missing_materials": [{k: getattr(v, "value", v) for k, v in r.items()} for r in data["missing_materials"]],
             "other": data["other"]}
    assert validate(contexts.forms["correction"], plain, food) == []
    # ... and the printed notice names each missing material once, and no received one.
    pack, context, kwargs = contexts.context("taihe", "correction_notice")
    context["data"] = data
    page = re.sub(r"<[^>]+>", " ", render_document(pack, "correction_notice", context, **kwargs).html)
    for m in food.materials:
        expected = 1 if m.id in ("layout", "health_certificates", "application") else 0
        assert page.count(m.name) == expected, m.name


def test_a_notice_that_leaves_a_missing_material_out_is_caught(food):
    received = rows(food, {"layout", "health_certificates"})
    partial = {"missing_materials": [{"material": "layout", "problem": "missing"}]}
    assert ids(notice_omissions(food, received, partial)) == ["health_certificates"]


def test_a_problem_with_a_material_of_another_item_is_refused(food):
    with pytest.raises(ValueError, match="not in the item's catalogue"):
        correction_data(food, rows(food), problems=[{"material": "floor_plan", "problem": "missing"}])


# -- acceptance on commitment (容缺受理) ---------------------------------------------------------------------

def commitment(missing_ids, supply_by="2026-01-12", signed=True):
    return {"missing": list(missing_ids), "supply_by": supply_by, "signed": True if signed else False,
            "commitment": "本人承诺申请条件真实, 并在承诺期限内补齐上述材料。"}


def test_accepted_when_only_non_core_materials_are_missing(food, calendar):
    absent = {"safety_rules", "health_certificates"}
    accepted = accept_on_commitment(food, rows(food, absent), commitment(absent), calendar=calendar,
                                    accepted_on=ACCEPTED)
    assert ids(accepted.missing) == ["safety_rules", "health_certificates"]
    assert accepted.commitment_until == date(2026, 1, 12) and not accepted.provisional


@pytest.mark.parametrize(("absent", "reason"), [
    ({"layout", "safety_rules"}, "缺少核心材料, 不能容缺受理: 与食品经营相适应的主要设备设施布局、操作流程等文件"),
    (set(), "申请材料齐全, 应直接受理"),
])
def test_refused_unless_only_non_core_materials_are_missing(food, calendar, absent, reason):
    with pytest.raises(NotAcceptableOnCommitment) as caught:
        accept_on_commitment(food, rows(food, absent), commitment(absent), calendar=calendar, accepted_on=ACCEPTED)
    assert reason in caught.value.reasons


def test_refused_when_the_item_does_not_allow_it(taihe, calendar):
    item = taihe.item("sole_trader_registration")
    absent = {item.materials[-1].id}
    with pytest.raises(NotAcceptableOnCommitment, match="不适用容缺受理"):
        accept_on_commitment(item, rows(item, absent), commitment(absent), calendar=calendar, accepted_on=ACCEPTED)


def test_the_commitment_must_cover_every_missing_material_and_be_signed(food, calendar):
    absent = {"safety_rules", "health_certificates"}
    with pytest.raises(NotAcceptableOnCommitment) as caught:
        accept_on_commitment(food, rows(food, absent), commitment({"safety_rules", "application"}, signed=False),
                             calendar=calendar, accepted_on=ACCEPTED)
    assert caught.value.reasons == [
        "承诺未涵盖全部缺失材料: 从业人员健康证明",
        "以下材料已收取, 无需承诺: 食品经营许可申请书",
        "申请人尚未签署书面承诺",
    ]


def test_a_promised_day_off_moves_to_the_next_working_day(calendar):
    assert commitment_until(calendar, ACCEPTED, supply_by="2026-01-10") == date(2026, 1, 12)  # Saturday → Monday
    assert commitment_until(calendar, ACCEPTED, supply_by="2026-02-17") == date(2026, 2, 24)  # 春节 → after it


def test_a_pack_period_counts_working_days_after_acceptance(calendar):
    # 2026-02-12 (Thursday) + 5 working days: 13th, 14th (make-up Saturday), then the Spring Festival.
    assert commitment_until(calendar, date(2026, 2, 12), within=Duration("working_day", 5)) == date(2026, 2, 26)
    # Both given: the earlier; the applicant may promise sooner than the pack allows, not later.
    assert commitment_until(calendar, ACCEPTED, supply_by="2026-01-30", within=Duration("working_day", 5)) == date(2026, 1, 12)
    assert commitment_until(calendar, ACCEPTED, supply_by="2026-01-07", within=Duration("working_day", 5)) == date(2026, 1, 7)


def test_a_date_not_after_acceptance_is_refused(food, calendar):
    absent = {"safety_rules"}
    with pytest.raises(NotAcceptableOnCommitment, match="应晚于受理日期"):
        accept_on_commitment(food, rows(food, absent), commitment(absent, supply_by="2026-01-05"),
                             calendar=calendar, accepted_on=ACCEPTED)
    with pytest.raises(ValueError, match="未给出"):
        commitment_until(calendar, ACCEPTED)
