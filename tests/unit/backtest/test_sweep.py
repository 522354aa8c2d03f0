"""Sweeps: parsing, and every sweep row equals the individual run with the same parameters."""

from __future__ import annotations

import pytest

from ictbot.backtest.run import BacktestSpec, run_backtest
from ictbot.backtest.sweep import apply_combination, combinations, parse_sweep, ranked, run_sweep
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-02.csv"


def test_parse_sweep_values_and_product() -> None:
    grid = parse_sweep(["fast=10,20", "slow=50,100.5", "risk.max_open_positions=1"])
    assert grid == {"fast": [10, 20], "slow": [50, 100.5], "risk.max_open_positions": [1]}
    assert len(list(combinations(grid))) == 4
    with pytest.raises(ValueError):
        parse_sweep(["fast"])
    with pytest.raises(ValueError):
        parse_sweep(["fast=1", "fast=2"])


def test_apply_combination_routes_risk_fields() -> None:
    spec = BacktestSpec(("x",), ("BTCUSDT",), Timeframe.M5, "s1_ema_cross", params={"fast": 5})
    updated = apply_combination(spec, {"slow": 40, "risk.min_reward_risk": 2})
    assert updated.params == {"fast": 5, "slow": 40}
    assert updated.risk == {"min_reward_risk": 2}


def test_sweep_rows_equal_individual_runs() -> None:
    require_shared(MONTH)
    spec = BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "s1_ema_cross")
    grid = {"fast": [10, 20], "slow": [50]}
    rows = run_sweep(spec, grid, workers=2)
    assert [r.combination for r in rows] == [{"fast": 10, "slow": 50}, {"fast": 20, "slow": 50}]
    for row in rows:
        alone = run_backtest(spec.with_params(**row.combination))
        assert row.error is None
        assert row.fingerprint == alone.fingerprint
        assert row.summary["trades"] == len(alone.trades)
        assert row.summary == alone.summary().to_json()
    assert rows[0].fingerprint != rows[1].fingerprint


def test_bad_combination_is_reported_not_raised() -> None:
    require_shared(MONTH)
    spec = BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "s1_ema_cross")
    rows = run_sweep(spec, {"fast": [0, 10]}, workers=1)
    assert rows[0].error is not None and rows[1].error is None
    assert ranked(rows)[-1] is rows[0]
