"""The simulated exchange: market replay + clock + matching engine + accounts + streams + faults.

One ``Simulator`` lives on one asyncio loop. The HTTP/WS front end (``server.app``) calls its
engine through ``dispatch`` so every order change reaches the user-data streams; the replay
(stepped by ``step`` or running at ``speed``) moves the clock and the prices.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import pickle
import time
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.auth import Authenticator, load_keys
from ictbot.exchange_sim.clock import SimClock
from ictbot.exchange_sim.config import SimConfig
from ictbot.exchange_sim.engine import book
from ictbot.exchange_sim.engine.matching import MatchingEngine
from ictbot.exchange_sim.engine.model import AlgoEvent, BalanceEvent, EngineEvent, ListEvent, OrderEvent
from ictbot.exchange_sim.faults import FaultPlan
from ictbot.exchange_sim.market import synthetic
from ictbot.exchange_sim.market.replay import CandleClosed, PricePoint, Replay, ReplayEvent
from ictbot.exchange_sim.market.series import CandleSeries, load_data_args
from ictbot.exchange_sim.ratelimit import RateLimiter
from ictbot.exchange_sim.server import payloads
from ictbot.exchange_sim.server.hub import StreamHub
from ictbot.exchange_sim.symbols import contract_spec_for, source_of, spec_for, spec_from_instrument

SPOT_MARKET = "spot-market"
FUTURES_MARKET = "futures-market"


def _load_series(config: SimConfig) -> dict[str, CandleSeries]:
    if config.series:
        return dict(config.series)
    if config.data_paths:
        return load_data_args(list(config.data_paths))
    timeframe = config.synthetic_timeframe
    origin = config.synthetic_origin_ms
    if origin is None:
        origin = timeframe.floor(int(time.time() * 1000)) - config.warmup_candles * timeframe.ms
    return {s: synthetic.generate(s, origin, config.synthetic_candles, timeframe, config.seed) for s in config.symbols}


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        series = _load_series(config)
        self.engine = MatchingEngine(config.matching)
        ticks: dict[str, Decimal] = {}
        derive = config.derive_unknown_filters
        self.instrument_sources: dict[str, str] = {}  # symbol → where its filters came from (startup log)
        # Instruments handed over by the caller (--via-live: the backtest's) win over the catalogue.
        given = {(i.symbol, i.market): spec_from_instrument(i) for i in config.instruments}
        for symbol, data in series.items():
            reference = Decimal(repr(float(data.close[0])))
            spot = given.get((symbol, Market.SPOT)) or spec_for(symbol, Market.SPOT, reference, derive_unknown=derive)
            ticks[symbol] = spot.tick_size
            self.engine.add_symbol(spot)
            contract = given.get((symbol, Market.USDM))
            if contract is None and config.futures:
                contract = contract_spec_for(symbol, reference, derive_unknown=derive)
            if contract is not None and config.futures:
                self.engine.add_symbol(contract)
            self.instrument_sources[symbol] = ("given by the caller" if (symbol, Market.SPOT) in given
                                               else source_of(symbol, Market.SPOT))
        self.replay = Replay(series, ticks, config.start_ms, config.path_mode, config.seed, config.warmup_candles)
        for symbol in series:
            self.engine.last[symbol] = self.replay.last_close[symbol]
        self.clock = SimClock(self.replay.cursor_ms)
        self.hub = StreamHub()
        self.faults = FaultPlan()
        keys = load_keys(config.keys_file) if config.keys_file else None
        self.auth = Authenticator(keys, config.verify_timestamps, config.strict_time)
        self.limiter = RateLimiter(config.weight_limit_1m, config.orders_limit_10s, config.orders_limit_1d,
                                   config.requests_until_ban, config.ban_seconds)
        self.futures_limiter = RateLimiter(config.futures_weight_limit_1m, 300, 1_000_000,
                                           config.requests_until_ban, config.ban_seconds)
        self.listen_keys: dict[str, tuple[str, int]] = {}  # listenKey → (account, expires at, server ms)
        interval = config.funding_interval_ms
        self.next_funding = {s: (self.replay.cursor_ms // interval + 1) * interval for s in series}
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=50_000)
        self.speed = config.speed
        self._pending: deque[ReplayEvent] = deque()
        self._running = asyncio.Event()
        if self.speed > 0:
            self._running.set()
        self._book_update_id = 1
        self._market_kinds = (SPOT_MARKET, FUTURES_MARKET) if config.futures else (SPOT_MARKET,)
        self._kline_stream_cache: dict[str, list[tuple[Timeframe, str]]] = {}
        self._loaded = False  # never overwrite a state file before it has been read
        if config.state_file and Path(config.state_file).exists():
            self.load_state(config.state_file)
        self._loaded = True

    @property
    def symbols(self) -> tuple[str, ...]:
        """The replayed symbols (spot, and USD-M when ``futures``)."""
        return tuple(self.replay.series)

    # ---- time -------------------------------------------------------------------------------------

    def now(self) -> int:
        """``serverTime`` (replay time + skew): every timestamp the exchange writes."""
        return self.clock.now_ms()

    @staticmethod
    def wall_ms() -> int:
        """The wall clock, which the recvWindow check also accepts unless ``strict_time``."""
        return int(time.time() * 1000)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()
        self.clock.freeze()

    def resume(self, speed: float | None = None) -> None:
        if speed is not None:
            self.speed = speed
        if self.speed <= 0:
            raise ValueError("resume needs a speed > 0 (use step() in stepped mode)")
        self._running.set()

    # ---- replay -----------------------------------------------------------------------------------

    async def step(self, candles: int = 1) -> int:
        """Play ``candles`` base candles now (pausing a running replay first); returns how many played.

        When it returns, every event up to the new time has reached the matching engine and every
        resulting frame has been handed to its WebSocket.
        """
        self.pause()
        played = 0
        for _ in range(candles):
            if not self._pending:
                if self.replay.finished:
                    break
                self._pending.extend(self.replay.step())
            while self._pending:
                self._apply(self._pending.popleft())
            played += 1
        self.persist()
        await self.hub.flush()
        return played

    async def step_to_close(self) -> int:
        """Play the next base candle's price points but hold back its close event (``step`` plays it).

        Lets a driver settle what traded inside the candle before the bot sees it close, as the
        minutes of a real candle would (fills first, then the closed kline).
        """
        self.pause()
        if not self._pending:
            if self.replay.finished:
                return 0
            self._pending.extend(self.replay.step())
        played = 0
        while self._pending and not isinstance(self._pending[0], CandleClosed):
            self._apply(self._pending.popleft())
            played += 1
        await self.hub.flush()
        return played

    async def run(self) -> None:
        """Replay at ``speed`` while not paused (a background task of the server)."""
        while True:
            await self._running.wait()
            if not self._pending:
                if self.replay.finished:
                    self.pause()
                    continue
                self._pending.extend(self.replay.step())
            while self._pending and self._running.is_set():
                event = self._pending[0]
                if math.isfinite(self.speed):
                    delay = (event.time - self.clock.replay_ms) / 1000 / self.speed
                    self.clock.set(self.clock.replay_ms, horizon_ms=event.time, speed=self.speed)
                    if delay > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wait_pause(), delay)
                        if not self._running.is_set():
                            break
                self._pending.popleft()
                self._apply(event)
            if not math.isfinite(self.speed):
                await self.hub.flush()  # backpressure: never run ahead of the slowest socket
                await asyncio.sleep(0)

    async def _wait_pause(self) -> None:
        while self._running.is_set():
            await asyncio.sleep(0.05)

    def _apply(self, event: ReplayEvent) -> None:
        self.clock.set(event.time)
        self.replay.note(event)
        now = self.now()
        if isinstance(event, PricePoint):
            events = self.engine.move_price(event.symbol, event.price, now, event.volume, event.gap)
            self.dispatch(events)
            self._publish_point(event, now)
            self._funding(event.symbol, event.time)
            self._expire_listen_keys(now)
        else:
            self._publish_close(event, now)
            if not self._pending and self.speed > 0:
                self.persist()  # timed replay: once per candle (step() persists when it returns)

    # ---- market streams ---------------------------------------------------------------------------

    def _kinds(self) -> tuple[str, ...]:
        return self._market_kinds

    def _kline_streams(self, symbol: str) -> list[tuple[Timeframe, str]]:
        streams = self._kline_stream_cache.get(symbol)
        if streams is None:
            base = self.replay.timeframe
            streams = [(tf, f"{symbol.lower()}@kline_{tf.value}") for tf in Timeframe if tf.is_multiple_of(base)]
            self._kline_stream_cache[symbol] = streams
        return streams

    def _publish_klines(self, symbol: str, base_bar: Any, now: int, closing: bool) -> None:
        for interval, stream in self._kline_streams(symbol):
            if not closing and not self.config.kline_updates:
                return
            kinds = [k for k in self._market_kinds if self.hub.wants(k, stream)]
            if not kinds:
                continue
            bar = self.replay.live_bar(symbol, interval, base_bar)
            if bar.closed and self.faults.swallow("kline_closed"):
                continue
            payload = payloads.kline_event(bar, now, interval)
            for kind in kinds:
                self.hub.publish(kind, stream, payload)

    def _publish_point(self, event: PricePoint, now: int) -> None:
        if self.faults.market_stalled:
            return
        self._publish_klines(event.symbol, event.bar, now, closing=False)
        lower = event.symbol.lower()
        spec = self.engine.spec(Market.SPOT, event.symbol)
        if event.volume > 0:
            previous = event.bar.open
            for kind in self._kinds():
                stream = f"{lower}@aggTrade"
                if self.hub.wants(kind, stream):
                    self.hub.publish(kind, stream, payloads.agg_trade(
                        event.symbol, event.trade_id, event.price, event.volume, event.time, event.price < previous,
                        now, futures=kind == FUTURES_MARKET))
        stream = f"{lower}@bookTicker"
        if any(self.hub.wants(k, stream) for k in self._kinds()):
            self._book_update_id += 1
            bid = book.best_bid(spec, event.price)
            ask = book.best_ask(spec, event.price, self.engine.config)
            qty = book.level_qty(spec, event.price, self.engine.config)
            ticker = payloads.book_ticker_event(event.symbol, self._book_update_id, bid, ask, qty)
            self.hub.publish(SPOT_MARKET, stream, ticker)
            if self.config.futures:
                self.hub.publish(FUTURES_MARKET, stream, {"e": "bookTicker", **ticker, "T": now, "E": now})
        for stream in (f"{lower}@markPrice", f"{lower}@markPrice@1s"):
            if self.config.futures and self.hub.wants(FUTURES_MARKET, stream):
                self.hub.publish(FUTURES_MARKET, stream, payloads.mark_price_event(
                    event.symbol, event.price, self.config.funding_rate, self.next_funding[event.symbol], now))

    def _publish_close(self, event: CandleClosed, now: int) -> None:
        if not self.faults.market_stalled:
            self._publish_klines(event.symbol, event.bar, now, closing=True)

    # ---- user data --------------------------------------------------------------------------------

    def dispatch(self, events: list[EngineEvent]) -> None:
        """Send engine events to the user-data streams and count first fills for the order limit."""
        now = self.now()
        for event in events:
            if isinstance(event, OrderEvent):
                order = event.order
                trade = event.trade
                if trade is not None and order.executed_qty == trade.qty:
                    limiter = self.limiter if order.market is Market.SPOT else self.futures_limiter
                    limiter.order_filled_first_time(order.account, now)
                if order.market is Market.SPOT:
                    if not self.faults.swallow("executionReport"):
                        for sent in self.faults.execution_reports(order.account, payloads.execution_report(event, now)):
                            self.hub.publish_user(*sent)
                elif not self.faults.swallow("ORDER_TRADE_UPDATE"):
                    self._futures_user(order.account, payloads.order_trade_update(event, now))
            elif isinstance(event, BalanceEvent):
                if event.market is Market.SPOT:
                    if not self.faults.swallow("outboundAccountPosition"):
                        self.hub.publish_user(event.account, payloads.outbound_account_position(
                            event.balances, now, event.time))
                elif not self.faults.swallow("ACCOUNT_UPDATE"):
                    self._futures_user(event.account, payloads.account_update(
                        event.reason, event.balances, event.positions, now, event.time))
            elif isinstance(event, ListEvent):
                self.hub.publish_user(event.order_list.account, payloads.list_status(event.order_list, now))
            elif isinstance(event, AlgoEvent) and not self.faults.swallow("ALGO_UPDATE"):
                self._futures_user(event.algo.account, payloads.algo_update(event.algo, now, event.time))
        if events:
            self.persist()

    def persist(self) -> None:
        """With ``state_file``: write the state after every order/balance change and every replayed
        candle, so even a killed process restarts with its open orders, balances and clock (B12)."""
        if self.config.state_file and self._loaded:
            self.save_state(self.config.state_file)

    def _futures_user(self, account: str, payload: dict[str, Any]) -> None:
        keys = {k for k, (acct, _) in self.listen_keys.items() if acct == account}
        if keys:
            self.hub.publish_futures_user(account, payload, keys)

    def listen_key(self, account: str) -> str:
        """Create (or return and extend) the account's listenKey, valid ``listen_key_ttl_ms``."""
        expires = self.now() + self.config.listen_key_ttl_ms
        for key, (acct, _) in self.listen_keys.items():
            if acct == account:
                self.listen_keys[key] = (account, expires)
                return key
        key = hashlib.sha256(f"{account}|{self.now()}|{len(self.listen_keys)}".encode()).hexdigest()
        self.listen_keys[key] = (account, expires)
        return key

    def keepalive_listen_key(self, account: str) -> str | None:
        for key, (acct, _) in self.listen_keys.items():
            if acct == account:
                self.listen_keys[key] = (account, self.now() + self.config.listen_key_ttl_ms)
                return key
        return None

    def close_listen_key(self, account: str) -> None:
        for key in [k for k, (acct, _) in self.listen_keys.items() if acct == account]:
            del self.listen_keys[key]

    def _expire_listen_keys(self, now: int) -> None:
        for key, (account, expires) in list(self.listen_keys.items()):
            if now > expires:
                self.hub.publish_futures_user(account, {"e": "listenKeyExpired", "E": now, "listenKey": key}, {key})
                del self.listen_keys[key]

    def _funding(self, symbol: str, replay_ms: int) -> None:
        if not self.config.futures or replay_ms < self.next_funding[symbol]:
            return
        self.next_funding[symbol] += self.config.funding_interval_ms
        self.dispatch(self.engine.apply_funding(symbol, self.config.funding_rate, self.now()))

    # ---- helpers for the front end ----------------------------------------------------------------

    def uid(self, account: str) -> int:
        return int.from_bytes(hashlib.sha256(account.encode()).digest()[:4], "big")

    def price(self, symbol: str) -> Decimal:
        return self.engine.price(symbol)

    # ---- persistence ------------------------------------------------------------------------------

    def save_state(self, path: str | Path) -> None:
        """Pickle the exchange (atomically: a kill mid-write leaves the previous state)."""
        state = {
            "engine": self.engine, "index": self.replay.index, "cursor": self.replay.cursor_ms,
            "running": self.replay.running, "last_close": self.replay.last_close,
            "clock": self.clock.replay_ms, "skew": self.clock.skew_ms, "listen_keys": self.listen_keys,
            "next_funding": self.next_funding, "pending": list(self._pending),
        }
        target = Path(path)
        partial = target.with_name(target.name + ".tmp")
        partial.write_bytes(pickle.dumps(state))
        partial.replace(target)

    def load_state(self, path: str | Path) -> None:
        state = pickle.loads(Path(path).read_bytes())
        self.engine = state["engine"]
        self.replay.index, self.replay.cursor_ms = state["index"], state["cursor"]
        self.replay.running, self.replay.last_close = state["running"], state["last_close"]
        self.clock = SimClock(state["clock"])
        self.clock.skew_ms = state["skew"]
        self.listen_keys, self.next_funding = state["listen_keys"], state["next_funding"]
        self._pending = deque(state["pending"])
