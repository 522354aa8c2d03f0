"""USD-M: fills of a triggered algo order are attributed to our algo client id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import LocalRateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.user_stream import UserDataStream
from ictbot.adapters.binance.venue import BinanceFuturesVenue
from ictbot.domain.market import Market
from ictbot.domain.order import OrderStatus
from ictbot.ports.venue import VenueOrderReport
from tests.conftest import FIXTURES, require_shared


class ScriptedStream(UserDataStream):
    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__()
        self.events = events

    async def updates(self) -> AsyncIterator[VenueOrderReport]:
        for event in self.events:
            report = parse.user_event(event)
            if report is not None:
                yield report


def load(rel: str) -> Any:
    return json.loads(require_shared(FIXTURES / rel).read_text())["data"]


async def test_triggered_order_fills_are_relabelled_with_the_algo_client_id() -> None:
    triggered = load("futures/ws/algo_update_triggered_dogeusdt_20251211.real.json")
    fill: dict[str, Any] = {
        "e": "ORDER_TRADE_UPDATE",
        "T": 5,
        "E": 6,
        "o": {
            "s": "DOGEUSDT",
            "c": "autoclose-binance-own-id",
            "S": "BUY",
            "o": "MARKET",
            "f": "GTC",
            "q": "38",
            "p": "0",
            "ap": "0.13856",
            "x": "TRADE",
            "X": "FILLED",
            "i": 88937381063,
            "l": "38",
            "z": "38",
            "L": "0.13856",
            "n": "0.002",
            "N": "USDT",
            "T": 5,
            "t": 991,
            "m": False,
            "R": False,
        },
    }
    other: dict[str, Any] = {**fill, "o": {**fill["o"], "i": 123, "c": "someone-else"}}
    client = BinanceRestClient(BinanceEndpoints.local(1), market=Market.USDM, budget=LocalRateBudget())
    venue = BinanceFuturesVenue(client, ScriptedStream([triggered, fill, other]))
    reports = [r async for r in venue.order_updates()]
    await client.aclose()
    caid = triggered["o"]["caid"]
    assert [r.client_order_id for r in reports] == [caid, caid, "someone-else"]
    assert reports[1].status is OrderStatus.FILLED and reports[1].fills[0].client_order_id == caid
    assert reports[1].fills[0].qty == Decimal("38")
