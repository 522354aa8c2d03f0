"""The notifier: fans journal records out to channels without ever making the caller wait.

``submit`` only appends to each interested channel's bounded queue (the oldest record is dropped
when a dead channel's queue is full), so the bus handler that calls it returns at once. One
worker task per channel sends: it waits for its rate-limit slot, takes everything queued by then
(a burst becomes one batched message), retries with exponential backoff, and when a batch still
fails raises one ALERT for the channel; the next ALERT comes only after the channel has worked
again in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from ictbot.domain.events import AlertLevel
from ictbot.monitoring.journal_records import JournalRecord, severity_rank
from ictbot.notify.config import ChannelOptions
from ictbot.ports.tasks import TaskSupervisor

log = structlog.get_logger(__name__)

FailureAlert = Callable[[str, str], Awaitable[None]]


class Channel(Protocol):
    name: str

    async def send(self, records: Sequence[JournalRecord]) -> None:
        """Deliver one message for ``records``; raise on any failure."""

    async def aclose(self) -> None: ...


@dataclass
class ChannelStats:
    queued: int = 0
    sent_messages: int = 0
    sent_records: int = 0
    failed_attempts: int = 0
    dropped: int = 0
    alerts: int = 0
    failing: bool = False
    last_error: str = ""


class ChannelWorker:
    def __init__(self, channel: Channel, options: ChannelOptions, on_failing: FailureAlert | None) -> None:
        self.channel = channel
        self.options = options
        self.stats = ChannelStats()
        self._queue: deque[JournalRecord] = deque()
        self._wakeup = asyncio.Event()
        self._on_failing = on_failing
        self._events = frozenset(options.events) if options.events is not None else None
        self._min_rank = severity_rank(options.min_severity)
        self._interval = 60.0 / options.max_per_minute
        self._next_send = 0.0
        self._tasks: TaskSupervisor | None = None
        self._closing = asyncio.Event()
        self._busy = False

    @property
    def depth(self) -> int:
        return len(self._queue)

    def wants(self, record: JournalRecord) -> bool:
        if self._events is not None and record.event not in self._events:
            return False
        return severity_rank(record.severity) >= self._min_rank

    def offer(self, record: JournalRecord) -> None:
        """Queue without waiting; a full queue loses its oldest record (counted)."""
        if len(self._queue) >= self.options.queue_size:
            self._queue.popleft()
            self.stats.dropped += 1
        self._queue.append(record)
        self.stats.queued += 1
        self._wakeup.set()

    @property
    def task_name(self) -> str:
        return f"notify.{self.channel.name}"

    def start(self, tasks: TaskSupervisor) -> None:
        if self._tasks is None:
            self._tasks = tasks
            tasks.spawn(self.task_name, self._run, restart_on_exit=True)

    async def stop(self, flush_timeout: float) -> None:
        """Send what is queued (no rate-limit wait; bounded by ``flush_timeout``), then stop."""
        if self._tasks is None:
            return
        self._closing.set()
        self._wakeup.set()
        deadline = time.monotonic() + flush_timeout
        while (self._queue or self._busy) and time.monotonic() < deadline and not self.stats.failing:
            await asyncio.sleep(0.02)
        tasks, self._tasks = self._tasks, None
        await tasks.cancel(self.task_name, timeout=5.0)  # a send stuck in a blocking library must not hang shutdown

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            delay = self._next_send - time.monotonic()
            if delay > 0 and not self._closing.is_set():
                await self._pause(delay)  # records arriving meanwhile join this batch
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.options.max_batch))]
            if batch:
                self._next_send = time.monotonic() + self._interval
                self._busy = True
                try:
                    await self._deliver(batch)
                finally:
                    self._busy = False

    async def _pause(self, delay: float) -> None:
        """Wait for the next rate-limit slot, or until ``stop`` asks for a flush.

        Not ``asyncio.wait_for``: on Python 3.11 it can swallow a cancellation that arrives as the
        awaited event is set (exactly what ``stop`` does), and the worker would then never end.
        """
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({closing}, timeout=delay)
        finally:
            closing.cancel()

    async def _deliver(self, batch: list[JournalRecord]) -> None:
        error = ""
        for attempt in range(self.options.retries + 1):
            try:
                await self.channel.send(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.failed_attempts += 1
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt < self.options.retries:
                    await asyncio.sleep(self.options.backoff_seconds * 2**attempt)
                continue
            if self.stats.failing:
                log.info("notification channel recovered", channel=self.channel.name)
            self.stats.failing = False
            self.stats.sent_messages += 1
            self.stats.sent_records += len(batch)
            return
        self.stats.last_error = error
        # Loud once per failing spell (with the ALERT); the drops after that are in the health data.
        report = log.debug if self.stats.failing else log.warning
        report("notification not delivered", channel=self.channel.name, records=len(batch), error=error)
        if not self.stats.failing:
            self.stats.failing = True
            self.stats.alerts += 1
            if self._on_failing is not None:
                await self._on_failing(self.channel.name, error)


class Notifier:
    def __init__(self, on_failing: FailureAlert | None = None) -> None:
        self._on_failing = on_failing
        self.workers: list[ChannelWorker] = []
        self.submitted = 0

    def add(self, channel: Channel, options: ChannelOptions) -> ChannelWorker:
        worker = ChannelWorker(channel, options, self._on_failing)
        self.workers.append(worker)
        return worker

    def submit(self, record: JournalRecord) -> None:
        """Hand ``record`` to every channel that wants it; never waits (call from the event loop)."""
        self.submitted += 1
        for worker in self.workers:
            if worker.wants(record):
                worker.offer(record)

    async def start(self, tasks: TaskSupervisor) -> None:
        for worker in self.workers:
            worker.start(tasks)

    async def stop(self, flush_timeout: float = 3.0) -> None:
        for worker in self.workers:
            await worker.stop(flush_timeout)
        for worker in self.workers:
            with contextlib.suppress(Exception):
                await worker.channel.aclose()

    def status(self) -> dict[str, dict[str, object]]:
        return {w.channel.name: {**vars(w.stats), "depth": w.depth} for w in self.workers}


def failure_message(channel: str, error: str) -> tuple[AlertLevel, str]:
    return AlertLevel.WARNING, f"notification channel {channel} keeps failing: {error}"
