"""Anomaly rules as a pure function: inputs observed at one instant -> alert drafts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ictbot.domain.events import AlertLevel
from ictbot.domain.timeframe import Timeframe
from ictbot.monitoring.reports import TradingMetrics


@dataclass(frozen=True)
class Thresholds:
    stale_grace_s: float = 90.0  # a candle series is stale this long after its next bar should have closed
    reconnect_storm_count: int = 5  # reconnects of one source within the window
    reconnect_window_s: float = 300.0
    min_orders_for_rates: int = 10
    max_rejection_rate: float = 0.2
    max_p99_slippage_bps: float = 50.0
    max_drawdown: float = 0.10
    queue_fill_warning: float = 0.8
    realert_after_s: float = 600.0


@dataclass(frozen=True)
class AlertDraft:
    key: str  # identifies the condition, for deduplication
    level: AlertLevel
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitorInputs:
    now_ms: int
    last_candle: Mapping[tuple[str, str], int]  # (symbol, timeframe) -> open time of the newest stored candle
    reconnects: Mapping[str, Sequence[int]]  # source -> reconnect times (ms)
    metrics: TradingMetrics
    bus_subscriptions: Sequence[Mapping[str, Any]]
    bus_failed_delta: Mapping[str, int]  # subscriber -> handler failures since the last evaluation
    bus_dropped_delta: Mapping[str, int]  # BLOCK subscribers should never drop; others are reported


def stale_series(inputs: MonitorInputs, thresholds: Thresholds) -> list[tuple[str, str, float]]:
    """(symbol, timeframe, seconds overdue) of every series whose next candle is overdue."""
    stale = []
    for (symbol, timeframe), open_time in inputs.last_candle.items():
        tf = Timeframe.parse(timeframe)
        # the newest candle closed at open_time + tf; the next one is due tf later
        due = open_time + 2 * tf.ms
        overdue = (inputs.now_ms - due) / 1000
        if overdue > thresholds.stale_grace_s:
            stale.append((symbol, timeframe, overdue))
    return stale


def evaluate(inputs: MonitorInputs, thresholds: Thresholds) -> list[AlertDraft]:
    drafts: list[AlertDraft] = []
    for symbol, timeframe, overdue in stale_series(inputs, thresholds):
        drafts.append(AlertDraft(f"stale:{symbol}:{timeframe}", AlertLevel.WARNING,
                                 f"no {timeframe} candle for {symbol} for {overdue:.0f} s past due",
                                 {"symbol": symbol, "timeframe": timeframe, "overdue_s": round(overdue, 1)}))
    window_start = inputs.now_ms - thresholds.reconnect_window_s * 1000
    for source, times in inputs.reconnects.items():
        recent = sum(1 for t in times if t >= window_start)
        if recent >= thresholds.reconnect_storm_count:
            drafts.append(AlertDraft(f"reconnect_storm:{source}", AlertLevel.CRITICAL,
                                     f"{source} reconnected {recent} times in "
                                     f"{thresholds.reconnect_window_s:.0f} s",
                                     {"source": source, "reconnects": recent}))
    m = inputs.metrics
    enough_orders = m.orders_submitted >= thresholds.min_orders_for_rates
    if enough_orders and (m.rejection_rate or 0) > thresholds.max_rejection_rate:
        drafts.append(AlertDraft("rejection_rate", AlertLevel.WARNING,
                                 f"order rejection rate {m.rejection_rate:.0%} above "
                                 f"{thresholds.max_rejection_rate:.0%}", {"rejection_rate": m.rejection_rate}))
    if m.p99_slippage_bps is not None and m.p99_slippage_bps > thresholds.max_p99_slippage_bps:
        drafts.append(AlertDraft("slippage", AlertLevel.WARNING,
                                 f"p99 slippage {m.p99_slippage_bps:.1f} bps above "
                                 f"{thresholds.max_p99_slippage_bps} bps",
                                 {"p99_slippage_bps": m.p99_slippage_bps}))
    if m.max_drawdown is not None and m.max_drawdown > thresholds.max_drawdown:
        drafts.append(AlertDraft("drawdown", AlertLevel.CRITICAL,
                                 f"drawdown {m.max_drawdown:.1%} above {thresholds.max_drawdown:.0%}",
                                 {"max_drawdown": m.max_drawdown}))
    for sub in inputs.bus_subscriptions:
        fill = sub["depth"] / sub["maxsize"] if sub["maxsize"] else 0.0
        if fill >= thresholds.queue_fill_warning:
            drafts.append(AlertDraft(f"queue:{sub['name']}", AlertLevel.WARNING,
                                     f"bus queue of {sub['name']} is {fill:.0%} full",
                                     {"subscriber": sub["name"], "depth": sub["depth"], "maxsize": sub["maxsize"]}))
    for name, failed in inputs.bus_failed_delta.items():
        if failed > 0:
            drafts.append(AlertDraft(f"handler_failed:{name}", AlertLevel.CRITICAL,
                                     f"bus handler {name} failed {failed} times",
                                     {"subscriber": name, "failed": failed}))
    for name, dropped in inputs.bus_dropped_delta.items():
        if dropped > 0:
            drafts.append(AlertDraft(f"dropped:{name}", AlertLevel.INFO,
                                     f"bus subscriber {name} dropped {dropped} events (lossy by design)",
                                     {"subscriber": name, "dropped": dropped}))
    return drafts
