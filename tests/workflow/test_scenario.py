"""Workflow scenarios (policies/<pack>/tests/*.yaml with `workflow:`): what they check and how
they report a difference."""

from __future__ import annotations

from typing import Any

import pytest

from bianmin.scenarios import ScenarioError, ScenarioFailure, run


def scenario(**changes: Any) -> dict[str, Any]:
    spec = {
        "name": "受理", "source": "jiangyin 三(三)5", "workflow": "case", "item": "food_business_licence",
        "events": [{"at": "2026-03-02T09:00", "do": "start", "as": "clerk"},
                   {"at": "2026-03-02T10:00", "do": "accept", "as": "clerk"}],
        "now": "2026-03-05T09:00",
        "expect": {"state": "accepted", "documents": ["acceptance_notice"], "timers": ["promised_warning"],
                   "promised": {"deadline": "2026-03-09", "status": "running"}},
    }
    spec.update(changes)
    return spec


def test_a_scenario_that_holds_passes(packs):
    run(scenario(), packs["jiangyin"], "s.yaml:1:3")


def test_every_difference_is_reported_with_the_events_taken(packs):
    spec = scenario(expect={"state": "completed", "documents": [], "promised": {"deadline": "2026-03-10"}})
    with pytest.raises(ScenarioFailure) as exc:
        run(spec, packs["jiangyin"], "s.yaml:1:3")
    text = str(exc.value)
    assert "state: expected 'completed', got 'accepted'" in text
    assert "documents: expected [], got ['acceptance_notice']" in text
    assert "promised.deadline: expected 2026-03-10, got 2026-03-09" in text
    assert "2. 2026-03-02 10:00 accept: received → accepted" in text


def test_a_refused_event_fails_the_scenario_with_its_reason(packs):
    with pytest.raises(ScenarioFailure, match=r"event 2 \(accept\) refused: guard_failed"):
        run(scenario(missing=["layout"]), packs["jiangyin"], "s.yaml:1:3")


def test_an_expected_refusal_must_happen(packs):
    with pytest.raises(ScenarioFailure, match="expected the last event to be refused"):
        run(scenario(expect={"error": "guard_failed"}), packs["jiangyin"], "s.yaml:1:3")
    run(scenario(missing=["layout"], expect={"error": "guard_failed", "state": "received"}), packs["jiangyin"], "s")


@pytest.mark.parametrize("changes, message", [
    ({"expect": {"stat": "accepted"}}, "unknown expect key 'stat'"),
    ({"missing": ["floor_plan"]}, "unknown material of item 'food_business_licence' 'floor_plan'"),
    ({"workflow": "cases"}, "unknown workflow 'cases'"),
    ({"events": [{"at": "2026-03-02T10:00", "do": "accept"}]}, "needs `as: <role>`"),
    ({"events": [{"at": "2026-03-02T10:00", "do": "accept", "as": "clerk", "who": "x"}]}, "unknown event key 'who'"),
    ({"colour": "red"}, "unknown workflow scenario key 'colour'"),
])
def test_a_malformed_scenario_is_an_error_naming_the_problem(packs, changes, message):
    with pytest.raises(ScenarioError, match=message):
        run(scenario(**changes), packs["jiangyin"], "s.yaml:1:3")
