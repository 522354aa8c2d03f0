"""Results polish: a multi-tranche exit on the tick grid, rejection reasons grouped by their whole
text, buy and hold as the benchmark."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from ictbot.backtest.metrics import buy_and_hold_equity, buy_and_hold_return_pct
from ictbot.backtest.results import Rejection, count_reasons
from tests.unit.backtest.scripted import FLAT, Plan, run


def test_average_exit_of_unequal_tranches_is_on_the_tick() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 111, 99, 110), (110, 112, 89, 90), FLAT]
    result, _ = run(rows, {0: Plan(stop="90.01", target="110.03", target2="130")}, stake="1000.001")
    (trade,) = result.trades
    assert trade.qty == Decimal("10.00001") and trade.exit_reason == "target+stop"
    # exactly (110.03·5 + 90.01·5.00001) / 10.00001 = 100.019990…, shown on the 0.01 tick
    assert str(trade.exit_price) == "100.02"
    assert trade.pnl == (Decimal("110.03") - 100) * 5 + (Decimal("90.01") - 100) * Decimal("5.00001")


def test_rejection_reasons_keep_their_words_after_a_colon() -> None:
    rejections = [
        Rejection(1, "s", ("reward:risk 1.21 below minimum 1.5 (after rounding)",)),
        Rejection(2, "s", ("reward:risk 1.07 below minimum 1.5 (after rounding)", "market data is stale")),
        Rejection(3, "s", ("cooldown after a stop-out on BTCUSDT: 120s left",)),
    ]
    assert count_reasons(rejections) == {
        "reward:risk # below minimum # (after rounding)": 2,
        "market data is stale": 1,
        "cooldown after a stop-out on BTCUSDT: #s left": 1,
    }


def test_buy_and_hold_from_the_first_open_to_the_last_close() -> None:
    opens, closes = np.array([100.0, 104.0, 98.0]), np.array([104.0, 98.0, 110.0])
    assert buy_and_hold_return_pct(opens, closes) == pytest.approx(10.0)
    assert buy_and_hold_equity(opens, closes, Decimal(1000)).tolist() == pytest.approx([1040.0, 980.0, 1100.0])
    assert buy_and_hold_return_pct(np.empty(0), np.empty(0)) is None
