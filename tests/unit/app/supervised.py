"""A TaskManager on a started bus whose backoff waits take no time, for the tests of the loops it
supervises (config watcher, monitoring, WebSocket feeds)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType

from ictbot.app.tasks import TaskInfo, TaskManager, TaskState
from ictbot.bus import Envelope, EventBus, Topic


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


class Supervised:
    def __init__(self) -> None:
        self.bus = EventBus()
        self.alerts: list[Envelope] = []
        self.bus.subscribe(Topic.ALERT, self.alerts.append, name="test.alerts")
        self.tasks = TaskManager(self.bus, sleep=_no_wait, rand=lambda: 0.5)

    async def __aenter__(self) -> Supervised:
        await self.bus.start()
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.tasks.shutdown()
        await self.bus.stop()

    def info(self, name: str) -> TaskInfo:
        info = self.tasks.get(name)
        assert info is not None, f"{name} is not supervised"
        return info

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.001)

        await asyncio.wait_for(poll(), timeout)

    async def given_up(self, name: str) -> TaskInfo:
        """Wait until the supervisor gave ``name`` up, and its ALERT went through the bus."""
        await self.until(lambda: self.info(name).state is TaskState.FAILED)
        await self.bus.wait_idle()
        return self.info(name)

    def task_alerts(self) -> list[str]:
        return [a.payload.source for a in self.alerts]


def failing_first(times: int, error: str, then: Callable[[], Awaitable[object]] | None = None,
                  ) -> tuple[Callable[[], Awaitable[object]], list[int]]:
    """A body that raises ``RuntimeError(error)`` ``times`` times, then runs ``then``; and its call count."""
    calls = [0]

    async def body() -> object:
        calls[0] += 1
        if calls[0] <= times:
            raise RuntimeError(error)
        return await then() if then is not None else None

    return body, calls
