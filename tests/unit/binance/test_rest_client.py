"""REST client behaviour against ``httpx.MockTransport`` (pure parsing / error mapping / retry rules)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import LimitKind, LocalRateBudget, RateLimitRule
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials
from ictbot.adapters.binance.timesync import ServerTime
from ictbot.domain.errors import (
    DuplicateOrderError,
    NetworkError,
    RateLimitedError,
    TimestampError,
)
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.clock import ManualClock

SECRET = "s3cr3t-NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN"
API_KEY = "KEYvmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0M"


def make(
    handler: Callable[[httpx.Request], httpx.Response], market: Market = Market.SPOT, clock: ManualClock | None = None
) -> tuple[BinanceRestClient, LocalRateBudget]:
    clock = clock or ManualClock(1_700_000_000_000)
    budget = LocalRateBudget([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 1000)], clock=clock, utilization=1.0)
    client = BinanceRestClient(
        BinanceEndpoints.local(1),
        Credentials.hmac(API_KEY, SECRET),
        market=market,
        budget=budget,
        server_time=ServerTime(clock),
        transport=httpx.MockTransport(handler),
    )
    return client, budget


def time_reply(request: httpx.Request, server_ms: int = 1_700_000_000_500) -> httpx.Response | None:
    if request.url.path.endswith("/time"):
        return httpx.Response(200, json={"serverTime": server_ms})
    return None


async def test_signed_request_has_key_header_timestamp_and_signature() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return time_reply(request) or httpx.Response(200, json={"balances": []}, headers={"X-MBX-USED-WEIGHT-1M": "42"})

    client, budget = make(handler)
    await client.request("GET", "/api/v3/account", signed=True, weight=20)
    order = seen[-1]
    assert order.headers["X-MBX-APIKEY"] == API_KEY
    query = order.url.query.decode()
    assert "recvWindow=5000" in query and "timestamp=1700000000500" in query  # offset applied
    assert "&signature=" in query and SECRET not in query
    assert budget.used(LimitKind.REQUEST_WEIGHT, 60_000) == 42
    await client.aclose()


async def test_minus_1021_resyncs_time_and_retries_once_even_for_orders() -> None:
    calls = {"order": 0, "time": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/time"):
            calls["time"] += 1
            return httpx.Response(200, json={"serverTime": 1_700_000_003_000})
        calls["order"] += 1
        if calls["order"] == 1:
            return httpx.Response(
                400, json={"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
            )
        return httpx.Response(200, json={"orderId": 1, "clientOrderId": "a", "symbol": "BTCUSDT", "status": "NEW"})

    client, _ = make(handler)
    body = await client.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True, orders=1)
    assert body["orderId"] == 1 and calls == {"order": 2, "time": 2}


async def test_persistent_minus_1021_surfaces() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return time_reply(request) or httpx.Response(400, json={"code": -1021, "msg": "Timestamp ahead"})

    client, _ = make(handler)
    with pytest.raises(TimestampError):
        await client.request("POST", "/api/v3/order", {}, signed=True)


async def test_order_create_5xx_is_unknown_outcome_and_not_resent() -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if (reply := time_reply(request)) is not None:
            return reply
        posts += 1
        return httpx.Response(503, text="Service Unavailable")

    client, _ = make(handler)
    with pytest.raises(NetworkError):
        await client.request("POST", "/api/v3/order", {"symbol": "X"}, signed=True, orders=1)
    assert posts == 1


async def test_get_is_retried_on_5xx() -> None:
    gets = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal gets
        gets += 1
        return httpx.Response(502) if gets < 3 else httpx.Response(200, json={"ok": True})

    client, _ = make(handler)
    assert await client.request("GET", "/api/v3/ping") == {"ok": True}
    assert gets == 3


async def test_connection_error_is_network_error_without_query() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if (reply := time_reply(request)) is not None:
            return reply
        raise httpx.ConnectError("refused", request=request)

    client, _ = make(handler)
    with pytest.raises(NetworkError) as info:
        await client.request("POST", "/api/v3/order", {"symbol": "X"}, signed=True)
    assert "signature" not in str(info.value) and SECRET not in str(info.value)


async def test_429_pauses_the_shared_budget_for_retry_after() -> None:
    clock = ManualClock(1_700_000_000_000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"code": -1003, "msg": "Too much request weight used"}, headers={"Retry-After": "30"}
        )

    client, budget = make(handler, clock=clock)
    with pytest.raises(RateLimitedError) as info:
        await client.request("POST", "/api/v3/order", {})
    assert info.value.retry_after == 30.0
    start = clock.now_ms()
    await budget.acquire(1)
    assert clock.now_ms() - start >= 30_000


async def test_duplicate_order_error_mapped_from_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return time_reply(request) or httpx.Response(400, json={"code": -2010, "msg": "Duplicate order sent."})

    client, _ = make(handler)
    with pytest.raises(DuplicateOrderError):
        await client.request("POST", "/api/v3/order", {}, signed=True)


async def test_fetch_klines_and_exchange_info_adopt_limits() -> None:
    rows = [
        [0, "1", "2", "0.5", "1.5", "10", 59_999, "15", 3, "5", "7", "0"],
        [60_000, "1.5", "2", "1", "1.8", "4", 119_999, "7", 2, "1", "1", "0"],
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/time"):
            return httpx.Response(200, json={"serverTime": 100_000})
        if request.url.path.endswith("/klines"):
            assert request.url.params["interval"] == "1m" and request.url.params["startTime"] == "0"
            return httpx.Response(200, json=rows)
        return httpx.Response(
            200,
            json={
                "rateLimits": [
                    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}
                ],
                "symbols": [{"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT", "filters": []}],
            },
        )

    client, budget = make(handler, market=Market.USDM, clock=ManualClock(100_000))
    candles = await client.fetch_klines("BTCUSDT", Timeframe.M1, 0)
    assert [c.closed for c in candles] == [True, False] and candles[1].close == Decimal("1.8")
    instruments = await client.instruments()
    assert instruments["BTCUSDT"].market is Market.USDM
    assert budget.rules == (RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 2400),)


async def test_secrets_absent_from_logs_and_errors(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if (reply := time_reply(request)) is not None:
            return reply
        return httpx.Response(401, json={"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})

    client, _ = make(handler)
    with pytest.raises(Exception) as info:
        await client.request("GET", "/api/v3/account", signed=True)
    captured = capsys.readouterr()
    for text in (
        str(info.value),
        repr(info.value),
        repr(client),
        captured.out,
        captured.err,
        caplog.text,
        json.dumps(info.value.args),
    ):
        assert SECRET not in text and API_KEY not in text


async def test_long_ban_is_not_waited_out_silently() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            418,
            json={"code": -1003, "msg": "Way too much request weight used; IP banned"},
            headers={"Retry-After": "7200"},
        )

    client, _ = make(handler)
    with pytest.raises(RateLimitedError) as info:
        await client.request("GET", "/api/v3/depth")
    assert calls == 1 and info.value.retry_after == 7200.0


async def test_timestamp_is_taken_after_waiting_for_the_budget() -> None:
    clock = ManualClock(1_700_000_000_000)
    stamps: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if (reply := time_reply(request, server_ms=clock.now_ms())) is not None:
            return reply
        stamps.append(int(request.url.params["timestamp"]))
        return httpx.Response(200, json={})

    client, budget = make(handler, clock=clock)
    budget.configure([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 20)])
    await client.request("GET", "/api/v3/account", signed=True, weight=20)
    await client.request("GET", "/api/v3/account", signed=True, weight=20)  # waits for the next minute
    assert stamps[1] - stamps[0] >= 60_000 - 1_000
    assert stamps[1] >= clock.now_ms()  # stamped after the wait, not before
