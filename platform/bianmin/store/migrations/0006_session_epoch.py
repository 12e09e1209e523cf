"""``staff.session_epoch``: revoking an account's sessions (web/auth.py).

The signed session cookie carries the epoch the account had when it signed in; signing out adds
one, so every copy of the cookie (a shared counter PC, a proxy log) stops working on every
worker at once. Existing accounts start at 0, as do the sessions signed in before the upgrade
(a session without an epoch counts as 0).
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    # A constant default: no table rewrite on PostgreSQL 11+; SQLite needs it for NOT NULL.
    return ["ALTER TABLE staff ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0"]
