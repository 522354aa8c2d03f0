"""Found by the fault campaign: an exit that fills while the bot is down is counted twice in equity.

At start the bot re-bases its equity on the exchange's balances (which already contain the exit),
with the position from its database still open and marked at the current price; then the start
reconciliation recovers the exit's fill and the account tracker folds the realized P&L in again.
The bot's equity ends off by ``qty × (exit price − price at restart) − exit fee``: zero only if the
price has not moved since the exit. The campaign saw +9 and −44 USDT on a 10 000 USDT account.

Deterministic here: in-process bot, stepped simulator; the price is moved ≥ 1 % away from the
exit before the restart. The invariant: after the restart the bot's equity, and the last equity the
breakers saw, equal the exchange's within one fee.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.app.binance_wiring import PAPER_API_KEY
from tests.integration.risk.restart_support import (
    SYMBOL,
    buy_manually,
    held_base,
    simulator,
    start_bot,
    step,
    true_spot_equity,
    wait_for,
)


@pytest.mark.timeout(200)
async def test_exit_filled_while_the_bot_is_down_is_counted_once_in_equity(tmp_path: Path) -> None:
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await step(application, pipeline, sim, 2)
            await buy_manually(application, pipeline, sim, stop="0.995", target="1.015", protected=True)
        finally:
            await application.stop()

        for _ in range(400):  # the bot is down while its stop or target fills
            if held_base(sim) < Decimal("0.001"):
                break
            await sim.control.step(1)
        assert held_base(sim) < Decimal("0.001"), "the exit did not fill: the scenario did not happen"
        exit_price = sim.control.price(SYMBOL)
        for _ in range(400):  # and the market moves on before the bot comes back
            if abs(sim.control.price(SYMBOL) - exit_price) / exit_price > Decimal("0.01"):
                break
            await sim.control.step(1)

        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await wait_for(lambda: not pipeline.execution.positions.open_positions())
            await pipeline.execution.executor.drain()
            await application.bus.wait_idle()
            truth, believed = true_spot_equity(sim), pipeline.account.equity()
            trades = sim.control.trades(PAPER_API_KEY, SYMBOL)
            one_fee = max(t.quote_qty for t in trades) * Decimal("0.001")
            book = pipeline.breakers.book  # what the breakers saw: no phantom loss, no phantom peak
        finally:
            await application.stop()
    finally:
        await sim.stop()
    assert abs(believed - truth) <= one_fee, f"bot equity {believed:.4f}, exchange {truth:.4f}, one fee {one_fee:.4f}"
    assert not book.trips, [t.message for t in book.trips]
    assert book.last_equity is not None and abs(book.last_equity - truth) <= one_fee, book.last_equity
    assert book.peak_equity is not None and book.peak_equity <= truth + one_fee, book.peak_equity
