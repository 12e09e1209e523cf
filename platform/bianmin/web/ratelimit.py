"""A small in-memory rate limiter (sliding window), per process.

Used by the public case-status lookup: ``LOOKUP_PER_IP`` tries per client address and
``LOOKUP_PER_CASE`` per case number in ``WINDOW`` seconds (both documented in docs/web.md).
A deployment with several worker processes multiplies the limits by the number of workers.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW = 60.0
LOOKUP_PER_IP = 10
LOOKUP_PER_CASE = 5
MAX_KEYS = 100_000  # memory bound: the oldest keys are dropped past this


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, window: float = WINDOW) -> bool:
        """Count one try under ``key``; False when it is over ``limit`` in the window."""
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= MAX_KEYS:
                self._evict(now, window)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    def _evict(self, now: float, window: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - window]:
            del self._hits[key]
        while len(self._hits) >= MAX_KEYS:
            del self._hits[next(iter(self._hits))]

    def reset(self) -> None:
        self._hits.clear()
