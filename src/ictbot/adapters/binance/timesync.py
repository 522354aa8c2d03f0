"""Offset between the local clock and Binance's clock (for ``timestamp`` and for closing candles)."""

from __future__ import annotations

from ictbot.ports.clock import Clock, SystemClock


class ServerTime:
    """``server_ms = local_ms + offset_ms``; the offset is measured from ``GET /time`` (RTT midpoint)."""

    def __init__(self, clock: Clock | None = None, resync_after_ms: int = 10 * 60_000) -> None:
        self._clock = clock or SystemClock()
        self.offset_ms = 0
        self.last_sync_ms: int | None = None
        self.resync_after_ms = resync_after_ms

    @property
    def clock(self) -> Clock:
        return self._clock

    def local_ms(self) -> int:
        return self._clock.now_ms()

    def now_ms(self) -> int:
        return self._clock.now_ms() + self.offset_ms

    def record(self, sent_local_ms: int, server_ms: int, received_local_ms: int) -> None:
        midpoint = (sent_local_ms + received_local_ms) // 2
        self.offset_ms = server_ms - midpoint
        self.last_sync_ms = received_local_ms

    def needs_sync(self) -> bool:
        return self.last_sync_ms is None or self.local_ms() - self.last_sync_ms >= self.resync_after_ms

    def invalidate(self) -> None:
        self.last_sync_ms = None

    async def sleep(self, seconds: float) -> None:
        """Lets ``ServerTime`` serve as a ``Clock`` reading exchange time (rate-limit windows)."""
        await self._clock.sleep(seconds)
