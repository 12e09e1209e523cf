"""due_timers: what the sweeper fires, once per deadline."""

from __future__ import annotations

from bianmin.workflow import due_timers
from workflow_helpers import CLERK, HEAD, at, open_case, run

FOOD = "food_business_licence"  # jiangyin: promised deadline 2026-03-09, statutory 03-16


def accepted(packs):
    return run(open_case(packs["jiangyin"], FOOD, when="2026-03-02 09:00"), ("accept", "2026-03-02 10:00", CLERK)).instance


def test_nothing_is_due_while_a_clock_is_green(packs):
    assert due_timers(accepted(packs), at("2026-03-03 09:00"), None, set()) == []


def test_a_warning_is_due_when_the_clock_turns_yellow(packs):
    # 2 working days left on 03-05 (03-06, 03-09): the pack's yellow warning
    [due] = due_timers(accepted(packs), at("2026-03-05 09:00"), None, set())
    assert due.timer.id == "promised_warning" and due.key == "promised_warning@2026-03-09"
    assert due.state.level == "yellow"
    assert [dict(e.args) for e in due.effects] == [{"roles": ["clerk", "window_head"], "message": "办件即将超过承诺时限"}]


def test_an_overdue_clock_fires_its_timer_and_records_the_violation(packs):
    due = {d.timer.id: d for d in due_timers(accepted(packs), at("2026-03-10 09:00"), None, set())}
    assert set(due) == {"promised_overdue", "violation.overdue_promised"}
    [violation] = due["violation.overdue_promised"].effects
    assert violation.action == "record_violation"
    assert dict(violation.args) == {"violation": "overdue_promised", "evidence": [1, 2], "clock": "promised",
                                   "deadline": "2026-03-09"}
    later = {d.timer.id for d in due_timers(accepted(packs), at("2026-03-17 09:00"), None, set())}
    assert later == {"promised_overdue", "violation.overdue_promised", "statutory_overdue",
                     "violation.overdue_statutory"}


def test_a_fired_timer_is_not_fired_again(packs):
    case = accepted(packs)
    fired = {d.key for d in due_timers(case, at("2026-03-10 09:00"), None, set())}
    assert due_timers(case, at("2026-03-10 15:00"), None, fired) == []
    assert due_timers(case, at("2026-03-10 15:00"), None, {"promised_overdue", "violation.overdue_promised"}) == []


def test_an_extension_rearms_the_warning_for_the_new_deadline(packs):
    case = accepted(packs)
    fired = {d.key for d in due_timers(case, at("2026-03-05 09:00"), None, set())}
    data = {"reason": "需现场核查", "new_deadline": "2026-03-13", "approver": "李主任"}
    extended = run(case, ("extend", "2026-03-05 10:00", HEAD, data)).instance
    assert due_timers(extended, at("2026-03-06 09:00"), None, fired) == []
    [due] = due_timers(extended, at("2026-03-11 09:00"), None, fired)
    assert due.key == "promised_warning@2026-03-13"


def test_a_stopped_clock_fires_nothing(packs):
    done = run(accepted(packs), ("complete", "2026-03-05 10:00", CLERK, {"outcome": "approved"})).instance
    assert due_timers(done, at("2026-03-20 09:00"), None, set()) == []
