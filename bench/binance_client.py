"""Binance adapter micro-benchmarks; each result is printed with a ratio to a baseline measured in the
same run on the same machine.

    .venv/bin/python bench/binance_client.py

* parse executionReport: ``parse.user_event`` (pydantic validation + domain mapping) vs ``json.loads``
* parse 1000 kline rows: ``parse.candles_from_rows`` vs ``json.loads`` of the same page
* sign: HMAC-SHA256 and Ed25519 per request payload (baseline: ``encode_query`` alone)
* limiter: ``LocalRateBudget.acquire`` under no contention vs ``await asyncio.sleep(0)``
* REST call overhead: ``BinanceRestClient.request`` (signing, budget, headers, decoding) vs a bare
  ``httpx.AsyncClient.get`` over the same ``MockTransport``
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import LimitKind, LocalRateBudget, RateLimitRule
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials, Ed25519Signer, HmacSigner, encode_query
from ictbot.domain.timeframe import Timeframe

EXECUTION = json.dumps(
    {
        "e": "executionReport",
        "E": 1759347763167,
        "s": "BTCUSD",
        "c": "T0ESHzso0banw0QiPFZYgj",
        "S": "SELL",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.00042000",
        "p": "117290.77000000",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "TRADE",
        "X": "FILLED",
        "r": "NONE",
        "i": 2281896601,
        "l": "0.00042000",
        "z": "0.00042000",
        "L": "117290.77000000",
        "n": "0.00492621",
        "N": "USD",
        "T": 1759347763167,
        "t": 88685053,
        "I": 4644480641,
        "w": False,
        "m": False,
        "M": True,
        "O": 1759347763167,
        "Z": "49.26212340",
        "Y": "49.26212340",
        "Q": "0.00000000",
        "W": 1759347763167,
        "V": "EXPIRE_MAKER",
    }
)
ROWS = json.dumps(
    [
        [
            1634943780000 + i * 60_000,
            "60685.22000000",
            "60729.84000000",
            "60670.90000000",
            "60719.27000000",
            "21.63272000",
            1634943839999 + i * 60_000,
            "1313200.01340410",
            617,
            "12.28492000",
            "745719.41022840",
            "0",
        ]
        for i in range(1000)
    ]
)
PARAMS: dict[str, str | int | bool] = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.001",
    "price": "60000.1",
    "recvWindow": 5000,
    "timestamp": 1700000000000,
}


def per_second(fn: Callable[[], object], seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        count += 50
    return count / elapsed


async def per_second_async(fn: Callable[[], Awaitable[object]], seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            await fn()
        count += 20
    return count / elapsed


def row(name: str, value: float, baseline: float, unit: str) -> None:
    print(f"{name:<44} {value:>14,.0f} {unit:<10} baseline {baseline:>14,.0f}  ratio {value / baseline:6.3f}")


async def main() -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    baseline = per_second(lambda: json.loads(EXECUTION))
    row(
        "parse executionReport (events/s)",
        per_second(lambda: parse.user_event(json.loads(EXECUTION))),
        baseline,
        "ev/s",
    )

    baseline = per_second(lambda: json.loads(ROWS), 1.0) * 1000
    value = per_second(lambda: parse.candles_from_rows(json.loads(ROWS), "BTCUSDT", Timeframe.M1, 2**62), 1.0) * 1000
    row("parse kline rows (rows/s)", value, baseline, "rows/s")

    baseline = per_second(lambda: encode_query(PARAMS))
    hmac_signer = HmacSigner("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
    row(
        "HMAC-SHA256 encode+sign (req/s)", per_second(lambda: hmac_signer.sign(encode_query(PARAMS))), baseline, "req/s"
    )
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    ed_signer = Ed25519Signer.from_pem(pem)
    row("Ed25519 encode+sign (req/s)", per_second(lambda: ed_signer.sign(encode_query(PARAMS))), baseline, "req/s")

    budget = LocalRateBudget([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 10**12)], utilization=1.0)
    baseline = await per_second_async(lambda: asyncio.sleep(0))
    row("LocalRateBudget.acquire (calls/s)", await per_second_async(lambda: budget.acquire(1)), baseline, "calls/s")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/time"):
            return httpx.Response(200, json={"serverTime": int(time.time() * 1000)})
        return httpx.Response(200, json={"balances": []}, headers={"X-MBX-USED-WEIGHT-1M": "1"})

    transport = httpx.MockTransport(handler)
    bare = httpx.AsyncClient(base_url="http://127.0.0.1:1", transport=transport)
    client = BinanceRestClient(
        BinanceEndpoints.local(1),
        Credentials.hmac("key", "secret"),
        transport=transport,
        budget=LocalRateBudget([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 10**12)]),
    )

    async def bare_call() -> Any:
        return (await bare.get("/api/v3/account", params=PARAMS)).json()

    baseline = await per_second_async(bare_call, 1.0)
    value = await per_second_async(lambda: client.request("GET", "/api/v3/account", signed=True), 1.0)
    row("signed REST call overhead (calls/s)", value, baseline, "calls/s")
    await bare.aclose()
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
