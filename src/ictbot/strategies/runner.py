"""Synchronous strategy evaluation: the path backtests call directly and the service wraps."""

from __future__ import annotations

import structlog

from ictbot.domain.events import Alert
from ictbot.domain.signal import Signal
from ictbot.strategies.base import Strategy, StrategyContext
from ictbot.strategies.registry import StrategyRegistry

log = structlog.get_logger(__name__)


class StrategyOutputError(RuntimeError):
    """A strategy returned something that is not a signal for the candle it was asked about."""


class StrategyRunner:
    """Runs every enabled strategy that trades the context's symbol on its base timeframe.

    Exceptions never escape: they are counted in the registry (which disables a strategy after too
    many in a row) and the alerts it raises are queued for ``drain_alerts``.
    """

    def __init__(self, registry: StrategyRegistry) -> None:
        self.registry = registry
        self._alerts: list[Alert] = []

    def evaluate(self, context: StrategyContext) -> list[Signal]:
        signals: list[Signal] = []
        for strategy in self.registry.enabled():
            if not self._applies(strategy, context):
                continue
            own = tuple(p for p in context.positions if p.strategy_id == strategy.id and p.is_open)
            try:
                signal = strategy.on_candle(StrategyContext(context.candle, context.snapshot, own))
                if signal is not None:
                    _check_output(strategy, context, signal)
            except Exception as exc:  # isolation: one faulty strategy must not stop the others
                log.warning("strategy_error", strategy_id=strategy.id, error=repr(exc))
                alert = self.registry.record_error(strategy.id, exc)
                if alert is not None:
                    self._alerts.append(alert)
                continue
            self.registry.record_success(strategy.id, produced_signal=signal is not None)
            if signal is not None:
                signals.append(signal)
        return signals

    def drain_alerts(self) -> list[Alert]:
        alerts, self._alerts = self._alerts, []
        return alerts

    @staticmethod
    def _applies(strategy: Strategy, context: StrategyContext) -> bool:
        config = strategy.config
        if context.candle.timeframe.value != config.base_timeframe or not config.trades(context.symbol):
            return False
        # A view is missing while a higher timeframe has no closed candle yet (start of data).
        views = context.snapshot.views
        return all(tf in views for tf in strategy.required_timeframes)


def _check_output(strategy: Strategy, context: StrategyContext, signal: object) -> None:
    if not isinstance(signal, Signal):
        raise StrategyOutputError(f"on_candle returned {type(signal).__name__}, not Signal or None")
    if signal.strategy_id != strategy.id:
        raise StrategyOutputError(f"signal strategy_id {signal.strategy_id!r} is not {strategy.id!r}")
    if signal.symbol != context.symbol:
        raise StrategyOutputError(f"signal for {signal.symbol} on a {context.symbol} candle")
    if signal.time != context.time:
        raise StrategyOutputError(f"signal time {signal.time} is not the candle's close {context.time}")
