"""``BinanceVenue`` against a signature-checking spot exchange on 127.0.0.1 (real sockets)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import LocalRateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials
from ictbot.adapters.binance.venue import BinanceVenue
from ictbot.domain.errors import AuthenticationError, DuplicateOrderError, NetworkError, OrderNotFoundError
from ictbot.domain.order import Order, OrderSide, OrderStatus, OrderType
from tests.integration.binance.fake_spot import FakeSpot
from tests.integration.binance.localserver import HttpServer

KEY = "LocalApiKey0123456789"
SECRET = "LocalSecret-abcdefghijklmnopqrstuvwxyz"


def market_order(cid: str = "ict-test-E0", qty: str = "0.5") -> Order:
    return Order(
        client_order_id=cid,
        symbol="BTCUSDT",
        side=OrderSide.BUY,
        type=OrderType.MARKET,
        quantity=Decimal(qty),
        created_at=0,
    )


@pytest.fixture
async def spot() -> AsyncIterator[tuple[FakeSpot, BinanceVenue]]:
    fake = FakeSpot(api_key=KEY, hmac_secret=SECRET, skew_ms=2500)
    async with HttpServer(fake.route) as server:
        client = BinanceRestClient(
            BinanceEndpoints.local(server.port), Credentials.hmac(KEY, SECRET), budget=LocalRateBudget(), timeout=2.0
        )
        yield fake, BinanceVenue(client)
        await client.aclose()


async def test_market_order_full_reply_with_fills(spot: tuple[FakeSpot, BinanceVenue]) -> None:
    fake, venue = spot
    report = await venue.place_order(market_order())
    assert report.status is OrderStatus.FILLED and report.executed_qty == Decimal("0.5")
    assert report.fills[0].price == Decimal("100") and report.fills[0].client_order_id == "ict-test-E0"
    assert fake.signature_checks == 1
    assert abs(venue.client.server_time.offset_ms - 2500) < 1000  # synced to the skewed server clock


async def test_duplicate_open_order_and_cancel_flow(spot: tuple[FakeSpot, BinanceVenue]) -> None:
    _, venue = spot
    limit = Order(
        client_order_id="ict-lim-E0",
        symbol="BTCUSDT",
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        quantity=Decimal("1"),
        price=Decimal("90.5"),
        created_at=0,
    )
    assert (await venue.place_order(limit)).status is OrderStatus.NEW
    with pytest.raises(DuplicateOrderError):
        await venue.place_order(limit)
    assert [r.client_order_id for r in await venue.open_orders("BTCUSDT")] == ["ict-lim-E0"]
    canceled = await venue.cancel_order("BTCUSDT", "ict-lim-E0")
    assert canceled.status is OrderStatus.CANCELED and canceled.client_order_id == "ict-lim-E0"
    with pytest.raises(OrderNotFoundError):
        await venue.cancel_order("BTCUSDT", "ict-lim-E0")
    assert await venue.query_order("BTCUSDT", "nope") is None


async def test_dropped_connection_after_commit_is_unknown_then_found_by_query(
    spot: tuple[FakeSpot, BinanceVenue],
) -> None:
    fake, venue = spot
    fake.fail_after_commit = 1
    with pytest.raises(NetworkError):
        await venue.place_order(market_order("ict-unknown-E0"))
    found = await venue.query_order("BTCUSDT", "ict-unknown-E0")
    assert found is not None and found.status is OrderStatus.FILLED
    assert len(fake.orders) == 1  # exactly one order exists


async def test_stale_time_offset_is_resynced_on_minus_1021(spot: tuple[FakeSpot, BinanceVenue]) -> None:
    fake, venue = spot
    await venue.client.sync_time()
    fake.skew_ms += 20_000  # server clock jumps (NTP step): our timestamps are now 20 s behind
    report = await venue.place_order(market_order("ict-skew-E0"))
    assert report.status is OrderStatus.FILLED
    assert abs(venue.client.server_time.offset_ms - fake.skew_ms) < 1000


async def test_trades_map_order_ids_to_client_ids(spot: tuple[FakeSpot, BinanceVenue]) -> None:
    _, venue = spot
    since = int(time.time() * 1000)
    await venue.place_order(market_order("ict-a-E0"))
    await venue.place_order(market_order("ict-b-E0", "0.25"))
    fresh = BinanceVenue(venue.client)  # a restarted process knows no order ids
    fills = await fresh.trades("BTCUSDT", since_ms=since)
    assert [(f.client_order_id, f.qty) for f in fills] == [("ict-a-E0", Decimal("0.5")), ("ict-b-E0", Decimal("0.25"))]


async def test_oco_and_balances(spot: tuple[FakeSpot, BinanceVenue]) -> None:
    _, venue = spot
    stop = Order(
        client_order_id="ict-x-S0",
        symbol="BTCUSDT",
        side=OrderSide.SELL,
        type=OrderType.STOP_LOSS_LIMIT,
        quantity=Decimal("1"),
        price=Decimal("89"),
        stop_price=Decimal("90"),
        created_at=0,
    )
    target = Order(
        client_order_id="ict-x-T0",
        symbol="BTCUSDT",
        side=OrderSide.SELL,
        type=OrderType.LIMIT,
        quantity=Decimal("1"),
        price=Decimal("120"),
        created_at=0,
    )
    reports = await venue.place_oco(stop, target, "ict-x-L0")
    assert {r.client_order_id for r in reports} == {"ict-x-S0", "ict-x-T0"}
    assert all(r.list_client_id == "ict-x-L0" for r in reports)
    balances = await venue.balances()
    assert balances["USDT"].free == Decimal("1000.5") and balances["USDT"].total == Decimal("1002.5")
    assert await venue.positions() == []


async def test_rate_limited_get_waits_and_succeeds(spot: tuple[FakeSpot, BinanceVenue]) -> None:
    fake, venue = spot
    fake.rate_limited = 1
    assert "USDT" in await venue.balances()


async def test_ed25519_key_and_wrong_secret() -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fake = FakeSpot(api_key=KEY, ed25519_public=private.public_key())
    async with HttpServer(fake.route) as server:
        good = BinanceRestClient(
            BinanceEndpoints.local(server.port), Credentials.ed25519(KEY, pem), budget=LocalRateBudget()
        )
        assert (await BinanceVenue(good).place_order(market_order())).status is OrderStatus.FILLED
        other = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        bad = BinanceRestClient(
            BinanceEndpoints.local(server.port), Credentials.ed25519(KEY, other), budget=LocalRateBudget()
        )
        with pytest.raises(AuthenticationError):
            await BinanceVenue(bad).balances()
        await good.aclose()
        await bad.aclose()


async def test_timeout_is_network_error() -> None:
    from tests.integration.binance.localserver import Reply

    async with HttpServer(lambda request: Reply(body={}, delay_s=1.0)) as server:
        client = BinanceRestClient(
            BinanceEndpoints.local(server.port), budget=LocalRateBudget(), timeout=0.2, get_retries=0
        )
        with pytest.raises(NetworkError, match="timeout"):
            await client.request("GET", "/api/v3/ping")
        await client.aclose()
