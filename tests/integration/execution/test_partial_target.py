"""End to end, a partly filled target (docs/reliability.md, Found 3).

When the LIMIT_MAKER target of a spot OCO trades, Binance expires the OCO's stop leg; the rest of the
target keeps the remaining coins locked, so no new stop can be placed beside it. The bot must cancel
that target and re-arm the whole remainder as a new OCO (stop + target) — on the plain path (the bot's
own OCO) and on the OTOCO path (the pending OCO the exchange placed when the entry filled).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.execution import ExecutionConfig
from tests.integration.execution.test_simulator_e2e import CONFIG, FLAT, KEY, Books, bot, until
from tests.unit.execution.harness import make_intent

sim_mod = pytest.importorskip("ictbot.exchange_sim")
sim_conftest = pytest.importorskip("tests.integration.exchange_sim.conftest")

D = Decimal
STOP_GRACE_S = 10.0  # the campaign allows 30 s without a stop while the bot is up
# One candle through the 51,000 target and back under it, then quiet candles below the target.
THROUGH_TARGET = [(50_000.0, 51_100.0, 50_000.0, 50_100.0, 5.0)]
BELOW_TARGET = [(50_100.0, 50_150.0, 50_050.0, 50_100.0, 5.0)] * 3


def _stop_cover(sim: object) -> Decimal:
    return sum((o.orig_qty - o.executed_qty for o in sim.control.open_orders(KEY)  # type: ignore[attr-defined]
                if o.type == "STOP_LOSS_LIMIT"), D(0))


def _partly_filled_targets(sim: object) -> list[str]:
    return [o.client_order_id for o in sim.control.orders(KEY, "BTCUSDT")  # type: ignore[attr-defined]
            if o.type == "LIMIT_MAKER" and 0 < o.executed_qty < o.orig_qty]


def _btc_held(sim: object) -> Decimal:
    free, locked = sim.control.balances(KEY).get("BTC", (D(0), D(0)))  # type: ignore[attr-defined]
    return free + locked


@pytest.mark.parametrize("config", [CONFIG, replace(CONFIG, entry_lists=True)], ids=["bot_oco", "otoco_entry"])
async def test_a_partly_filled_target_is_replaced_by_a_new_oco_covering_the_remainder(
    config: ExecutionConfig,
) -> None:
    rows = FLAT + THROUGH_TARGET + BELOW_TARGET
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(rows)) as sim:
        books = Books()
        async with bot(sim, books, config) as service:
            entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
            pid = entry.position_id
            await until(lambda: service.positions.get(pid) is not None
                        and service.executor.protection_deficit(pid, confirmed=True) == 0 and _stop_cover(sim) > 0)
            await service.executor.drain()
            first_stop = _stop_cover(sim)

            sim.control.set_participation("0.0005")  # resting orders fill only a little per price move
            await sim.control.step(len(FLAT) + 1)
            partly = _partly_filled_targets(sim)
            assert len(partly) == 1  # the target traded part of its quantity...
            first_target = partly[0]
            held = _btc_held(sim)
            assert D(0) < held < first_stop  # ...so the exchange expired the stop leg and coins left

            # Within the grace a live stop covers everything the account still holds, in a new OCO.
            await until(lambda: _stop_cover(sim) == held, STOP_GRACE_S)
            await service.executor.drain()
            await sim.control.step(3)  # quiet candles under the target: nothing more changes
            await service.executor.drain()

            assert _stop_cover(sim) == held
            position = service.positions.get(pid)
            assert position is not None and position.qty == held  # the books equal the exchange
            live = sorted((o.type, o.orig_qty - o.executed_qty) for o in sim.control.open_orders(KEY))
            assert live == [("LIMIT_MAKER", held), ("STOP_LOSS_LIMIT", held)]  # one OCO for the remainder
            statuses = {o.client_order_id: o.status for o in sim.control.orders(KEY, "BTCUSDT")}
            assert statuses[first_target] == "CANCELED"
            for cid, status in statuses.items():
                assert books.journal.orders[cid].status.value == status, cid
            ids = Counter(o.client_order_id for o in sim.control.orders(KEY, "BTCUSDT"))
            assert max(ids.values()) == 1  # no client id placed twice
            assert sum(1 for o in books.journal.orders.values() if o.leg is OrderLeg.ENTRY) == 1
            assert sum(1 for o in books.journal.orders.values()
                       if o.leg is OrderLeg.STOP and o.status is OrderStatus.NEW) == 1
            assert service.executor.unprotected_positions() == []
