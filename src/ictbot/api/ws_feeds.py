"""The live feed's periodic messages: heartbeats to every client and the ``metric`` message.

Both loops run under a task supervisor (``ports/tasks.py``): in the bot it is the application's
TaskManager, so a loop that raises is restarted with backoff, listed in ``/status`` and, when it
keeps failing, raises one ALERT. Without one (the API on its own: tests, benches) ``OwnTasks``
runs them as plain tasks, started again after a pause when they raise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from pydantic import BaseModel

from ictbot.ports.tasks import Loop

log = structlog.get_logger(__name__)

HEARTBEAT_TASK = "api.ws.heartbeat"
METRICS_TASK = "api.ws.metrics"
MetricsSource = Callable[[], Awaitable[BaseModel]]


class LiveFeed(Protocol):
    heartbeat_s: float

    def heartbeat(self) -> None: ...
    def wants(self, message_type: str) -> bool: ...
    def publish(self, message_type: str, data: object) -> int: ...


async def heartbeats(feed: LiveFeed) -> None:
    while True:
        await asyncio.sleep(feed.heartbeat_s)
        feed.heartbeat()


async def metric_feed(feed: LiveFeed, source: MetricsSource, interval_s: float) -> None:
    """Every ``interval_s`` while a client wants ``metric``; a source that raises ends the loop
    (the supervisor restarts it and keeps the error)."""
    while True:
        await asyncio.sleep(interval_s)
        if feed.wants("metric"):
            feed.publish("metric", (await source()).model_dump(mode="json"))


class OwnTasks:
    """A ``TaskSupervisor`` for the API on its own: plain tasks; a loop that raises is logged and
    started again after ``pause_s`` (no backoff, never given up: nobody would hear the ALERT)."""

    def __init__(self, pause_s: float = 1.0) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pause_s = pause_s

    def spawn(self, name: str, factory: Loop, *, restart_on_exit: bool = False) -> object:
        async def run() -> None:
            while True:
                try:
                    await factory()
                    if not restart_on_exit:
                        return
                except Exception as exc:
                    log.warning("background task failed", task=name, error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self._pause_s)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self._tasks[name] = task
        return task

    async def cancel(self, name: str, timeout: float | None = None) -> None:
        task = self._tasks.pop(name, None)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=timeout)
