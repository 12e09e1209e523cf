"""Tortoise's SQLite backend, with write transactions that take the write lock when they begin, and
a way to run a whole transaction without a round trip per statement.

A plain ``BEGIN`` starts a read transaction that upgrades to a write at its first write; when
another process (``bianmin sweep`` from cron beside the web server) has written in between, the
upgrade fails at once with "database is locked" whatever the busy timeout. ``BEGIN IMMEDIATE``
waits (``busy_timeout``) for the lock up front instead, so writers queue.

**Programs** (``db.atomic``, ``db.read``, ``db.run``; docs/persistence.md "Performance"). Every
statement through ``aiosqlite`` is a round trip to its worker thread (about 90 µs here, several
times what SQLite itself takes for a small statement). A program is a generator yielding its
statements (``db.Fetch``, ``db.Execute``); this module runs all of them, with the ``BEGIN`` and
the ``COMMIT``, in ONE call, in one of two places:

- **inline**, in the event loop's thread, on a second connection to the same file opened with
  ``busy_timeout=0``: nothing in the program ever waits (no ``await`` inside, so no other task of
  this process interleaves, and a busy database fails at once instead of blocking the loop);
- in **aiosqlite's worker thread**, on Tortoise's connection, as one queued callable (aiosqlite
  runs every operation that way; ``Connection._execute`` is its only entry for a callable). This
  is where a program goes when the inline attempt found the database busy (another process or a
  Tortoise transaction of this one holds the write lock): it waits there, up to ``busy_timeout``,
  under the client's lock like any Tortoise transaction. It is also the path of programs run
  inside a transaction opened with ``db.transaction()``, and of ``:memory:`` databases (a second
  connection would be another database).
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import Callable
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient as _SqliteClient
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
WRITE = "BEGIN IMMEDIATE"
READ = "BEGIN"
CHECKPOINT_EVERY = 100  # inline commits: about 1000 pages of WAL, SQLite's automatic checkpoint


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SqliteClient(_SqliteClient):
    _inline: sqlite3.Connection | None = None
    _checkpointer: sqlite3.Connection | None = None
    _checkpoint: asyncio.Future[None] | None = None
    _commits = 0  # inline write commits since the last checkpoint

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)

    async def create_connection(self, with_db: bool) -> None:
        await super().create_connection(with_db)
        if self._inline is None and _is_file(self.filename):
            inline = sqlite3.connect(self.filename, isolation_level=None, check_same_thread=False)
            inline.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                if pragma not in ("busy_timeout", "journal_mode"):  # WAL is the file's, set above
                    inline.execute(f"PRAGMA {pragma}={value}")
            # Never wait on the event loop: not for a lock, not for a checkpoint's fsync.
            inline.execute("PRAGMA busy_timeout=0")
            inline.execute("PRAGMA wal_autocheckpoint=0")
            self._inline = inline
            self._checkpointer = sqlite3.connect(self.filename, isolation_level=None, check_same_thread=False)

    async def close(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint
            self._checkpoint = None
        for conn in (self._inline, self._checkpointer):
            if conn is not None:
                conn.close()
        self._inline = self._checkpointer = None
        await super().close()

    def _committed(self) -> None:
        """The inline connection does not checkpoint the WAL into the database itself (a
        checkpoint's fsyncs take milliseconds, up to 100 ms on a busy disk): every
        CHECKPOINT_EVERY commits a ``PASSIVE`` checkpoint runs on a third connection in the loop's
        default executor, started at once (the task that commits may not yield for a while). It
        blocks neither readers nor writers, and SQLite's own checkpoints on Tortoise's connection go
        on as before."""
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._commits = 0
            self._checkpoint = asyncio.get_running_loop().run_in_executor(None, self._checkpoint_wal)

    def _checkpoint_wal(self) -> None:
        try:
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # the next one catches up
            self.log.warning("WAL checkpoint failed: %s", exc)

    async def run_program(self, begin: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """``fn(*args)``'s statements in a transaction of their own (``begin`` is ``WRITE`` or
        ``READ``): inline when the database is free, else in the worker thread."""
        # Not while a Tortoise operation of this process is under way on the worker connection
        # (it holds the client's lock, a transaction from before its BEGIN to its COMMIT): the two
        # connections would then meet on SQLite's write lock, whose busy handler sleeps in steps
        # of milliseconds. Queueing on the lock instead keeps this process's writers in one line.
        if self._inline is not None and not self._lock.locked():
            try:
                result = drive(self._inline, fn(*args), begin, inline=True)
            except Busy:
                pass  # someone holds the write lock: queue for it below, off the event loop
            else:
                if begin == WRITE:
                    self._committed()
                return result
        await self._lock.acquire()
        try:
            aio, context = self._connection, contextvars.copy_context()
            return await aio._execute(context.run, lambda: drive(aio._conn, fn(*args), begin))
        finally:
            self._lock.release()


async def run_in_transaction(tx: SqliteTransactionWrapper, fn: Callable[..., Any], args: tuple[Any, ...],
                             savepoint: bool) -> Any:
    """``fn(*args)``'s statements inside ``tx`` (a ``db.transaction()``), in one hop; with
    ``savepoint``, rolled back alone on an exception, as a nested ``db.transaction()`` would be."""
    aio, context = tx._connection, contextvars.copy_context()
    async with tx._lock:
        return await aio._execute(context.run,
                                  lambda: drive(aio._conn, fn(*args), "SAVEPOINT" if savepoint else None))


class Busy(Exception):
    """The inline connection found the database locked: the program goes to the worker thread."""


def drive(conn: sqlite3.Connection, program: Any, begin: str | None, inline: bool = False) -> Any:
    """Run ``program``'s statements on ``conn`` in the calling thread, between ``begin`` and
    ``COMMIT`` (``ROLLBACK`` on any exception); ``begin`` None runs them in the open transaction."""
    from .db import Fetch  # db imports this module

    if begin is None:
        start = commit = rollback = None
    elif begin == "SAVEPOINT":
        start, commit = "SAVEPOINT bianmin_program", "RELEASE bianmin_program"
        rollback = "ROLLBACK TO bianmin_program"
    else:
        start, commit, rollback = begin, "COMMIT", "ROLLBACK"
    try:
        if start:
            conn.execute(start)
        reply: Any = None
        while True:
            try:
                statement = program.send(reply)
            except StopIteration as stop:
                result = stop.value
                break
            try:
                cursor = conn.cursor()
                cursor.row_factory = None  # plain tuples: zipped into dicts below, faster than sqlite3.Row
                rows = cursor.execute(statement.sql, statement.params).fetchall()
                if isinstance(statement, Fetch):
                    names = [column[0] for column in cursor.description] if rows else ()
                    reply = [dict(zip(names, row)) for row in rows]
                else:
                    reply = cursor.rowcount if cursor.rowcount >= 0 else len(rows)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(exc) from exc
            except sqlite3.OperationalError as exc:
                if inline and exc.sqlite_errorcode in _BUSY:
                    raise Busy from exc
                raise OperationalError(exc) from exc
        if commit:
            conn.execute(commit)
        return result
    except BaseException as exc:
        if start and conn.in_transaction:
            conn.execute(rollback)
            if begin == "SAVEPOINT":
                conn.execute(commit)
        if isinstance(exc, sqlite3.OperationalError):  # BEGIN IMMEDIATE or COMMIT
            if inline and exc.sqlite_errorcode in _BUSY:
                raise Busy from exc  # the database is locked: no waiting on the event loop
            raise OperationalError(exc) from exc
        if isinstance(exc, sqlite3.IntegrityError):
            raise IntegrityError(exc) from exc
        raise
    finally:
        program.close()


def _is_file(filename: str) -> bool:
    return filename != ":memory:" and "mode=memory" not in filename and not filename.startswith("file::memory:")


client_class = SqliteClient
