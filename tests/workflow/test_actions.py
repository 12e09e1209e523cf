"""The action registry and the built-in actions' effects."""

from __future__ import annotations

import pytest

from bianmin import builtins
from bianmin.packs.model import Action
from bianmin.workflow import Effect, TransitionError, actions, registered_actions
from workflow_helpers import CLERK, effects, open_case, run, with_transition


def test_the_interpreter_implements_every_action_the_checker_allows():
    """The checker knows actions from the plugin hooks (`bianmin.builtins`); the interpreter runs
    each of them, with the same argument naming the same part of the pack."""
    declared = {name: next(iter(spec.refers.items()), None) for name, spec in builtins.ACTIONS.items()}
    implemented = {name: spec.ref for name, spec in registered_actions().items() if name in declared}
    assert implemented == declared


def test_notify_and_assign(packs):
    pack = packs["taishan"]
    case = run(open_case(pack, "food_business_licence"), ("accept", "2026-03-02 10:00", CLERK))
    outcome = run(case.instance, ("dispatch", "2026-03-02 11:00", CLERK))
    assert outcome.effects[:2] == (
        Effect("assign", {"role": "back_office"}),
        Effect("notify", {"roles": ["back_office", "chief_representative"], "message": "综合窗口已推送申请材料和初审意见"}))


def test_open_workflow_passes_the_subject_the_form_data_and_its_own_data(packs):
    pack = with_transition(packs["xupu"], "case", "refuse", actions=(
        Action("open_workflow", (("data", (("channel", "window"), ("urgent", True))), ("workflow", "negative_report"))),))
    refusal = {"ground": "not_competent", "competent_authority": "县自然资源局", "reasons": "不属于本机关职权范围",
               "legal_basis": "行政许可法 第三十二条", "rights": "可依法申请行政复议"}
    outcome = run(open_case(pack, "food_business_licence", number="XP-9", applicant="李四"),
                  ("refuse", "2026-03-02 10:00", CLERK, refusal))
    [opened] = effects(outcome, "open_workflow")
    data = opened["data"]
    assert (data["number"], data["applicant"], data["competent_authority"]) == ("XP-9", "李四", "县自然资源局")
    assert (data["channel"], data["urgent"]) == ("window", True)


def test_an_unregistered_action_fails_at_run_time(packs):
    pack = with_transition(packs["jiangyin"], "case", "accept", actions=(Action("teleport_file", ()),))
    with pytest.raises(TransitionError) as exc:
        run(open_case(pack, "food_business_licence"), ("accept", "2026-03-02 10:00", CLERK))
    assert exc.value.code == "unknown_action" and "teleport_file" in exc.value.message


def test_a_registered_plugin_action_runs_with_the_event(packs, monkeypatch):
    monkeypatch.setattr(actions, "_REGISTRY", dict(actions._REGISTRY))

    def sms(instance, args, event):
        return [Effect("send_sms", {"to": instance.subject["phone"], "text": args["text"], "seq": event.seq})]

    actions.register("send_sms", sms)
    assert "send_sms" in registered_actions()
    pack = with_transition(packs["jiangyin"], "case", "accept", actions=(Action("send_sms", (("text", "已受理"),)),))
    outcome = run(open_case(pack, "food_business_licence", phone="13812345678"), ("accept", "2026-03-02 10:00", CLERK))
    assert effects(outcome, "send_sms") == [{"to": "13812345678", "text": "已受理", "seq": 2}]
