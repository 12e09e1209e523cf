"""Bar and line charts drawn on the server as SVG: no script, readable without colour.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (the desc says in
words what the chart shows, with its extremes), each bar or point has a ``<title>`` with its
value, the series have a legend, and :func:`figure` puts the same numbers in a ``<table>``
beside the drawing — the fallback for screen readers, printing and copying. No ``style``
attributes (the web app's Content-Security-Policy forbids inline styles): presentation
attributes only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5fa8", "#c0392b", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")
WIDTH = 720
PLOT_HEIGHT = 200
TOP, BOTTOM, LEFT = 34, 46, 48
FONT = 11


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    id: str  # unique in the page: the ids of <title> and <desc> derive from it
    kind: str  # bar | hbar | line
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = ""
    top: float | None = None  # a fixed top of the scale (100 for rates)
    note: str = ""  # added to the description

    def __post_init__(self) -> None:
        if self.kind not in ("bar", "hbar", "line"):
            raise ValueError(f"unknown chart kind {self.kind!r}")
        for s in self.series:
            if len(s.values) != len(self.labels):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.labels)} labels")


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return f"{text}{unit}"


def describe(chart: Chart) -> str:
    """The chart in words: what it shows and, per series, its highest and lowest values."""
    parts = [f"{chart.title}。"]
    for s in chart.series:
        known = [(v, label) for v, label in zip(s.values, chart.labels) if v is not None]
        if not known:
            parts.append(f"{s.name}: 无数据。")
            continue
        high, low = max(known), min(known)
        parts.append(f"{s.name}: 最高 {high[1]} {number(high[0], chart.unit)}, 最低 {low[1]} {number(low[0], chart.unit)}。")
    if chart.note:
        parts.append(chart.note)
    return "".join(parts)


def nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _top(chart: Chart) -> float:
    if chart.top is not None:
        return chart.top
    values = [v for s in chart.series for v in s.values if v is not None]
    return nice_top(max(values, default=0))


def _open(chart: Chart, width: int, height: int) -> list[str]:
    cid = escape(chart.id)
    return [(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart chart-{chart.kind}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-size="{FONT}" '
             f'aria-labelledby="{cid}-title {cid}-desc">'),
            f'<title id="{cid}-title">{escape(chart.title)}</title>',
            f'<desc id="{cid}-desc">{escape(describe(chart))}</desc>']


def _legend(chart: Chart, y: int) -> list[str]:
    if len(chart.series) < 2:
        return []
    out, x = [], LEFT
    for i, s in enumerate(chart.series):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="{y}">{escape(s.name)}</text>')
        x += 30 + FONT * len(s.name)
    return out


def _grid(top: float, width: int, unit: str) -> list[str]:
    out = []
    for k in range(5):
        value = top * k / 4
        y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * k / 4
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#d0d0d0" stroke-width="1"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{escape(number(value, unit))}</text>')
    return out


def bar_svg(chart: Chart) -> str:
    """Vertical bars, grouped by label."""
    n, k = len(chart.labels), max(len(chart.series), 1)
    group = max(24, min(72, (WIDTH - LEFT - 16) // max(n, 1)))
    width = LEFT + 16 + group * n
    height = TOP + PLOT_HEIGHT + BOTTOM
    top = _top(chart)
    out = _open(chart, width, height) + _legend(chart, 16) + _grid(top, width, chart.unit)
    bar = max(4, (group - 8) // k)
    for i, label in enumerate(chart.labels):
        x0 = LEFT + 8 + i * group + (group - bar * k) / 2
        for j, s in enumerate(chart.series):
            value = s.values[i]
            h = 0 if value is None else PLOT_HEIGHT * min(value, top) / top
            x, y = x0 + j * bar, TOP + PLOT_HEIGHT - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1}" height="{h:.1f}" '
                       f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(f"{label} {s.name}: {number(value, chart.unit)}")}'
                       '</title></rect>')
        cx = LEFT + 8 + i * group + group / 2
        out.append(f'<text x="{cx:.1f}" y="{TOP + PLOT_HEIGHT + 16}" text-anchor="middle">{escape(_short(label, group))}</text>')
    out.append("</svg>")
    return "".join(out)


def hbar_svg(chart: Chart) -> str:
    """Horizontal bars, one row per label (rankings: long names read left to right)."""
    n, k = len(chart.labels), max(len(chart.series), 1)
    label_width = min(220, 14 + FONT * max((len(label) for label in chart.labels), default=4))
    row = 8 + 14 * k
    plot = WIDTH - label_width - 70
    height = TOP + row * n + 8
    top = _top(chart)
    out = _open(chart, WIDTH, height) + _legend(chart, 16)
    for i, label in enumerate(chart.labels):
        y0 = TOP + i * row
        out.append(f'<text x="{label_width - 6}" y="{y0 + row / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        for j, s in enumerate(chart.series):
            value = s.values[i]
            w = 0 if value is None else plot * min(value, top) / top
            y = y0 + 4 + j * 14
            out.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="12" fill="{PALETTE[j % len(PALETTE)]}">'
                       f'<title>{escape(f"{label} {s.name}: {number(value, chart.unit)}")}</title></rect>'
                       f'<text x="{label_width + w + 4:.1f}" y="{y + 10}">{escape(number(value, chart.unit))}</text>')
    out.append("</svg>")
    return "".join(out)


def line_svg(chart: Chart) -> str:
    """Lines over the labels (months); a missing value breaks the line."""
    n = len(chart.labels)
    step = max(28, min(80, (WIDTH - LEFT - 24) // max(n - 1, 1)))
    width = LEFT + 24 + step * max(n - 1, 1)
    height = TOP + PLOT_HEIGHT + BOTTOM
    top = _top(chart)
    out = _open(chart, width, height) + _legend(chart, 16) + _grid(top, width, chart.unit)

    def xy(i: int, value: float) -> tuple[float, float]:
        return LEFT + 12 + i * step, TOP + PLOT_HEIGHT - PLOT_HEIGHT * min(value, top) / top

    for j, s in enumerate(chart.series):
        colour = PALETTE[j % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate(s.values + (None,)):
            if value is None:
                if len(run) > 1:
                    out.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
                run = []
                continue
            x, y = xy(i, value)
            run.append(f"{x:.1f},{y:.1f}")
        for i, value in enumerate(s.values):
            if value is not None:
                x, y = xy(i, value)
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                           f'<title>{escape(f"{chart.labels[i]} {s.name}: {number(value, chart.unit)}")}</title></circle>')
    for i, label in enumerate(chart.labels):
        out.append(f'<text x="{LEFT + 12 + i * step:.1f}" y="{TOP + PLOT_HEIGHT + 16}" text-anchor="middle">'
                   f'{escape(_short(label, step))}</text>')
    out.append("</svg>")
    return "".join(out)


def svg(chart: Chart) -> str:
    return {"bar": bar_svg, "hbar": hbar_svg, "line": line_svg}[chart.kind](chart)


def table(chart: Chart) -> str:
    """The chart's numbers as a table (caption = title)."""
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in chart.series)
    rows = []
    for i, label in enumerate(chart.labels):
        cells = "".join(f"<td>{escape(number(s.values[i], chart.unit))}</td>" for s in chart.series)
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return (f'<table class="chart-data"><caption>{escape(chart.title)}</caption><thead><tr><th scope="col"></th>'
            f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def figure(chart: Chart) -> str:
    """The drawing with its description and, in a disclosure, its table."""
    return (f'<figure class="chart" id="{escape(chart.id)}">{svg(chart)}'
            f'<figcaption>{escape(describe(chart))}</figcaption>'
            f'<details><summary>数据表</summary>{table(chart)}</details></figure>')


def _short(label: str, room: float) -> str:
    """A label cut to the room under its bar (the full label is in the bar's title and the table)."""
    fits = max(2, int(room // FONT))
    return label if len(label) <= fits else label[: fits - 1] + "…"


def percent(part: float, whole: float) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def series(name: str, values: Sequence[float | None]) -> Series:
    return Series(name, tuple(values))
