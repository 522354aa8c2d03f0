"""Market data: live kline feed (reconnect, backfill, staleness), history paging, bus service."""

from ictbot.marketdata.binance_feed import BinanceKlineFeed
from ictbot.marketdata.gate import CandleGate, Gap
from ictbot.marketdata.history import fetch_klines
from ictbot.marketdata.service import MarketDataService
from ictbot.marketdata.staleness import StalenessWatchdog

__all__ = ["BinanceKlineFeed", "CandleGate", "Gap", "MarketDataService", "StalenessWatchdog", "fetch_klines"]
