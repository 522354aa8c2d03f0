"""``MarketInfo`` and ``IndicatorHistory`` over the running pipeline: the instrument filters it trades
with, and the ICT picture as of a past candle rebuilt from the stored candles."""

from __future__ import annotations

import asyncio

from ictbot.app.wiring import Pipeline
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import DEFAULT_WARMUP, MultiTimeframeEngine
from ictbot.ports.dashboard import InstrumentView
from ictbot.ports.facade import NotFound


class MarketInfoFacade:
    p: Pipeline

    async def instruments(self) -> list[InstrumentView]:
        """Only the symbols the bot trades, in its configured order; unknown filters are left out."""
        views = []
        for symbol in self.p.symbols:
            instrument = self.p.instruments.get(symbol)
            if instrument is None:
                continue
            views.append(InstrumentView(
                symbol=symbol, market=instrument.market.value, base_asset=instrument.base_asset,
                quote_asset=instrument.quote_asset, tick_size=instrument.tick_size.normalize(),
                step_size=instrument.step_size.normalize(),
            ))
        return views

    async def indicators_at(self, symbol: str, at_ms: int) -> IndicatorSnapshot:
        """A fresh engine, configured as the live one, warmed on the candles of every timeframe that had
        closed by ``at_ms`` (the last ``DEFAULT_WARMUP`` each, as a restart warms up): the picture the
        bot would have had then, whatever was stored later."""
        if symbol not in self.p.symbols:
            raise NotFound("symbol", symbol)
        live = self.p.engine
        frames: list[tuple[Timeframe, CandleFrame]] = []
        for timeframe in live.timeframes:
            # open_time + ms <= at: closed by then; the store's end bound is exclusive on open_time
            frame = await self.p.candle_store.load_frame(symbol, timeframe, end_ms=at_ms - timeframe.ms + 1,
                                                         limit=DEFAULT_WARMUP)
            frames.append((timeframe, frame))
        if not len(frames[0][1]):
            raise NotFound("closed candle by", at_ms)
        engine = MultiTimeframeEngine(live.base, live.higher, live.params, resample_higher=live.resample_higher,
                                      recent_limit=live.recent_limit, liquidity_limit=live.liquidity_limit)
        return await asyncio.to_thread(_fold, engine, symbol, frames)


def _fold(engine: MultiTimeframeEngine, symbol: str, frames: list[tuple[Timeframe, CandleFrame]]) -> IndicatorSnapshot:
    """CPU work off the event loop; the views are built here, not lazily on the loop later."""
    for timeframe, frame in frames:
        if len(frame):
            engine.warm_up(symbol, timeframe, frame, limit=None)
    snapshot = engine.snapshot(symbol)
    if snapshot is None:
        raise NotFound("indicator snapshot", symbol)
    return IndicatorSnapshot(snapshot.symbol, snapshot.time, snapshot.base_timeframe, dict(snapshot.views),
                             snapshot.active_windows)
