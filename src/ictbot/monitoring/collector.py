"""MetricsCollector: turns bus events into execution and performance statistics.

It subscribes with DROP_OLDEST (observing must never slow trading) and keeps bounded windows. The
statistics themselves are the pure functions of ``monitoring.stats``; this class only records.

* execution latency: SIGNAL_VALIDATED published -> first ORDER_* for that signal with a venue answer
* slippage: fill price vs the order's limit/stop price, else the signal's planned entry
* fill rate: FILLED / orders that reached a final state; rejection rate: REJECTED / orders seen
* indicator time: CANDLE_STORED published -> INDICATORS_UPDATED for the same candle
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import Any

from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription, Topic
from ictbot.domain import events as ev
from ictbot.domain.order import Order, OrderStatus
from ictbot.monitoring import stats
from ictbot.monitoring.prometheus import BusStatsCollector, ProcessCollector, PrometheusMetrics
from ictbot.monitoring.reports import EquityPoint, TradingMetrics
from ictbot.ports.clock import Clock, SystemClock

_PENDING_LIMIT = 10_000
BUS_RATE_WINDOW_S = 60.0  # bus rates are averaged over about the last minute
_BUS_SAMPLE_SPACING_S = 1.0
_VENUE_ANSWERED = frozenset(OrderStatus) - {OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED_UNKNOWN}


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    time_ms: int
    strategy_id: str
    symbol: str
    pnl: Decimal


def _bounded_put(store: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    store[key] = value
    if len(store) > _PENDING_LIMIT:
        store.popitem(last=False)


class MetricsCollector:
    TOPICS = (
        Topic.SIGNAL_GENERATED, Topic.SIGNAL_VALIDATED, Topic.SIGNAL_REJECTED, Topic.ORDER_EXECUTED,
        Topic.ORDER_UPDATED, Topic.POSITION_UPDATED, Topic.POSITION_CLOSED, Topic.CANDLE_STORED,
        Topic.INDICATORS_UPDATED, Topic.ALERT,
    )

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        initial_equity: Decimal | None = None,
        prometheus: PrometheusMetrics | None = None,
        window: int = 10_000,
        periods_per_year: float = 365.0,
        monotonic_ns: Callable[[], int] = time.perf_counter_ns,
    ) -> None:
        self.clock = clock or SystemClock()
        self.initial_equity = initial_equity
        self.prometheus = prometheus or PrometheusMetrics()
        self.periods_per_year = periods_per_year
        self._monotonic_ns = monotonic_ns
        self._process = ProcessCollector()
        self.prometheus.registry.register(self._process)
        self._bus: EventBus | None = None
        self._bus_collector: BusStatsCollector | None = None
        self._subs: list[Subscription] = []
        self.trades: deque[ClosedTrade] = deque(maxlen=window)
        self.latencies_s: deque[float] = deque(maxlen=window)
        self.slippages_bps: deque[float] = deque(maxlen=window)
        self.indicator_s: deque[float] = deque(maxlen=window)
        self.signals = 0
        self.signals_rejected = 0
        self._orders: OrderedDict[str, OrderStatus] = OrderedDict()
        self._finished = {OrderStatus.FILLED: 0, OrderStatus.CANCELED: 0, OrderStatus.EXPIRED: 0,
                          OrderStatus.REJECTED: 0}
        self._validated_at: OrderedDict[str, int] = OrderedDict()
        self._planned_entry: OrderedDict[str, Decimal] = OrderedDict()
        # (symbol, close time) -> when the first candle closing then was stored. Keyed by close time, not
        # (timeframe, open time): higher-timeframe candles get no IndicatorsUpdated of their own, and
        # under their own key they would sit here until the limit pushed them out (a slow leak).
        self._candle_at: OrderedDict[tuple[str, int], int] = OrderedDict()
        self._measured_until: dict[str, int] = {}  # per symbol: a later store for this close time is late
        self._exposure: dict[str, Decimal] = {}
        self._bus_samples: deque[tuple[float, dict[str, int]]] = deque()

    # ---- wiring -------------------------------------------------------------------------------
    def attach(self, bus: EventBus, *, maxsize: int = 10_000) -> list[Subscription]:
        if self._bus is not None:
            raise RuntimeError("MetricsCollector is already attached to a bus")
        self._bus = bus
        self._bus_collector = BusStatsCollector(bus.stats)
        self.prometheus.registry.register(self._bus_collector)
        for topic in self.TOPICS:
            self._subs.append(bus.subscribe(topic, self.on_envelope, name=f"monitoring.{topic.value}",
                                            maxsize=maxsize, policy=BackpressurePolicy.DROP_OLDEST))
        return list(self._subs)

    def detach(self) -> None:
        if self._bus is not None:
            for sub in self._subs:
                self._bus.unsubscribe(sub)
            if self._bus_collector is not None:
                self.prometheus.registry.unregister(self._bus_collector)
            self._bus = self._bus_collector = None
        self._subs.clear()

    # ---- recording ----------------------------------------------------------------------------
    def on_envelope(self, envelope: Envelope) -> None:
        payload = envelope.payload
        at = envelope.published_ns
        match payload:
            case ev.SignalGenerated(signal=signal):
                self.signals += 1
                self.prometheus.signals.labels(signal.strategy_id).inc()
            case ev.SignalRejected(signal=signal):
                self.signals_rejected += 1
                self.prometheus.signals_rejected.labels(signal.strategy_id).inc()
            case ev.SignalValidated(intent=intent):
                signal_id = intent.signal.id
                _bounded_put(self._validated_at, signal_id, at)
                planned = intent.entry_price or intent.signal.entry_price or intent.signal.reference_price
                if planned is not None:
                    _bounded_put(self._planned_entry, signal_id, planned)
            case ev.OrderExecuted(order=order, fill=fill):
                self._on_order(order, at)
                if fill is not None:
                    self.prometheus.fills.labels(fill.side.value).inc()
                    self._on_fill(order, fill.price)
            case ev.OrderUpdated(order=order):
                self._on_order(order, at)
            case ev.PositionUpdated(position=position, mark_price=mark):
                price = mark if mark is not None else position.avg_entry
                if position.is_open:
                    self._exposure[position.id] = abs(position.qty) * price
                else:
                    self._exposure.pop(position.id, None)
                self._update_exposure()
            case ev.PositionClosed(position=position):
                self._exposure.pop(position.id, None)
                self._update_exposure()
                closed_at = position.closed_at if position.closed_at is not None else self.clock.now_ms()
                self.record_trade(ClosedTrade(closed_at, position.strategy_id, position.symbol,
                                              position.realized_pnl))
            case ev.CandleStored(candle=candle):
                key = (candle.symbol, candle.close_time)
                if key not in self._candle_at and candle.close_time > self._measured_until.get(candle.symbol, 0):
                    _bounded_put(self._candle_at, key, at)
            case ev.IndicatorsUpdated(candle=candle):
                started = self._candle_at.pop((candle.symbol, candle.close_time), None)
                self._measured_until[candle.symbol] = max(candle.close_time, self._measured_until.get(candle.symbol, 0))
                if started is not None:
                    self.observe_indicator_seconds((at - started) / 1e9)
            case ev.Alert(level=level, source=source):
                self.prometheus.alerts.labels(level.value, source).inc()

    def _on_order(self, order: Order, at_ns: int) -> None:
        previous = self._orders.get(order.client_order_id)
        if previous is order.status:
            return
        _bounded_put(self._orders, order.client_order_id, order.status)
        self.prometheus.order_states.labels(order.status.value).inc()
        if order.status in self._finished:
            self._finished[order.status] += 1
        started = self._validated_at.get(order.signal_id) if order.signal_id else None
        if started is not None and order.status in _VENUE_ANSWERED:
            del self._validated_at[order.signal_id]
            self.observe_execution_latency((at_ns - started) / 1e9)
        self._update_order_rates()

    def _on_fill(self, order: Order, price: Decimal) -> None:
        expected = order.price or order.stop_price or self._planned_entry.get(order.signal_id)
        if expected is None or expected <= 0:
            return
        bps = stats.slippage_bps(order.side.sign, expected, price)
        self.slippages_bps.append(bps)
        self.prometheus.slippage.observe(bps)

    def observe_execution_latency(self, seconds: float) -> None:
        self.latencies_s.append(seconds)
        self.prometheus.execution_latency.observe(seconds)

    def observe_indicator_seconds(self, seconds: float) -> None:
        """Also callable directly by an indicator engine that times its own computation."""
        self.indicator_s.append(seconds)
        self.prometheus.indicator_time.observe(seconds)

    def record_trade(self, trade: ClosedTrade) -> None:
        self.trades.append(trade)
        result = "win" if trade.pnl > 0 else "loss" if trade.pnl < 0 else "breakeven"
        self.prometheus.trades.labels(result).inc()
        self._refresh_trade_gauges()

    def _refresh_trade_gauges(self) -> None:
        summary = self.trade_metrics(list(self.trades))
        p = self.prometheus
        p.realized_pnl.set(float(summary.total_pnl))
        p.daily_pnl.set(float(summary.daily_pnl))
        if summary.equity is not None:
            p.equity.set(float(summary.equity))
        for gauge, value in ((p.win_rate, summary.win_rate), (p.profit_factor, summary.profit_factor),
                             (p.max_drawdown, summary.max_drawdown)):
            if value is not None:
                gauge.set(value)

    def _update_exposure(self) -> None:
        self.prometheus.exposure.set(float(sum(self._exposure.values(), Decimal(0))))
        self.prometheus.open_positions.set(len(self._exposure))

    def _update_order_rates(self) -> None:
        fill_rate, rejection_rate = self._order_rates()
        if fill_rate is not None:
            self.prometheus.fill_rate.set(fill_rate)
        if rejection_rate is not None:
            self.prometheus.rejection_rate.set(rejection_rate)

    def _order_rates(self) -> tuple[float | None, float | None]:
        finished = sum(self._finished.values())
        seen = len(self._orders)
        fill_rate = self._finished[OrderStatus.FILLED] / finished if finished else None
        rejection_rate = self._finished[OrderStatus.REJECTED] / seen if seen else None
        return fill_rate, rejection_rate

    def set_initial_equity(self, equity: Decimal) -> None:
        """The account's equity when trading started (known once the exchange answered)."""
        self.initial_equity = equity
        self._refresh_trade_gauges()

    # ---- reading ------------------------------------------------------------------------------
    def equity_curve(self, trades: list[ClosedTrade] | None = None) -> list[EquityPoint]:
        """Account equity after each closed trade; empty while the starting equity is unknown
        (cumulative P&L is not equity)."""
        if self.initial_equity is None:
            return []
        equity = self.initial_equity
        points = []
        for trade in self.trades if trades is None else trades:
            equity += trade.pnl
            points.append(EquityPoint(time_ms=trade.time_ms, equity=equity))
        return points

    def trade_metrics(self, trades: list[ClosedTrade]) -> TradingMetrics:
        """Performance statistics of ``trades`` (P&L, win rate, PF, Sharpe, Sortino, drawdown)."""
        pnls = [t.pnl for t in trades]
        start = self.initial_equity if self.initial_equity is not None else Decimal(0)
        # without the starting equity the running P&L still gives the absolute drawdown
        balances = list(accumulate(pnls, initial=start))
        curve = [EquityPoint(time_ms=t.time_ms, equity=b) for t, b in zip(trades, balances[1:], strict=True)]
        drawdown, drawdown_abs = stats.max_drawdown(balances)
        returns = (stats.daily_returns([(p.time_ms, p.equity) for p in curve], start)
                   if self.initial_equity is not None else [])
        day = self.clock.now_ms() // stats.DAY_MS
        total = sum(pnls, Decimal(0))
        return TradingMetrics(
            trades=len(pnls),
            wins=sum(1 for p in pnls if p > 0),
            losses=sum(1 for p in pnls if p < 0),
            win_rate=stats.win_rate(pnls),
            profit_factor=stats.profit_factor(pnls),
            expectancy=stats.expectancy(pnls),
            sharpe=stats.sharpe(returns, self.periods_per_year),
            sortino=stats.sortino(returns, self.periods_per_year),
            max_drawdown=drawdown if self.initial_equity is not None else None,
            max_drawdown_abs=Decimal(str(drawdown_abs)),
            total_pnl=total,
            daily_pnl=sum((t.pnl for t in trades if t.time_ms // stats.DAY_MS == day), Decimal(0)),
            equity=start + total if self.initial_equity is not None else None,
        )

    def by_strategy(self) -> dict[str, TradingMetrics]:
        grouped: dict[str, list[ClosedTrade]] = {}
        for trade in self.trades:
            grouped.setdefault(trade.strategy_id, []).append(trade)
        return {name: self.trade_metrics(trades) for name, trades in sorted(grouped.items())}

    def bus_rates(self) -> dict[str, float]:
        """Events per second per topic over the last ``BUS_RATE_WINDOW_S`` (empty until 1 s is covered).

        Every reader (``/status``, ``/metrics``, the monitoring loop) sees the same window: reading
        only adds a sample (at most one a second), it never resets what another reader measures.
        """
        if self._bus is None:
            return {}
        now = self._monotonic_ns() / 1e9
        published: dict[str, int] = dict(self._bus.stats()["published"])
        samples = self._bus_samples
        while len(samples) > 1 and now - samples[1][0] >= BUS_RATE_WINDOW_S:
            samples.popleft()  # keep one sample at least a window old: the base of a full window
        if not samples or now - samples[-1][0] >= _BUS_SAMPLE_SPACING_S:
            samples.append((now, published))
        base_time, base_counts = samples[0]
        elapsed = now - base_time
        if elapsed < _BUS_SAMPLE_SPACING_S:
            return {}
        return {topic: (count - base_counts.get(topic, 0)) / elapsed for topic, count in published.items()}

    def snapshot(self) -> TradingMetrics:
        fill_rate, rejection_rate = self._order_rates()
        latencies = [s * 1000 for s in self.latencies_s]
        indicator = [s * 1000 for s in self.indicator_s]
        slippages = list(self.slippages_bps)
        cpu, rss = self._process.sample()
        bus: dict[str, Any] = self._bus.stats() if self._bus is not None else {"subscriptions": []}
        subs = bus["subscriptions"]
        base = self.trade_metrics(list(self.trades))
        return base.model_copy(update={
            "exposure": sum(self._exposure.values(), Decimal(0)),
            "open_positions": len(self._exposure),
            "orders_submitted": len(self._orders),
            "orders_filled": self._finished[OrderStatus.FILLED],
            "orders_rejected": self._finished[OrderStatus.REJECTED],
            "fill_rate": fill_rate,
            "rejection_rate": rejection_rate,
            "avg_slippage_bps": sum(slippages) / len(slippages) if slippages else None,
            "p99_slippage_bps": stats.percentile(slippages, 99),
            "latency_ms_p50": stats.percentile(latencies, 50),
            "latency_ms_p99": stats.percentile(latencies, 99),
            "indicator_ms_p50": stats.percentile(indicator, 50),
            "indicator_ms_p99": stats.percentile(indicator, 99),
            "signals": self.signals,
            "signals_rejected": self.signals_rejected,
            "bus_rates": self.bus_rates(),
            "bus_max_queue_depth": max((s["depth"] for s in subs), default=None),
            "bus_dropped": sum(s["dropped"] for s in subs),
            "cpu_percent": cpu,
            "rss_bytes": rss,
        })
