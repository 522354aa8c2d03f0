from __future__ import annotations

import re

from ictbot.backtest.report import render_report
from ictbot.backtest.run import BacktestSpec, results_document, run_backtest
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"


def test_report_is_self_contained_and_shows_every_trade() -> None:
    require_shared(MONTH)
    outcome = run_backtest(BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "s2_fvg"))
    page = render_report(outcome, results_document(outcome, include_code_version=False))
    assert page.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from the network
    assert "<script src" not in page and "<link" not in page
    assert page.count('<tr class="win"') + page.count('<tr class="loss"') == len(outcome.trades)
    assert page.count("<svg") >= 3  # equity, drawdown, candles
    assert 'fill-opacity="0.18"' in page  # zones drawn
    assert "Monthly returns" in page and "2024" in page
    assert len(page) < 3_000_000
