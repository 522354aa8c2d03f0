"""Second client as oracle (B14): ccxt's Binance implementation, pointed at the simulator.

ccxt is validated against real Binance by its users; if it can load markets, read candles, place,
query and cancel orders and map the simulator's errors to the right exceptions, the simulator
speaks the protocol, not just our own client's reading of it. Test-only dependency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import pytest

from ictbot.exchange_sim import SimulatorServer
from ictbot.instruments import default_catalogue

ccxt = pytest.importorskip("ccxt.async_support")
ccxt_pro = pytest.importorskip("ccxt.pro")

pytestmark = pytest.mark.slow  # process start-ups / the ccxt import dominate


def _point_at(exchange: Any, sim: SimulatorServer) -> None:
    api = exchange.urls["api"]
    for name, url in list(api.items()):
        if isinstance(url, str) and url.startswith("https://"):
            path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
            api[name] = f"{sim.base_url}/{path}"
    if isinstance(api.get("ws"), dict):
        api["ws"]["spot"] = f"{sim.ws_url}/ws"
    exchange.options["fetchMarkets"] = ["spot"]
    exchange.options["fetchCurrencies"] = False
    exchange.options["fetchMargins"] = False
    exchange.options["adjustForTimeDifference"] = False
    original = exchange.get_exceptions_by_url

    def spot_errors(url: str, exact_or_broad: str) -> Any:  # ccxt picks its error table by URL prefix
        if url.startswith(sim.base_url):
            url = "https://api.binance.com/api/v3" + url[len(sim.base_url) + len("/api/v3") :]
        return original(url, exact_or_broad)

    exchange.get_exceptions_by_url = spot_errors


@pytest.fixture
async def exchange(sim: SimulatorServer) -> AsyncIterator[Any]:
    client = ccxt.binance({"apiKey": "ccxtkey", "secret": "ccxtsecret", "enableRateLimit": False})
    _point_at(client, sim)
    client.nonce = lambda: sim.sim.clock.replay_ms  # the bot side runs on replay time (no skew)
    client.milliseconds = lambda: sim.sim.clock.replay_ms
    try:
        yield client
    finally:
        await client.close()


async def test_ccxt_markets_candles_orders_and_errors(sim: SimulatorServer, exchange: Any) -> None:
    markets = await exchange.load_markets()
    market = markets["BTC/USDT"]
    assert market["precision"]["price"] == 0.01 and market["limits"]["amount"]["min"] == 1e-05
    assert market["limits"]["cost"]["min"] == float(default_catalogue().instrument("BTCUSDT").min_notional)
    assert not [p for _, p, _ in sim.sim.request_log if p.startswith(("/sapi", "/fapi", "/dapi"))]

    candles = await exchange.fetch_ohlcv("BTC/USDT", "1m", limit=10)
    assert len(candles) == 10 and candles[1][0] - candles[0][0] == 60_000
    assert candles[-1][4] == float(sim.control.price("BTCUSDT"))

    bought = await exchange.create_order("BTC/USDT", "market", "buy", 0.01)
    assert bought["status"] == "closed" and bought["filled"] == 0.01 and bought["fee"]["currency"] == "BTC"

    price = float((sim.control.price("BTCUSDT") - 1000).quantize(D("0.01")))
    resting = await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, price, {"clientOrderId": "ccxt-1"})
    assert resting["status"] == "open" and resting["clientOrderId"] == "ccxt-1"
    fetched = await exchange.fetch_order(resting["id"], "BTC/USDT")
    assert fetched["price"] == price and fetched["remaining"] == 0.001
    assert [o["id"] for o in await exchange.fetch_open_orders("BTC/USDT")] == [resting["id"]]
    canceled = await exchange.cancel_order(resting["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    trades = await exchange.fetch_my_trades("BTC/USDT")
    assert len(trades) == 1 and trades[0]["side"] == "buy"
    balance = await exchange.fetch_balance()
    assert balance["BTC"]["total"] == pytest.approx(0.00999)

    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("BTC/USDT", "market", "buy", 5)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order("999999", "BTC/USDT")
    with pytest.raises(ccxt.BadRequest, match="Filter failure: PERCENT_PRICE_BY_SIDE"):  # ccxt maps -1013 so
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.00001, 1000.0)
    sim.control.set_skew_ms(20_000)  # beyond ccxt's default recvWindow of 10 s
    with pytest.raises(ccxt.InvalidNonce):  # -1021
        await exchange.fetch_balance()
    sim.control.set_skew_ms(0)
    sim.control.force_rate_limit(1)
    with pytest.raises((ccxt.RateLimitExceeded, ccxt.DDoSProtection)):
        await exchange.fetch_ticker("BTC/USDT")


async def test_ccxt_pro_watch_ohlcv_over_live_subscribe(sim: SimulatorServer) -> None:
    client = ccxt_pro.binance({"enableRateLimit": False})
    _point_at(client, sim)
    client.urls["api"]["ws"]["spot"] = f"{sim.ws_url}/ws"
    try:
        await client.load_markets()
        watching = asyncio.create_task(client.watch_ohlcv("BTC/USDT", "1m"))  # live SUBSCRIBE
        for _ in range(200):
            if sim.sim.hub.wants("spot-market", "btcusdt@kline_1m"):
                break
            await asyncio.sleep(0.01)
        await sim.control.step(1)
        candles = await asyncio.wait_for(watching, 5)
        rest = await client.fetch_ohlcv("BTC/USDT", "1m", limit=2)
        assert candles[-1][0] in (rest[-1][0], rest[-2][0])
        assert candles[-1][1:5] == next(r for r in rest if r[0] == candles[-1][0])[1:5]
    finally:
        await client.close()
