"""Tortoise's SQLite backend, with write transactions that take the write lock when they begin.

A plain ``BEGIN`` starts a read transaction that upgrades to a write at its first write; when
another process (``bianmin sweep`` from cron beside the web server) has written in between, the
upgrade fails at once with "database is locked" whatever the busy timeout. ``BEGIN IMMEDIATE``
waits (``busy_timeout``) for the lock up front instead, so writers queue.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient as _SqliteClient
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SqliteClient(_SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = SqliteClient
