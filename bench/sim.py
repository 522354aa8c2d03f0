"""Exchange simulator benchmark: replay throughput over WebSocket and order round trips over loopback.

Run: .venv/bin/python bench/sim.py [--candles 3000] [--orders 400]

Each figure is printed with a baseline measured in the same run, so the ratios are comparable
between machines:
  * replay: candles/s delivered (closed klines received by one WS client) vs. the same replay
    stepped in-process with nobody subscribed (engine + replay cost only);
  * orders: signed MARKET order round trips/s over HTTP vs. /api/v3/ping round trips/s (the HTTP
    stack's floor) and vs. direct in-process engine.place() calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import websockets

from ictbot.domain.market import Market
from ictbot.exchange_sim import SimConfig, SimulatorServer
from ictbot.exchange_sim.auth import hmac_signature
from ictbot.exchange_sim.core import Simulator
from ictbot.exchange_sim.engine.model import OrderRequest

ORIGIN = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000


def config(candles: int) -> SimConfig:
    return SimConfig(symbols=("BTCUSDT",), seed=1, synthetic_origin_ms=ORIGIN, synthetic_candles=candles + 600,
                     warmup_candles=500, futures=False)


async def replay_in_process(candles: int) -> float:
    sim = Simulator(config(candles))
    start = time.perf_counter()
    played = await sim.step(candles)
    return played / (time.perf_counter() - start)


async def replay_over_ws(candles: int, batch: int = 100) -> float:
    server = SimulatorServer(config(candles))
    async with server, websockets.connect(f"{server.ws_url}/ws/btcusdt@kline_1m", max_queue=None) as ws:
        received = 0

        async def consume() -> None:
            nonlocal received
            while received < candles:
                if json.loads(await ws.recv())["k"]["x"]:
                    received += 1

        consumer = asyncio.create_task(consume())
        start = time.perf_counter()
        for _ in range(candles // batch):
            await server.control.step(batch)
        await asyncio.wait_for(consumer, 120)
        return received / (time.perf_counter() - start)


def engine_orders(count: int) -> float:
    sim = Simulator(config(10))
    engine = sim.engine
    engine.spot_account("bench").free["USDT"] = Decimal("1e12")
    engine.spot_account("bench").free["BTC"] = Decimal("1e6")
    start = time.perf_counter()
    for i in range(count):
        side = "BUY" if i % 2 == 0 else "SELL"
        engine.place("bench", Market.SPOT, OrderRequest("BTCUSDT", side, "MARKET", quantity=Decimal("0.001")), 0)
    return count / (time.perf_counter() - start)


async def http_round_trips(count: int) -> tuple[float, float]:
    async with SimulatorServer(config(10)) as server, httpx.AsyncClient(base_url=server.base_url) as client:
        server.control.fund("bench", "USDT", "1000000000")
        server.control.fund("bench", "BTC", "1000000")
        server.control.set_order_limits(10**9, 10**9)
        server.control.set_weight_limit(10**9)
        start = time.perf_counter()
        for _ in range(count):
            (await client.get("/api/v3/ping")).raise_for_status()
        pings = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(count):
            query = urlencode({"symbol": "BTCUSDT", "side": "BUY" if i % 2 == 0 else "SELL", "type": "MARKET",
                               "quantity": "0.00100", "timestamp": server.control.now()})
            response = await client.post(f"/api/v3/order?{query}&signature={hmac_signature('s', query)}",
                                         headers={"X-MBX-APIKEY": "bench"})
            assert response.status_code == 200, response.text
        orders = count / (time.perf_counter() - start)
        return pings, orders


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candles", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    print(f"exchange simulator benchmark: {args.candles} candles, {args.orders} orders, loopback, one process")
    base_replay = await replay_in_process(args.candles)
    ws_replay = await replay_over_ws(args.candles)
    direct = engine_orders(args.orders * 5)
    pings, orders = await http_round_trips(args.orders)
    print(f"replay, in-process (baseline)      {base_replay:10.0f} candles/s")
    print(f"replay, streamed to one WS client  {ws_replay:10.0f} candles/s   ratio {ws_replay / base_replay:5.2f}"
          f"   (5 kline frames per candle)")
    print(f"engine.place() in-process          {direct:10.0f} orders/s")
    print(f"GET /api/v3/ping round trips       {pings:10.0f} req/s")
    print(f"POST /api/v3/order round trips     {orders:10.0f} orders/s   ratio vs ping {orders / pings:5.2f}"
          f"   vs engine {orders / direct:5.3f}")


if __name__ == "__main__":
    asyncio.run(main())
