"""The deadline as a drawing: one cell per day from the start to the deadline (SVG, no script).

Each day of a clock's explanation is a cell: counted (working day inside the limit), extended
(counted under an extension, 延期), paused (special procedure, 特别程序, not counted), rest
(weekend or holiday, not counted) or past the deadline. Colours have a legend, and each cell a
``<title>`` with the day's explanation, so the drawing reads without colour too.
"""

from __future__ import annotations

from html import escape

from ..timelimits import ClockState

CELL, GAP, TOP, MAX_DAYS = 18, 2, 22, 70
COLOURS = {"counted": "#2e7d32", "extended": "#ef6c00", "paused": "#9e9e9e", "rest": "#e0e0e0",
           "overdue": "#c62828"}
LEGEND = {"counted": "计入时限", "extended": "延期", "paused": "暂停(特别程序)", "rest": "休息日", "overdue": "超期"}


def kind_of(text: str, counted: bool | None) -> str:
    if "past the deadline" in text:
        return "overdue"
    if "paused for" in text:
        return "paused"
    if counted and "extension" in text:
        return "extended"
    return "counted" if counted else "rest"


def timeline_svg(state: ClockState) -> str:
    days = [line for line in state.explanation if line.day is not None][:MAX_DAYS]
    if not days:
        return ""
    per_row = 35
    rows = (len(days) + per_row - 1) // per_row
    width = per_row * (CELL + GAP) + 4
    height = TOP + rows * (CELL + GAP) + 26
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}"><title>{escape(state.clock)}: {len(days)} 天</title>']
    for i, line in enumerate(days):
        kind = kind_of(line.text, line.counted)
        x, y = 2 + (i % per_row) * (CELL + GAP), TOP + (i // per_row) * (CELL + GAP)
        label = f"{line.day.isoformat()} {line.text}"  # type: ignore[union-attr]
        out.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="{COLOURS[kind]}" '
                   f'class="day {kind}"><title>{escape(label)}</title></rect>')
        if line.day is not None and (i == 0 or line.day.day == 1):
            out.append(f'<text x="{x}" y="{TOP - 6}" font-size="10">{line.day.month}/{line.day.day}</text>')
    y = TOP + rows * (CELL + GAP) + 14
    x = 2
    for kind, name in LEGEND.items():
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLOURS[kind]}"/>'
                   f'<text x="{x + 13}" y="{y}" font-size="10">{name}</text>')
        x += 13 + 12 * len(name) + 10
    out.append("</svg>")
    return "".join(out)
