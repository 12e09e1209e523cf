"""How two packs differ, section by section: what a policy officer compares across counties.

Both packs are compiled (so inherited rules count) and flattened to ``path → value`` rows,
records keyed by id (``items[food_licence].limits.promised``); the diff lists the rows whose
values differ, grouped by top-level section.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any, Iterator

from .model import Duration, Pack

# Noise that always differs and says nothing about the rules.
_SKIP = {"content_hash", "lineage", "sources"}
MISSING = "—"


@dataclasses.dataclass(frozen=True)
class Row:
    section: str
    path: str
    left: str
    right: str


def diff(left: Pack, right: Pack) -> list[Row]:
    a, b = dict(_flatten(left)), dict(_flatten(right))
    rows = []
    for path in sorted(set(a) | set(b), key=_order(a, b)):
        va, vb = a.get(path, MISSING), b.get(path, MISSING)
        if va != vb:
            rows.append(Row(_section(path), path, va, vb))
    return rows


def _section(path: str) -> str:
    head = path.split(".", 1)[0].split("[", 1)[0]
    return head if head != path else "metadata"


def _order(a: dict[str, str], b: dict[str, str]):
    position = {p: i for i, p in enumerate(list(a) + [p for p in b if p not in a])}
    return lambda path: position[path]


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Duration):
        yield path, str(value) + (f" ({value.basis})" if value.basis else "")
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            if not path and field.name in _SKIP:
                continue
            key = field.metadata.get("key", field.name)
            yield from _flatten(getattr(value, field.name), f"{path}.{key}" if path else key)
    elif isinstance(value, tuple) and value and all(hasattr(v, "id") for v in value):
        for record in value:
            yield from _flatten(record, f"{path}[{record.id}]")
    elif isinstance(value, tuple):
        yield path, ", ".join(map(_text, value)) if value else MISSING
    elif value is None or value == "":
        return
    else:
        yield path, _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, tuple):
        return "=".join(map(_text, value)) if len(value) == 2 and isinstance(value[0], str) else ", ".join(map(_text, value))
    return str(value)


def width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, size: int) -> str:
    return text + " " * max(0, size - width(text))


def _clip(text: str, size: int) -> str:
    if width(text) <= size:
        return text
    out = ""
    for char in text:
        if width(out + char) > size - 1:
            return out + "…"
        out += char
    return out


def render(left: Pack, right: Pack, rows: list[Row], columns: int = 120) -> str:
    """A side-by-side table, one block per section."""
    if not rows:
        return f"{left.id} and {right.id} have the same rules.\n"
    path_w = min(max(width(r.path) for r in rows) - min(len(r.section) for r in rows) + 2, columns // 3)
    value_w = max(12, (columns - path_w - 6) // 2)
    out = [f"{_pad('', path_w)}  {_pad(f'{left.id} ({left.name})', value_w)}  {right.id} ({right.name})"]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            out.append(f"\n[{section}]")
        sub = row.path if section == "metadata" else row.path[len(section):].lstrip(".")
        out.append(f"{_pad(_clip(sub, path_w), path_w)}  {_pad(_clip(row.left, value_w), value_w)}  {_clip(row.right, value_w)}")
    return "\n".join(out) + "\n"
