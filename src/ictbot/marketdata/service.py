"""``MarketDataService``: runs a feed and publishes every candle on the bus (``KLINE_UPDATED``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert, KlineUpdated
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.staleness import AlertSink
from ictbot.ports.market_data import CandleStore, MarketDataFeed
from ictbot.ports.tasks import TaskSupervisor

log = structlog.get_logger(__name__)

TASK_NAME = "marketdata.stream"


@runtime_checkable
class ResumableFeed(Protocol):
    """A feed that can continue after the last stored closed candle and reports staleness."""

    @property
    def data_stale(self) -> bool: ...

    def resume_from(self, symbol: str, timeframe: Timeframe, last_closed_open_time: int) -> None: ...

    def set_alert_sink(self, sink: AlertSink | None) -> None: ...


class MarketDataService:
    """Start/stop lifecycle around ``feed.stream(pairs)``.

    Publishing uses the bus's blocking ``publish``: a slow critical consumer slows the feed, it
    never makes the service drop a closed candle. With a ``store`` the feed resumes after the
    newest stored candle of each pair, so a restart backfills the downtime. The stream runs under
    the task supervisor: when the feed gives up (it raises), the supervisor restarts it with
    backoff and the feed, which remembers its last closed candle per pair, backfills what it missed.
    """

    def __init__(
        self,
        feed: MarketDataFeed,
        bus: EventBus,
        pairs: Sequence[tuple[str, Timeframe]],
        tasks: TaskSupervisor,
        *,
        store: CandleStore | None = None,
        publish_open: bool = True,
    ) -> None:
        self.feed = feed
        self.bus = bus
        self.pairs = list(pairs)
        self.store = store
        self.publish_open = publish_open
        self._tasks = tasks
        self._running = False
        self.published = 0
        self.published_closed = 0
        if isinstance(feed, ResumableFeed):
            feed.set_alert_sink(self._publish_alert)

    @property
    def data_stale(self) -> bool:
        return bool(self.feed.data_stale) if isinstance(self.feed, ResumableFeed) else False

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        if self._running:
            return
        await self._resume()  # a store that cannot be read fails the start, not the first stream
        self._tasks.spawn(TASK_NAME, self._run, restart_on_exit=True)
        self._running = True

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self._tasks.cancel(TASK_NAME)

    async def _resume(self) -> None:
        if self.store is not None and isinstance(self.feed, ResumableFeed):
            for symbol, timeframe in self.pairs:
                latest = await self.store.latest_open_time(symbol, timeframe)
                if latest is not None:
                    self.feed.resume_from(symbol, timeframe, latest)

    async def _run(self) -> None:
        async for candle in self.feed.stream(self.pairs):
            if candle.closed or self.publish_open:
                await self.bus.publish(Topic.KLINE_UPDATED, KlineUpdated(candle))
                self.published += 1
                self.published_closed += int(candle.closed)

    async def _publish_alert(self, alert: Alert) -> None:
        await self.bus.publish(Topic.ALERT, alert)
