"""``SimControl``: the test/demo handle on a running simulator (time, faults, inspection).

Every method runs on the simulator's event loop. In-process async code calls it directly
(``await sim.control.step(5)``); the same operations are exposed over HTTP under ``/_sim/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ictbot.domain.market import Market
from ictbot.exchange_sim.core import Simulator
from ictbot.exchange_sim.engine.model import AlgoOrder, PositionView, SimOrder, Trade
from ictbot.exchange_sim.errors import INSUFFICIENT_BALANCE, SimError
from ictbot.exchange_sim.faults import RESPONSE_MODES, ResponseFault

STREAM_KINDS = {"market": "spot-market", "spot-market": "spot-market", "user": "ws-api", "ws-api": "ws-api",
                "futures-market": "futures-market", "futures-user": "futures-user"}


def _market(name: str) -> Market:
    return Market.USDM if name.lower() in ("usdm", "futures", "fapi") else Market.SPOT


class SimControl:
    def __init__(self, sim: Simulator, restart: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.sim = sim
        self._restart = restart

    # ---- time ------------------------------------------------------------------------------------

    def now(self) -> int:
        """``serverTime`` in ms."""
        return self.sim.now()

    async def step(self, candles: int = 1) -> int:
        """Play ``candles`` base candles (pauses a running replay); frames are flushed on return."""
        return await self.sim.step(candles)

    async def step_to_close(self) -> int:
        """Play the next candle's intra-candle prices, holding its close for the next ``step``."""
        return await self.sim.step_to_close()

    async def step_until(self, replay_ms: int) -> int:
        """Play whole candles until the replay clock reaches ``replay_ms``."""
        played = 0
        while self.sim.clock.replay_ms < replay_ms and not self.sim.replay.finished:
            played += await self.sim.step(1)
        return played

    def pause(self) -> None:
        self.sim.pause()

    def resume(self, speed: float | None = None) -> None:
        self.sim.resume(speed)

    def set_skew_ms(self, skew_ms: int) -> None:
        """Shift ``serverTime`` by ``skew_ms`` (positive: the exchange's clock is ahead of the replay)."""
        self.sim.clock.skew_ms = skew_ms

    # ---- faults ----------------------------------------------------------------------------------

    def drop_ws(self, kind: str | None = None, code: int = 1001) -> int:
        """Close WebSocket connections (``market``, ``user``/``ws-api``, ``futures-market``, ``futures-user``)."""
        return self.sim.hub.drop(STREAM_KINDS[kind] if kind else None, code)

    def server_shutdown(self, kind: str | None = None, close: bool = True) -> int:
        """Send Binance's ``serverShutdown`` event on the sockets of ``kind`` (all by default), then close them."""
        return self.sim.hub.server_shutdown(self.sim.now(), STREAM_KINDS[kind] if kind else None, close)

    def stall_market(self, stalled: bool = True) -> None:
        """Silent stall: market sockets stay open (pings answered) but no data flows."""
        self.sim.faults.market_stalled = stalled

    def drop_next_events(self, kind: str, count: int = 1) -> None:
        """Lose the next ``count`` events of ``kind``: ``kline_closed``, ``executionReport``,
        ``outboundAccountPosition``, ``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``, ``ALGO_UPDATE``."""
        self.sim.faults.dropped_events[kind] = self.sim.faults.dropped_events.get(kind, 0) + count

    def duplicate_next_events(self, kind: str = "executionReport", count: int = 1) -> None:
        """Send each of the next ``count`` events of ``kind`` twice (spot ``executionReport``)."""
        self.sim.faults.duplicated_events[kind] = self.sim.faults.duplicated_events.get(kind, 0) + count

    def delay_next_events(self, kind: str = "executionReport", count: int = 1) -> None:
        """Send each of the next ``count`` events of ``kind`` after the account's following one."""
        self.sim.faults.delayed_events[kind] = self.sim.faults.delayed_events.get(kind, 0) + count

    def set_participation(self, fraction: str | None = None) -> None:
        """Resting orders fill at most ``fraction`` × the volume of each price-path segment (partial
        fills); ``None`` lifts the cap."""
        self.sim.engine.config = replace(self.sim.engine.config,
                                         participation=Decimal(fraction) if fraction is not None else None)

    def lose_next_response(self, method: str | None = "POST", path: str | None = "/api/v3/order",
                           mode: str = "hang", after_commit: bool = True, count: int = 1,
                           hang_seconds: float = 30.0) -> None:
        """The reply to the next matching request never arrives (``hang``) or is a 503 / -1007.

        ``after_commit=True``: the request is executed (the order exists) before the reply is lost.
        """
        if mode not in RESPONSE_MODES:
            raise ValueError(f"mode must be one of {RESPONSE_MODES}")
        self.sim.faults.response_faults.append(ResponseFault(method, path, mode, after_commit, count, hang_seconds))

    def delay_responses(self, delay_ms: int, count: int = 1) -> None:
        self.sim.faults.delay_ms, self.sim.faults.delay_count = delay_ms, count

    def force_rate_limit(self, count: int = 1) -> None:
        """The next ``count`` REST/WS-API requests are answered 429 (and 418 once it continues)."""
        self.sim.faults.forced_rate_limits += count

    def set_weight_limit(self, limit: int) -> None:
        self.sim.limiter.weight_limit = limit

    def set_order_limits(self, per_10s: int, per_day: int | None = None) -> None:
        self.sim.limiter.orders_10s = per_10s
        if per_day is not None:
            self.sim.limiter.orders_1d = per_day

    def reject_next_order(self, code: int = -2010, msg: str = INSUFFICIENT_BALANCE, http_status: int = 400) -> None:
        self.sim.faults.order_rejections.append(SimError(code, msg, http_status))

    def set_symbol_status(self, symbol: str, status: str, market: str = "spot") -> None:
        """``TRADING``, ``HALT``, ``BREAK``, ``CANCEL_ONLY``... (new orders → ``-2010 Market is closed.``)."""
        self.sim.engine.set_status(_market(market), symbol, status)

    async def restart(self, downtime_s: float = 0.0) -> None:
        """Stop serving (sockets close, connections refused), wait, serve again on the same port.
        The exchange state — open orders, balances, clock — is kept."""
        if self._restart is None:
            raise RuntimeError("restart needs a SimulatorServer")
        await self._restart(downtime_s)

    # ---- accounts and inspection -------------------------------------------------------------------

    def fund(self, api_key: str, asset: str, amount: Decimal | str, market: str = "spot") -> None:
        """Set ``asset``'s free balance of ``api_key``'s account (created on first use)."""
        if _market(market) is Market.USDM:
            self.sim.engine.futures_account(api_key).wallet[asset] = Decimal(amount)
        else:
            self.sim.engine.spot_account(api_key).free[asset] = Decimal(amount)

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return {b.asset: (b.free, b.locked) for b in self.sim.engine.spot_account(api_key).view()}

    def futures_wallet(self, api_key: str) -> dict[str, Decimal]:
        return dict(self.sim.engine.futures_account(api_key).wallet)

    def positions(self, api_key: str) -> list[PositionView]:
        return [p for p in self.sim.engine.positions(api_key) if p.position_amt != 0]

    def open_orders(self, api_key: str, symbol: str | None = None, market: str = "spot") -> list[SimOrder]:
        return self.sim.engine.open_orders(api_key, _market(market), symbol)

    def orders(self, api_key: str, symbol: str, market: str = "spot") -> list[SimOrder]:
        return self.sim.engine.all_orders(api_key, _market(market), symbol)

    def trades(self, api_key: str, symbol: str, market: str = "spot") -> list[Trade]:
        return self.sim.engine.account_trades(api_key, _market(market), symbol)

    def algo_orders(self, api_key: str) -> list[AlgoOrder]:
        return [a for a in self.sim.engine.algos.values() if a.account == api_key]

    def price(self, symbol: str) -> Decimal:
        return self.sim.price(symbol)

    def requests(self, path: str | None = None, method: str | None = None) -> int:
        """How many REST requests reached ``path`` (all paths when None)."""
        return sum(1 for m, p, _ in self.sim.request_log
                   if (path is None or p == path) and (method is None or m == method))

    def assert_no_orphan_orders(self, api_key: str, prefix: str) -> None:
        """Every open order of ``api_key`` must carry our client-id ``prefix`` (none adopted by nobody)."""
        stray = [o.client_order_id for o in self.sim.engine.open_orders(api_key, Market.SPOT)
                 if not o.client_order_id.startswith(prefix)]
        if stray:
            raise AssertionError(f"open orders without prefix {prefix!r}: {stray}")

    def state(self) -> dict[str, Any]:
        sim = self.sim
        return {
            "serverTime": sim.now(), "replayTime": sim.clock.replay_ms, "skewMs": sim.clock.skew_ms,
            "paused": sim.paused, "speed": sim.speed if sim.speed != float("inf") else "max",
            "timeframe": sim.replay.timeframe.value, "finished": sim.replay.finished,
            "symbols": {s: str(sim.price(s)) for s in sim.replay.series},
            "openOrders": sum(len(ids) for ids in sim.engine.open_ids.values()),
            "accounts": sorted(set(sim.engine.spot_accounts) | set(sim.engine.futures_accounts)),
            "connections": len(sim.hub.connections),
        }

    def save_state(self, path: str) -> None:
        self.sim.save_state(path)
