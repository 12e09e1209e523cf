"""The hot path: deadline and level of many open cases at once (the sweeper's nightly pass).

Each distinct start day costs one ``Calendar.add_ordinal`` call and one ``bisect`` on integer
ordinals (a warning "at most k working days left" is the same as "deadline before the (k+1)-th
working day after today", an ordinal computed once for all cases); each case then costs two
dictionary lookups, with no per-case objects.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from ..calendar import Calendar
from ..packs.model import Warning
from .levels import SEVERITY


def deadline_many(start_ordinals: Sequence[int], n: int, calendar: Calendar, *, today: date,
                  warnings: Sequence[Warning] = ()) -> tuple[list[int], list[str]]:
    """Deadlines (date ordinals) and levels of open cases with an ``n`` working-day limit.

    Cases are running (not paused, not stopped) and started on ``start_ordinals`` (the start day,
    not counted). Levels are those of ``compute``: ``overdue`` past the deadline, else the most
    severe warning reached, else ``green``. Warnings in working days and by used share are
    supported; the levels are shared string objects, not copies.
    """
    # Open cases share few start days (a year of intake is ~250 of them): work per distinct day,
    # then two C-level lookups per case.
    add = calendar.add_ordinal
    cuts, names = _cuts(n, calendar, today, warnings)
    deadline_of = {s: add(s, n) for s in set(start_ordinals)}
    level_of = {s: names[bisect_left(cuts, d)] for s, d in deadline_of.items()}
    return list(map(deadline_of.__getitem__, start_ordinals)), list(map(level_of.__getitem__, start_ordinals))


def _cuts(n: int, calendar: Calendar, today: date, warnings: Sequence[Warning]) -> tuple[list[int], list[str]]:
    """Ascending ordinal cuts: a deadline d gets names[bisect_left(cuts, d)]."""
    t = today.toordinal()
    reach: dict[str, int] = {}  # level -> largest k with "remaining <= k" reaching it
    for w in warnings:
        ks = []
        if w.remaining is not None:
            if w.remaining.unit != "working_day":
                raise ValueError(f"deadline_many supports warnings in working days, not {w.remaining.unit}")
            ks.append(w.remaining.value)
        if w.used_share is not None and n > 0:
            ks.append(int(n - Fraction(str(w.used_share)) * n))  # used >= s  <=>  remaining <= n(1-s)
        for k in ks:
            reach[w.level] = max(reach.get(w.level, -1), k)
    cuts, names, floor = [t - 1], ["overdue"], t - 1
    for level in reversed(SEVERITY[1:]):  # red first: the fewest days left
        if level in reach:
            cut = calendar.add_ordinal(t, reach[level] + 1) - 1  # remaining <= k  <=>  d <= cut
            floor = max(floor, cut)
            cuts.append(floor)
            names.append(level)
    return cuts, names + ["green"]
