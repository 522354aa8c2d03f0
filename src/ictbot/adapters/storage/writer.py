"""The single writer: one asyncio task owns the write queue, one thread runs the blocking calls.

All writes of a process go through it, so SQLite never sees two writers fighting for the lock
("database is locked"), and each job runs in its own transaction: a job that raises is rolled
back completely and its caller gets the exception. Readers do not use it (WAL lets them run
concurrently on pooled connections).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")

WriteJob = Callable[[Connection], Any]

# A few queued jobs are carried to the thread in one hop; each still gets its own transaction.
_HOP_BATCH = 64


@dataclass(eq=False)
class _Job:
    fn: WriteJob
    future: asyncio.Future[Any]


@dataclass
class WriterStats:
    jobs: int = 0
    failed: int = 0
    hops: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class SerialWriter:
    def __init__(self, engine: Engine, *, maxsize: int = 1_000) -> None:
        self._engine = engine
        self._maxsize = maxsize
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ictbot-db-writer")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.stats = WriterStats()

    @property
    def executor(self) -> ThreadPoolExecutor:
        return self._thread

    async def submit(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` in its own transaction on the writer thread; committed on return."""
        queue = self._ensure_running()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await queue.put(_Job(fn, future))
        return await future

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Blocking variant for synchronous callers (CLI, migrations); same thread, same ordering."""
        if self._closed:
            raise RuntimeError("database writer is closed")
        return self._thread.submit(self._transaction, fn).result()

    async def close(self) -> None:
        """Finish the queued jobs, then stop the task and the thread."""
        same_loop = self._loop is asyncio.get_running_loop()
        if self._queue is not None and same_loop:
            await self._queue.join()
        if self._task is not None and same_loop:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A task of an earlier, finished event loop is already gone with its loop.
        self._task = None
        self._closed = True
        self._thread.shutdown(wait=True)

    # ---- internals ------------------------------------------------------------------------------
    def _ensure_running(self) -> asyncio.Queue[_Job]:
        if self._closed:
            raise RuntimeError("database writer is closed")
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            # First use, or a new event loop (each asyncio.run() in CLI code, each test).
            self._loop = loop
            self._queue = asyncio.Queue(self._maxsize)
            self._task = loop.create_task(self._run(self._queue), name="ictbot-db-writer")
        return self._queue

    async def _run(self, queue: asyncio.Queue[_Job]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await queue.get()]
            while len(jobs) < _HOP_BATCH and not queue.empty():
                jobs.append(queue.get_nowait())
            try:
                outcomes = await loop.run_in_executor(self._thread, self._execute, [job.fn for job in jobs])
            except BaseException as exc:  # cancelled while the thread works: fail the waiters, stop
                for job in jobs:
                    if not job.future.done():
                        # The thread may still commit these jobs: their outcome is unknown, not failed.
                        job.future.set_exception(RuntimeError(f"database writer stopped, outcome unknown: {exc!r}"))
                    queue.task_done()
                raise
            self.stats.hops += 1
            for job, (ok, value) in zip(jobs, outcomes, strict=True):
                self.stats.jobs += 1
                if not ok:
                    self.stats.failed += 1
                if not job.future.done():
                    if ok:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(value)
                queue.task_done()

    def _execute(self, fns: list[WriteJob]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for fn in fns:
            try:
                outcomes.append((True, self._transaction(fn)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    def _transaction(self, fn: Callable[[Connection], T]) -> T:
        with self._engine.begin() as connection:
            return fn(connection)
