"""Clock events (时限事件): what happened to a case or record, and when.

A clock is a pure function of its events: the engine never stores a deadline. Events come from
the workflow (a transition bound to a clock), from the ``bianmin deadline`` events file, or from
a pack scenario; ``parse_events`` reads the last two from YAML, keeping each event's position so
that an invalid sequence names the line at fault.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..packs.model import Duration

# `start` is the workflows' reserved event (the record was created, or the clock's start_on
# transition happened); on a case clock it means the same as `received`.
KINDS = ("start", "received", "correction_notice", "resubmitted", "accepted", "pause", "resume",
         "extension", "completed", "delivered", "refused", "withdrawn")
DAY_UNITS = ("working_day", "natural_day", "working_hour")
_KEYS = ("at", "do", "reason", "expected_days", "by", "until", "role", "clocks", "note")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?\Z")


class ClockError(ValueError):
    """An event sequence or a clock question the rules do not allow; the message says which rule."""


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """One event on a clock.

    ``reason`` is a pause reason id (special procedure) or, on an extension, the reason told to the
    applicant; ``expected_days`` the announced length of a pause in the clock's own days;
    ``by``/``until`` the length or new last day of an extension; ``role`` who approved it;
    ``clocks`` the clock ids an extension applies to (empty: every clock it is given to).
    """

    at: datetime
    kind: str
    reason: str = ""
    expected_days: int | None = None
    by: Duration | None = None
    until: date | None = None
    role: str = ""
    clocks: tuple[str, ...] = ()
    where: str = field(default="", compare=False)  # file:line:col of the event, for messages

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ClockError(_at(self.where) + unknown("event", self.kind, KINDS))
        if self.kind == "extension" and (self.by is None) == (self.until is None):
            raise ClockError(_at(self.where) + "an extension gives either `by` (a duration) or "
                             "`until` (the new last day), not both and not neither")
        if self.expected_days is not None and self.expected_days < 0:
            raise ClockError(_at(self.where) + f"expected_days must be >= 0, got {self.expected_days}")


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def unknown(what: str, value: object, known: Sequence[str]) -> str:
    """`unknown <what> <value>` with a "did you mean", or the list of what is known."""
    close = difflib.get_close_matches(str(value), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(known)}"
    return f"unknown {what} {value!r}{hint}"


def parse_datetime(text: object, what: str = "time") -> datetime:
    """``2026-09-30T10:00`` (or with a space, or seconds); a bare date means 00:00 of that day."""
    if isinstance(text, datetime):
        return text
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day)
    if isinstance(text, str) and _DATETIME.match(text.strip()):
        try:
            return datetime.fromisoformat(text.strip().replace(" ", "T"))
        except ValueError:
            pass
    raise ClockError(f"invalid {what} {text!r}: expected YYYY-MM-DDTHH:MM, e.g. 2026-09-30T10:00")


def parse_date(text: object, what: str = "date") -> date:
    if isinstance(text, date) and not isinstance(text, datetime):
        return text
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            pass
    raise ClockError(f"invalid {what} {text!r}: expected YYYY-MM-DD, e.g. 2026-10-20")


def parse_duration(raw: object, what: str = "duration") -> Duration:
    """``{value: 5, unit: working_day}`` (or a Duration) as a Duration."""
    if isinstance(raw, Duration):
        return raw
    if not isinstance(raw, Mapping):
        raise ClockError(f"{what} must be a mapping such as {{value: 5, unit: working_day}}, got {raw!r}")
    extra = sorted(set(raw) - {"value", "unit", "basis"})
    if extra:
        raise ClockError(f"{what}: unknown key {extra[0]!r}; a duration has value, unit and basis")
    unit, value = raw.get("unit"), raw.get("value", 0)
    if unit not in (*DAY_UNITS, "immediate", "same_day"):
        raise ClockError(f"{what}: " + unknown("unit", unit, (*DAY_UNITS, "immediate", "same_day")))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ClockError(f"{what}: value must be a whole number >= 0, got {value!r}")
    if unit in DAY_UNITS and "value" not in raw:
        raise ClockError(f"{what}: a {unit} duration needs a value")
    return Duration(unit=unit, value=value, basis=str(raw.get("basis") or ""))


def parse_events(raw: Any, file: str = "events") -> tuple[ClockEvent, ...]:
    """Events from loaded YAML: a list of ``{at, do, reason, expected_days, by, until, role, clocks}``.

    Values loaded with ``bianmin.packs.loader`` carry marks, which end up in every message.
    """
    if not isinstance(raw, list):
        where = getattr(raw, "mark", None) or f"{file}:1:1"
        raise ClockError(f"{where}: the events must be a list of {{at, do, ...}} mappings")
    marks = getattr(raw, "item_marks", None) or [f"{file}:item {i + 1}" for i in range(len(raw))]
    return tuple(_event(entry, str(mark)) for entry, mark in zip(raw, marks))


def with_extension_targets(events: Sequence[ClockEvent], targets: Sequence[str]) -> tuple[ClockEvent, ...]:
    """Give extensions that name no clocks the ``targets`` (the clocks a workflow's ``extend_clock``
    action extends: jiangyin extends only the promised one); others are kept as they are."""
    if not targets:
        return tuple(events)
    return tuple(dataclasses.replace(e, clocks=tuple(targets)) if e.kind == "extension" and not e.clocks else e
                 for e in events)


def _event(entry: Any, where: str) -> ClockEvent:
    if not isinstance(entry, Mapping):
        raise ClockError(f"{where}: an event must be a mapping such as {{at: 2026-09-30T10:00, do: received}}")
    for key in entry:
        if key not in _KEYS:
            raise ClockError(f"{_key_mark(entry, key, where, 'key_marks')}: " + unknown("event key", key, _KEYS))
    for key in ("at", "do"):
        if entry.get(key) is None:
            raise ClockError(f"{where}: an event needs `{key}`")

    def field_(key: str, parse: Any) -> Any:
        value = entry.get(key)
        if value is None:
            return None
        try:
            return parse(value, key)
        except ClockError as exc:
            raise ClockError(f"{_key_mark(entry, key, where)}: {exc}") from None

    kind = entry["do"]
    if kind not in KINDS:
        raise ClockError(f"{_key_mark(entry, 'do', where)}: " + unknown("event", kind, KINDS))
    expected = entry.get("expected_days")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise ClockError(f"{_key_mark(entry, 'expected_days', where)}: expected_days must be a whole number")
    clocks = entry.get("clocks") or ()
    if isinstance(clocks, str) or not all(isinstance(c, str) for c in clocks):
        raise ClockError(f"{_key_mark(entry, 'clocks', where)}: clocks must be a list of clock ids")
    return ClockEvent(
        at=field_("at", parse_datetime), kind=kind, reason=str(entry.get("reason") or ""),
        expected_days=expected, by=field_("by", parse_duration), until=field_("until", parse_date),
        role=str(entry.get("role") or ""), clocks=tuple(clocks), where=where)


def _key_mark(entry: Any, key: str, default: str, which: str = "value_marks") -> str:
    marks = getattr(entry, which, None)
    return str(marks[key]) if marks and key in marks else default
