"""Backtests on the live code path: the same strategies, risk gate, order planning and positions
as live trading, driven by replayed candles and an in-process fill model (docs/backtesting.md)."""

from ictbot.backtest.engine import BacktestConfig, BacktestEngine
from ictbot.backtest.fills import FillModel
from ictbot.backtest.results import SymbolResult, Trade, fingerprint
from ictbot.backtest.run import BacktestOutcome, BacktestSpec, results_document, run_backtest

__all__ = [
    "BacktestConfig",
    "BacktestEngine",
    "BacktestOutcome",
    "BacktestSpec",
    "FillModel",
    "SymbolResult",
    "Trade",
    "fingerprint",
    "results_document",
    "run_backtest",
]
