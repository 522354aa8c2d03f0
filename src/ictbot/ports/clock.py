from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock moved by hand (tests) or by the replayed data (backtests)."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms
        self.slept: list[float] = []

    def now_ms(self) -> int:
        return self._now

    def set(self, now_ms: int) -> None:
        self._now = now_ms

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1000)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


class OffsetClock:
    """Another clock shifted by ``offset_ms`` (a machine whose clock is off; tests of clock skew)."""

    def __init__(self, inner: Clock, offset_ms: int) -> None:
        self._inner = inner
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        return self._inner.now_ms() + self.offset_ms

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
