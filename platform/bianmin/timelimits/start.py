"""When a clock starts: the pack's start event and the correction-notice rule (行政许可法 §32).

A case clock starts at receipt of the materials or at acceptance (``time_limits.clock_start``).
If a correction notice (补正告知) went out within ``correction_notice.within`` of receipt, the
clock starts afresh once the materials are complete (``resubmitted``, or ``accepted`` when the
clock starts at acceptance); a notice issued late counts the clock from receipt
(``if_late: count_from_receipt``, jiangyin 三(三)5). Other clocks start at their ``start`` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import ClockError, ClockEvent
from .units import meter_for

if TYPE_CHECKING:
    from .clock import _Replay


def find_start(run: _Replay, events: tuple[ClockEvent, ...]) -> ClockEvent | None:
    """The event the clock counts from (None: not started yet); records the rule applied."""
    if not run.case:
        ev = next((e for e in events if e.kind in ("start", "received")), None)
        if ev is not None:
            run.rule(f"the clock starts on {ev.at.date()} ({ev.kind})", run.clock.source)
        return ev
    tl = run.pack.time_limits
    event = tl.clock_start.event if tl.clock_start else "received"
    source = tl.clock_start.source if tl.clock_start else ""
    receipt = next((e for e in events if e.kind in ("received", "start")), None)
    notices = [e for e in events if e.kind == "correction_notice"]
    if notices:
        if receipt is None or notices[0].at < receipt.at:
            raise ClockError(_where(notices[0]) + "a correction notice before the materials were received")
        if tl.correction_notice is not None:
            return _after_notice(run, events, receipt, notices, event, source)
        run.rule("the pack sets no correction-notice rule: the notice does not move the start")
    first = receipt if event == "received" else None
    first = first or next((e for e in events if e.kind == "accepted"), None)
    if first is not None:
        what = "receipt of the materials" if first.kind in ("received", "start") else "acceptance"
        run.rule(f"the clock starts at {what} on {first.at.date()} (clock_start: {event})", source)
    return first


def _after_notice(run: _Replay, events: tuple[ClockEvent, ...], receipt: ClockEvent,
                  notices: list[ClockEvent], event: str, source: str) -> ClockEvent | None:
    rule = run.pack.time_limits.correction_notice
    assert rule is not None
    if rule.complete_list and len(notices) > 1:
        raise ClockError(_where(notices[1]) + "a second correction notice: everything missing must be "
                         f"told at once (一次性告知, {rule.source})")
    notice = notices[0]
    meter = meter_for(rule.within.unit, run.cal, run.meter.periods)
    by = meter.end(receipt.at, rule.within.value)
    if meter.passed(notice.at, by):
        run.rule(f"correction notice on {notice.at.date()}, later than {rule.within} after receipt "
                 f"(due by {by.day}): the clock counts from receipt on {receipt.at.date()} "
                 f"(if_late: {rule.if_late})", rule.source)
        return receipt
    run.rule(f"correction notice on {notice.at.date()}, within {rule.within} of receipt (by {by.day}): "
             "the clock starts afresh when the materials are complete", rule.source)
    wanted = "resubmitted" if event == "received" else "accepted"
    start = next((e for e in events if e.kind == wanted and e.at >= notice.at), None)
    if start is None:
        run.rule(f"not started: waiting for the event {wanted!r}", rule.source)
        return None
    run.rule(f"the clock starts on {start.at.date()} ({wanted}; clock_start: {event})", source)
    return start


def _where(ev: ClockEvent) -> str:
    return f"{ev.where}: " if ev.where else ""
