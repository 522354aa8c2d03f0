"""``MarketInfo`` over the running pipeline: the instrument filters it trades with."""

from __future__ import annotations

from ictbot.app.wiring import Pipeline
from ictbot.ports.dashboard import InstrumentView


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
