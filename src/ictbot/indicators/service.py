"""Bus service: candles in (``CANDLE_STORED``), snapshots out (``INDICATORS_UPDATED``)."""

from __future__ import annotations

import structlog

from ictbot.bus import Envelope, EventBus, Subscription, Topic
from ictbot.domain.events import CandleStored, IndicatorsUpdated
from ictbot.indicators.mtf import MultiTimeframeEngine

log = structlog.get_logger(__name__)


class IndicatorService:
    """Thin async shell around ``MultiTimeframeEngine``.

    The candle service publishes, for one closing instant, the higher-timeframe candles before the base
    candle they close with; the engine therefore has every HTF state current when the base candle
    arrives, and one ``IndicatorsUpdated`` is published per closed base candle.
    """

    def __init__(self, bus: EventBus, engine: MultiTimeframeEngine, *, name: str = "indicators") -> None:
        self.bus = bus
        self.engine = engine
        self.name = name
        self.published = 0
        self._subscription: Subscription | None = None

    def start(self) -> None:
        if self._subscription is None:
            self._subscription = self.bus.subscribe(Topic.CANDLE_STORED, self._on_candle, name=self.name)

    def stop(self) -> None:
        if self._subscription is not None:
            self.bus.unsubscribe(self._subscription)
            self._subscription = None

    async def _on_candle(self, envelope: Envelope) -> None:
        payload = envelope.payload
        if not isinstance(payload, CandleStored):
            return
        candle = payload.candle
        snapshot = self.engine.on_candle(candle)
        if snapshot is None:
            return
        await self.bus.publish(Topic.INDICATORS_UPDATED, IndicatorsUpdated(snapshot, candle))
        self.published += 1
