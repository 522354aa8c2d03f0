"""Parity: the live bus pipeline (candles → indicators → strategies services) emits exactly the
backtest's signals on every candle where the backtest's strategy was flat."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from ictbot.backtest.data import load_market_data, parse_time
from ictbot.backtest.parity import bus_signals, check_parity
from ictbot.backtest.run import BacktestSpec
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"


def _setup(strategy: str, days: int) -> tuple[BacktestSpec, object]:
    require_shared(MONTH)
    spec = BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, strategy)
    data = load_market_data(
        spec.data,
        "BTCUSDT",
        Timeframe.M5,
        start_ms=parse_time("2024-03-01"),
        end_ms=parse_time(f"2024-03-{1 + days:02d}"),
    )
    return spec, data


@pytest.mark.slow
@pytest.mark.parametrize(("strategy", "days"), [("strategy_a", 7), ("s2_fvg", 7)])
def test_bus_pipeline_matches_backtest_signals(strategy: str, days: int) -> None:
    spec, data = _setup(strategy, days)
    report = check_parity(spec, data)  # type: ignore[arg-type]
    assert report.ok, report.describe()
    assert report.backtest_signals  # something was compared
    assert report.compared_candles > len(data) // 3  # type: ignore[arg-type]


@pytest.mark.slow
def test_signal_ids_pin_the_parameters() -> None:
    """A pipeline with different strategy parameters cannot pass for the same one."""
    spec, data = _setup("s2_fvg", 3)
    other = asyncio.run(bus_signals(data, replace(spec, params={"reward_risk": 3.0})))  # type: ignore[arg-type]
    report = check_parity(spec, data)  # type: ignore[arg-type]
    assert {(s.time, s.id) for s in other}.isdisjoint(report.backtest_signals)
