from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ictbot.bus import EventBus, Topic
from ictbot.candles.service import CandleService
from ictbot.domain.candle import Candle
from ictbot.domain.events import Alert, KlineUpdated
from ictbot.domain.timeframe import Timeframe
from tests.unit.candles.builders import DAY0, candle

M1, M5, M15 = Timeframe.M1, Timeframe.M5, Timeframe.M15


class MemoryStore:
    """In-memory ``CandleStore`` (keyed like the real one) that can be told to fail."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, Timeframe, int], Candle] = {}
        self.batches: list[list[Candle]] = []
        self.fail = False

    async def upsert(self, candles: Sequence[Candle]) -> int:
        if self.fail:
            raise OSError("disk full")
        self.batches.append(list(candles))
        for c in candles:
            self.rows[(c.symbol, c.timeframe, c.open_time)] = c
        return len(candles)

    async def load(self, symbol: str, timeframe: Timeframe, start_ms: int | None = None, end_ms: int | None = None,
                   limit: int | None = None) -> list[Candle]:
        found = sorted((c for (s, tf, _), c in self.rows.items() if s == symbol and tf is timeframe),
                       key=lambda c: c.open_time)
        found = [c for c in found if (start_ms is None or c.open_time >= start_ms)
                 and (end_ms is None or c.open_time < end_ms)]
        return found[-limit:] if limit and start_ms is None else found[:limit] if limit else found

    async def latest_open_time(self, symbol: str, timeframe: Timeframe) -> int | None:
        found = await self.load(symbol, timeframe)
        return found[-1].open_time if found else None


async def _run(service: CandleService, bus: EventBus, candles: Sequence[Candle]) -> list[Candle]:
    seen: list[Candle] = []
    bus.subscribe(Topic.CANDLE_STORED, lambda env: seen.append(env.payload.candle), name="probe")
    await bus.start()
    await service.start()
    for c in candles:
        await bus.publish(Topic.KLINE_UPDATED, KlineUpdated(c))
    await bus.wait_idle()
    await service.stop()
    await bus.stop()
    return seen


async def test_higher_timeframes_are_published_before_the_base_candle_that_closes_them() -> None:
    bus, store = EventBus(), MemoryStore()
    service = CandleService(bus, store, base=M1, targets=[M15, M5])
    published = await _run(service, bus, [candle(i) for i in range(15)])
    labels = [(c.timeframe.value, (c.open_time - DAY0) // 60_000) for c in published]
    assert labels[:5] == [("1m", 0), ("1m", 1), ("1m", 2), ("1m", 3), ("5m", 0)]
    assert labels[5] == ("1m", 4)
    assert labels[-3:] == [("5m", 10), ("15m", 0), ("1m", 14)]
    assert len(published) == 15 + 3 + 1
    # The closing base candle and its HTFs were written in one batch (one transaction).
    assert [(c.timeframe, c.open_time) for c in store.batches[-1]] == [
        (M5, DAY0 + 600_000), (M15, DAY0), (M1, DAY0 + 14 * 60_000)
    ]
    assert service.stats.aggregated == 4 and service.stats.incomplete == 0
    assert [c.open_time for c in service.windows.last("BTCUSDT", M5)] == [DAY0, DAY0 + 300_000, DAY0 + 600_000]


async def test_open_late_and_native_candles() -> None:
    bus, store = EventBus(), MemoryStore()
    service = CandleService(bus, store, base=M1, targets=[M5])
    native_hour = candle(0, tf=Timeframe.H1)
    published = await _run(service, bus, [
        replace(candle(0), closed=False), candle(0), candle(1), candle(1, c="11.5"), candle(0), native_hour,
    ])
    assert [(c.timeframe, c.open_time) for c in published] == [
        (M1, DAY0), (M1, DAY0 + 60_000), (Timeframe.H1, DAY0)
    ]
    assert service.stats.late == 2
    assert store.rows[("BTCUSDT", M1, DAY0 + 60_000)].close == 11.5  # the correction is stored
    assert ("BTCUSDT", Timeframe.H1, DAY0) in store.rows


async def test_gap_is_flagged_and_storage_failure_still_publishes() -> None:
    bus, store = EventBus(), MemoryStore()
    alerts: list[Alert] = []
    bus.subscribe(Topic.ALERT, lambda env: alerts.append(env.payload))
    service = CandleService(bus, store, base=M1, targets=[M5])
    store.fail = True
    published = await _run(service, bus, [candle(0), candle(1), candle(4)])
    assert [(c.timeframe, c.open_time) for c in published][-2:] == [(M5, DAY0), (M1, DAY0 + 4 * 60_000)]
    assert service.stats.incomplete == 1
    assert service.stats.store_failures == 3 and len(alerts) == 3 and "disk full" in alerts[0].message


async def test_warm_up_resumes_partial_buckets_and_windows() -> None:
    bus, store = EventBus(), MemoryStore()
    await store.upsert([candle(i) for i in range(3)] + [candle(0, tf=M5)])
    service = CandleService(bus, store, base=M1, targets=[M5], window_size=2)
    await service.warm_up(["BTCUSDT"])
    assert [c.open_time for c in service.windows.last("BTCUSDT", M1)] == [DAY0 + 60_000, DAY0 + 120_000]
    published = await _run(service, bus, [candle(3), candle(4)])
    five = [c for c in published if c.timeframe is M5]
    assert len(five) == 1 and five[0].volume == 5 and service.stats.incomplete == 0


