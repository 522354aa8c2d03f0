"""The simulated exchange clock: replay time, plus an optional skew, as ``serverTime``.

The replay drives time. Between two replayed price points the clock interpolates with the wall
clock at the replay speed (so ``/api/v3/time`` moves smoothly at 1×), but never runs past the
next point; paused or in step mode it stands still. ``SimClock`` implements
``ictbot.ports.clock.Clock``: a bot that runs on simulated time (the only way to run faster than
real time) injects it, and its ``sleep`` wakes when the *replay* has advanced far enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable


class SimClock:
    def __init__(self, start_ms: int, wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._replay_ms = start_ms
        self._anchor_wall = wall()
        self._horizon_ms = start_ms
        self._speed = 0.0  # 0 = not interpolating (paused, stepped or as fast as possible)
        self.skew_ms = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def replay_ms(self) -> int:
        """Replay position without skew (what candles and fills are stamped with)."""
        if self._speed <= 0:
            return self._replay_ms
        elapsed = (self._wall() - self._anchor_wall) * 1000 * self._speed
        return min(self._horizon_ms, self._replay_ms + int(elapsed))

    def now_ms(self) -> int:
        """``serverTime``: replay time plus the injected skew."""
        return self.replay_ms + self.skew_ms

    def set(self, replay_ms: int, *, horizon_ms: int | None = None, speed: float = 0.0) -> None:
        """Move to ``replay_ms``; with ``speed > 0`` interpolate towards ``horizon_ms`` meanwhile."""
        self._replay_ms = max(replay_ms, self._replay_ms)
        self._anchor_wall = self._wall()
        self._horizon_ms = horizon_ms if horizon_ms is not None else self._replay_ms
        self._speed = speed
        self._wake()

    def freeze(self) -> None:
        self._replay_ms = self.replay_ms
        self._speed = 0.0

    def _wake(self) -> None:
        now = self._replay_ms
        due = [w for w in self._waiters if w[0] <= now]
        self._waiters = [w for w in self._waiters if w[0] > now]
        for _, future in due:
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Wait until the replay has advanced ``seconds`` (of simulated time).

        Stepped or as-fast-as-possible: wakes when the replay passes the target. Timed replay: also
        wakes on the wall-clock equivalent (``seconds / speed``), because the replay only moves in
        discrete points (a 5m candle has four) and the interpolated time in between counts too.
        """
        target = self.replay_ms + int(seconds * 1000)
        if target <= self.replay_ms:
            await asyncio.sleep(0)
            return
        while self.replay_ms < target:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((target, future))
            if self._speed > 0:
                wall = (target - self.replay_ms) / 1000 / self._speed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, max(wall, 0.001))
            else:
                await future
