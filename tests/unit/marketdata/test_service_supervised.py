"""The market-data stream runs under the task supervisor: a feed that gives up is restarted and shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

from ictbot.app.tasks import TaskManager, TaskState
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.service import TASK_NAME, MarketDataService

PAIRS = [("BTCUSDT", Timeframe.M5)]


def candle(n: int) -> Candle:
    price = Decimal(100 + n)
    return Candle("BTCUSDT", Timeframe.M5, n * Timeframe.M5.ms, price, price, price, price, Decimal(1))


class GivesUpOnceFeed:
    """The first stream delivers one candle and then fails as a feed that exhausted its reconnects."""

    def __init__(self) -> None:
        self.streams = 0
        self.forever = asyncio.Event()

    async def stream(self, pairs: Sequence[tuple[str, Timeframe]]) -> AsyncIterator[Candle]:
        self.streams += 1
        if self.streams == 1:
            yield candle(1)
            raise ConnectionError("kline stream gave up")
        yield candle(2)
        await self.forever.wait()

    async def backfill(self, symbol: str, timeframe: Timeframe, start_ms: int, end_ms: int) -> list[Candle]:
        return []


async def test_a_feed_that_raises_is_restarted_with_backoff_and_listed() -> None:
    bus = EventBus()
    received: list[Envelope] = []
    bus.subscribe(Topic.KLINE_UPDATED, received.append)
    await bus.start()
    backoffs: list[float] = []

    async def no_wait(seconds: float) -> None:
        backoffs.append(seconds)

    tasks = TaskManager(bus, sleep=no_wait, rand=lambda: 0.5)
    feed = GivesUpOnceFeed()
    service = MarketDataService(feed, bus, PAIRS, tasks)  # type: ignore[arg-type]
    await service.start()
    async with asyncio.timeout(5):
        while service.published_closed < 2:
            await asyncio.sleep(0)
    status = tasks.status()[TASK_NAME]
    await service.stop()
    await bus.wait_idle()
    await bus.stop()
    assert feed.streams == 2 and backoffs == [1.0]
    assert [e.payload.candle.open_time for e in received] == [candle(1).open_time, candle(2).open_time]
    assert (status["state"], status["restarts"], status["failures"]) == ("running", 1, 1)
    assert status["last_error"] == "ConnectionError: kline stream gave up"
    assert tasks.get(TASK_NAME).state is TaskState.CANCELLED and not service.running  # type: ignore[union-attr]
