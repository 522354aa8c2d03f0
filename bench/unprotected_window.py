#!/usr/bin/env python3
"""How long a filled spot entry has no stop at the exchange: the plain path (entry, then the bot
places the OCO) against OTOCO entry lists (the exchange places the OCO at the fill).

    PYTHONPATH=src python bench/unprotected_window.py --trials 5 --down 2.0

Each trial runs the Binance-protocol simulator in process with the real Binance adapter and one
market-style entry, twice per path: the bot stays up, and the bot is stopped right after the entry's
reply (a kill between the fill and the stop) and started again after ``--down`` seconds. The window
is wall-clock time from the moment the simulator holds the filled entry until it holds a live stop
for the position, sampled every millisecond. Results: docs/execution.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "src")]

from tests.integration.exchange_sim.conftest import scripted_config  # noqa: E402
from tests.integration.execution.test_simulator_e2e import CONFIG, FLAT, KEY, Books, bot  # noqa: E402
from tests.unit.execution.harness import make_intent  # noqa: E402

from ictbot.domain.events import OrderIntent  # noqa: E402
from ictbot.exchange_sim import SimulatorServer  # noqa: E402
from ictbot.execution.ids import position_id_for  # noqa: E402


def _state(sim: SimulatorServer, position_id: str) -> tuple[bool, bool]:
    """(entry filled, a live stop) as the simulator holds them."""
    orders = [o for o in sim.control.orders(KEY, "BTCUSDT") if o.client_order_id.startswith(position_id)]
    filled = any(o.client_order_id.endswith("-E0") and o.executed_qty > 0 for o in orders)
    stop = any(o.type == "STOP_LOSS_LIMIT" and o.status in ("NEW", "PARTIALLY_FILLED") for o in orders)
    return filled, stop


async def _watch(sim: SimulatorServer, position_id: str) -> float:
    filled_at: float | None = None
    while True:
        filled, stop = _state(sim, position_id)
        now = time.perf_counter()
        if filled and filled_at is None:
            filled_at = now
        if filled_at is not None and stop:
            return now - filled_at
        await asyncio.sleep(0.001)


async def trial(lists: bool, down_s: float | None) -> float:
    config = replace(CONFIG, entry_lists=lists)
    async with SimulatorServer(scripted_config(FLAT)) as sim:
        books = Books()
        intent = make_intent(qty="0.01", stop="49000", targets=("51000",))
        async with bot(sim, books, config) as service:
            watcher = asyncio.ensure_future(_watch(sim, _position_id(intent)))
            await service.executor.submit_intent(intent)
            if down_s is None:
                return await asyncio.wait_for(watcher, 30)
        await asyncio.sleep(down_s)  # the bot is down
        async with bot(sim, books, config):
            return await asyncio.wait_for(watcher, 60)


def _position_id(intent: OrderIntent) -> str:
    return position_id_for(intent.signal.strategy_id, intent.signal.id)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--down", type=float, default=2.0, help="seconds the stopped bot stays down")
    args = parser.parse_args()
    for label, down in (("bot up", None), (f"bot stopped after the entry reply, down {args.down:g} s", args.down)):
        results = {}
        for lists in (False, True):
            results[lists] = [await trial(lists, down) for _ in range(args.trials)]
        plain, otoco = statistics.median(results[False]), statistics.median(results[True])
        print(f"{label}: plain path median {plain * 1000:.1f} ms (max {max(results[False]) * 1000:.1f}), "
              f"OTOCO median {otoco * 1000:.1f} ms (max {max(results[True]) * 1000:.1f}); "
              + (f"plain / OTOCO = {plain / otoco:.1f}" if otoco > 0 else "the exchange placed the stop at the fill"))


if __name__ == "__main__":
    asyncio.run(main())
