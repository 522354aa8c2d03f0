"""``CandleService``: stores closed candles, aggregates base → higher timeframes, publishes them.

Flow per closed base candle (``Topic.KLINE_UPDATED``):

1. the streaming aggregator returns the higher-timeframe (HTF) candles this candle closes;
2. the HTFs and the base candle are upserted in ONE transaction (all or nothing);
3. ``Topic.CANDLE_STORED`` is published for every HTF candle first (older gap-closed ones, then
   those closing now, smaller timeframes first), then for the base candle.

Contract with the indicator engine: when the base candle closing at instant T is published, every
HTF candle closing at T has already been published, so a consumer reacting to the base candle
sees complete higher-timeframe context.

Other rules: open candles are ignored; a closed candle of a non-base timeframe (a native feed) is
stored and published as-is (so subscribe the feed to the base timeframe only for the timeframes
this service aggregates, or they arrive twice); a base candle that is not newer than the last one seen for its series
(duplicate after a reconnect, late backfill) is upserted but neither aggregated nor republished.
HTF buckets that miss base candles are still stored and published, with a warning and a counter.
If the database fails, candles are still published (trading must not stop on a storage hiccup);
the failure is logged, counted and raised as an ``Alert``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.bus.bus import Envelope, Subscription
from ictbot.candles.streaming import DEFAULT_TARGETS, StreamingAggregator
from ictbot.candles.windows import CandleWindows
from ictbot.domain.candle import Candle
from ictbot.domain.events import Alert, AlertLevel, CandleStored, KlineUpdated
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.market_data import CandleStore

log = structlog.get_logger(__name__)


@dataclass
class CandleServiceStats:
    received_closed: int = 0
    stored: int = 0
    published: int = 0
    aggregated: int = 0
    incomplete: int = 0
    late: int = 0
    store_failures: int = 0


class CandleService:
    name = "candles"

    def __init__(
        self,
        bus: EventBus,
        store: CandleStore,
        *,
        base: Timeframe = Timeframe.M1,
        targets: Sequence[Timeframe] = DEFAULT_TARGETS,
        window_size: int = 500,
    ) -> None:
        self.bus = bus
        self.store = store
        self.aggregator = StreamingAggregator(base, targets)
        self.windows = CandleWindows(window_size)
        self.stats = CandleServiceStats()
        self._subscription: Subscription | None = None

    @property
    def base(self) -> Timeframe:
        return self.aggregator.base

    @property
    def targets(self) -> tuple[Timeframe, ...]:
        return self.aggregator.targets

    # ---- lifecycle ------------------------------------------------------------------------------
    async def initialize(self) -> None:
        """Nothing to prepare; ``warm_up`` needs the symbols and is called by the wiring code."""

    async def start(self) -> None:
        if self._subscription is None:
            self._subscription = self.bus.subscribe(Topic.KLINE_UPDATED, self._on_kline, name="candles.store")

    async def stop(self) -> None:
        if self._subscription is not None:
            self.bus.unsubscribe(self._subscription)
            self._subscription = None

    def stats_dict(self) -> dict[str, Any]:
        return asdict(self.stats)

    async def warm_up(self, symbols: Sequence[str]) -> None:
        """Rebuild partial HTF buckets and rolling windows from the store after a restart.

        Without this the first HTF candle after a restart would miss the base candles stored before
        it. Replayed candles are not published and not re-stored.
        """
        largest = max(self.targets, key=lambda tf: tf.ms, default=self.base)
        for symbol in symbols:
            latest = await self.store.latest_open_time(symbol, self.base)
            if latest is not None:
                start = largest.floor(latest + self.base.ms)
                for candle in await self.store.load(symbol, self.base, start_ms=start):
                    self.aggregator.add(candle)
            for tf in (self.base, *self.targets):
                for candle in await self.store.load(symbol, tf, limit=self.windows.size):
                    self.windows.push(candle)

    # ---- handling ---------------------------------------------------------------------------------
    async def _on_kline(self, envelope: Envelope) -> None:
        payload: KlineUpdated = envelope.payload
        if payload.candle.closed:
            await self.handle_closed(payload.candle)

    async def handle_closed(self, candle: Candle) -> list[Candle]:
        """Store, aggregate and publish one closed candle; returns what was published, in order."""
        self.stats.received_closed += 1
        if candle.timeframe is not self.base:
            return await self._store_and_publish([candle])
        last = self.aggregator.last_open_time(self.aggregator.key(candle))
        if last is not None and candle.open_time <= last:
            self.stats.late += 1
            log.info("late or repeated base candle: stored, not republished",
                     symbol=candle.symbol, open_time=candle.open_time, last=last)
            await self._store([candle])
            return []
        emitted = self.aggregator.add(candle)
        for item in emitted:
            if not item.complete:
                self.stats.incomplete += 1
                log.warning("higher-timeframe candle built from a gap", symbol=candle.symbol,
                            timeframe=item.candle.timeframe.value, open_time=item.candle.open_time,
                            base_candles=item.base_count, expected=item.expected)
        self.stats.aggregated += len(emitted)
        return await self._store_and_publish([item.candle for item in emitted] + [candle])

    async def _store_and_publish(self, candles: list[Candle]) -> list[Candle]:
        await self._store(candles)
        for candle in candles:
            self.windows.push(candle)
            await self.bus.publish(Topic.CANDLE_STORED, CandleStored(candle))
            self.stats.published += 1
        return candles

    async def _store(self, candles: list[Candle]) -> None:
        try:
            self.stats.stored += await self.store.upsert(candles)
        except Exception as exc:
            self.stats.store_failures += 1
            log.exception("storing candles failed", count=len(candles))
            await self.bus.publish(
                Topic.ALERT,
                Alert(AlertLevel.WARNING, "candles", f"storing {len(candles)} candle(s) failed: {exc}",
                      {"symbol": candles[0].symbol, "open_time": candles[-1].open_time}),
            )
