"""Prometheus metrics on a dedicated registry (never the global default one).

Event-driven metrics (counters, histograms, gauges) are updated by ``MetricsCollector``; bus and
process statistics are read at scrape time by custom collectors, so they cost nothing between
scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLIPPAGE_BUCKETS = (-50.0, -20.0, -10.0, -5.0, -2.0, 0.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
INDICATOR_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class PrometheusMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.signals = Counter("ictbot_signals", "Signals generated", ["strategy"], registry=r)
        self.signals_rejected = Counter("ictbot_signals_rejected", "Signals denied by risk", ["strategy"],
                                        registry=r)
        self.order_states = Counter("ictbot_order_states", "Order state transitions observed", ["status"],
                                    registry=r)
        self.fills = Counter("ictbot_fills", "Fills received", ["side"], registry=r)
        self.trades = Counter("ictbot_trades", "Closed trades by result", ["result"], registry=r)
        self.alerts = Counter("ictbot_alerts", "Alerts published", ["level", "source"], registry=r)
        self.execution_latency = Histogram("ictbot_execution_latency_seconds",
                                           "Signal validated -> venue answered", buckets=LATENCY_BUCKETS,
                                           registry=r)
        self.slippage = Histogram("ictbot_slippage_bps", "Adverse fill slippage in basis points",
                                  buckets=SLIPPAGE_BUCKETS, registry=r)
        self.indicator_time = Histogram("ictbot_indicator_seconds", "Candle stored -> indicators updated",
                                        buckets=INDICATOR_BUCKETS, registry=r)
        self.realized_pnl = Gauge("ictbot_realized_pnl", "Realized P&L of closed trades (quote)", registry=r)
        self.daily_pnl = Gauge("ictbot_daily_pnl", "Realized P&L today, UTC (quote)", registry=r)
        self.equity = Gauge("ictbot_equity", "Equity (initial + realized, quote)", registry=r)
        self.exposure = Gauge("ictbot_exposure", "Open notional (quote)", registry=r)
        self.open_positions = Gauge("ictbot_open_positions", "Open positions", registry=r)
        self.win_rate = Gauge("ictbot_win_rate", "Winning trades / closed trades", registry=r)
        self.profit_factor = Gauge("ictbot_profit_factor", "Gross profit / gross loss", registry=r)
        self.max_drawdown = Gauge("ictbot_max_drawdown_ratio", "Largest equity drawdown (fraction)", registry=r)
        self.fill_rate = Gauge("ictbot_fill_rate", "Filled / finished orders", registry=r)
        self.rejection_rate = Gauge("ictbot_rejection_rate", "Rejected / submitted orders", registry=r)


class BusStatsCollector(Collector):
    """``EventBus.stats()`` as metrics, read at scrape time."""

    def __init__(self, stats: Callable[[], dict[str, Any]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        published = CounterMetricFamily("ictbot_bus_published", "Events published per topic", labels=["topic"])
        for topic, count in sorted(stats.get("published", {}).items()):
            published.add_metric([topic], count)
        yield published
        labels = ["topic", "subscriber", "policy"]
        depth = GaugeMetricFamily("ictbot_bus_queue_depth", "Events queued per subscription", labels=labels)
        capacity = GaugeMetricFamily("ictbot_bus_queue_capacity", "Queue size per subscription", labels=labels)
        dropped = CounterMetricFamily("ictbot_bus_dropped", "Events dropped per subscription", labels=labels)
        failed = CounterMetricFamily("ictbot_bus_failed", "Handler failures per subscription", labels=labels)
        for sub in stats.get("subscriptions", []):
            key = [sub["topic"], sub["name"], sub["policy"]]
            depth.add_metric(key, sub["depth"])
            capacity.add_metric(key, sub["maxsize"])
            dropped.add_metric(key, sub["dropped"])
            failed.add_metric(key, sub["failed"])
        yield from (depth, capacity, dropped, failed)


class ProcessCollector(Collector):
    """CPU and memory of this process via psutil (the default collector is Linux-only)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # prime: the first reading is always 0

    def sample(self) -> tuple[float, int]:
        return float(self._process.cpu_percent(None)), int(self._process.memory_info().rss)

    def collect(self) -> Iterator[Metric]:
        cpu, rss = self.sample()
        yield GaugeMetricFamily("ictbot_process_cpu_percent", "CPU use since the last scrape (%)", value=cpu)
        yield GaugeMetricFamily("ictbot_process_rss_bytes", "Resident memory", value=rss)


class HealthCollector(Collector):
    """``ictbot_component_health{component}``: 0 healthy, 1 degraded, 2 down — read at scrape time."""

    def __init__(self, severities: Callable[[], dict[str, int]]) -> None:
        self._severities = severities

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("ictbot_component_health", "Component state: 0 healthy, 1 degraded, 2 down",
                                  labels=["component"])
        for component, severity in sorted(self._severities().items()):
            gauge.add_metric([component], severity)
        yield gauge
