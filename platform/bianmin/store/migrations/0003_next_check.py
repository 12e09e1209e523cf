"""``records.next_check_at``: when the sweeper must look at an open record next (store/sweeper.py).

A record's clocks change level or status, and its timers fall due, only at instants known in
advance from its events, the pinned pack and the calendar; the sweeper stores the earliest of them
here and claims only ``is_open AND next_check_at <= now`` through the partial index
``records_next_check``. The epoch means "at once": existing rows get it, so the first sweep after
the upgrade examines every open record once, and every transition sets it to its own time.

The claim no longer reads ``swept_at`` (kept as the time a record was last examined), so its index
``records_sweep`` goes: it would only cost a write per swept record.

``sweep_calendars`` keeps, per jurisdiction, the fingerprint of the calendar the last sweep
computed with: when it differs, that jurisdiction's open records are all made due, since any of
their deadlines may have moved.
"""

from __future__ import annotations

EPOCH = "1970-01-01 00:00:00"


def statements(dialect: str) -> list[str]:
    # PostgreSQL 11+ adds a column with a constant default without rewriting the table; SQLite
    # needs the default to add a NOT NULL column at all.
    return [
        f"ALTER TABLE records ADD COLUMN next_check_at TIMESTAMP NOT NULL DEFAULT '{EPOCH}'",
        "CREATE INDEX records_next_check ON records (next_check_at) WHERE is_open",
        "DROP INDEX records_sweep",
        "CREATE TABLE sweep_calendars (jurisdiction_id VARCHAR(64) PRIMARY KEY REFERENCES jurisdictions (id), "
        "fingerprint VARCHAR(64) NOT NULL, seen_at TIMESTAMP NOT NULL)",
    ]
