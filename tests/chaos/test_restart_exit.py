"""Found by the fault campaign: an exit that fills while the bot is down is counted twice in equity.

At start the bot re-bases its equity on the exchange's balances (which already contain the exit),
with the position from its database still open and marked at the current price; then the start
reconciliation recovers the exit's fill and the account tracker folds the realized P&L in again.
The bot's equity ends off by ``qty × (exit price − price at restart) − exit fee``: zero only if the
price has not moved since the exit. The campaign saw +9 and −44 USDT on a 10 000 USDT account.

Deterministic here: in-process bot, stepped simulator; the price is moved ≥ 1 % away from the
exit before the restart.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.app.facade import PipelineFacade
from ictbot.app.wiring import PAPER_API_KEY
from ictbot.ports import facade as f
from tests.integration.risk.restart_support import SYMBOL, simulator, start_bot, step, true_spot_equity, wait_for

BUG = ("product bug: equity is restored before the start reconciliation recovers the missed exit, "
       "so the exit's P&L is counted twice")
CENT = Decimal("0.01")


@pytest.mark.timeout(200)
async def test_exit_filled_while_the_bot_is_down_is_counted_once_in_equity(tmp_path: Path) -> None:
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await step(application, pipeline, sim, 2)
            price = sim.control.price(SYMBOL)
            await PipelineFacade(application, pipeline).create_manual_order(f.ManualOrderRequest(
                symbol=SYMBOL, side="BUY", stop_loss=(price * Decimal("0.996")).quantize(CENT),
                take_profits=[(price * Decimal("1.016")).quantize(CENT)]))
            await wait_for(lambda: bool(pipeline.execution.positions.open_positions()))
            await wait_for(lambda: not pipeline.execution.executor.unprotected_positions())
            await pipeline.execution.executor.drain()
            await application.bus.wait_idle()
        finally:
            await application.stop()

        def held() -> Decimal:
            balances = sim.control.balances(PAPER_API_KEY)
            return sum(balances.get("ETH", (Decimal(0), Decimal(0))), Decimal(0))

        for _ in range(400):  # the bot is down while its stop or target fills
            if held() < Decimal("0.001"):
                break
            await sim.control.step(1)
        assert held() < Decimal("0.001"), "the exit did not fill: the scenario did not happen"
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
        finally:
            await application.stop()
    finally:
        await sim.stop()
    if abs(believed - truth) > one_fee:
        pytest.xfail(f"{BUG}: bot equity {believed:.4f}, exchange {truth:.4f}, one fee {one_fee:.4f}")
    # Strict: once the bug is fixed this fails, so the xfail is turned into the plain assertion above.
    pytest.fail("the exit was counted once: the bug is fixed, make the equity check a plain assertion")
