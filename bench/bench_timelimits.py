"""Benchmark: deadline and level of 1,000,000 open cases (the sweeper's pass) in memory.

Run:  .venv/bin/python bench/bench_timelimits.py
(a) ``timelimits.deadline_many`` over 1,000,000 running cases started over the past year, with
a 10 working-day limit and yellow/red warnings (target < 1 s; best of 3), and for comparison one
``Calendar.add_ordinal`` call per case (deadlines only); (b) the per-case ``timelimits.compute`` on a
sample, with and without the day-by-day explanation, extrapolated to 1,000,000, and the ratio.
Both ways must agree on the sample before their speed means anything. Exits 1 if (a) misses.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, time
from time import perf_counter

from bianmin.calendar import Calendar, CalendarConfig
from bianmin.packs.model import Clock, ClockStart, Duration, Item, LimitRef, Limits, Pack, TimeLimits, Warning
from bianmin.timelimits import ClockEvent, compute, deadline_many

CASES = 1_000_000
SAMPLE = 2_000
TARGET_S = 1.0
LIMIT = 10
TODAY = date(2026, 10, 12)
WARNINGS = (Warning("yellow", "bench", remaining=Duration("working_day", 3)),
            Warning("red", "bench", remaining=Duration("working_day", 1)))
PACK = Pack(
    id="bench", name="bench", level="county", version="1", effective_from=date(2026, 1, 1), content_hash="",
    lineage=("bench",), time_limits=TimeLimits(clock_start=ClockStart("received", "bench"), warnings=WARNINGS),
    clocks=(Clock("promised", "承诺时限", LimitRef(from_="item.promised"), "bench"),),
    items=(Item(id="licence", code="B-1", name="licence", type="行政许可", kind="promised", department="d",
                limits=Limits(statutory=Duration("working_day", 20), promised=Duration("working_day", LIMIT)),
                materials=(), legal_basis=()),),
)


def main() -> int:
    calendar = Calendar.build(CalendarConfig())
    rng = random.Random(20261012)
    first, last = TODAY.toordinal() - 365, TODAY.toordinal()  # a year of intake still open
    starts = [rng.randint(first, last) for _ in range(CASES)]

    best = float("inf")
    for _ in range(3):
        began = perf_counter()
        deadlines, levels = deadline_many(starts, LIMIT, calendar, today=TODAY, warnings=WARNINGS)
        best = min(best, perf_counter() - began)
    counts = {level: levels.count(level) for level in ("green", "yellow", "red", "overdue")}
    add = calendar.add_ordinal  # the same without sharing start days: one add_ordinal per case
    began = perf_counter()
    per_case_add = [add(s, LIMIT) for s in starts]
    plain = perf_counter() - began
    assert per_case_add == deadlines

    clock, item = PACK.clock("promised"), PACK.item("licence")
    now = datetime.combine(TODAY, time(9))
    sample = rng.sample(range(CASES), SAMPLE)
    events = [(ClockEvent(datetime.combine(date.fromordinal(starts[i]), time(8)), "received"),) for i in sample]
    for i, evs in zip(sample, events):  # the hot path must give compute's answer
        state = compute(clock, evs, calendar, pack=PACK, item=item, now=now, explain=False)
        assert (state.deadline.toordinal(), state.level) == (deadlines[i], levels[i]), (date.fromordinal(starts[i]), state)
    per_case = {}
    for explain in (False, True):
        began = perf_counter()
        for evs in events:
            compute(clock, evs, calendar, pack=PACK, item=item, now=now, explain=explain)
        per_case[explain] = (perf_counter() - began) / SAMPLE

    ok = best < TARGET_S
    print(f"{CASES:,} open cases, {LIMIT} working-day limit, today {TODAY}, levels {counts}")
    print(f"  deadline_many (per start day)          {best:8.3f} s   {CASES / best:>12,.0f} cases/s"
          f"   target < {TARGET_S} s: {'ok' if ok else 'MISSED'}")
    print(f"  add_ordinal per case (deadlines only)  {plain:8.3f} s   {CASES / plain:>12,.0f} cases/s")
    for explain, label in ((False, "compute, no explanation"), (True, "compute, with explanation")):
        total = per_case[explain] * CASES
        print(f"  {label:<38} {total:8.1f} s   {1 / per_case[explain]:>12,.0f} cases/s"
              f"   (extrapolated from {SAMPLE:,}; {total / best:,.0f}x slower)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
