"""bianmin.timelimits: clocks against hand-computed deadlines on the 2025/2026 official calendar.

Holidays used (State Council notices, checked with chinese_calendar): 2025 国庆/中秋 10-01..08 off,
Sun 09-28 and Sat 10-11 make-up; 2026 元旦 01-01..03 off, Sun 01-04 make-up; 春节 02-15..23 off,
Sat 02-14 and Sat 02-28 make-up; 中秋 09-25..27 off; 国庆 10-01..07 off, Sun 09-20 and Sat 10-10
make-up. The start day is never counted (民法典 §201).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bianmin.calendar import Calendar, CalendarConfig, CalendarCoverageError
from bianmin.packs.loader import load_text
from bianmin.packs.model import (
    Clock, ClockStart, ComplaintCategory, Complaints, CorrectionNotice, Duration, Extension, Item, LimitRef,
    Limits, OfficeHours, Pack, PausePolicy, PauseReason, Period, Step, TimeLimits, Warning,
)
from bianmin.timelimits import (
    ClockError, ClockEvent, compute, deadline_many, limit_for, parse_events, steps_deadlines,
)

CAL = Calendar.build(CalendarConfig())
WD = "working_day"


def d(text: str) -> date:
    return date.fromisoformat(text)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ev(at: str, kind: str, **kw) -> ClockEvent:
    return ClockEvent(t(at), kind, **kw)


def item(id_: str, promised: Duration, statutory: Duration, **kw) -> Item:
    return Item(id=id_, code=id_, name=id_, type="行政许可", kind="promised", department="dept",
                limits=Limits(statutory=statutory, promised=promised, steps=kw.pop("steps", ())),
                materials=(), legal_basis=(), **kw)


def clock(id_: str, limit: LimitRef, **kw) -> Clock:
    return Clock(id=id_, name=id_, limit=limit, source=f"test {id_}", **kw)


TIME_LIMITS = TimeLimits(
    clock_start=ClockStart("received", "law §32"),
    correction_notice=CorrectionNotice(Duration(WD, 5), "count_from_receipt", "law §32"),
    pause_reasons=(PauseReason("expert_review", "专家评审", "law §45"), PauseReason("survey", "勘测", "seed 三(三)5"),
                   PauseReason("hearing", "听证", "law §45")),
    pause=PausePolicy("law §45", requires=("reason", "expected_duration")),
    extension=Extension(("unit_head",), "law §42", max=Duration(WD, 10, "law §42")),
)
PACK = Pack(
    id="t", name="测试县", level="county", version="1", effective_from=d("2025-01-01"), content_hash="x",
    lineage=("t",), time_limits=TIME_LIMITS,
    office_hours=OfficeHours((Period("08:30", "12:00"), Period("14:00", "17:30")), "practice"),
    clocks=(
        clock("promised", LimitRef(from_="item.promised")),
        clock("statutory", LimitRef(from_="item.statutory")),
        clock("record", LimitRef(from_="data.limit")),
        clock("complaint", LimitRef(from_="category.limit")),
        clock("unresolved", LimitRef(by="complexity", cases=(("general", Duration(WD, 1)), ("complex", Duration(WD, 3))))),
    ),
    items=(
        item("licence", Duration(WD, 5), Duration(WD, 10)),
        item("permit", Duration(WD, 12), Duration(WD, 20), pausable_for=("expert_review", "survey")),
        item("counter", Duration("immediate"), Duration(WD, 3)),
        item("sameday", Duration("same_day"), Duration(WD, 3)),
        item("joint", Duration(WD, 5), Duration(WD, 30), steps=(
            Step("tax", "税费核定", "tax", Duration(WD, 1)), Step("review", "登记审核", "land", Duration(WD, 3)),
            Step("issue", "发证", "land", Duration(WD, 1)))),
    ),
    complaints=Complaints(categories=(ComplaintCategory("conduct", "服务态度", "supervisor", Duration(WD, 5), "x"),)),
)


def run(clock_id: str, events: list[ClockEvent], now: str, pack: Pack = PACK, item_id: str | None = "licence",
        calendar: Calendar = CAL, **kw):
    return compute(pack.clock(clock_id), events, calendar, pack=pack,
                   item=pack.item(item_id) if item_id else None, now=t(now), **kw)


def record(limit: dict, events: list[ClockEvent], now: str, pack: Pack = PACK, **kw):
    return run("record", events, now, pack=pack, item_id=None, data={"limit": limit}, **kw)


def with_limits(**changes) -> Pack:
    return dataclasses.replace(PACK, time_limits=dataclasses.replace(TIME_LIMITS, **changes))


# -- start of the clock, working days ---------------------------------------------------------

def test_start_day_not_counted_and_national_day_skipped() -> None:
    events = [ev("2026-09-30T10:00", "received")]
    promised = run("promised", events, "2026-10-08T09:00")
    # 10-01..07 off: 10-08, 10-09, Sat 10-10 (make-up), 10-12, 10-13.
    assert (promised.deadline, promised.status, promised.remaining, promised.start) == \
        (d("2026-10-13"), "running", 4, d("2026-09-30"))
    assert run("statutory", events, "2026-10-08T09:00").deadline == d("2026-10-20")


def test_correction_notice_within_five_working_days_restarts_the_clock() -> None:
    # Received Mon 09-28; the notice is due by 09-29, 09-30, 10-08, 10-09, Sat 10-10.
    events = [ev("2026-09-28T10:00", "received"), ev("2026-10-10T11:00", "correction_notice"),
              ev("2026-10-12T09:00", "resubmitted")]
    state = run("promised", events, "2026-10-12T10:00")
    assert (state.start, state.deadline) == (d("2026-10-12"), d("2026-10-19"))
    assert any("within 5个工作日 of receipt" in line.text and line.source == "law §32" for line in state.explanation)


def test_late_correction_notice_counts_from_receipt() -> None:
    events = [ev("2026-09-28T10:00", "received"), ev("2026-10-12T09:00", "correction_notice"),
              ev("2026-10-13T09:00", "resubmitted")]
    state = run("promised", events, "2026-10-13T10:00")
    assert (state.start, state.deadline, state.status, state.remaining) == \
        (d("2026-09-28"), d("2026-10-10"), "overdue", -2)
    assert any("count_from_receipt" in line.text for line in state.explanation)


def test_timely_notice_without_materials_has_not_started() -> None:
    events = [ev("2026-09-28T10:00", "received"), ev("2026-09-29T10:00", "correction_notice")]
    state = run("promised", events, "2026-11-30T10:00")
    assert (state.status, state.deadline, state.remaining) == ("not_started", None, None)


def test_second_correction_notice_breaks_the_one_time_rule() -> None:
    events = [ev("2026-09-28T10:00", "received"), ev("2026-09-29T10:00", "correction_notice"),
              ev("2026-09-30T10:00", "resubmitted"), ev("2026-09-30T11:00", "correction_notice")]
    with pytest.raises(ClockError, match="second correction notice.*一次性告知"):
        run("promised", events, "2026-10-08T10:00")


def test_clock_start_at_acceptance_and_late_notice_still_counts_from_receipt() -> None:
    pack = with_limits(clock_start=ClockStart("accepted", "local §1"))
    accepted = [ev("2026-09-28T10:00", "received"), ev("2026-09-30T10:00", "accepted")]
    assert run("promised", accepted, "2026-10-08T10:00", pack=pack).deadline == d("2026-10-13")
    late = [ev("2026-09-28T10:00", "received"), ev("2026-10-12T09:00", "correction_notice"),
            ev("2026-10-14T09:00", "accepted")]
    assert run("promised", late, "2026-10-14T10:00", pack=pack).deadline == d("2026-10-10")


# -- pauses ------------------------------------------------------------------------------------

PERMIT = [ev("2026-09-21T10:00", "received")]  # promised 12 → 10-14, statutory 20 → 10-26


def test_pause_spanning_national_day_moves_deadline_by_the_working_days_lost() -> None:
    events = PERMIT + [ev("2026-09-29T09:00", "pause", reason="survey", expected_days=5), ev("2026-10-13T09:00", "resume")]
    # Lost: 09-30, 10-08, 10-09, 10-10, 10-12, 10-13 = 6 working days.
    promised = run("promised", events, "2026-10-14T12:00", item_id="permit")
    statutory = run("statutory", events, "2026-10-14T12:00", item_id="permit")
    assert (promised.deadline, promised.remaining, statutory.deadline) == (d("2026-10-22"), 6, d("2026-11-03"))
    by_day = {line.day: line for line in promised.explanation if line.day}
    assert by_day[d("2026-10-01")].text == "holiday 国庆节; paused for 勘测 (survey), not counted"
    assert by_day[d("2026-10-10")].counted is False and "make-up workday" in by_day[d("2026-10-10")].text
    assert (by_day[d("2026-10-22")].counted, by_day[d("2026-10-22")].count) == (True, 12)
    assert any(line.source == "seed 三(三)5" and "6 working days not counted" in line.text
               for line in promised.explanation)


def test_pause_inside_a_holiday_loses_no_working_day() -> None:
    events = PERMIT + [ev("2026-10-02T09:00", "pause", reason="survey", expected_days=1), ev("2026-10-07T17:00", "resume")]
    assert run("promised", events, "2026-10-08T09:00", item_id="permit").deadline == d("2026-10-14")


def test_pause_and_resume_on_the_same_day_changes_nothing() -> None:
    events = PERMIT + [ev("2026-09-29T09:00", "pause", reason="survey", expected_days=0), ev("2026-09-29T16:00", "resume")]
    assert run("promised", events, "2026-09-30T09:00", item_id="permit").deadline == d("2026-10-14")


def test_pause_after_the_deadline_gives_no_time_back() -> None:
    events = [ev("2026-09-30T10:00", "received"), ev("2026-10-14T09:00", "pause", reason="hearing", expected_days=2),
              ev("2026-10-16T09:00", "resume")]
    state = run("promised", events, "2026-10-16T12:00")
    assert (state.deadline, state.status) == (d("2026-10-13"), "overdue")


def test_open_pause_freezes_remaining_and_projects_the_deadline() -> None:
    events = PERMIT + [ev("2026-09-29T09:00", "pause", reason="survey", expected_days=5)]
    # 5 counted (09-22, 23, 24, 28, 29), 7 left. Expected end: 5 working days after 09-29 = 10-12.
    state = run("promised", events, "2026-10-09T12:00", item_id="permit")
    assert (state.status, state.remaining, state.paused_for, state.deadline) == ("paused", 7, "survey", d("2026-10-21"))
    # Past the announced end, the pause is assumed to end now: 7 lost (to 10-14) → 10-23.
    assert run("promised", events, "2026-10-14T12:00", item_id="permit").deadline == d("2026-10-23")


@pytest.mark.parametrize(("events", "message"), [
    ([ev("2026-09-22T09:00", "pause", reason="tender", expected_days=2)], "unknown pause reason 'tender'"),
    ([ev("2026-09-22T09:00", "pause", reason="hearing", expected_days=2)], "may pause only for expert_review, survey"),
    ([ev("2026-09-22T09:00", "pause", reason="survey")], "needs expected_days"),
    ([ev("2026-09-22T09:00", "resume")], "resume without a pause"),
    ([ev("2026-09-22T09:00", "pause", reason="survey", expected_days=2),
      ev("2026-09-23T09:00", "pause", reason="survey", expected_days=2)], "already paused"),
    ([ev("2026-09-22T09:00", "pause", reason="survey", expected_days=2), ev("2026-09-23T09:00", "completed")],
     "completed while paused"),
])
def test_invalid_pauses_are_refused(events, message) -> None:
    with pytest.raises(ClockError, match=message):
        run("promised", PERMIT + events, "2026-09-30T09:00", item_id="permit")


# -- extensions ---------------------------------------------------------------------------------

LICENCE = [ev("2026-09-30T10:00", "received")]  # promised 5 → 10-13, statutory 10 → 10-20


def extension(at: str, role: str = "unit_head", clocks: tuple[str, ...] = (), **kw) -> ClockEvent:
    if "until" not in kw:
        kw.setdefault("by", Duration(WD, 5))
    return ClockEvent(t(at), "extension", role=role, clocks=clocks, reason="需要补充核查", **kw)


def test_promised_extension_up_to_the_statutory_deadline() -> None:
    events = LICENCE + [extension("2026-10-12T10:00", clocks=("promised",))]
    # 10-13 + 5: 10-14, 15, 16, 19, 20 = the statutory deadline: allowed.
    state = run("promised", events, "2026-10-14T10:00")
    assert (state.deadline, state.remaining) == (d("2026-10-20"), 4)
    assert any(line.text.startswith("cap: the extended deadline stays within") for line in state.explanation)
    days = [line for line in state.explanation if line.day and "extension (延期)" in line.text]
    assert [line.day for line in days] == [d("2026-10-14"), d("2026-10-15"), d("2026-10-16"), d("2026-10-19"), d("2026-10-20")]


def test_promised_extension_past_the_statutory_deadline_is_refused() -> None:
    events = LICENCE + [extension("2026-10-12T10:00", clocks=("promised",), by=Duration(WD, 6))]
    with pytest.raises(ClockError, match="would pass the statutory deadline 2026-10-20.*cap: statutory_limit"):
        run("promised", events, "2026-10-14T10:00")


def test_extension_of_both_clocks_raises_the_cap_too() -> None:
    events = LICENCE + [extension("2026-10-12T10:00", by=Duration(WD, 6))]
    assert run("promised", events, "2026-10-14T10:00").deadline == d("2026-10-21")
    assert run("statutory", events, "2026-10-14T10:00").deadline == d("2026-10-28")


def test_statutory_extension_at_most_extension_max() -> None:
    ok = LICENCE + [extension("2026-10-12T10:00", clocks=("statutory",), by=Duration(WD, 10))]
    assert run("statutory", ok, "2026-10-14T10:00").deadline == d("2026-11-03")
    too_long = LICENCE + [extension("2026-10-12T10:00", clocks=("statutory",), by=Duration(WD, 11))]
    with pytest.raises(ClockError, match="add up to 11 working days, more than the 10个工作日 allowed"):
        run("statutory", too_long, "2026-10-14T10:00")
    twice = LICENCE + [extension("2026-10-12T10:00", clocks=("statutory",), by=Duration(WD, 6)),
                       extension("2026-10-13T10:00", clocks=("statutory",), by=Duration(WD, 5))]
    with pytest.raises(ClockError, match="add up to 11"):
        run("statutory", twice, "2026-10-14T10:00")


@pytest.mark.parametrize(("pack", "event", "message"), [
    (PACK, extension("2026-10-12T10:00", role="clerk"), "role 'clerk' cannot approve.*approvers are unit_head"),
    (PACK, extension("2026-10-12T10:00", role=""), "an extension without a role cannot approve"),
    (PACK, extension("2026-10-21T09:00"), "after the deadline 2026-10-20"),
    (with_limits(extension=None), extension("2026-10-12T10:00"), "sets no extension rule"),
    (with_limits(extension=Extension(("unit_head",), "local §6")), extension("2026-10-12T10:00", clocks=("statutory",)),
     "statutory limit cannot be extended"),
    (with_limits(extension=Extension(("unit_head",), "local §6", requires=("reason",))),
     ClockEvent(t("2026-10-12T10:00"), "extension", by=Duration(WD, 1), role="unit_head"), "needs a reason"),
])
def test_extension_refusals(pack, event, message) -> None:
    with pytest.raises(ClockError, match=message):
        run("statutory", LICENCE + [event], "2026-10-22T10:00", pack=pack)


def test_extension_on_the_deadline_day_is_in_time() -> None:
    events = LICENCE + [extension("2026-10-13T16:00", clocks=("promised",), by=Duration(WD, 2))]
    assert run("promised", events, "2026-10-14T10:00").deadline == d("2026-10-15")


def test_extension_until_an_earlier_day_leaves_that_clock_alone() -> None:
    events = LICENCE + [extension("2026-10-12T10:00", until=d("2026-10-15"))]
    assert run("promised", events, "2026-10-14T10:00").deadline == d("2026-10-15")
    assert run("statutory", events, "2026-10-14T10:00").deadline == d("2026-10-20")


def test_record_clock_extension_needs_no_approver() -> None:
    events = [ev("2026-09-30T10:00", "start"), ClockEvent(t("2026-10-09T16:00"), "extension", until=d("2026-10-14"))]
    state = run("unresolved", events, "2026-10-12T09:00", item_id=None, data={"complexity": "complex"})
    assert (state.deadline, state.status) == (d("2026-10-14"), "running")


# -- units ----------------------------------------------------------------------------------------

def test_natural_day_period_ending_on_a_holiday_ends_on_the_next_working_day() -> None:
    state = record({"value": 3, "unit": "natural_day"}, [ev("2026-09-28T10:00", "start")], "2026-09-30T09:00")
    assert (state.deadline, state.remaining, state.unit) == (d("2026-10-08"), 8, "natural_day")
    assert any("民法典 §203" in line.text for line in state.explanation if line.day == d("2026-10-05"))


def test_natural_day_period_ending_on_a_make_up_saturday_stays() -> None:
    state = record({"value": 7, "unit": "natural_day"}, [ev("2026-10-03T10:00", "start")], "2026-10-04T09:00")
    assert state.deadline == d("2026-10-10")


def test_natural_day_pause_then_weekend_roll() -> None:
    events = [ev("2026-06-01T10:00", "start"), ev("2026-06-03T10:00", "pause", reason="hearing", expected_days=2),
              ev("2026-06-05T10:00", "resume")]
    # 06-01 + 10 = 06-11; 2 days paused → Sat 06-13 → Mon 06-15.
    assert record({"value": 10, "unit": "natural_day"}, events, "2026-06-05T12:00").deadline == d("2026-06-15")


def test_working_hours_across_lunch_and_weekend() -> None:
    events = [ev("2026-06-05T11:00", "start")]  # a Friday; office 08:30-12:00, 14:00-17:30
    state = record({"value": 6, "unit": "working_hour"}, events, "2026-06-05T15:00")
    # Fri 11:00-12:00 (1 h), 14:00-17:30 (3.5 h); Mon 08:30-10:00 (1.5 h).
    assert (state.deadline_at, state.deadline, state.remaining, state.unit) == \
        (t("2026-06-08T10:00"), d("2026-06-08"), 4.0, "working_hour")
    late = record({"value": 6, "unit": "working_hour"}, events, "2026-06-08T10:30")
    assert (late.status, late.remaining, late.level) == ("overdue", -0.5, "overdue")
    hours = {line.day: line.text for line in state.explanation if line.day}
    assert hours[d("2026-06-05")] == "workday: 4.5 h" and hours[d("2026-06-06")] == "weekend: 0 h"


def test_working_hours_pause_over_lunch() -> None:
    events = [ev("2026-06-10T10:00", "start"), ev("2026-06-10T11:00", "pause", reason="hearing", expected_days=1),
              ev("2026-06-10T14:30", "resume")]
    # 3 h → 15:00; the pause takes 11:00-12:00 and 14:00-14:30 (1.5 h) → 16:30.
    assert record({"value": 3, "unit": "working_hour"}, events, "2026-06-10T15:00").deadline_at == t("2026-06-10T16:30")


def test_working_hours_need_office_hours() -> None:
    with pytest.raises(ClockError, match="no office_hours"):
        record({"value": 3, "unit": "working_hour"}, [ev("2026-06-10T10:00", "start")], "2026-06-10T11:00",
               pack=dataclasses.replace(PACK, office_hours=None))


def test_immediate_is_due_on_the_start_day() -> None:
    received = [ev("2026-10-09T10:00", "received")]
    assert run("promised", received, "2026-10-09T17:00", item_id="counter").status == "running"
    late = run("promised", received, "2026-10-10T09:00", item_id="counter")  # Sat 10-10: a make-up working day
    assert (late.deadline, late.status, late.remaining) == (d("2026-10-09"), "overdue", -1)
    on_time = run("promised", received + [ev("2026-10-09T11:00", "completed")], "2026-10-12T09:00", item_id="counter")
    assert on_time.status == "completed_on_time"
    completed_late = run("promised", received + [ev("2026-10-12T09:00", "completed")], "2026-10-12T10:00",
                         item_id="counter")
    assert (completed_late.status, completed_late.level) == ("completed_late", "overdue")


def test_same_day_ends_with_that_working_day() -> None:
    sunday = run("promised", [ev("2026-10-11T10:00", "received")], "2026-10-11T11:00", item_id="sameday")
    assert (sunday.deadline, sunday.deadline_at) == (d("2026-10-12"), t("2026-10-12T17:30"))
    saturday = run("promised", [ev("2026-10-10T10:00", "received")], "2026-10-10T11:00", item_id="sameday")
    assert saturday.deadline == d("2026-10-10")  # a make-up working day


# -- warning levels ------------------------------------------------------------------------------

WARNED = with_limits(warnings=(
    Warning("yellow", "local §7", remaining=Duration(WD, 3)),
    Warning("orange", "local §7", used_share=0.7),
    Warning("red", "local §7", remaining=Duration(WD, 1)),
))


@pytest.mark.parametrize(("now", "level", "remaining"), [
    ("2026-10-08T09:00", "green", 4),  # used 1/5
    ("2026-10-09T09:00", "yellow", 3),
    ("2026-10-10T09:00", "yellow", 2),  # used 3/5 = 0.6 < 0.7
    ("2026-10-12T09:00", "red", 1),  # orange by share (0.8) too: the most severe wins
    ("2026-10-13T17:00", "red", 0),
    ("2026-10-14T09:00", "overdue", -1),
])
def test_levels_by_remaining_days_and_used_share(now, level, remaining) -> None:
    state = run("promised", LICENCE, now, pack=WARNED)
    assert (state.level, state.remaining) == (level, remaining)


def test_used_share_alone_and_clock_warnings_replace_the_packs() -> None:
    share = with_limits(warnings=(Warning("orange", "local §7", used_share=0.6),))
    assert run("promised", LICENCE, "2026-10-09T09:00", pack=share).level == "green"  # 0.4
    assert run("promised", LICENCE, "2026-10-10T09:00", pack=share).level == "orange"  # 0.6
    own = dataclasses.replace(WARNED, clocks=(clock("promised", LimitRef(from_="item.promised"),
                                                    warnings=(Warning("orange", "x", used_share=0.2),)),))
    assert run("promised", LICENCE, "2026-10-08T09:00", pack=own).level == "orange"
    assert run("promised", LICENCE, "2026-10-12T09:00", pack=own).level == "orange"  # not the pack's red


# -- provisional and coverage --------------------------------------------------------------------

def test_provisional_marks_deadlines_past_the_official_data() -> None:
    provisional = Calendar.build(CalendarConfig(provisional_allowed=True))
    events = [ev("2026-12-21T10:00", "received")]
    promised = run("promised", events, "2026-12-22T09:00", calendar=provisional)
    statutory = run("statutory", events, "2026-12-22T09:00", calendar=provisional)
    # 12-22 .. 12-25, 12-28 | 12-29, 30, 31, (2027-01-01 fixed holiday) 01-04, 01-05.
    assert (promised.deadline, promised.provisional) == (d("2026-12-28"), False)
    assert (statutory.deadline, statutory.provisional) == (d("2027-01-05"), True)
    with pytest.raises(CalendarCoverageError) as info:
        run("statutory", events, "2026-12-22T09:00")
    assert info.value.year == 2027


# -- event sequences -----------------------------------------------------------------------------

@pytest.mark.parametrize(("events", "message"), [
    ([ev("2026-10-09T10:00", "received"), ev("2026-10-08T10:00", "completed")], "out of time order"),
    ([ev("2026-10-09T10:00", "received"), ev("2026-10-20T10:00", "completed")], "is after now"),
    ([ev("2026-10-09T10:00", "received"), ev("2026-10-09T11:00", "completed"),
      ev("2026-10-09T12:00", "pause", reason="hearing", expected_days=1)], "after the clock stopped"),
    ([ev("2026-10-09T10:00", "received"), ev("2026-10-09T11:00", "delivered")], "delivered before completed"),
    ([ev("2026-10-09T10:00", "completed")], "before the clock 'promised' started"),
])
def test_invalid_sequences(events, message) -> None:
    with pytest.raises(ClockError, match=message):
        run("promised", events, "2026-10-12T09:00")


def test_bad_events_are_refused_when_made() -> None:
    with pytest.raises(ClockError, match="unknown event 'pasue'; did you mean 'pause'"):
        ClockEvent(t("2026-10-09T10:00"), "pasue")
    with pytest.raises(ClockError, match="either `by`.*or `until`"):
        ClockEvent(t("2026-10-09T10:00"), "extension", by=Duration(WD, 1), until=d("2026-10-20"))


def test_withdrawn_stops_and_refused_before_start() -> None:
    stopped = run("promised", LICENCE + [ev("2026-10-09T10:00", "withdrawn")], "2026-10-20T09:00")
    assert (stopped.status, stopped.stop, stopped.deadline) == ("stopped", "withdrawn", d("2026-10-13"))
    pack = with_limits(clock_start=ClockStart("accepted", "local §1"))
    refused = run("promised", LICENCE + [ev("2026-10-09T10:00", "refused")], "2026-10-20T09:00", pack=pack)
    assert (refused.status, refused.deadline) == ("stopped", None)


def test_parse_events_errors_name_file_and_line() -> None:
    text = "- {at: 2026-09-30T10:00, do: received}\n- {at: 2026-10-01T10:00, do: resume}\n"
    events = parse_events(load_text(text, "ev.yaml"))
    assert [e.kind for e in events] == ["received", "resume"] and events[1].where == "ev.yaml:2:3"
    with pytest.raises(ClockError, match=r"^ev\.yaml:2:3: resume without a pause"):
        run("promised", list(events), "2026-10-08T09:00")
    for bad, message in [
        ("- {at: 2026-09-30T10:00, do: pasue}\n", r"ev\.yaml:1:30: unknown event 'pasue'; did you mean 'pause'"),
        ("- {at: 2026-13-30T10:00, do: received}\n", r"ev\.yaml:1:8: invalid at '2026-13-30T10:00'"),
        ("- {at: 2026-09-30T10:00, do: pause, reson: survey}\n", r"ev\.yaml:1:37: unknown event key 'reson'; did you mean 'reason'"),
        ("- {at: 2026-09-30T10:00, do: extension, by: {value: 2, unit: week}}\n", r"ev\.yaml:1:45: by: unknown unit 'week'"),
        ("at: 2026-09-30T10:00\n", r"ev\.yaml:1:1: the events must be a list"),
        ("- {do: received}\n", r"ev\.yaml:1:3: an event needs `at`"),
    ]:
        with pytest.raises(ClockError, match=message):
            parse_events(load_text(bad, "ev.yaml"))


# -- limits and steps ----------------------------------------------------------------------------

def test_limit_for_each_kind_of_reference() -> None:
    assert limit_for(PACK.clock("promised"), PACK, PACK.item("permit")) == Duration(WD, 12)
    assert limit_for(PACK.clock("unresolved"), PACK, data={"complexity": "complex"}) == Duration(WD, 3)
    assert limit_for(PACK.clock("record"), PACK, data={"limit": {"value": 2, "unit": "natural_day"}}) == \
        Duration("natural_day", 2)
    assert limit_for(PACK.clock("complaint"), PACK, category="conduct") == Duration(WD, 5)


@pytest.mark.parametrize(("clock_id", "kwargs", "message"), [
    ("promised", {}, "takes its limit from the item .item.promised.: name the item"),
    ("unresolved", {"data": {"complexity": "odd"}}, "by data.complexity, which is 'odd'; expected one of: general, complex"),
    ("unresolved", {}, "which is missing"),
    ("complaint", {"category": "noise"}, "there is no category 'noise'; categories: conduct"),
    ("record", {"data": {}}, r"from the record \(data.limit\)"),
    ("record", {"data": {"limit": {"value": 2, "unit": "week"}}}, "unknown unit 'week'"),
])
def test_limit_for_says_what_is_missing(clock_id, kwargs, message) -> None:
    with pytest.raises(ClockError, match=message):
        limit_for(PACK.clock(clock_id), PACK, **kwargs)


def test_steps_run_one_after_another_within_the_item_limit() -> None:
    steps = steps_deadlines(PACK.item("joint"), d("2026-09-29"), CAL)
    assert [(s.step.id, s.deadline) for s in steps] == \
        [("tax", d("2026-09-30")), ("review", d("2026-10-10")), ("issue", d("2026-10-12"))]
    assert steps[-1].deadline <= run("promised", [ev("2026-09-29T10:00", "received")], "2026-09-30T09:00",
                                     item_id="joint").deadline


# -- the hot path agrees with compute ------------------------------------------------------------

def test_deadline_many_matches_compute() -> None:
    today = d("2026-10-12")
    starts = [d("2026-09-01") + timedelta(days=i) for i in range(0, 60)]
    deadlines, levels = deadline_many([s.toordinal() for s in starts], 5, CAL, today=today,
                                      warnings=WARNED.time_limits.warnings)
    for start, deadline, level in zip(starts, deadlines, levels):
        if start > today:
            continue
        state = run("promised", [ClockEvent(datetime.combine(start, datetime.min.time()), "received")],
                    "2026-10-12T09:00", pack=WARNED)
        assert (date.fromordinal(deadline), level) == (state.deadline, state.level), start
    assert set(levels) >= {"overdue", "red", "yellow", "green"}


# -- properties ------------------------------------------------------------------------------------

DAYS = st.integers(0, 500).map(lambda n: date(2025, 1, 1) + timedelta(days=n))
UNITS = st.sampled_from(["working_day", "natural_day"])


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(1, 30), unit=UNITS, offset=st.integers(0, 40), length=st.integers(0, 30))
def test_a_pause_never_shortens_the_deadline(start, n, unit, offset, length) -> None:
    limit = {"value": n, "unit": unit}
    base = record(limit, [ClockEvent(_at(start), "start")], "2026-12-31T00:00", explain=False)
    paused_at = start + timedelta(days=offset)
    events = [ClockEvent(_at(start), "start"), ClockEvent(_at(paused_at, 11), "pause", reason="hearing", expected_days=1),
              ClockEvent(_at(paused_at + timedelta(days=length), 11), "resume")]
    assert record(limit, events, "2026-12-31T00:00", explain=False).deadline >= base.deadline


@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(1, 30), unit=UNITS, by=st.integers(0, 20), by_unit=UNITS, until=st.integers(-10, 40))
def test_an_extension_never_shortens_the_deadline(start, n, unit, by, by_unit, until) -> None:
    limit = {"value": n, "unit": unit}
    base = record(limit, [ClockEvent(_at(start), "start")], "2026-12-31T00:00", explain=False)
    for extra in ({"by": Duration(by_unit, by)}, {"until": base.deadline + timedelta(days=until)}):
        events = [ClockEvent(_at(start), "start"), ClockEvent(_at(start, 11), "extension", **extra)]
        assert record(limit, events, "2026-12-31T00:00", explain=False).deadline >= base.deadline


@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(0, 30), more=st.integers(0, 30), unit=UNITS)
def test_the_deadline_grows_with_the_limit(start, n, more, unit) -> None:
    events = [ClockEvent(_at(start), "start")]
    short = record({"value": n, "unit": unit}, events, "2026-12-31T00:00", explain=False)
    long = record({"value": n + more, "unit": unit}, events, "2026-12-31T00:00", explain=False)
    assert short.deadline <= long.deadline


def test_days_late_count_the_working_day_under_way() -> None:
    events = [ev("2026-06-05T10:00", "received")]  # Friday; 06-08 .. 06-12 → Friday 06-12
    lateness = [run("promised", events, f"{day}T10:00").remaining for day in ("2026-06-13", "2026-06-15", "2026-06-16")]
    assert lateness == [-1, -1, -2]  # Saturday is already 1 working day late, as Monday is


# -- the scenario runner (bianmin.scenarios) -----------------------------------------------------

SCENARIO = """\
- name: 示例
  source: law §42
  item: licence
  events:
    - {at: 2026-09-30T10:00, do: received}
  now: 2026-10-08T09:00
  expect:
    promised: {deadline: 2026-10-13, status: running, remaining: 4}
"""


def scenario(text: str = SCENARIO) -> None:
    from bianmin.scenarios import run as run_scenario

    run_scenario(load_text(text, "s.yaml")[0], PACK, "s.yaml:1:3")


def test_scenario_passes_and_fails_with_the_explanation() -> None:
    from bianmin.scenarios import ScenarioFailure

    scenario()
    with pytest.raises(ScenarioFailure) as info:
        scenario(SCENARIO.replace("deadline: 2026-10-13", "deadline: 2026-10-14"))
    message = str(info.value)
    assert message.startswith("s.yaml:1:3: scenario '示例' (law §42)\npromised.deadline: expected 2026-10-14, got 2026-10-13")
    assert "promised: 2026-10-13 running green (4 working days left)" in message
    assert "2026-10-13 Tue    #5  workday" in message


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  now:", "  nowish:", "s.yaml:6:3: unknown scenario key 'nowish'; did you mean 'now'?"),
    ("    promised: {", "    state: accepted\n    promised: {", "s.yaml:8:5: expect.state is a workflow expectation, not supported yet"),
    ("    promised: {", "    deadline: 2026-10-13\n    promised: {", "unknown expect key 'deadline'; expected a clock id"),
    ("status: running", "stat: running", "expect.promised: unknown key 'stat'; did you mean 'start'?"),
    ("item: licence", "item: licence_x", "s.yaml:3:9: the pack has no item 'licence_x'"),
    ("do: received", "do: recieved", "unknown event 'recieved'; did you mean 'received'"),
    ("  source: law §42\n", "", "needs `source`"),
])
def test_scenario_format_errors_are_reported_with_their_place(old, new, message) -> None:
    from bianmin.scenarios import ScenarioError

    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario(SCENARIO.replace(old, new))


def test_scenario_expected_error_must_happen() -> None:
    from bianmin.scenarios import ScenarioFailure

    text = SCENARIO.replace("    promised: {deadline: 2026-10-13, status: running, remaining: 4}",
                            "    error: resume without a pause")
    with pytest.raises(ScenarioFailure, match="expected an error containing 'resume without a pause', but the events are accepted"):
        scenario(text)
    scenario(text.replace("do: received}", "do: received}\n    - {at: 2026-10-08T08:00, do: resume}"))


def test_extension_during_a_pause_keeps_the_paused_days_out() -> None:
    # Paused 09-29 with 7 of 12 left (deadline 10-14 before the pause). The survey runs past
    # 10-14; on 10-15 the unit head extends by 3 working days; the survey ends 10-19.
    events = PERMIT + [ev("2026-09-29T09:00", "pause", reason="survey", expected_days=5),
                       extension("2026-10-15T10:00", clocks=("promised",), by=Duration(WD, 3))]
    paused = run("promised", events, "2026-10-15T12:00", item_id="permit")
    assert (paused.status, paused.remaining) == ("paused", 10)
    resumed = run("promised", events + [ev("2026-10-19T09:00", "resume")], "2026-10-19T12:00", item_id="permit")
    # Lost 09-30 .. 10-19: 10 working days → 10-14 + 10 = 10-28; + 3 = 11-02.
    assert (resumed.deadline, resumed.remaining) == (d("2026-11-02"), 10)
