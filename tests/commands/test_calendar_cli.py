"""`bianmin calendar add|between`: exact output lines and exit statuses other tools rely on."""

from __future__ import annotations

import importlib
from datetime import date

import pytest

import bianmin.packs
from bianmin.calendar import CalendarConfig, CalendarYear
from bianmin.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["calendar", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("argv", "stdout"), [
    (["add", "2025-09-30", "1"], "2025-10-09\n"),  # 国庆 10-01..10-08 off
    (["add", "2025-09-25", "20"], "2025-10-29\n"),  # hand count in tests/test_calendar.py
    (["add", "2026-09-30", "3", "--unit", "working"], "2026-10-10\n"),  # Sat 10-10 make-up
    (["add", "2025-09-24", "7", "--unit", "natural"], "2025-10-09\n"),  # 10-01 is a rest day
    (["add", "2026-10-09", "0"], "2026-10-09\n"),
    (["between", "2025-09-25", "2025-10-29"], "20\n"),
    (["between", "2025-10-29", "2025-09-25"], "-20\n"),
    (["between", "2026-02-13", "2026-02-28"], "6\n"),  # 02-14, 02-24..27, 02-28
])
def test_prints_one_line(capsys, argv, stdout) -> None:
    assert run(capsys, *argv) == (0, stdout, "")


@pytest.mark.parametrize("argv", [
    ["add", "2026-12-20", "20"],  # only 9 working days left in 2026
    ["add", "2027-03-01", "1"],
    ["between", "2026-12-01", "2027-01-05"],
])
def test_outside_coverage_exits_2_naming_the_year(capsys, argv) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert "2027 年的节假日安排尚未收录" in err and "calendar.years" in err


def test_provisional_marks_only_provisional_results(capsys) -> None:
    # 9 working days in late 2026, then 2027-01-01 off provisionally; 01-18 is the 20th.
    assert run(capsys, "add", "2026-12-20", "20", "--provisional") == (0, "2027-01-18 provisional\n", "")
    assert run(capsys, "add", "2026-12-20", "9", "--provisional") == (0, "2026-12-31\n", "")
    status, out, err = run(capsys, "between", "2026-12-20", "2027-01-18", "--provisional")
    assert (status, out) == (0, "20\n") and "provisional" in err


@pytest.mark.parametrize(("argv", "bad"), [
    (["add", "2026-13-01", "1"], "2026-13-01"),
    (["add", "20261008", "1"], "20261008"),  # ISO basic format: refused, not guessed
    (["add", "2026-10-08", "-1"], "-1"),
    (["between", "tomorrow", "2026-10-08"], "tomorrow"),
])
def test_bad_arguments_exit_2(capsys, argv, bad) -> None:
    with pytest.raises(SystemExit) as info:
        main(["calendar", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and repr(bad) in err


YEAR_2027 = CalendarYear(2027, ((date(2027, 1, 1), "元旦"),), (), "test 示例(非官方)")


def test_pack_calendar_is_used(capsys, monkeypatch) -> None:
    asked: list[str] = []

    def fake(pack_id: str) -> CalendarConfig:
        asked.append(pack_id)
        return CalendarConfig(years=(YEAR_2027,))

    monkeypatch.setattr(bianmin.packs, "calendar_config_for", fake, raising=False)
    # The pack covers 2027, so the same count is an official date, not provisional.
    assert run(capsys, "add", "2026-12-20", "20", "--pack", "demo") == (0, "2027-01-18\n", "")
    assert asked == ["demo"]


def test_pack_allowing_provisional_still_needs_the_flag(capsys, monkeypatch) -> None:
    # Without --provisional the output is always an official date (or exit 2), so a script
    # reading one bare date never gets a provisional one by surprise.
    monkeypatch.setattr(bianmin.packs, "calendar_config_for",
                        lambda pack_id: CalendarConfig(provisional_allowed=True), raising=False)
    status, out, err = run(capsys, "add", "2026-12-20", "20", "--pack", "demo")
    assert (status, out) == (2, "") and "2027" in err
    assert run(capsys, "add", "2026-12-20", "20", "--pack", "demo", "--provisional") == (
        0, "2027-01-18 provisional\n", "")


class PackBroken(Exception):
    """Stands for the loader's own error type (PackError), which is not a LookupError."""


@pytest.mark.parametrize(("error", "shown"), [
    (KeyError("unknown pack 'nope'"), "unknown pack 'nope'"),
    (PackBroken("policies/nope/pack.yaml:3:1: bad calendar"), "policies/nope/pack.yaml:3:1: bad calendar"),
])
def test_pack_that_cannot_be_loaded_exits_2(capsys, monkeypatch, error, shown) -> None:
    def fake(pack_id: str) -> CalendarConfig:
        raise error

    monkeypatch.setattr(bianmin.packs, "calendar_config_for", fake, raising=False)
    status, out, err = run(capsys, "between", "2026-03-02", "2026-03-09", "--pack", "nope")
    assert (status, out) == (2, "") and f"pack 'nope': {shown}" in err


def test_real_pack_loader_base_pack(capsys) -> None:
    packs = importlib.import_module("bianmin.packs")
    if not hasattr(packs, "calendar_config_for"):  # the only reason to skip: loader not wired yet
        pytest.skip("bianmin.packs.calendar_config_for is not written yet")
    assert run(capsys, "add", "2025-09-30", "1", "--pack", "_base") == (0, "2025-10-09\n", "")
