"""``ictbot backtest --via-live`` end to end on a file whose name is not Binance's (``ETH_USDT-5m.feather``):
the simulator trades the backtest's symbol and instrument, the verdict is ORDER PARITY OK, exit 0."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ictbot.cli.main import app
from tests.conftest import DATA, require_shared

ETH = DATA / "feather" / "harthor_marketlab" / "ETH_USDT-5m.feather"


@pytest.mark.slow
@pytest.mark.timeout(300)  # ~20 s on a loaded 2-core machine (a week: 2,016 candles through the live app)
def test_via_live_week_of_ethusdt_from_a_freqtrade_file_is_at_parity() -> None:
    require_shared(ETH)
    result = CliRunner().invoke(app, [
        "backtest", "--data", str(ETH), "--symbol", "ETHUSDT", "--strategy", "strategy_a",
        "--start", "2025-03-01", "--end", "2025-03-08", "--via-live",
    ], terminal_width=400)
    assert result.exit_code == 0, result.output
    verdict = next(line for line in result.output.splitlines() if "ORDER PARITY" in line)
    assert verdict.startswith("ETHUSDT: ORDER PARITY OK"), result.output  # OK: the problem list is empty
    trades, sent = map(int, re.search(r"(\d+) trades, (\d+) orders sent", verdict).groups())  # type: ignore[union-attr]
    assert trades >= 2 and sent >= 3 * (trades - 1)  # orders really went to the simulator (fee-aware R:R: 2 trades)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_via_live_exits_non_zero_when_the_orders_differ() -> None:
    """Backtest slippage the simulator does not apply: the live entries fill elsewhere → BROKEN, exit 1."""
    require_shared(ETH)
    result = CliRunner().invoke(app, [
        "backtest", "--data", str(ETH), "--symbol", "ETHUSDT", "--strategy", "strategy_a",
        "--start", "2025-03-01", "--end", "2025-03-08", "--slippage-bps", "20", "--via-live",
    ], terminal_width=400)
    assert result.exit_code == 1, result.output
    assert "ETHUSDT: ORDER PARITY BROKEN" in result.output
