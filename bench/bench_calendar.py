"""Benchmark of bianmin.calendar against stepping day by day over chinese_calendar.is_workday.

Run:  .venv/bin/python bench/bench_calendar.py
(a) add 20 working days, (b) working days between two dates ~60 days apart: throughput of each
way and the ratio (target >= 500x); (c) 1,000,000 calls of the int hot path add_ordinal
(target < 1 s). Exits 1 if a target is missed.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from time import perf_counter

import chinese_calendar

from bianmin.calendar import Calendar, CalendarConfig

RATIO_TARGET = 500
ORDINAL_CALLS = 1_000_000
ORDINAL_TARGET_S = 1.0


def loop_add(start: date, n: int) -> date:
    """The straightforward way: step one day at a time, the start day not counted."""
    day = start
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def loop_between(start: date, end: date) -> int:
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += chinese_calendar.is_workday(day)
    return count


def rate(fn, items: list, min_seconds: float = 1.0) -> float:
    """Calls per second of fn over items, repeating the list for at least min_seconds."""
    calls, began = 0, perf_counter()
    while True:
        for item in items:
            fn(*item)
        calls += len(items)
        elapsed = perf_counter() - began
        if elapsed >= min_seconds:
            return calls / elapsed


def compare(title: str, fast, slow, items: list) -> bool:
    for args in items[:200]:  # both ways must agree before their speed means anything
        assert fast(*args) == slow(*args), args
    fast_rate, slow_rate = rate(fast, items), rate(slow, items[:500])
    ratio = fast_rate / slow_rate
    ok = ratio >= RATIO_TARGET
    print(f"{title}\n  Calendar        {fast_rate:>14,.0f} /s\n  day-by-day loop {slow_rate:>14,.0f} /s\n"
          f"  ratio           {ratio:>14,.0f}x  (target >= {RATIO_TARGET}x)  {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    rng = random.Random(2026)
    run_began = began = perf_counter()
    cal = Calendar.build(CalendarConfig())
    build_ms = (perf_counter() - began) * 1000
    first, last = cal.coverage
    # Starts leave room for 20 working days / 60 days before the end of the data.
    span = (last - first).days - 90
    starts = [first + timedelta(days=rng.randrange(span)) for _ in range(20_000)]
    print(f"chinesecalendar {chinese_calendar.__version__}, coverage {first}..{last}, "
          f"Calendar.build {build_ms:.1f} ms\n")

    ok = compare("(a) add 20 working days", cal.add, loop_add, [(s, 20) for s in starts])
    ok &= compare("(b) between, dates 60 days apart", cal.between, loop_between,
                  [(s, s + timedelta(days=60)) for s in starts])

    ordinals = [s.toordinal() for s in starts] * (ORDINAL_CALLS // len(starts))
    add_ordinal = cal.add_ordinal
    began = perf_counter()
    for o in ordinals:
        add_ordinal(o, 20)
    elapsed = perf_counter() - began
    fast = elapsed < ORDINAL_TARGET_S
    print(f"(c) deadlines of {len(ordinals):,} open cases, add_ordinal(o, 20) in a Python loop\n"
          f"  {elapsed:.3f} s  ({len(ordinals) / elapsed:,.0f} /s)  (target < {ORDINAL_TARGET_S} s)  "
          f"{'PASS' if fast else 'FAIL'}")
    ok &= fast
    print(f"\noverall {'PASS' if ok else 'FAIL'} in {perf_counter() - run_began:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
