"""Named background tasks restarted with exponential backoff and jitter.

Delay before retry ``n`` (0-based): ``min(max_delay, initial * factor**n)``, then multiplied by a
random factor in ``[1 - jitter, 1 + jitter]`` and capped at ``max_delay``. After ``max_retries``
failed restarts in a row the task is marked FAILED and an ALERT is published. A run that lasted
``stable_after`` seconds before it failed starts the count again: a loop that crashes once a day
is restarted every day, not given up after ten days.

Every long-running loop of the bot runs here (``TaskSupervisor`` in ``ports/tasks.py`` is the
view the stages get), so ``/status`` lists each with its state, restarts and last error.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class TaskState(str, Enum):
    RUNNING = "running"
    BACKOFF = "backoff"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    max_retries: int | None = 10  # None: retry forever
    jitter: float = 0.1
    stable_after: float = 300.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        base = min(self.max_delay, self.initial_delay * self.factor**attempt)
        spread = 1.0 + self.jitter * (2.0 * rand() - 1.0)
        return min(self.max_delay, base * spread)


@dataclass
class TaskInfo:
    name: str
    policy: RetryPolicy
    restart_on_exit: bool
    state: TaskState = TaskState.RUNNING
    restarts: int = 0
    failures: int = 0
    last_error: str | None = None
    next_retry_in: float | None = None
    started_at: float = field(default_factory=time.time)
    task: asyncio.Task[None] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "restarts": self.restarts,
            "failures": self.failures,
            "last_error": self.last_error,
            "next_retry_in": self.next_retry_in,
        }


class TaskManager:
    def __init__(
        self, bus: EventBus | None = None, *, sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._bus = bus
        self._sleep = sleep
        self._rand = rand
        self._tasks: dict[str, TaskInfo] = {}

    def spawn(
        self, name: str, factory: Callable[[], Awaitable[None]], *, policy: RetryPolicy | None = None,
        restart_on_exit: bool = False,
    ) -> TaskInfo:
        """Run ``factory()`` as task ``name``; restart it with backoff when it raises.

        ``restart_on_exit``: also restart when it returns normally (long-running loops).
        """
        existing = self._tasks.get(name)
        if existing and existing.task and not existing.task.done():
            raise ValueError(f"task {name!r} is already running")
        info = TaskInfo(name, policy or RetryPolicy(), restart_on_exit)
        info.task = asyncio.get_running_loop().create_task(self._supervise(info, factory), name=f"task:{name}")
        self._tasks[name] = info
        return info

    def status(self) -> dict[str, dict[str, Any]]:
        return {name: info.as_dict() for name, info in self._tasks.items()}

    def get(self, name: str) -> TaskInfo | None:
        return self._tasks.get(name)

    async def cancel(self, name: str, timeout: float | None = None) -> None:
        """Cancel ``name`` and wait for it to end, at most ``timeout`` seconds (None: as long as it takes)."""
        info = self._tasks.get(name)
        if info and info.task and not info.task.done():
            info.task.cancel()
            done, _ = await asyncio.wait({info.task}, timeout=timeout)
            if not done:
                log.warning("background task did not stop", task=name, timeout=timeout)

    async def shutdown(self, timeout: float = 10.0) -> None:
        running = [info.task for info in self._tasks.values() if info.task and not info.task.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=timeout)

    async def _supervise(self, info: TaskInfo, factory: Callable[[], Awaitable[None]]) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            info.state, info.next_retry_in = TaskState.RUNNING, None
            began = loop.time()
            try:
                await factory()
                if not info.restart_on_exit:
                    info.state = TaskState.COMPLETED
                    self._forget(info)
                    return
                attempt = 0
                info.last_error = "exited"
            except asyncio.CancelledError:
                info.state = TaskState.CANCELLED
                raise
            except Exception as exc:
                if loop.time() - began >= info.policy.stable_after:
                    attempt = 0
                info.failures += 1
                info.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("background task failed", task=info.name, error=info.last_error, attempt=attempt)
            limit = info.policy.max_retries
            if limit is not None and attempt >= limit:
                info.state = TaskState.FAILED
                log.error("background task failed permanently", task=info.name, error=info.last_error)
                await self._alert(info)
                return
            delay = info.policy.delay(attempt, self._rand)
            info.state, info.next_retry_in = TaskState.BACKOFF, delay
            try:
                await self._sleep(delay)
            except asyncio.CancelledError:
                info.state = TaskState.CANCELLED
                raise
            attempt += 1
            info.restarts += 1

    def _forget(self, info: TaskInfo) -> None:
        """A one-shot task that did its job leaves the list (``/status``): e.g. the executor's
        per-order trade-detail loops would otherwise pile up there for the life of the process.
        Failed and cancelled tasks stay listed for diagnosis."""
        if self._tasks.get(info.name) is info:
            del self._tasks[info.name]

    async def _alert(self, info: TaskInfo) -> None:
        if self._bus is None:
            return
        await self._bus.publish(
            Topic.ALERT,
            Alert(
                AlertLevel.CRITICAL, f"task:{info.name}",
                f"background task {info.name!r} failed after {info.restarts} restarts: {info.last_error}",
                {"task": info.name, "restarts": info.restarts},
            ),
        )
