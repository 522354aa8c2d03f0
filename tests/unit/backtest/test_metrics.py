from __future__ import annotations

from decimal import Decimal

import numpy as np

from ictbot.backtest.metrics import drawdown, exposure, max_drawdown_duration, monthly_returns, summarise
from ictbot.backtest.results import Trade, fingerprint

DAY = 86_400_000
T0 = 1_704_067_200_000


def _trade(number: int, pnl: str, entry: int = 0, exit_: int = 1) -> Trade:
    return Trade(number, "BTCUSDT", "s", "LONG", T0, Decimal(100), T0 + DAY, Decimal(101), Decimal(1),
                 Decimal("0.2"), Decimal(pnl), "target", entry_index=entry, exit_index=exit_)


def test_drawdown_and_its_duration() -> None:
    equity = np.array([100.0, 110.0, 99.0, 105.0, 111.0, 90.0])
    times = T0 + np.arange(6, dtype=np.int64) * DAY
    assert np.allclose(drawdown(equity), [0, 0, -0.1, 105 / 110 - 1, 0, 90 / 111 - 1])
    # underwater 2 days after the 110 peak (days 2-3), then 1 day at the end after 111
    assert max_drawdown_duration(times, equity, DAY) == 2 * DAY


def test_summary_counts_and_ratios() -> None:
    trades = [_trade(1, "10"), _trade(2, "-5"), _trade(3, "20"), _trade(4, "-5")]
    times = T0 + np.arange(4, dtype=np.int64) * DAY
    equity = np.array([1000.0, 1010.0, 1005.0, 1020.0])
    s = summarise(trades, times, equity, Decimal(1000), DAY)
    assert (s.trades, s.wins, s.losses) == (4, 2, 2)
    assert s.win_rate_pct == 50.0
    assert s.profit_factor == 3.0
    assert s.expectancy == 5.0
    assert abs(s.total_return_pct - 2.0) < 1e-12
    assert s.max_drawdown_pct < 0 and s.sharpe is not None


def test_summary_and_trades_show_pnl_before_and_after_fees() -> None:
    # each trade paid 0.2 in fees; pnl is net: 10 + (-5) = 5 net, 5.4 gross
    trades = [_trade(1, "10"), _trade(2, "-5")]
    times = T0 + np.arange(2, dtype=np.int64) * DAY
    s = summarise(trades, times, np.array([1000.0, 1005.0]), Decimal(1000), DAY)
    assert (s.net_pnl, s.fees) == (5.0, 0.4)
    assert abs(s.gross_pnl - 5.4) < 1e-12
    row = trades[1].to_json()
    assert (row["gross_pnl"], row["fees"], row["net_pnl"], row["pnl"]) == ("-4.8", "0.2", "-5", "-5")
    # the fingerprint's canonical fields are unchanged (gross is derived from pnl and fees)
    assert "gross_pnl" not in trades[1].canonical()


def test_exposure_counts_candles_with_a_position() -> None:
    assert exposure([_trade(1, "1", 2, 4), _trade(2, "1", 7, 7)], 10) == 40.0


def test_monthly_returns_chain() -> None:
    times = np.array([T0, T0 + 31 * DAY, T0 + 32 * DAY], dtype=np.int64)  # Jan, Feb, Feb
    rows = monthly_returns(times, np.array([110.0, 120.0, 99.0]), 100.0)
    assert [(y, m) for y, m, _ in rows] == [(2024, 1), (2024, 2)]
    assert abs(rows[0][2] - 10.0) < 1e-12 and abs(rows[1][2] - (99 / 110 - 1) * 100) < 1e-12


def test_fingerprint_depends_on_every_trade_field_that_matters() -> None:
    base = [_trade(1, "10"), _trade(2, "-5")]
    assert fingerprint(base) == fingerprint([_trade(1, "10"), _trade(2, "-5")])
    assert fingerprint(base) != fingerprint([_trade(1, "10"), _trade(2, "-5.0000001")])
    assert fingerprint(base) != fingerprint(base[:1])
