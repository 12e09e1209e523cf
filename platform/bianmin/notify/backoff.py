"""When a failed delivery is tried again: exponential backoff with jitter, then give up.

Attempt n (1-based) failing waits ``min(cap, base × factor^(n-1))``, multiplied by a random factor
in ``[1 - jitter, 1 + jitter]`` so that deliveries failing together (a gateway down for an hour)
do not all come back in the same second. After ``max_attempts`` the row stays in the outbox,
undelivered and visible to administrators (``bianmin outbox --failed``), until one retries it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 30.0  # seconds before the second attempt
    factor: float = 2.0
    cap: float = 6 * 3600.0  # no wait is longer than this
    jitter: float = 0.2  # ± share of the wait
    max_attempts: int = 12  # about half a day of trying with the defaults

    def nominal(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts, before jitter."""
        return min(self.cap, self.base * self.factor ** max(attempts - 1, 0))

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta | None:
        """The wait after ``attempts`` failed attempts; None once it is time to give up."""
        if attempts >= self.max_attempts:
            return None
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=self.nominal(attempts) * spread)

    def schedule(self) -> list[float]:
        """The nominal waits between all attempts (the table in docs/plugins.md)."""
        return [self.nominal(n) for n in range(1, self.max_attempts)]


DEFAULT = Backoff()
