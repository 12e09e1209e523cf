"""Delivery after commit: the outbox dispatcher, its retry schedule, and what administrators see.

Public surface::

    await dispatch_due(now, limit=100, *, outbox=None, plugins=None, ...) -> DispatchReport  # never raises
    await failing(limit=100, *, outbox=None) -> list[OutboxRow]     # the admin page's list
    await retry(row_id, now, *, outbox=None) -> bool                # an administrator's retry
    Backoff(base, factor, cap, jitter, max_attempts)                # the schedule (docs/plugins.md)
    DatabaseOutbox() | MemoryOutbox()                               # where the rows live

See docs/plugins.md, "Isolation".
"""

from __future__ import annotations

from datetime import datetime

from .backoff import Backoff
from .dispatcher import DispatchReport, dispatch_due, targets_of
from .outbox import DatabaseOutbox, MemoryOutbox, OutboxRow, OutboxStore

__all__ = [
    "Backoff", "DatabaseOutbox", "DispatchReport", "MemoryOutbox", "OutboxRow", "OutboxStore", "dispatch_due",
    "failing", "pending", "retry", "targets_of",
]


async def failing(limit: int = 100, *, outbox: OutboxStore | None = None) -> list[OutboxRow]:
    """Undelivered rows whose last attempt failed (given up first, then most attempts): each with
    ``attempts``, ``last_error`` and ``next_attempt_at`` (None when given up)."""
    return await (outbox or DatabaseOutbox()).failing(limit)


async def pending(limit: int = 100, *, outbox: OutboxStore | None = None) -> list[OutboxRow]:
    """Every undelivered row, oldest first."""
    return await (outbox or DatabaseOutbox()).pending(limit)


async def retry(row_id: int, now: datetime, *, outbox: OutboxStore | None = None) -> bool:
    """Make an undelivered row due at ``now`` again, also one given up; False if there is none."""
    return await (outbox or DatabaseOutbox()).retry(row_id, now)
