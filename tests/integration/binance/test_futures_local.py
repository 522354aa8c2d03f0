"""USD-M venue and listenKey user stream against a local exchange (real sockets)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from websockets.asyncio.server import ServerConnection

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import DEFAULT_USDM_RULES, LocalRateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials
from ictbot.adapters.binance.user_stream import FuturesUserDataStream
from ictbot.adapters.binance.venue import BinanceFuturesVenue
from ictbot.adapters.binance.wsconn import Backoff
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderSide, OrderStatus, OrderType
from tests.integration.binance.fake_spot import FakeSpot, err
from tests.integration.binance.localserver import HttpServer, Reply, Request, WsServer

KEY = "FapiKey0123456789"
SECRET = "FapiSecret-0123456789"


class FakeFutures:
    def __init__(self) -> None:
        self.auth = FakeSpot(api_key=KEY, hmac_secret=SECRET)
        self.orders: dict[str, dict[str, Any]] = {}
        self.algo: dict[str, dict[str, Any]] = {}
        self.margin_type = "CROSSED"
        self.listen_keys = 0
        self.keepalives = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def route(self, request: Request) -> Reply:
        path, method, q = request.path, request.method, request.query
        self.requests.append((method, path, q))
        if path == "/fapi/v1/time":
            return Reply(body={"serverTime": self.auth.now()})
        if path == "/fapi/v1/listenKey":
            if request.headers.get("x-mbx-apikey") != KEY:
                return err(401, -2015, "Invalid API-key")
            if method == "POST":
                self.listen_keys += 1
                return Reply(body={"listenKey": f"lk{self.listen_keys}"})
            self.keepalives += 1
            return Reply(body={})
        denied = self.auth._auth(request)
        if denied is not None:
            return denied
        if path == "/fapi/v1/order" and method == "POST":
            order = {
                "orderId": len(self.orders) + 1,
                "symbol": q["symbol"],
                "status": "NEW",
                "clientOrderId": q["newClientOrderId"],
                "price": q.get("price", "0"),
                "avgPrice": "0",
                "origQty": q["quantity"],
                "executedQty": "0",
                "cumQuote": "0",
                "timeInForce": "GTC",
                "type": q["type"],
                "reduceOnly": q.get("reduceOnly") == "true",
                "side": q["side"],
                "updateTime": 1,
            }
            if q["type"] == "MARKET":
                order.update(status="FILLED", executedQty=q["quantity"], avgPrice="100", cumQuote="50")
            self.orders[q["newClientOrderId"]] = order
            return Reply(body=order)
        if path == "/fapi/v1/order":
            found = self.orders.get(q.get("origClientOrderId", ""))
            if found is None:
                return (
                    err(400, -2013, "Order does not exist.")
                    if method == "GET"
                    else err(400, -2011, "Unknown order sent.")
                )
            if method == "DELETE":
                found["status"] = "CANCELED"
            return Reply(body=found)
        if path == "/fapi/v1/algoOrder":
            if method == "POST":
                algo = {
                    "algoId": 900 + len(self.algo),
                    "clientAlgoId": q["clientAlgoId"],
                    "algoType": "CONDITIONAL",
                    "orderType": q["type"],
                    "symbol": q["symbol"],
                    "side": q["side"],
                    "quantity": q["quantity"],
                    "algoStatus": "NEW",
                    "triggerPrice": q["triggerPrice"],
                    "createTime": 1,
                    "updateTime": 1,
                    "reduceOnly": q.get("reduceOnly") == "true",
                }
                self.algo[q["clientAlgoId"]] = algo
                return Reply(body=algo)
            known = self.algo.get(q.get("clientAlgoId", ""))
            if known is None:
                return err(400, -2013, "Order does not exist.")
            if method == "DELETE":
                known["algoStatus"] = "CANCELED"
            return Reply(body=known)
        if path == "/fapi/v1/openOrders":
            return Reply(body=[o for o in self.orders.values() if o["status"] == "NEW"])
        if path == "/fapi/v1/openAlgoOrders":
            return Reply(body=[a for a in self.algo.values() if a["algoStatus"] == "NEW"])
        if path == "/fapi/v1/leverage":
            return Reply(body={"leverage": int(q["leverage"]), "maxNotionalValue": "1000000", "symbol": q["symbol"]})
        if path == "/fapi/v1/marginType":
            if q["marginType"] == self.margin_type:
                return err(400, -4046, "No need to change margin type.")
            self.margin_type = q["marginType"]
            return Reply(body={"code": 200, "msg": "success"})
        if path == "/fapi/v3/positionRisk":
            return Reply(
                body=[
                    {
                        "symbol": "BTCUSDT",
                        "positionAmt": "-0.5",
                        "entryPrice": "100",
                        "unRealizedProfit": "1.5",
                        "positionSide": "BOTH",
                    },
                    {"symbol": "ETHUSDT", "positionAmt": "0", "entryPrice": "0", "positionSide": "BOTH"},
                ]
            )
        if path == "/fapi/v3/account":
            return Reply(body={"assets": [{"asset": "USDT", "walletBalance": "100", "availableBalance": "80"}]})
        return err(404, -1000, "no route")


def order(kind: OrderType, cid: str, **kw: Any) -> Order:
    return Order(
        client_order_id=cid,
        symbol="BTCUSDT",
        side=OrderSide.SELL,
        type=kind,
        quantity=Decimal("0.5"),
        created_at=0,
        market=Market.USDM,
        **kw,
    )


async def test_futures_venue_orders_algo_orders_and_account() -> None:
    fake = FakeFutures()
    async with HttpServer(fake.route) as server:
        client = BinanceRestClient(
            BinanceEndpoints.local(server.port),
            Credentials.hmac(KEY, SECRET),
            market=Market.USDM,
            budget=LocalRateBudget(DEFAULT_USDM_RULES),
        )
        venue = BinanceFuturesVenue(client)
        filled = await venue.place_order(order(OrderType.MARKET, "ict-f-E0"))
        assert filled.status is OrderStatus.FILLED and filled.cumulative_quote == Decimal("50")
        limit = await venue.place_order(order(OrderType.LIMIT, "ict-f-T0", price=Decimal("120"), reduce_only=True))
        assert limit.status is OrderStatus.NEW
        assert fake.requests[-1][2]["reduceOnly"] == "true"
        stop = await venue.place_order(
            order(OrderType.STOP_MARKET, "ict-f-S0", stop_price=Decimal("110"), reduce_only=True)
        )
        assert stop.exchange_order_id == "algo:900" and stop.status is OrderStatus.NEW
        method, path, params = fake.requests[-1]
        assert (method, path, params["algoType"], params["triggerPrice"]) == (
            "POST",
            "/fapi/v1/algoOrder",
            "CONDITIONAL",
            "110",
        )
        assert {r.client_order_id for r in await venue.open_orders("BTCUSDT")} == {"ict-f-T0", "ict-f-S0"}
        queried = await venue.query_order("BTCUSDT", "ict-f-S0")  # falls through to the algo endpoint
        assert queried is not None and queried.client_order_id == "ict-f-S0"
        assert await venue.query_order("BTCUSDT", "unknown") is None
        canceled = await venue.cancel_order("BTCUSDT", "ict-f-S0")
        assert canceled.status is OrderStatus.CANCELED and fake.algo["ict-f-S0"]["algoStatus"] == "CANCELED"
        assert await venue.set_leverage("BTCUSDT", 5) == 5
        await venue.set_margin_type("BTCUSDT", "ISOLATED")
        await venue.set_margin_type("BTCUSDT", "ISOLATED")  # -4046 "no need to change" is success
        positions = await venue.positions()
        assert [(p.symbol, p.qty, p.unrealized_pnl) for p in positions] == [
            ("BTCUSDT", Decimal("-0.5"), Decimal("1.5"))
        ]
        balances = await venue.balances()
        assert balances["USDT"].free == Decimal("80") and balances["USDT"].locked == Decimal("20")
        await client.aclose()


def order_update(cid: str, x: str, status: str) -> dict[str, Any]:
    return {
        "e": "ORDER_TRADE_UPDATE",
        "T": 5,
        "E": 6,
        "o": {
            "s": "BTCUSDT",
            "c": cid,
            "S": "SELL",
            "o": "MARKET",
            "f": "GTC",
            "q": "0.5",
            "p": "0",
            "ap": "100",
            "sp": "0",
            "x": x,
            "X": status,
            "i": 1,
            "l": "0.5",
            "z": "0.5",
            "L": "100",
            "n": "0.02",
            "N": "USDT",
            "T": 5,
            "t": 77,
            "m": False,
            "R": False,
            "rp": "0",
        },
    }


async def test_listen_key_stream_reports_and_recreates_key_on_expiry() -> None:
    fake = FakeFutures()

    async def ws_handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path.endswith("/lk1"):
            await ws.send(json.dumps(order_update("ict-f-E0", "TRADE", "FILLED")))
            await ws.send(json.dumps({"e": "listenKeyExpired", "E": 7, "listenKey": "lk1"}))
        else:
            await ws.send(
                json.dumps(
                    {
                        "e": "ALGO_UPDATE",
                        "T": 8,
                        "E": 9,
                        "o": {
                            "caid": "ict-f-S0",
                            "aid": 900,
                            "o": "STOP_MARKET",
                            "s": "BTCUSDT",
                            "S": "SELL",
                            "q": "0.5",
                            "X": "CANCELED",
                        },
                    }
                )
            )
        await ws.wait_closed()

    async with HttpServer(fake.route) as http, WsServer(ws_handler) as wss:
        endpoints = BinanceEndpoints(rest=http.url, ws=wss.url, ws_api=wss.url, fapi_rest=http.url, fapi_ws=wss.url)
        client = BinanceRestClient(
            endpoints, Credentials.hmac(KEY, SECRET), market=Market.USDM, budget=LocalRateBudget(DEFAULT_USDM_RULES)
        )
        stream = FuturesUserDataStream(client, keepalive_s=0.0, backoff=Backoff(0.01, 0.02))
        reports = []
        async with asyncio.timeout(5):
            async for report in stream.updates():
                reports.append(report)
                if len(reports) == 2:
                    break
        await stream.stop()
        await client.aclose()
    assert [(r.client_order_id, r.status) for r in reports] == [
        ("ict-f-E0", OrderStatus.FILLED),
        ("ict-f-S0", OrderStatus.CANCELED),
    ]
    assert reports[0].fills[0].trade_id == "77" and reports[0].fills[0].fee == Decimal("0.02")
    assert fake.listen_keys == 2 and wss.paths[:2] == ["/private/ws/lk1", "/private/ws/lk2"]
    assert fake.keepalives >= 1
