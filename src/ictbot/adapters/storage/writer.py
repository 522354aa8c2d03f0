"""The single writer: one thread runs every write of a process, in submission order.

All writes go through it, so SQLite never sees two writers fighting for the lock ("database is
locked"), and each job runs in its own transaction: a job that raises is rolled back completely
and its caller gets the exception. Readers do not use it (WAL lets them run concurrently on
pooled connections).

A caller's job goes straight onto the thread's FIFO queue and the thread hands the outcome back
to the caller's event loop (``call_soon_threadsafe``): one hop each way. (An asyncio task that
fed a thread pool cost two more event-loop passes and a pool hand-off: a no-op write took
0.14 ms, now ≈ 0.05.) At most ``maxsize`` jobs wait; further callers wait for room.

With ``keep_connection`` (SQLite files) the thread keeps one connection for all its
transactions instead of taking one from the pool per job (saves the pool check-out/reset, ≈
0.03 ms per write). After a failed job that connection is closed and the next job opens a fresh
one, so nothing of a failed transaction can leak into the next.

Short writes on the trading path (an order row, a closed candle) may ask to run ``inline``: when
the thread is idle (every job ever queued has finished, so FIFO order holds) and the database is
a SQLite file, the job runs right here on the caller's thread, on a connection of its own, and
returns committed, without the two thread hops (≈ 0.05–0.15 ms each, more under load). That
connection never waits for a lock (``busy_timeout=0``): if another connection holds the write
lock the job is rolled back and queued for the thread like any other, which waits as usual. Its
commits never run the automatic WAL checkpoint (the checkpoint thread and the writer thread do),
so an inline write never blocks the event loop for a checkpoint. Only small jobs may ask: the
event loop waits while one runs.

The thread is a daemon: a ``Database`` nobody closed does not keep the process alive. A job still
queued when the process exits is lost whole (its transaction never commits), never half-written;
a job whose caller got its result was committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

T = TypeVar("T")

WriteJob = Callable[[Connection], Any]


@dataclass
class WriterStats:
    jobs: int = 0
    failed: int = 0
    inline: int = 0  # jobs run on the caller's thread (included in ``jobs``)
    inline_busy: int = 0  # inline attempts that found the write lock taken and went to the thread
    extra: dict[str, int] = field(default_factory=dict)


class _AsyncJob:
    """A job of a coroutine: its outcome goes back to that coroutine's event loop."""

    __slots__ = ("fn", "future", "loop", "room", "transaction")

    def __init__(self, fn: Callable[..., Any], transaction: bool, loop: asyncio.AbstractEventLoop,
                 future: asyncio.Future[Any], room: asyncio.Semaphore) -> None:
        self.fn = fn
        self.transaction = transaction
        self.loop = loop
        self.future = future
        self.room = room

    def deliver(self, ok: bool, value: Any) -> None:
        # RuntimeError: the caller's event loop is gone, nobody waits for this outcome.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.future, self.room, ok, value)


class _SyncJob:
    """A job of synchronous code (CLI, migrations): it blocks on a concurrent future."""

    __slots__ = ("fn", "future", "transaction")

    def __init__(self, fn: Callable[..., Any], transaction: bool) -> None:
        self.fn = fn
        self.transaction = transaction
        self.future: Future[Any] = Future()

    def deliver(self, ok: bool, value: Any) -> None:
        if ok:
            self.future.set_result(value)
        else:
            self.future.set_exception(value)


def _settle(future: asyncio.Future[Any], room: asyncio.Semaphore, ok: bool, value: Any) -> None:
    room.release()
    if future.done():  # the caller was cancelled; the job ran anyway (its outcome is in the database)
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


_Job = _AsyncJob | _SyncJob
_STOP = None
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class _NotInline(Exception):
    """The job did not run inline (nothing written): queue it for the writer thread."""


def _lock_taken(exc: OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (any extended code): another connection holds the lock."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc.orig)


class SerialWriter:
    def __init__(self, engine: Engine, *, maxsize: int = 1_000, keep_connection: bool = False,
                 allow_inline: bool = False) -> None:
        self._engine = engine
        self._maxsize = maxsize
        self._keep_connection = keep_connection
        self._allow_inline = allow_inline
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # Jobs put on the queue / finished by the thread: equal means every queued job is done.
        self._queued = 0
        self._finished = 0
        self._queue_lock = threading.Lock()  # put + count together (sync callers may use other threads)
        self._inline_connection: Connection | None = None
        self._inline_thread: int | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._connection: Connection | None = None  # writer thread only
        self._room: asyncio.Semaphore | None = None  # bounds the jobs waiting, per event loop
        self._room_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.stats = WriterStats()

    async def submit(self, fn: Callable[[Connection], T], *, inline: bool = False) -> T:
        """Run ``fn(connection)`` in its own transaction on the writer thread; committed on return.

        ``inline``: a small job that may run on the caller's thread when the writer is idle (see
        the module doc); ``fn`` must then be safe to run again after a rollback (it only writes).
        """
        if inline and self._allow_inline and self._queued == self._finished:
            with contextlib.suppress(_NotInline):
                return self._run_inline(fn)
        return await self._submit(fn, transaction=True)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the writer thread, in order with the writes (an in-memory database's
        reads: its one connection must not be used by two threads at once)."""
        return await self._submit(fn, transaction=False)

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Blocking variant for synchronous callers (CLI, migrations); same thread, same ordering."""
        self._ensure_running()
        job = _SyncJob(fn, transaction=True)
        self._put(job)
        result: T = job.future.result()
        return result

    async def close(self) -> None:
        """Finish the queued jobs, then stop the thread."""
        self._stop()
        self._drop_inline_connection()

    def close_sync(self) -> None:
        self._stop()
        self._drop_inline_connection()

    # ---- internals ------------------------------------------------------------------------------
    async def _submit(self, fn: Callable[..., T], *, transaction: bool) -> T:
        self._ensure_running()
        loop = asyncio.get_running_loop()
        room = self._room
        if room is None or self._room_loop is not loop:
            # First use, or a new event loop (each asyncio.run() in CLI code, each test).
            room = self._room = asyncio.Semaphore(self._maxsize)
            self._room_loop = loop
        await room.acquire()
        future: asyncio.Future[T] = loop.create_future()
        self._put(_AsyncJob(fn, transaction, loop, future, room))
        return await future

    def _put(self, job: _Job) -> None:
        with self._queue_lock:
            self._queued += 1
            self._jobs.put(job)

    def _run_inline(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` here. ``_NotInline`` (nothing written) when another connection holds the write
        lock or the inline connection belongs to another thread: queue the job instead."""
        if self._closed:
            raise RuntimeError("database writer is closed")
        connection = self._inline_connection
        if connection is not None and self._inline_thread != threading.get_ident():
            raise _NotInline  # it belongs to the event loop of another thread
        if connection is None or connection.closed or connection.invalidated:
            self._drop_inline_connection()
            connection = self._inline_connection = self._engine.connect()
            self._inline_thread = threading.get_ident()
            connection.exec_driver_sql("PRAGMA busy_timeout=0")  # never wait on the event loop
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # never checkpoint on it either
            connection.commit()
        try:
            with connection.begin():
                value = fn(connection)
        except OperationalError as exc:
            # Closing the connection rolls back whatever is left open (the lock may have been
            # refused at COMMIT, which leaves the transaction open); the next job opens a new one.
            self._drop_inline_connection()
            if _lock_taken(exc):
                self.stats.inline_busy += 1
                raise _NotInline from exc
            self.stats.jobs += 1
            self.stats.failed += 1
            raise
        except BaseException:
            self._drop_inline_connection()
            self.stats.jobs += 1
            self.stats.failed += 1
            raise
        self.stats.jobs += 1
        self.stats.inline += 1
        return value

    def _drop_inline_connection(self) -> None:
        connection, self._inline_connection = self._inline_connection, None
        self._inline_thread = None
        if connection is not None:
            # Not back to the pool: its pragmas (no busy wait, no checkpoint) are for inline jobs only.
            connection.invalidate()
            connection.close()

    def _ensure_running(self) -> None:
        if self._closed:
            raise RuntimeError("database writer is closed")
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="ictbot-db-writer", daemon=True)
                    self._thread.start()

    def _stop(self) -> None:
        with self._start_lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(_STOP)  # after every job already queued
            thread.join()

    def _run(self) -> None:
        try:
            while (job := self._jobs.get()) is not _STOP:
                try:
                    value = self._transaction(job.fn) if job.transaction else job.fn()
                except BaseException as exc:  # a job must never end the thread: its caller gets it
                    self.stats.jobs += 1
                    self.stats.failed += 1
                    self._finished += 1
                    job.deliver(False, exc)
                else:
                    self.stats.jobs += 1
                    self._finished += 1
                    job.deliver(True, value)
        finally:
            self._drop_connection()

    def _transaction(self, fn: Callable[[Connection], T]) -> T:
        if not self._keep_connection:
            with self._engine.begin() as connection:
                return fn(connection)
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._drop_connection()
            self._connection = self._engine.connect()
        connection = self._connection
        try:
            with connection.begin():
                return fn(connection)
        except BaseException:
            # Rolled back by ``begin()``; a fresh connection next time rules out any state the
            # failure left on this one (an open cursor, a half-reset savepoint, a broken link).
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already broken: nothing left to release
                connection.invalidate()
