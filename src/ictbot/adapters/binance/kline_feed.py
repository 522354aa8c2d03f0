"""``BinanceKlineFeed``: live klines from Binance combined streams, made gap-free by REST backfill.

* One combined-stream connection for every (symbol, timeframe) in use.
* A candle counts as closed by the exchange clock (server-time offset), not only by ``x``: once its
  close time plus ``close_grace_ms`` has passed without ``x:true``, it is fetched by REST.
* After every (re)connect the gap since the last closed candle is backfilled by REST (paged) before
  live frames are read; ``CandleGate`` de-duplicates by open time, so closed candles are handed out
  exactly once and in order, whatever the reconnects.
* Reconnect with exponential backoff + jitter; roll the connection before Binance's 24 h limit, on
  ``serverShutdown`` and when the socket is silent for ``stall_reconnect_s`` (a stalled but open
  socket). Pings/pongs are handled by ``websockets`` (server pings answered, own pings sent).
* ``data_stale`` / ALERT via ``StalenessWatchdog``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

import structlog
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.wsconn import MAX_CONNECTION_AGE_MS, Backoff, ClientConnection, open_ws
from ictbot.domain.candle import Candle
from ictbot.domain.errors import ExchangeError, InputDataError
from ictbot.domain.events import Alert, AlertLevel
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.gate import CandleGate, Gap
from ictbot.marketdata.history import fetch_klines
from ictbot.marketdata.staleness import AlertSink, StalenessWatchdog
from ictbot.ports.market_data import HistoricalCandles

log = structlog.get_logger(__name__)

Pair = tuple[str, Timeframe]
_SESSION_ERRORS = (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError)
_MAX_BACKFILL_PAGES = 100


class _Roll(Exception):
    """Close this connection and open a fresh one at once."""


def stream_name(symbol: str, timeframe: Timeframe) -> str:
    return f"{symbol.lower()}@kline_{timeframe.value}"


class BinanceKlineFeed:
    def __init__(
        self,
        endpoints: BinanceEndpoints,
        history: HistoricalCandles,
        server_now_ms: Callable[[], int],
        *,
        market: Market = Market.SPOT,
        emit_open: bool = True,
        close_grace_ms: int = 3000,
        stale_after_s: float = 30.0,
        stall_reconnect_s: float | None = None,
        tick_s: float = 1.0,
        max_age_ms: int = MAX_CONNECTION_AGE_MS,
        backoff: Backoff | None = None,
        alert_sink: AlertSink | None = None,
        queue_size: int = 10_000,
        resync_time: Callable[[], Awaitable[object]] | None = None,
        resync_every_s: float = 600.0,
    ) -> None:
        self._endpoints = endpoints
        self._history = history
        self._server_now = server_now_ms
        self._market = market
        self._emit_open = emit_open
        self._grace_ms = close_grace_ms
        self._stall_s = stall_reconnect_s if stall_reconnect_s is not None else stale_after_s
        self._tick_s = tick_s
        self._max_age_ms = max_age_ms
        self._backoff = backoff or Backoff()
        self._queue_size = queue_size
        # Candles close by the exchange clock, so its offset is re-measured on connect and periodically.
        self._resync_time = resync_time
        self._resync_every_s = resync_every_s
        self._last_resync = float("-inf")
        self.watchdog = StalenessWatchdog(
            stale_after_s, source="marketdata.binance", check_every_s=tick_s, alert_sink=alert_sink
        )
        self._gates: dict[Pair, CandleGate] = {}
        self._retry_at: dict[Pair, float] = {}
        self._pending: set[Pair] = set()  # a live frame showed a hole the last backfill could not fill
        self.connections = 0  # successful connects so far (observability, tests)
        self._reconnect_listeners: list[Callable[[], None]] = []

    @classmethod
    def from_client(cls, client: BinanceRestClient, **options: Any) -> BinanceKlineFeed:
        """Feed sharing the REST client's endpoints, market, budget and server clock."""
        return cls(
            client.endpoints,
            client,
            client.server_time.now_ms,
            market=client.market,
            resync_time=client.sync_time,
            **options,
        )

    # ---- configuration / state -----------------------------------------------------------
    @property
    def data_stale(self) -> bool:
        return self.watchdog.stale

    def set_alert_sink(self, sink: AlertSink | None) -> None:
        self.watchdog.alert_sink = sink

    def add_reconnect_listener(self, listener: Callable[[], None]) -> None:
        """``listener()`` runs on every connect after the first (monitoring counts reconnect storms)."""
        self._reconnect_listeners.append(listener)

    def resume_from(self, symbol: str, timeframe: Timeframe, last_closed_open_time: int) -> None:
        """Continue after a candle already stored: the first connect backfills everything since."""
        self._gate((symbol, timeframe)).last_closed = last_closed_open_time

    def last_closed(self, symbol: str, timeframe: Timeframe) -> int | None:
        gate = self._gates.get((symbol, timeframe))
        return gate.last_closed if gate else None

    def _gate(self, pair: Pair) -> CandleGate:
        gate = self._gates.get(pair)
        if gate is None:
            gate = self._gates[pair] = CandleGate(pair[0], pair[1])
        return gate

    # ---- MarketDataFeed ------------------------------------------------------------------
    async def stream(self, pairs: Sequence[tuple[str, Timeframe]]) -> AsyncGenerator[Candle, None]:
        if not pairs:
            raise ValueError("no (symbol, timeframe) pairs to stream")
        wanted = list(dict.fromkeys((sym.upper(), tf) for sym, tf in pairs))
        for pair in wanted:
            self._gate(pair)
        out: asyncio.Queue[Candle] = asyncio.Queue(self._queue_size)
        runner = asyncio.create_task(self._run(wanted, out), name="binance-kline-feed")
        watchdog = asyncio.create_task(self.watchdog.run(), name="binance-kline-watchdog")
        try:
            while True:
                getter = asyncio.ensure_future(out.get())
                done, _ = await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                runner.result()  # re-raise a crash of the connection loop
                return
        finally:
            for task in (runner, watchdog):
                task.cancel()
            await asyncio.wait({runner, watchdog}, timeout=5)
            for task in (runner, watchdog):
                if task.done() and not task.cancelled():
                    task.exception()  # mark retrieved; a crash was already re-raised above

    # ---- connection loop -----------------------------------------------------------------
    async def _run(self, pairs: list[Pair], out: asyncio.Queue[Candle]) -> None:
        url = self._endpoints.combined_stream_url(
            [stream_name(s, tf) for s, tf in pairs], futures=self._market is Market.USDM
        )
        by_stream = {stream_name(s, tf): (s, tf) for s, tf in pairs}
        while True:
            try:
                async with open_ws(url) as ws:
                    self.connections += 1
                    self._backoff.reset()
                    if self.connections > 1:
                        self._notify_reconnect()
                    log.info("kline stream connected", streams=len(pairs), connection=self.connections)
                    await self._maybe_resync(force=True)
                    for pair in pairs:
                        await self._backfill(pair, out)
                    await self._read(ws, by_stream, out)
            except _Roll as roll:
                log.info("kline stream rolling over", reason=str(roll))
                continue
            except _SESSION_ERRORS as exc:
                log.warning("kline stream disconnected", error=f"{type(exc).__name__}: {exc}")
            except Exception:
                # Keep the only market-data source alive; the gate keeps exactly-once across this.
                log.exception("kline stream failed unexpectedly; reconnecting")
            await asyncio.sleep(self._backoff.next_delay())

    def _notify_reconnect(self) -> None:
        for listener in self._reconnect_listeners:
            try:
                listener()
            except Exception:
                log.exception("reconnect listener failed")

    async def _read(self, ws: ClientConnection, by_stream: dict[str, Pair], out: asyncio.Queue[Candle]) -> None:
        loop = asyncio.get_running_loop()
        opened = last_frame = loop.time()
        while True:
            raw: Any = None
            # asyncio.timeout cancels recv() in place (websockets guarantees no frame is lost on
            # cancel); Python 3.11's wait_for can drop a result that races with its timeout.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick_s):
                    raw = await ws.recv()
            now = loop.time()
            if raw is not None:
                last_frame = now
                await self._on_frame(raw, by_stream, out)
            elif now - last_frame > self._stall_s:
                raise _Roll(f"no frame for {now - last_frame:.1f}s")
            for pair in by_stream.values():
                owed = pair in self._pending or self._gate(pair).overdue(self._server_now(), self._grace_ms)
                if owed and now >= self._retry_at.get(pair, 0):
                    await self._backfill(pair, out)
            if (now - opened) * 1000 >= self._max_age_ms:
                raise _Roll("connection age limit")
            await self._maybe_resync()

    async def _maybe_resync(self, *, force: bool = False) -> None:
        if self._resync_time is None:
            return
        now = asyncio.get_running_loop().time()
        if not force and now - self._last_resync < self._resync_every_s:
            return
        self._last_resync = now
        try:
            await self._resync_time()
        except ExchangeError as exc:
            log.warning("server time resync failed", error=str(exc))

    async def _on_frame(self, raw: Any, by_stream: dict[str, Pair], out: asyncio.Queue[Candle]) -> None:
        try:
            message = json.loads(raw)
        except (json.JSONDecodeError, TypeError):
            log.warning("kline stream: undecodable frame")
            return
        data = message.get("data") if isinstance(message, dict) else None
        if not isinstance(data, dict):
            return  # subscription replies and the like
        if data.get("e") == "serverShutdown":
            raise _Roll("serverShutdown")
        pair = by_stream.get(str(message.get("stream", "")))
        if pair is None or data.get("e") != "kline":
            return
        try:
            candle = parse.candle_from_ws(parse.ws_kline(data), self._market)
        except (InputDataError, ValueError) as exc:
            log.error("kline stream: bad kline", error=str(exc))
            return
        self.watchdog.touch()
        result = self._gate(pair).offer_live(candle)
        for item in result.emit:
            if item.closed or self._emit_open:
                await out.put(item)
        if result.need_backfill:
            # At most one REST call per pair every couple of seconds, however many frames show the hole.
            self._pending.add(pair)
            if asyncio.get_running_loop().time() >= self._retry_at.get(pair, 0):
                await self._backfill(pair, out)

    # ---- REST backfill --------------------------------------------------------------------
    async def _backfill(self, pair: Pair, out: asyncio.Queue[Candle]) -> None:
        gate = self._gate(pair)
        self._pending.discard(pair)
        start = gate.next_open
        if start is None or start + pair[1].ms > self._server_now():
            return  # nothing owed yet
        try:
            async for page in fetch_klines(
                self._history, pair[0], pair[1], start, None, closed_only=True, max_pages=_MAX_BACKFILL_PAGES
            ):
                emitted, gaps = gate.offer_backfill(page)
                for candle in emitted:
                    await out.put(candle)
                for gap in gaps:
                    await self._gap_alert(gap)
                self.watchdog.touch()
        except (ExchangeError, InputDataError) as exc:
            self._pending.add(pair)
            log.warning("kline backfill failed", symbol=pair[0], timeframe=pair[1].value, error=str(exc))
        # REST may not have the just-closed candle yet: do not ask again for a couple of seconds.
        self._retry_at[pair] = asyncio.get_running_loop().time() + 2.0

    async def _gap_alert(self, gap: Gap) -> None:
        count = (gap.last_open - gap.first_open) // gap.timeframe.ms + 1
        alert = Alert(
            AlertLevel.WARNING,
            "marketdata.binance",
            f"exchange has no candles for {gap.symbol} {gap.timeframe.value}: {count} missing",
            {
                "symbol": gap.symbol,
                "timeframe": gap.timeframe.value,
                "first_open": gap.first_open,
                "last_open": gap.last_open,
            },
        )
        log.warning(alert.message, **alert.details)
        sink = self.watchdog.alert_sink
        if sink is not None:
            result = sink(alert)
            if inspect.isawaitable(result):
                await result
