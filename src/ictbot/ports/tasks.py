"""The supervisor the long-running loops run under (``app/tasks.py: TaskManager`` implements it).

A stage or an adapter that has a loop hands it to the supervisor instead of creating its own task:
a loop that raises is restarted with backoff, and every loop is listed with its restart count and
last error in ``/status``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

Loop = Callable[[], Awaitable[None]]


class TaskSupervisor(Protocol):
    def spawn(self, name: str, factory: Loop, *, restart_on_exit: bool = False) -> object:
        """Run ``factory()`` as the task ``name``; restart it with backoff when it raises."""
        ...

    async def cancel(self, name: str, timeout: float | None = None) -> None:
        """Cancel the task ``name`` and wait for it to end, at most ``timeout`` seconds (None: no limit)."""
        ...
