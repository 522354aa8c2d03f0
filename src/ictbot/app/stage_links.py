"""Small links between stages that the wiring installs: values one stage reads from another's
configuration, and events one stage reports to another."""

from __future__ import annotations

from decimal import Decimal

from ictbot.adapters.binance.kline_feed import BinanceKlineFeed
from ictbot.app.config_model import TradingConfig
from ictbot.monitoring.system import MonitoringSystem


def strategy_risk_pct(config: TradingConfig, strategy_id: str) -> Decimal | None:
    """The strategy's own ``risk_per_trade_pct`` (percent, like the risk section's), if set."""
    entry = config.strategies.get(strategy_id)
    if entry is None or entry.risk_per_trade_pct is None:
        return None
    return Decimal(str(entry.risk_per_trade_pct))


def report_reconnects(feed: BinanceKlineFeed, venue: object, monitoring: MonitoringSystem) -> None:
    """Every reconnect of the kline feed or the user-data stream counts towards a reconnect-storm alert."""
    feed.add_reconnect_listener(lambda: monitoring.note_reconnect("marketdata.binance"))
    stream = getattr(venue, "user_stream", None)
    if stream is None:
        return

    def on_subscribed() -> None:
        if stream.subscriptions > 1:  # the first subscription is the connect, not a reconnect
            monitoring.note_reconnect("user_stream")

    stream.add_resubscribe_listener(on_subscribed)
