"""Raw HTTP against the simulator, payloads compared with the recorded Binance fixtures.

Comparison: same field names (fixture ⊆ response, nothing unknown added) and the same JSON
types per field; decimals are strings with 8 places on spot. The ``real-ccxt`` fixtures store
integers as strings (PROVENANCE.md), so their types are not compared.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx

from ictbot.exchange_sim import SimulatorServer
from tests.conftest import FIXTURES, require_shared
from tests.integration.exchange_sim.conftest import call

SPOT_DECIMAL = re.compile(r"^-?\d+\.\d{8}$")
CONDITIONAL = {
    "expiryReason",
    "stopPrice",
    "icebergQty",
    "fills",
    "preventedMatchId",
    "preventedQuantity",
    "usedSor",
    "workingFloor",
    "trailingDelta",
    "trailingTime",
    "strategyId",
    "strategyType",
    "v",
    "eR",
    "activatePrice",
    "priceRate",
    "AP",
    "cr",
}  # trailing-stop only


def fixture(path: str) -> Any:
    file = FIXTURES / path
    require_shared(file)
    data = json.loads(Path(file).read_text())
    if isinstance(data, dict) and set(data) == {"stream", "data"} and path.endswith(("real.json", "synthetic.json")):
        return data["data"]
    return data


def same_shape(actual: Any, expected: Any, where: str = "$", compare_types: bool = True) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected object, got {type(actual).__name__}"
        missing = set(expected) - set(actual) - CONDITIONAL
        extra = set(actual) - set(expected) - CONDITIONAL
        assert not missing, f"{where}: missing fields {sorted(missing)}"
        assert not extra, f"{where}: unknown fields {sorted(extra)}"
        for key in set(expected) & set(actual):
            same_shape(actual[key], expected[key], f"{where}.{key}", compare_types)
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        if expected and actual:
            same_shape(actual[0], expected[0], f"{where}[0]", compare_types)
    elif compare_types and expected is not None and actual is not None:
        assert type(actual) is type(expected), f"{where}: {type(actual).__name__} != {type(expected).__name__}"


async def test_exchange_info_matches_the_real_snapshot_layout(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    real = fixture("spot/rest/exchange_info_btcusdt_ethusdt_20211022.real.json")
    info = (await client.get("/api/v3/exchangeInfo")).json()
    assert set(real) <= set(info)
    same_shape(info["rateLimits"][0], real["rateLimits"][0])
    symbol = info["symbols"][0]
    real_symbol = real["symbols"][0]
    assert set(real_symbol) - {"isMarginTradingAllowed", "permissions", "quotePrecision"} <= set(symbol)
    filters = {f["filterType"]: f for f in symbol["filters"]}
    real_filters = {f["filterType"]: f for f in real_symbol["filters"]}
    for name in ("PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "ICEBERG_PARTS"):
        same_shape(filters[name], real_filters[name])
    for name in ("NOTIONAL", "PERCENT_PRICE_BY_SIDE", "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS"):
        same_shape(filters[name], fixture(f"spot/rest/exchange_info_filter_{name}.docs.json"))
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    one = (await client.get("/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"})).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    bad = await client.get("/api/v3/exchangeInfo", params={"symbol": "NOPE"})
    assert bad.status_code == 400 and bad.json() == fixture("spot/rest/error_-1121_invalid_symbol.docs.json")


async def test_market_data_payloads(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    klines = (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 5})).json()
    real_row = fixture("spot/rest/klines_btcusdt_1m_20211022.real.json")[0]
    assert len(klines) == 5 and [type(v) for v in klines[0]] == [type(v) for v in real_row]
    assert all(SPOT_DECIMAL.match(v) for v in klines[0][1:6])
    assert klines[-1][6] == klines[-1][0] + 59_999
    server_time = (await client.get("/api/v3/time")).json()
    same_shape(server_time, fixture("spot/rest/server_time_20211010.real.json"))
    assert klines[-1][0] < server_time["serverTime"]
    same_shape(
        (await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5})).json(),
        fixture("spot/rest/depth_btcusdt_20211022.real.json"),
    )
    ticker = (await client.get("/api/v3/ticker/bookTicker", params={"symbol": "BTCUSDT"})).json()
    same_shape(ticker, fixture("spot/rest/book_ticker_btcusdt_20211022.real.json"))
    assert D(ticker["askPrice"]) > D(ticker["bidPrice"])
    same_shape(
        (await client.get("/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"})).json(),
        fixture("spot/rest/ticker_24hr_btcusdt_20211022.real.json"),
    )
    same_shape(
        (await client.get("/api/v3/ticker/price", params={"symbol": "BTCUSDT"})).json(),
        fixture("spot/rest/ticker_price_btcusdt_20211022.real.json"),
    )
    response = await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "7m"})
    assert response.json() == {"code": -1120, "msg": "Invalid interval."}


async def test_order_lifecycle_payloads(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    full = (
        await call(
            client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01000"
        )
    ).json()
    same_shape(full, fixture("spot/rest/new_order_full.docs.json"))
    assert full["status"] == "FILLED" and SPOT_DECIMAL.match(full["fills"][0]["commission"])
    price = D(full["fills"][0]["price"]) - 500
    ack = (
        await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.01000",
            price=f"{price:.2f}",
            newClientOrderId="lim-1",
            newOrderRespType="ACK",
        )
    ).json()
    same_shape(ack, fixture("spot/rest/new_order_ack.docs.json"))
    result = (
        await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.01000",
            price=f"{price:.2f}",
            newOrderRespType="RESULT",
        )
    ).json()
    same_shape(result, fixture("spot/rest/new_order_result.docs.json"))
    queried = (await call(client, sim, "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="lim-1")).json()
    same_shape(queried, fixture("spot/rest/query_order.docs.json"))
    same_shape(
        queried, fixture("spot/rest/query_order_ltcusdt_market_filled_20230323.real-ccxt.json"), compare_types=False
    )
    opened = (await call(client, sim, "GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert len(opened) == 2
    same_shape(opened, fixture("spot/rest/open_orders.docs.json"))
    canceled = (
        await call(
            client,
            sim,
            "DELETE",
            "/api/v3/order",
            symbol="BTCUSDT",
            origClientOrderId="lim-1",
            newClientOrderId="cxl-1",
        )
    ).json()
    same_shape(canceled, fixture("spot/rest/cancel_order.docs.json"))
    assert (canceled["origClientOrderId"], canceled["clientOrderId"], canceled["status"]) == (
        "lim-1",
        "cxl-1",
        "CANCELED",
    )
    trades = (await call(client, sim, "GET", "/api/v3/myTrades", symbol="BTCUSDT")).json()
    same_shape(trades, fixture("spot/rest/my_trades.docs.json"))
    all_orders = (await call(client, sim, "GET", "/api/v3/allOrders", symbol="BTCUSDT")).json()
    assert [o["status"] for o in all_orders] == ["FILLED", "CANCELED", "NEW"]
    account = (await call(client, sim, "GET", "/api/v3/account")).json()
    same_shape(account, fixture("spot/rest/account.docs.json"))
    balances = {b["asset"]: b for b in account["balances"]}
    assert D(balances["USDT"]["locked"]) == D(result["origQty"]) * D(result["price"])
    cancel_all = (await call(client, sim, "DELETE", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert [o["status"] for o in cancel_all] == ["CANCELED"]


async def test_oco_payloads(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    await call(client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.02000")
    last = D((await client.get("/api/v3/ticker/price", params={"symbol": "BTCUSDT"})).json()["price"])
    response = await call(
        client,
        sim,
        "POST",
        "/api/v3/orderList/oco",
        symbol="BTCUSDT",
        side="SELL",
        quantity="0.01000",
        aboveType="LIMIT_MAKER",
        abovePrice=f"{last + 800:.2f}",
        belowType="STOP_LOSS_LIMIT",
        belowStopPrice=f"{last - 800:.2f}",
        belowPrice=f"{last - 850:.2f}",
        belowTimeInForce="GTC",
        listClientOrderId="oco-1",
    )
    body = response.json()
    assert response.status_code == 200, body
    same_shape(body, fixture("spot/rest/order_list_oco_new.docs.json"))
    assert body["listClientOrderId"] == "oco-1" and len(body["orderReports"]) == 2
    canceled = (
        await call(client, sim, "DELETE", "/api/v3/orderList", symbol="BTCUSDT", listClientOrderId="oco-1")
    ).json()
    assert canceled["listOrderStatus"] == "ALL_DONE"
    assert {r["status"] for r in canceled["orderReports"]} == {"CANCELED"}


async def test_errors_and_headers(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    bad_lot = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.000015"
    )
    assert (bad_lot.status_code, bad_lot.json()) == (400, {"code": -1013, "msg": "Filter failure: LOT_SIZE"})
    exponent = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1e-05"
    )
    assert exponent.json()["code"] == -1100
    no_key = await client.get("/api/v3/account", params={"timestamp": sim.control.now(), "signature": "0" * 64})
    assert (no_key.status_code, no_key.json()["code"]) == (401, -2014)
    unsigned = await client.get(
        "/api/v3/account", params={"timestamp": sim.control.now()}, headers={"X-MBX-APIKEY": "k"}
    )
    assert unsigned.json()["code"] == -1102
    missing = await call(client, sim, "GET", "/api/v3/order", symbol="BTCUSDT", orderId=999)
    assert missing.json() == {"code": -2013, "msg": "Order does not exist."}
    unknown_cancel = await call(client, sim, "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=999)
    assert unknown_cancel.json() == {"code": -2011, "msg": "Unknown order sent."}
    ok = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00100"
    )
    assert ok.headers["X-MBX-ORDER-COUNT-10S"] == "0" and "X-MBX-ORDER-COUNT-1D" in ok.headers
    weight = int(ok.headers["X-MBX-USED-WEIGHT-1M"])
    info = await client.get("/api/v3/exchangeInfo")
    assert int(info.headers["X-MBX-USED-WEIGHT-1M"]) == weight + 20  # successful orders weigh 0
