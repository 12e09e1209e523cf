"""`bianmin deadline`: exact output lines and exit statuses, on a small self-contained pack.

The pack (written below into a temporary BIANMIN_HOME) has one item, licence: promised 5 and
statutory 10 working days, pausable for expert review; yellow at 3 working days left, red at 1;
its workflow extends only the promised clock. Received 2026-09-30: promised 10-08, 10-09, Sat
10-10 (make-up), 10-12, 10-13; statutory then 10-14, 15, 16, 19, 20.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bianmin.cli import main

PACK = """\
id: demo
name: 示例县
level: county
version: "2026.1"
effective_from: 2026-01-01
sources:
  - {id: law, kind: law, title: 行政许可法}
roles:
  - {id: clerk, name: 窗口工作人员}
  - {id: unit_head, name: 部门负责人}
departments:
  - {id: market, name: 市场监管局}
time_limits:
  clock_start: {event: received, source: law §32}
  correction_notice: {within: {value: 5, unit: working_day}, if_late: count_from_receipt, source: law §32}
  pause_reasons:
    - {id: expert_review, name: 专家评审, source: law §45}
  pause: {requires: [reason, expected_duration], source: law §45}
  extension:
    approver_roles: [unit_head]
    cap: statutory_limit
    max: {value: 10, unit: working_day, basis: law §42}
    source: law §42
  warnings:
    - {level: yellow, remaining: {value: 3, unit: working_day}, source: law §42}
    - {level: red, remaining: {value: 1, unit: working_day}, source: law §42}
clocks:
  - {id: promised, name: 承诺时限, limit: {from: item.promised}, source: law §42}
  - {id: statutory, name: 法定时限, limit: {from: item.statutory}, source: law §42}
items:
  - id: licence
    code: "DEMO-001"
    name: 食品经营许可
    type: 行政许可
    kind: promised
    department: market
    limits:
      statutory: {value: 10, unit: working_day, basis: law}
      promised: {value: 5, unit: working_day}
    materials:
      - {id: application, name: 申请书, form: original, core: true}
    legal_basis: [law]
    pausable_for: [expert_review]
workflows:
  - id: case
    name: 办件
    subject: case
    initial: received
    source: law §32
    states:
      - {id: received, name: 已收件}
      - {id: accepted, name: 已受理}
      - {id: paused, name: 特别程序中}
      - {id: done, name: 已办结, terminal: true}
    transitions:
      - {id: accept, name: 受理, from: [received], to: accepted, roles: [clerk]}
      - {id: pause, name: 特别程序, from: [accepted], to: paused, roles: [clerk]}
      - {id: resume, name: 特别程序结束, from: [paused], to: accepted, roles: [clerk]}
      - id: extend
        name: 延期
        from: [accepted]
        to: accepted
        roles: [unit_head]
        actions:
          - {do: extend_clock, with: {clocks: [promised]}}
      - {id: complete, name: 办结, from: [accepted], to: done, roles: [clerk]}
    clocks:
      - {id: promised, start_on: [start], pause_on: [pause], resume_on: [resume], stop_on: [complete]}
      - {id: statutory, start_on: [start], pause_on: [pause], resume_on: [resume], stop_on: [complete]}
"""
RECEIVED = "- {at: 2026-09-30T10:00, do: received}\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies" / "demo").mkdir(parents=True)
    (tmp_path / "policies" / "demo" / "pack.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "forms").mkdir()
    shutil.copy(Path(__file__).parents[1] / "packs" / "fixtures" / "forms" / "intake.yaml", tmp_path / "forms")
    (tmp_path / "templates").mkdir()
    monkeypatch.setenv("BIANMIN_HOME", str(tmp_path))
    return tmp_path


def deadline(capsys: pytest.CaptureFixture[str], home: Path, events: str, *argv: str,
             pack: str = "demo", item: str = "licence") -> tuple[int, list[str], str]:
    path = home / "events.yaml"
    path.write_text(events, encoding="utf-8")
    status = main(["deadline", "--pack", pack, "--item", item, "--events", str(path), *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out.splitlines(), err


@pytest.mark.parametrize(("events", "now", "lines"), [
    (RECEIVED, "2026-10-08T09:00", ["promised: 2026-10-13 running green (4 working days left)",
                                     "statutory: 2026-10-20 running green (9 working days left)"]),
    (RECEIVED, "2026-10-09T09:00", ["promised: 2026-10-13 running yellow (3 working days left)",
                                     "statutory: 2026-10-20 running green (8 working days left)"]),
    (RECEIVED, "2026-10-12T09:00", ["promised: 2026-10-13 running red (1 working day left)",
                                     "statutory: 2026-10-20 running green (6 working days left)"]),
    (RECEIVED, "2026-10-15T09:00", ["promised: 2026-10-13 overdue (2 working days late)",
                                     "statutory: 2026-10-20 running yellow (3 working days left)"]),
    (RECEIVED + "- {at: 2026-10-09T16:00, do: completed}\n", "2026-10-20T09:00",
     ["promised: 2026-10-13 completed_on_time (completed 2026-10-09)",
      "statutory: 2026-10-20 completed_on_time (completed 2026-10-09)"]),
    (RECEIVED + "- {at: 2026-10-15T16:00, do: completed}\n", "2026-10-20T09:00",
     ["promised: 2026-10-13 completed_late (completed 2026-10-15, 2 working days late)",
      "statutory: 2026-10-20 completed_on_time (completed 2026-10-15)"]),
    (RECEIVED + "- {at: 2026-10-09T10:00, do: withdrawn}\n", "2026-10-20T09:00",
     ["promised: 2026-10-13 stopped (withdrawn 2026-10-09)", "statutory: 2026-10-20 stopped (withdrawn 2026-10-09)"]),
    # Paused after 10-08 (4 left); expected 3 working days (10-09, 10-10, 10-12): 10-13 + 3.
    (RECEIVED + "- {at: 2026-10-08T15:00, do: pause, reason: expert_review, expected_days: 3}\n", "2026-10-09T09:00",
     ["promised: 2026-10-16 paused green (4 working days left; paused for 专家评审)",
      "statutory: 2026-10-23 paused green (9 working days left; paused for 专家评审)"]),
    # The workflow extends only the promised clock; 10-13 + 5 = 10-20, the statutory deadline.
    (RECEIVED + "- {at: 2026-10-12T10:00, do: extension, by: {value: 5, unit: working_day}, role: unit_head}\n",
     "2026-10-13T09:00", ["promised: 2026-10-20 running green (5 working days left)",
                          "statutory: 2026-10-20 running green (5 working days left)"]),
    (RECEIVED.replace("received", "received}\n- {at: 2026-10-09T10:00, do: correction_notice"), "2026-10-12T09:00",
     ["promised: - not_started (waiting for its start event)", "statutory: - not_started (waiting for its start event)"]),
])
def test_prints_one_line_per_clock(capsys, home, events, now, lines) -> None:
    assert deadline(capsys, home, events, "--now", now) == (0, lines, "")


def test_explain_prints_rules_and_days(capsys, home) -> None:
    status, out, err = deadline(capsys, home, RECEIVED, "--now", "2026-10-09T09:00", "--explain")
    assert status == 0 and err == ""
    promised = out[: out.index("statutory: 2026-10-20 running green (8 working days left)")]
    assert promised == [
        "promised: 2026-10-13 running yellow (3 working days left)",
        "  rule: the clock starts at receipt of the materials on 2026-09-30 (clock_start: received) [law §32]",
        "  rule: limit 5个工作日: the period starts on the day after 2026-09-30 and ends on 2026-10-13 "
        "[民法典 §201; 行政许可法 §82]",
        *[f"  2026-10-0{n} {day}     -  holiday 国庆节" for n, day in
          zip(range(1, 8), ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"))],
        "  2026-10-08 Thu    #1  workday",
        "  2026-10-09 Fri    #2  workday",
        "  2026-10-10 Sat    #3  make-up workday (调休上班)",
        "  2026-10-11 Sun     -  weekend",
        "  2026-10-12 Mon    #4  workday",
        "  2026-10-13 Tue    #5  workday",
    ]


def test_past_the_calendar_data_exits_2_unless_provisional(capsys, home) -> None:
    events = "- {at: 2026-12-21T10:00, do: received}\n"
    status, out, err = deadline(capsys, home, events, "--now", "2026-12-22T09:00")
    assert (status, out) == (2, [])
    assert err.startswith("bianmin deadline: error: 2027 年的节假日安排尚未收录") and "--provisional" in err
    # 12-22 .. 12-25, 12-28 (official) | 12-29, 30, 31, 2027-01-04, 01-05 (01-01 a fixed holiday).
    assert deadline(capsys, home, events, "--now", "2026-12-22T09:00", "--provisional") == (0, [
        "promised: 2026-12-28 running green (4 working days left)",
        "statutory: 2027-01-05 running green (9 working days left) provisional",
    ], "")


@pytest.mark.parametrize(("events", "argv", "message"), [
    (RECEIVED, {"pack": "nope"}, "unknown pack 'nope'; packs: demo"),
    (RECEIVED, {"item": "permit"}, "pack 'demo' has no item 'permit'; items: licence"),
    ("- {at: 2026-09-30T10:00, do: recieved}\n", {}, "events.yaml:1:30: unknown event 'recieved'; did you mean 'received'?"),
    ("- {at: 2026-09-30T10:00, do: received\n", {}, "events.yaml:2:1: yaml-syntax:"),
    (RECEIVED + "- {at: 2026-10-08T10:00, do: resume}\n", {}, "events.yaml:2:3: resume without a pause"),
    (RECEIVED + "- {at: 2026-10-08T10:00, do: pause, reason: survey, expected_days: 2}\n", {},
     "events.yaml:2:3: unknown pause reason 'survey': this pack's special procedures (特别程序) are expert_review"),
    (RECEIVED + "- {at: 2026-10-12T10:00, do: extension, by: {value: 6, unit: working_day}, role: unit_head}\n", {},
     "events.yaml:2:3: the extended deadline 2026-10-21 would pass the statutory deadline 2026-10-20"),
    (RECEIVED + "- {at: 2026-10-12T10:00, do: extension, by: {value: 1, unit: working_day}, role: clerk}\n", {},
     "events.yaml:2:3: role 'clerk' cannot approve an extension: approvers are unit_head (law §42)"),
    ("- {at: 2026-10-09T10:00, do: received}\n- {at: 2026-10-08T10:00, do: completed}\n", {},
     "events.yaml:2:3: events out of time order"),
])
def test_bad_input_exits_2_with_a_precise_message(capsys, home, events, argv, message) -> None:
    status, out, err = deadline(capsys, home, events, "--now", "2026-10-15T09:00", **argv)
    assert (status, out) == (2, [])
    assert err.startswith("bianmin deadline: error: ") and message in err, err


def test_missing_events_file_exits_2(capsys, home) -> None:
    status = main(["deadline", "--pack", "demo", "--item", "licence", "--events", str(home / "none.yaml")])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "") and "cannot read the events file" in err and "none.yaml" in err


def test_bad_now_is_a_usage_error(capsys, home) -> None:
    with pytest.raises(SystemExit) as info:
        main(["deadline", "--pack", "demo", "--item", "licence", "--events", "x.yaml", "--now", "tomorrow"])
    assert info.value.code == 2
    assert "invalid --now 'tomorrow': expected YYYY-MM-DDTHH:MM" in capsys.readouterr().err
