"""Delivering the outbox: notifications through channels, events to listeners, plugin actions.

A transition commits its outbox rows with its event; nothing here runs inside it, so a plugin
that raises, hangs or is missing can delay a message but never undo or lose a transition.

Each row has one or more *targets*: the channels of a ``notify`` row (its ``channels``, else the
server's ``default_channels``), the ``on_event`` listeners of an ``event`` row, or the ``deliver``
function of the plugin action a row is named after. Targets are tried one by one, each within
``timeout`` seconds; those that succeed are recorded in the payload (``delivered``) so a retry
only repeats the ones that failed. Rows of other kinds (``assign`` ...) are left to their owners.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from ..plugins import Event, Message, Plugins, get_plugins
from .backoff import DEFAULT, Backoff
from .outbox import DatabaseOutbox, OutboxRow, OutboxStore

log = logging.getLogger("bianmin.notify")

TIMEOUT = 30.0  # seconds one target may take
CONCURRENCY = 4  # rows delivered at the same time
ERROR_LENGTH = 2000  # of last_error
EVENT_KIND = "event"
NOTIFY_KIND = "notify"


@dataclass
class DispatchReport:
    due: int = 0
    delivered: int = 0
    failed: int = 0  # will be retried
    gave_up: int = 0  # failed for the last time
    skipped: int = 0  # claimed by another dispatcher
    errors: int = 0  # the outbox itself could not be read or written

    def __str__(self) -> str:
        return (f"outbox: {self.due} due, {self.delivered} delivered, {self.failed} to retry, "
                f"{self.gave_up} given up, {self.skipped} taken by another dispatcher, {self.errors} errors")


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "channel:sms", "on_event:webhook", "action:stamp_seal"
    call: Callable[[], Any]
    is_async: bool = False


def deliverable_kinds(plugins: Plugins) -> list[str]:
    """The row kinds this dispatcher delivers."""
    return [NOTIFY_KIND, EVENT_KIND, *sorted(k for k, spec in plugins.actions.items()
                                             if spec.deliver is not None and k not in (NOTIFY_KIND, EVENT_KIND))]


async def dispatch_due(now: datetime, limit: int = 100, *, outbox: OutboxStore | None = None,
                       plugins: Plugins | None = None, backoff: Backoff = DEFAULT, timeout: float = TIMEOUT,
                       concurrency: int = CONCURRENCY, rng: random.Random | None = None) -> DispatchReport:
    """Deliver up to ``limit`` due rows at ``now``. Never raises: failures are recorded on the rows
    (``attempts``, ``last_error``, the next attempt) and counted in the report."""
    report = DispatchReport()
    try:
        plugins = plugins or get_plugins()
        outbox = outbox or DatabaseOutbox()
        rows = await outbox.due(now, limit, deliverable_kinds(plugins))
    except Exception as exc:  # noqa: BLE001 - the caller (sweeper, web task) must not fall over
        log.error("outbox: cannot read due rows: %s", exc)
        report.errors += 1
        return report
    report.due = len(rows)
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(row: OutboxRow) -> None:
        async with gate:
            try:
                await _dispatch_row(row, now, outbox, plugins, backoff, timeout, rng, report)
            except Exception as exc:  # noqa: BLE001
                log.error("outbox: row %s: cannot record the outcome: %s", row.id, exc)
                report.errors += 1

    await asyncio.gather(*(one(row) for row in rows))
    return report


async def _dispatch_row(row: OutboxRow, now: datetime, outbox: OutboxStore, plugins: Plugins, backoff: Backoff,
                        timeout: float, rng: random.Random | None, report: DispatchReport) -> None:
    payload = dict(row.payload)
    delivered = set(payload.get("delivered") or ())
    try:
        targets = [t for t in targets_of(row, plugins) if t.name not in delivered]
        errors: list[str] = []
    except Exception as exc:  # noqa: BLE001 - e.g. an event payload that cannot be read
        targets, errors = [], [f"{type(exc).__name__}: {exc}"]
    if not await outbox.claim(row, now + timedelta(seconds=timeout * max(len(targets), 1) + 60)):
        report.skipped += 1
        return
    for target in targets:
        try:
            await call_with_timeout(target, timeout)
            delivered.add(target.name)
        except Exception as exc:  # noqa: BLE001 - whatever a plugin raises is recorded, retried
            errors.append(f"{target.name}: {_describe(exc, timeout)}")
    payload["delivered"] = sorted(delivered)
    if not errors:
        await outbox.succeeded(row, now, payload)
        report.delivered += 1
        return
    attempts = row.attempts + 1
    wait = backoff.delay(attempts, rng)
    error = "; ".join(errors)[:ERROR_LENGTH]
    await outbox.failed(row, now + wait if wait is not None else None, error, payload)
    if wait is None:
        report.gave_up += 1
        log.error("outbox: row %s (%s) given up after %d attempts: %s", row.id, row.kind, attempts, error)
    else:
        report.failed += 1
        log.warning("outbox: row %s (%s) attempt %d failed, next in %s: %s", row.id, row.kind, attempts, wait, error)


def targets_of(row: OutboxRow, plugins: Plugins) -> list[Target]:
    """What delivering ``row`` means: one target per channel, listener or plugin action."""
    if row.kind == NOTIFY_KIND:
        message = Message.from_payload(str(row.id), row.payload)
        names = row.payload.get("channels") or plugins.config.default_channels
        return [_channel(plugins, name, message) for name in ([names] if isinstance(names, str) else names)]
    if row.kind == EVENT_KIND:
        event = Event.from_payload(row.payload)
        return [Target(f"on_event:{plugin}", _bind(listener, event)) for plugin, listener in plugins.event_listeners()]
    spec = plugins.actions.get(row.kind)
    if spec is None or spec.deliver is None:
        raise LookupError(f"no loaded plugin delivers {row.kind!r} rows")
    deliver, payload = spec.deliver, dict(row.payload)
    return [Target(f"action:{row.kind}", lambda: deliver(payload), inspect.iscoroutinefunction(deliver))]


def _channel(plugins: Plugins, name: str, message: Message) -> Target:
    channel = plugins.channels.get(name)
    if channel is None:
        def missing() -> None:
            raise LookupError(f"channel {name!r} is not provided by any loaded plugin")
        return Target(f"channel:{name}", missing)
    send = channel.send
    return Target(f"channel:{name}", lambda: send(message), inspect.iscoroutinefunction(send))


def _bind(listener: Callable[[Event], Any], event: Event) -> Callable[[], Any]:
    return lambda: listener(event)


async def call_with_timeout(target: Target, timeout: float) -> Any:
    """Run a target within ``timeout`` seconds: a coroutine on the loop, anything else on a daemon
    thread, which a hanging call keeps but which never blocks the loop or the process's exit."""
    if target.is_async:
        return await asyncio.wait_for(target.call(), timeout)
    return await asyncio.wait_for(_in_thread(target.call), timeout)


def _in_thread(fn: Callable[[], Any]) -> Awaitable[Any]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(error: BaseException | None, value: Any) -> None:
        if future.done():  # timed out and cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        try:
            value, error = fn(), None
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            value, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, error, value)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=run, name="bianmin-outbox", daemon=True).start()
    return future


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s (timed out)"
    return f"{type(exc).__name__}: {exc}"
