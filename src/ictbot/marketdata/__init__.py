"""Market data: continuity gate, history paging, staleness watchdog, bus service (the exchange's
live feed is an adapter: ``adapters.binance.kline_feed.BinanceKlineFeed``)."""

from ictbot.marketdata.gate import CandleGate, Gap
from ictbot.marketdata.history import fetch_klines
from ictbot.marketdata.service import MarketDataService
from ictbot.marketdata.staleness import StalenessWatchdog

__all__ = ["CandleGate", "Gap", "MarketDataService", "StalenessWatchdog", "fetch_klines"]
