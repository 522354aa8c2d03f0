"""Same seed → the same market, the same fills, the same stream frames (tests depend on it)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

from ictbot.domain.market import Market
from ictbot.exchange_sim import SimConfig, Simulator
from ictbot.exchange_sim.engine import OrderRequest
from ictbot.exchange_sim.server.hub import Connection

ORIGIN = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000


async def run(seed: int, path_mode: str = "seeded") -> tuple[list[str], list[tuple[int, D, D]]]:
    sim = Simulator(SimConfig(symbols=("BTCUSDT",), seed=seed, synthetic_origin_ms=ORIGIN, synthetic_candles=800,
                              warmup_candles=500, path_mode=path_mode, futures=False))
    conn = Connection("spot-market", streams=set())
    sim.hub.add(conn)
    sim.hub.subscribe(conn, ["btcusdt@kline_1m", "btcusdt@aggTrade"])
    price = sim.price("BTCUSDT")
    for i, offset in enumerate((D("-50"), D("50"), D("-120"), D("120"))):
        side = "BUY" if offset < 0 else "SELL"
        sim.engine.spot_account("a").free["BTC"] = D("1")
        sim.dispatch(sim.engine.place("a", Market.SPOT, OrderRequest(
            "BTCUSDT", side, "LIMIT", quantity=D("0.01"), price=price + offset, time_in_force="GTC",
            client_order_id=f"o{i}"), sim.now())[1])
    frames: list[str] = []

    async def socket() -> None:  # stands in for the connection's sender task
        while True:
            frames.append(str(await conn.queue.get()))
            conn.queue.task_done()

    reader = asyncio.create_task(socket())
    await sim.step(60)
    reader.cancel()
    fills = [(t.order_id, t.price, t.qty) for t in sim.engine.trades]
    return frames, fills


async def test_same_seed_same_frames_and_fills() -> None:
    first, second = await run(11), await run(11)
    assert first == second
    frames, fills = first
    assert len(frames) == 60 * 5 + 60 * 3 and fills  # klines + one aggTrade per path segment
    assert json.loads(frames[-1])["E"] >= json.loads(frames[0])["E"]


async def test_another_seed_gives_another_market() -> None:
    assert (await run(11))[0] != (await run(12))[0]
