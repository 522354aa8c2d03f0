"""Golden backtests on real Binance BTCUSDT 5m candles: exact trades, equity and fingerprint.

A change in any of these numbers means the trades changed. That is sometimes intended (a fixed
bug, a new fill rule, a changed indicator in the ICT strategies' case): then say why in the commit
and update the constants; never update them to silence a failure you do not understand.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.backtest.data import parse_time
from ictbot.backtest.run import BacktestSpec, results_document, run_backtest
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

RAW = DATA / "binance_spot_raw_5m"
Q1_2024 = ("BTCUSDT-5m-2024-01.csv", "BTCUSDT-5m-2024-02.csv", "BTCUSDT-5m-2024-03.csv")


def _spec(strategy: str, files: tuple[str, ...], **extra: object) -> BacktestSpec:
    paths = tuple(str(require_shared(RAW / name)) for name in files)
    return BacktestSpec(paths, ("BTCUSDT",), Timeframe.M5, strategy, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("strategy", "trades", "final_equity", "fingerprint"),
    [
        ("s1_ema_cross", 275, "9788.5605597240",
         "e632d86d3269cc5cbb15eb9c34af8ed38dca9f41ba965d63a67dcd4db47d0a7e"),
        ("s2_fvg", 549, "9328.6435704974",
         "91ff14457c5349c83b4c2974e743c54ff2f5c9f64b8c70a4181d223e14a8685f"),
    ],
)
def test_reference_strategy_golden_and_identical_on_rerun(
    strategy: str, trades: int, final_equity: str, fingerprint: str
) -> None:
    spec = _spec(strategy, Q1_2024)
    first = run_backtest(spec)
    again = run_backtest(spec)
    assert len(first.trades) == trades
    assert first.results[0].final_equity == Decimal(final_equity)
    assert first.fingerprint == fingerprint
    assert again.fingerprint == first.fingerprint
    document = results_document(first, include_code_version=False)
    assert document["fingerprint"] == fingerprint
    assert document["summary"]["trades"] == trades
    assert abs(document["summary"]["final_equity"] - float(final_equity)) < 1e-6


def test_ict_strategy_a_golden_on_half_a_month() -> None:
    spec = _spec("strategy_a", ("BTCUSDT-5m-2024-03.csv",), start_ms=parse_time("2024-03-01"),
                 end_ms=parse_time("2024-03-16"))
    outcome = run_backtest(spec)
    assert len(outcome.trades) == 7
    assert outcome.results[0].final_equity == Decimal("10021.1981557359")
    assert outcome.fingerprint == "4cc84682c0526d0f20b5cd8f023e5f09293571839e44f92a84c4b377a0db8a14"
