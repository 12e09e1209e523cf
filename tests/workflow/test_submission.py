"""Transition forms: loaded per pack, options from the pack, and the missing-materials rule."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from bianmin import paths
from bianmin.workflow import TransitionError, submission
from workflow_helpers import CLERK, PAUSE, open_case, run

FOOD = "food_business_licence"


def accepted(pack):
    return run(open_case(pack, FOOD), ("accept", "2026-03-02 10:00", CLERK)).instance


def test_pause_reasons_are_the_packs_own(packs):
    """jiangyin 三(三)5 adds 勘测 (survey) to the law's list; xupu keeps the law's."""
    survey = {**PAUSE, "reason": "survey"}
    with pytest.raises(TransitionError) as exc:
        run(accepted(packs["xupu"]), ("pause", "2026-03-03 10:00", CLERK, survey))
    assert exc.value.code == "invalid_form" and "「survey」不是可选项" in exc.value.message
    item = packs["jiangyin"].item("construction_planning_permit")
    case = run(open_case(packs["jiangyin"], item.id), ("accept", "2026-03-02 10:00", CLERK)).instance
    assert run(case, ("pause", "2026-03-03 10:00", CLERK, survey)).instance.state == "paused"


def test_a_packs_own_form_replaces_the_shared_one(packs, tmp_path):
    pack = packs["jiangyin"]
    shared = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), shared)
    own = tmp_path / "jiangyin"
    own.mkdir()
    text = (shared / "pause.yaml").read_text("utf-8")
    (own / "pause.yaml").write_text(text + "  - {id: expert_names, label: 专家名单, type: text, required: true}\n", "utf-8")
    submission.use_forms_dirs(lambda p: [shared, own])
    try:
        with pytest.raises(TransitionError) as exc:
            run(accepted(pack), ("pause", "2026-03-03 10:00", CLERK, PAUSE))
        assert exc.value.code == "invalid_form" and "专家名单: 必须填写" in exc.value.message
    finally:
        submission.use_forms_dirs(None)
    assert run(accepted(pack), ("pause", "2026-03-03 10:00", CLERK, PAUSE)).instance.state == "paused"


def test_the_missing_list_rule_can_be_turned_off_by_the_pack(packs):
    pack = packs["jiangyin"]
    lenient = dataclasses.replace(pack, time_limits=dataclasses.replace(
        pack.time_limits, correction_notice=dataclasses.replace(pack.time_limits.correction_notice, complete_list=False)))
    notice = {"missing_materials": [{"material": "layout", "problem": "missing"}]}
    with pytest.raises(TransitionError):
        run(open_case(pack, FOOD, missing=("layout", "safety_rules")), ("request_correction", "2026-03-02 10:00", CLERK, notice))
    outcome = run(open_case(lenient, FOOD, missing=("layout", "safety_rules")),
                  ("request_correction", "2026-03-02 10:00", CLERK, notice))
    assert outcome.instance.state == "correcting"


def test_the_missing_list_errors_name_the_field(packs):
    pack = packs["jiangyin"]
    form = submission.forms_of(pack)[0]["correction"]
    subject = {"materials": [{"id": m.id, "received": m.id != "layout"} for m in pack.item(FOOD).materials]}
    errors = submission.missing_list_errors(form, {"missing_materials": []}, subject, pack.item(FOOD))
    assert [(e.path, e.label, e.kind) for e in errors] == [("$.missing_materials", "需补正的材料", "incomplete_list")]
