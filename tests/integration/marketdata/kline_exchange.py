"""A scripted kline exchange: REST ``/api/v3/klines`` + ``/api/v3/time`` over HTTP and a combined
kline stream over WebSocket, sharing one hand-moved clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from websockets.asyncio.server import ServerConnection

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.ports.clock import ManualClock
from tests.integration.binance.localserver import HttpServer, Reply, Request, WsServer

M = 60_000
T0 = 1_700_000_040_000  # aligned to the minute
SYMBOL = "BTCUSDT"


def price(i: int, source: str) -> str:
    """REST and WS give different closes for the same candle so tests can tell who delivered it."""
    return str(Decimal(100 + i) + (Decimal("0.5") if source == "rest" else 0))


def rest_row(i: int) -> list[Any]:
    p = price(i, "rest")
    return [T0 + i * M, p, p, p, p, "1.0", T0 + (i + 1) * M - 1, "100", 5, "0.5", "50", "0"]


def ws_frame(i: int, closed: bool, symbol: str = SYMBOL, interval: str = "1m") -> str:
    p = price(i, "ws")
    return json.dumps(
        {
            "stream": f"{symbol.lower()}@kline_{interval}",
            "data": {
                "e": "kline",
                "E": T0 + i * M + 1,
                "s": symbol,
                "k": {
                    "t": T0 + i * M,
                    "T": T0 + (i + 1) * M - 1,
                    "s": symbol,
                    "i": interval,
                    "f": 1,
                    "L": 2,
                    "o": p,
                    "c": p,
                    "h": p,
                    "l": p,
                    "v": "1.0",
                    "n": 5,
                    "x": closed,
                    "q": "100",
                    "V": "0.5",
                    "Q": "50",
                    "B": "0",
                },
            },
        }
    )


Script = Callable[["KlineExchange", ServerConnection, int], Awaitable[None]]


class KlineExchange:
    def __init__(self, script: Script, start_index: float) -> None:
        self.clock = ManualClock(int(T0 + start_index * M))
        self.script = script
        self.missing: set[int] = set()  # candles the exchange itself lacks (outage)
        self.http = HttpServer(self._route)
        self.ws = WsServer(self._ws)
        self.kline_requests = 0
        self.time_requests = 0

    async def wait_kline_requests(self, count: int) -> None:
        """Let the client finish its REST backfill before the script moves on (no timing races)."""
        async with asyncio.timeout(5):
            while self.kline_requests < count:
                await asyncio.sleep(0.005)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not predicate():
                await asyncio.sleep(0.005)

    def at(self, index: float) -> None:
        self.clock.set(int(T0 + index * M))

    async def __aenter__(self) -> KlineExchange:
        await self.http.__aenter__()
        await self.ws.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.__aexit__(*exc)
        await self.http.__aexit__(*exc)

    @property
    def endpoints(self) -> BinanceEndpoints:
        return BinanceEndpoints(
            rest=self.http.url,
            ws=self.ws.url,
            ws_api=self.ws.url + "/ws-api/v3",
            fapi_rest=self.http.url,
            fapi_ws=self.ws.url,
            name="test",
        )

    def _route(self, request: Request) -> Reply:
        if request.path in ("/api/v3/time", "/fapi/v1/time"):
            self.time_requests += 1
            return Reply(body={"serverTime": self.clock.now_ms()})
        if request.path in ("/api/v3/klines", "/fapi/v1/klines"):
            self.kline_requests += 1
            start = int(request.query["startTime"])
            limit = int(request.query.get("limit", 500))
            first = max(0, (start - T0 + M - 1) // M)
            current = (self.clock.now_ms() - T0) // M  # the open candle is included, as on Binance
            rows = [rest_row(i) for i in range(first, current + 1) if i not in self.missing]
            return Reply(body=rows[:limit])
        return Reply(404, {"code": -1000, "msg": "no route"})

    async def _ws(self, connection: ServerConnection) -> None:
        await self.script(self, connection, self.ws.connections)
