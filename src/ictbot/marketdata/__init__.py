"""Market data: live kline feed (reconnect, backfill, staleness), history paging, bus service."""

from ictbot.marketdata.history import fetch_klines

__all__ = ["fetch_klines"]
