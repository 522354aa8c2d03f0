"""B15 #18, USD-M: leverage/marginType, reduceOnly exit, algo stop, funding ACCOUNT_UPDATE, listenKey."""

from __future__ import annotations

import json
from decimal import Decimal as D

import httpx
import websockets

from ictbot.exchange_sim import SimulatorServer
from tests.integration.exchange_sim.conftest import KEY, call, scripted_config
from tests.integration.exchange_sim.test_rest_payloads import fixture, same_shape
from tests.integration.exchange_sim.test_streams import drain


async def test_futures_flow_over_rest_and_listen_key_stream() -> None:
    rows = (
        [(50_000, 50_100, 49_900, 50_050, 5)] * 3
        + [(50_050, 50_060, 48_000, 48_100, 5)]
        + [(48_100, 48_200, 48_000, 48_100, 5)] * 500
    )
    config = scripted_config(rows, funding_interval_ms=60 * 60_000)
    async with SimulatorServer(config) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
        info = (await client.get("/fapi/v1/exchangeInfo")).json()
        real = fixture("futures/rest/exchange_info_btcusdt_ethusdt_btcusdt220325_20220219.real.json")
        assert set(real["symbols"][0]) <= set(info["symbols"][0])
        assert {f["filterType"] for f in info["symbols"][0]["filters"]} >= {"PRICE_FILTER", "LOT_SIZE", "MIN_NOTIONAL"}
        assert (await call(client, sim, "POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=5)).json()[
            "leverage"
        ] == 5
        assert (await call(client, sim, "POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="CROSSED")).json()[
            "code"
        ] == -4046
        key = (await client.post("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": KEY})).json()["listenKey"]
        async with websockets.connect(f"{sim.futures_ws_url}/private/ws/{key}") as user:
            opened = (
                await call(
                    client, sim, "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.100"
                )
            ).json()
            assert opened["status"] == "FILLED"
            same_shape(opened, fixture("futures/rest/new_order.docs.json"))
            refused = await call(
                client,
                sim,
                "POST",
                "/fapi/v1/order",
                symbol="BTCUSDT",
                side="BUY",
                type="STOP_MARKET",
                quantity="0.100",
                stopPrice="49000",
            )
            assert refused.json()["code"] == -4120
            algo = (
                await call(
                    client,
                    sim,
                    "POST",
                    "/fapi/v1/algoOrder",
                    algoType="CONDITIONAL",
                    symbol="BTCUSDT",
                    side="SELL",
                    type="STOP_MARKET",
                    triggerPrice="49000",
                    closePosition="true",
                    clientAlgoId="sl-1",
                )
            ).json()
            same_shape(algo, fixture("futures/rest/new_algo_order.docs-derived.json"))
            assert algo["algoStatus"] == "NEW"
            await sim.control.step(4)  # the 4th candle falls through the trigger
            frames = await drain(user)
            risk = (await call(client, sim, "GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")).json()
        events = [f["e"] for f in frames]
        assert events[:2] == ["ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE"] and "ACCOUNT_UPDATE" in events
        assert [f["o"]["X"] for f in frames if f["e"] == "ALGO_UPDATE"] == [
            "NEW",
            "TRIGGERING",
            "TRIGGERED",
            "FINISHED",
        ]
        trade = next(
            f
            for f in frames
            if f["e"] == "ORDER_TRADE_UPDATE" and f["o"]["X"] == "FILLED" and f["o"]["ot"] == "STOP_MARKET"
        )
        same_shape(trade, fixture("futures/ws/order_trade_update_new_solusdt_20260521.real.json"))  # 2026 layout
        assert D(trade["o"]["rp"]) < 0  # the stop closed the long at a loss
        same_shape(
            next(f for f in frames if f["e"] == "ALGO_UPDATE" and f["o"]["X"] == "TRIGGERED"),
            fixture("futures/ws/algo_update_triggered_dogeusdt_20251211.real.json"),
        )
        assert D(risk[0]["positionAmt"]) == 0
        reduce = await call(
            client,
            sim,
            "POST",
            "/fapi/v1/order",
            symbol="BTCUSDT",
            side="SELL",
            type="MARKET",
            quantity="0.100",
            reduceOnly="true",
        )
        assert reduce.json() == {"code": -2022, "msg": "ReduceOnly Order is rejected."}


async def test_funding_fee_and_listen_key_expiry() -> None:
    rows = [(50_000, 50_100, 49_900, 50_000, 5)] * 200
    config = scripted_config(rows, funding_interval_ms=60 * 60_000, listen_key_ttl_ms=90 * 60_000)
    async with SimulatorServer(config) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
        key = (await client.post("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": KEY})).json()["listenKey"]
        async with websockets.connect(f"{sim.futures_ws_url}/ws/{key}") as user:
            await call(
                client, sim, "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010"
            )
            await drain(user, 0.1)
            wallet_before = sim.control.futures_wallet(KEY)["USDT"]
            await sim.control.step(60)  # crosses the hourly funding time
            frames = await drain(user)
            funding = [f for f in frames if f["e"] == "ACCOUNT_UPDATE" and f["a"]["m"] == "FUNDING_FEE"]
            assert len(funding) == 1
            assert D(funding[0]["a"]["B"][0]["wb"]) == sim.control.futures_wallet(KEY)["USDT"] < wallet_before
            same_shape(funding[0], fixture("futures/ws/account_update.docs.json"))
            await sim.control.step(40)  # past the 90-minute listenKey validity
            expired = [f for f in await drain(user) if f.get("e") == "listenKeyExpired"]
            assert len(expired) == 1
        keepalive = await client.put("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": KEY})
        assert keepalive.json()["code"] == -1125
        premium = (await client.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
        same_shape(premium, fixture("futures/rest/premium_index.docs.json"))
        market = json.loads(json.dumps(premium))
        assert market["nextFundingTime"] > sim.control.now()
