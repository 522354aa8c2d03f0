"""BinanceKlineFeed against a local WebSocket + HTTP exchange that drops and stalls connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal

from websockets.asyncio.server import ServerConnection

from ictbot.adapters.binance.kline_feed import BinanceKlineFeed
from ictbot.adapters.binance.ratelimit import LocalRateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.timesync import ServerTime
from ictbot.adapters.binance.wsconn import Backoff
from ictbot.app.tasks import TaskManager
from ictbot.bus import EventBus, Topic
from ictbot.domain.candle import Candle
from ictbot.domain.events import Alert, AlertLevel, KlineUpdated
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.service import MarketDataService
from tests.integration.marketdata.kline_exchange import SYMBOL, T0, KlineExchange, M, price, ws_frame

PAIR = [(SYMBOL, Timeframe.M1)]


def make_feed(exchange: KlineExchange, **kw: object) -> tuple[BinanceKlineFeed, BinanceRestClient]:
    rest = BinanceRestClient(exchange.endpoints, budget=LocalRateBudget(), server_time=ServerTime(exchange.clock))
    options: dict[str, object] = {"tick_s": 0.02, "stale_after_s": 30.0, "backoff": Backoff(0.01, 0.05)}
    options.update(kw)
    feed = BinanceKlineFeed(exchange.endpoints, rest, rest.server_time.now_ms, **options)  # type: ignore[arg-type]
    return feed, rest


async def collect(stream: AsyncGenerator[Candle, None], until: int, timeout: float = 10.0) -> list[Candle]:
    """Read until ``until`` closed candles arrived."""
    out: list[Candle] = []
    async with asyncio.timeout(timeout):
        async for candle in stream:
            out.append(candle)
            if sum(c.closed for c in out) >= until:
                break
    return out


def index(candle: Candle) -> int:
    return (candle.open_time - T0) // M


async def test_reconnect_backfills_the_gap_without_loss_or_duplicates() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ex.wait_kline_requests(nth)  # the connect-time backfill is done
        if nth == 1:
            await ws.send(ws_frame(2, closed=True))  # already backfilled: duplicate
            await ws.send(ws_frame(3, closed=False))
            ex.at(4.01)
            await ws.send(ws_frame(3, closed=True))
            await ex.wait_until(lambda: feed.last_closed(SYMBOL, Timeframe.M1) == T0 + 3 * M)
            ex.at(6.02)  # candles 4 and 5 close while we are disconnected
            ws.transport.abort()
            return
        await ws.send(ws_frame(5, closed=True))  # duplicate of the backfill
        await ws.send(ws_frame(6, closed=False))
        ex.at(7.01)
        await ws.send(ws_frame(6, closed=True))
        await ws.wait_closed()

    async with KlineExchange(script, start_index=3.1) as exchange:
        feed, rest = make_feed(exchange)
        feed.resume_from(SYMBOL, Timeframe.M1, T0)  # candle 0 is stored already
        reconnects: list[int] = []
        feed.add_reconnect_listener(lambda: reconnects.append(feed.connections))
        stream = feed.stream(PAIR)
        candles = await collect(stream, until=6)
        await stream.aclose()
        await rest.aclose()
    closed = [c for c in candles if c.closed]
    assert [index(c) for c in closed] == [1, 2, 3, 4, 5, 6]
    assert closed[0].close == Decimal(price(1, "rest")) and closed[2].close == Decimal(price(3, "ws"))
    assert closed[3].close == Decimal(price(4, "rest"))  # from the REST backfill after reconnect
    assert exchange.ws.connections == 2 and feed.connections == 2
    assert reconnects == [2]  # the first connect is not a reconnect
    opens = [index(c) for c in candles if not c.closed]
    assert opens == [3, 6]


async def test_candle_is_closed_by_exchange_clock_when_x_true_never_comes() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ws.send(ws_frame(1, closed=False))
        ex.at(2.2)  # candle 1 closed 12 s ago by the exchange clock; its x:true frame is lost
        while True:
            await ws.send(ws_frame(2, closed=False))  # keep the socket lively: no stall, no reconnect
            await asyncio.sleep(0.05)

    async with KlineExchange(script, start_index=1.5) as exchange:
        feed, rest = make_feed(exchange, close_grace_ms=3000)
        stream = feed.stream(PAIR)
        candles = await collect(stream, until=1)
        await stream.aclose()
        await rest.aclose()
    closed = [c for c in candles if c.closed]
    assert [index(c) for c in closed] == [1]
    assert closed[0].close == Decimal(price(1, "rest"))
    assert exchange.ws.connections == 1


async def test_overdue_candle_is_fetched_even_when_the_socket_is_quiet() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ws.send(ws_frame(1, closed=False))
        await asyncio.sleep(0.1)
        ex.at(2.1)  # close passed + grace: the tick must notice by the clock alone
        await ws.wait_closed()

    async with KlineExchange(script, start_index=1.2) as exchange:
        feed, rest = make_feed(exchange, close_grace_ms=2000, stall_reconnect_s=30.0)
        stream = feed.stream(PAIR)
        candles = await collect(stream, until=1)
        await stream.aclose()
        await rest.aclose()
    assert [index(c) for c in candles if c.closed] == [1]


async def test_exchange_outage_gap_is_alerted_and_skipped() -> None:
    alerts: list[Alert] = []

    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ws.send(ws_frame(5, closed=False))
        await ws.wait_closed()

    async with KlineExchange(script, start_index=5.5) as exchange:
        exchange.missing = {2, 3}
        feed, rest = make_feed(exchange, alert_sink=alerts.append)
        feed.resume_from(SYMBOL, Timeframe.M1, T0)
        stream = feed.stream(PAIR)
        candles = await collect(stream, until=2)
        await stream.aclose()
        await rest.aclose()
    assert [index(c) for c in candles if c.closed] == [1, 4]
    gap = [a for a in alerts if "missing" in a.message]
    assert gap and gap[0].details["first_open"] == T0 + 2 * M and gap[0].details["last_open"] == T0 + 3 * M


async def test_silent_stall_raises_stale_alert_and_reconnects() -> None:
    alerts: list[Alert] = []

    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        if nth == 1:
            await ws.send(ws_frame(1, closed=False))
            await ws.wait_closed()  # socket open, no data: the hardest failure to see
            return
        await ws.send(ws_frame(1, closed=False))
        ex.at(2.01)
        await ws.send(ws_frame(1, closed=True))
        await ws.wait_closed()

    async with KlineExchange(script, start_index=1.1) as exchange:
        feed, rest = make_feed(exchange, stale_after_s=0.15, stall_reconnect_s=0.4, alert_sink=alerts.append)
        stream = feed.stream(PAIR)
        first = await anext(stream)
        assert not first.closed and not feed.data_stale
        async with asyncio.timeout(5):
            await feed.watchdog.wait_for_state(True)
        assert feed.data_stale
        candles = await collect(stream, until=1)
        async with asyncio.timeout(5):
            await feed.watchdog.wait_for_state(False)
        await stream.aclose()
        await rest.aclose()
    assert exchange.ws.connections == 2
    assert [index(c) for c in candles if c.closed] == [1]
    levels = [a.level for a in alerts]
    assert AlertLevel.WARNING in levels and levels[-1] is AlertLevel.INFO


async def test_connection_rolls_over_before_the_age_limit() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        while True:
            await ws.send(ws_frame(1, closed=False))
            await asyncio.sleep(0.02)

    async with KlineExchange(script, start_index=1.1) as exchange:
        feed, rest = make_feed(exchange, max_age_ms=150, emit_open=True)
        stream = feed.stream(PAIR)
        async with asyncio.timeout(5):
            while exchange.ws.connections < 3:
                await anext(stream)
        await stream.aclose()
        await rest.aclose()
    assert feed.connections >= 3


async def test_service_publishes_candles_and_alerts_on_the_bus() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ws.send(ws_frame(3, closed=False))
        ex.at(4.01)
        await ws.send(ws_frame(3, closed=True))
        await ws.wait_closed()

    received: list[KlineUpdated] = []
    alerts: list[Alert] = []
    bus = EventBus()
    bus.subscribe(Topic.KLINE_UPDATED, lambda env: received.append(env.payload), name="test-klines")
    bus.subscribe(Topic.ALERT, lambda env: alerts.append(env.payload), name="test-alerts")
    await bus.start()

    class Store:
        async def latest_open_time(self, symbol: str, timeframe: Timeframe) -> int | None:
            return T0 + M  # candles 0 and 1 are stored

    async with KlineExchange(script, start_index=3.2) as exchange:
        feed, rest = make_feed(exchange, stale_after_s=0.3)
        service = MarketDataService(feed, bus, PAIR, TaskManager(), store=Store(), publish_open=False)  # type: ignore[arg-type]
        await service.start()
        async with asyncio.timeout(5):
            while service.published_closed < 2:
                await asyncio.sleep(0.01)
        async with asyncio.timeout(5):
            while not service.data_stale:
                await asyncio.sleep(0.01)
        await service.stop()
        await rest.aclose()
    await bus.wait_idle()
    await bus.stop()
    assert [index(p.candle) for p in received] == [2, 3]
    assert all(p.candle.closed for p in received)
    assert any(a.level is AlertLevel.WARNING and "stale" in a.message for a in alerts)


async def test_usdm_feed_uses_the_routed_market_path_and_resyncs_time() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ws.send(ws_frame(1, closed=False))
        ex.at(2.01)
        await ws.send(ws_frame(1, closed=True))
        await ws.wait_closed()

    async with KlineExchange(script, start_index=1.5) as exchange:
        rest = BinanceRestClient(
            exchange.endpoints, budget=LocalRateBudget(), market=Market.USDM, server_time=ServerTime(exchange.clock)
        )
        feed = BinanceKlineFeed(
            exchange.endpoints,
            rest,
            rest.server_time.now_ms,
            market=Market.USDM,
            tick_s=0.02,
            resync_time=rest.sync_time,
        )
        stream = feed.stream(PAIR)
        candles = await collect(stream, until=1)
        await stream.aclose()
        await rest.aclose()
    assert exchange.ws.paths == ["/market/stream?streams=btcusdt@kline_1m"]
    assert all(c.market is Market.USDM for c in candles)
    assert exchange.time_requests >= 1  # offset measured on connect


async def test_one_connection_serves_every_pair_each_with_its_own_gate() -> None:
    async def script(ex: KlineExchange, ws: ServerConnection, nth: int) -> None:
        await ws.send(ws_frame(1, closed=False, symbol="BTCUSDT"))
        await ws.send(ws_frame(1, closed=False, symbol="ETHUSDT"))
        ex.at(2.01)
        await ws.send(ws_frame(1, closed=True, symbol="BTCUSDT"))  # ETH's x:true is lost
        await ex.wait_until(lambda: feed.last_closed("BTCUSDT", Timeframe.M1) == T0 + M)
        ex.at(2.1)  # past candle 1's close + the 3 s grace
        while True:
            await ws.send(ws_frame(2, closed=False, symbol="BTCUSDT"))
            await asyncio.sleep(0.05)

    async with KlineExchange(script, start_index=1.5) as exchange:
        feed, rest = make_feed(exchange)
        stream = feed.stream([("BTCUSDT", Timeframe.M1), ("ethusdt", Timeframe.M1)])
        candles = await collect(stream, until=2)
        await stream.aclose()
        await rest.aclose()
    assert exchange.ws.paths == ["/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m"]
    closed = {c.symbol: c for c in candles if c.closed}
    assert set(closed) == {"BTCUSDT", "ETHUSDT"}
    assert closed["BTCUSDT"].close == Decimal(price(1, "ws"))
    assert closed["ETHUSDT"].close == Decimal(price(1, "rest"))  # closed by the clock, fetched by REST
    assert all(index(c) == 1 for c in closed.values())
