"""What ``/health`` reports about the outside world: exchange, rate limits, user stream, market data
and order entry, each ``healthy | degraded | down`` with a reason and when it was last fine.

The adapters report what they see (every REST outcome, every user-stream connect and disconnect);
market data is judged by the newest closed base candle per symbol. Nothing here polls: the state is
computed when asked, so it is current at every ``/health`` call and Prometheus scrape.

``down`` means trading cannot proceed (``/health`` answers 503): the exchange unreachable for
``exchange_down_after_s`` or ``exchange_down_failures`` requests in a row, an IP ban (HTTP 418), or
a user stream that stopped for good (rejected key) in live/testnet. Everything that delays or
endangers trading without stopping it is ``degraded``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from ictbot.domain.errors import ExchangeError, RateLimitedError, RetryableError, TimestampError
from ictbot.domain.timeframe import Timeframe
from ictbot.monitoring.reports import ComponentHealth, HealthState
from ictbot.ports.clock import Clock, SystemClock

ORDER_PATHS = ("/api/v3/order", "/fapi/v1/order", "/api/v3/orderList/oco", "/api/v3/order/oco")


class Severity(IntEnum):
    """The Prometheus value of a component state (``ictbot_component_health``)."""

    HEALTHY = 0
    DEGRADED = 1
    DOWN = 2


SEVERITY = {HealthState.HEALTHY: Severity.HEALTHY, HealthState.DEGRADED: Severity.DEGRADED,
            HealthState.DOWN: Severity.DOWN}


@dataclass(frozen=True)
class HealthLimits:
    exchange_down_after_s: float = 10.0  # failing this long since the last success: down
    exchange_down_failures: int = 3  # or this many failed requests in a row
    order_error_memory_s: float = 300.0  # a failed order entry keeps order_entry degraded this long
    stale_intervals: float = 2.0  # market data: no closed candle for this many base intervals
    user_stream_grace_s: float = 5.0  # a reconnect shorter than this is not worth reporting


def _state(status: HealthState, reason: str = "", last_ok_ms: int | None = None,
           until_ms: int | None = None) -> ComponentHealth:
    return ComponentHealth(status=status, reason=reason, detail=reason, last_ok_ms=last_ok_ms, until_ms=until_ms)


class HealthBoard:
    """Observations in, component states out. ``wall`` times connectivity, ``market`` candles."""

    def __init__(
        self,
        *,
        wall: Clock | None = None,
        market: Clock | None = None,
        limits: HealthLimits | None = None,
        user_stream_required: bool = False,
    ) -> None:
        self.wall = wall or SystemClock()
        self.market = market or self.wall
        self.limits = limits or HealthLimits()
        self.user_stream_required = user_stream_required
        self._exchange_ok_ms: int | None = None
        self._failing_since_ms: int | None = None
        self._failures = 0
        self._exchange_error = ""
        self._limited_until_ms = 0
        self._limited_status = 0
        self._order_error: tuple[int, str] | None = None
        self._order_ok_ms: int | None = None
        self._stream: tuple[bool, int, str] | None = None  # connected, since, reason
        self._stream_ok_ms: int | None = None
        self._stream_stopped = ""
        self._watching = False
        self._last_closed: dict[str, int] = {}
        self._symbols: tuple[str, ...] = ()
        self._base: Timeframe | None = None
        self._market_started_ms = self.market.now_ms()

    # ---- observations -------------------------------------------------------------------------
    def request_outcome(self, method: str, path: str, error: BaseException | None) -> None:
        """Every REST reply (``error`` None) or failure, from the Binance client."""
        now = self.wall.now_ms()
        if isinstance(error, RateLimitedError):
            wait_ms = int((error.retry_after if error.retry_after is not None else 1.0) * 1000)
            self._limited_until_ms = max(self._limited_until_ms, now + wait_ms)
            self._limited_status = error.http_status or 429
        elif isinstance(error, RetryableError) and not isinstance(error, TimestampError):
            self._failures += 1
            self._failing_since_ms = self._failing_since_ms or now
            self._exchange_error = str(error)
        else:  # an answer, even a business rejection, proves the exchange is reachable
            self._exchange_ok_ms, self._failing_since_ms, self._failures = now, None, 0
        if method == "POST" and path in ORDER_PATHS:
            if error is None:
                self._order_ok_ms, self._order_error = now, None
            elif isinstance(error, ExchangeError):
                self._order_error = (now, str(error))

    def user_stream_state(self, connected: bool, reason: str = "", *, final: bool = False) -> None:
        """The user-data stream connected, disconnected (``reason``) or stopped for good (``final``)."""
        now = self.wall.now_ms()
        if connected:
            self._stream_ok_ms, self._stream_stopped = now, ""
        if final:
            self._stream_stopped = reason or "stopped"
        if self._stream is None or self._stream[0] != connected or final:
            self._stream = (connected, now, reason)

    def watch_market(self, symbols: tuple[str, ...], base: Timeframe) -> None:
        """Report staleness of these symbols' closed ``base`` candles (fed by ``candle_closed``)."""
        self._symbols, self._base, self._watching = symbols, base, True
        self._market_started_ms = self.market.now_ms()

    def candle_closed(self, symbol: str, timeframe: Timeframe, open_time: int) -> None:
        if timeframe is self._base and open_time > self._last_closed.get(symbol, -1):
            self._last_closed[symbol] = open_time

    # ---- states -------------------------------------------------------------------------------
    def components(self, *, entries_blocked: Mapping[str, str] | None = None) -> dict[str, ComponentHealth]:
        found = {"exchange": self.exchange(), "rate_limit": self.rate_limit(),
                 "order_entry": self.order_entry(entries_blocked or {})}
        if self._stream is not None:
            found["user_stream"] = self.user_stream()
        if self._watching:
            found["market_data"] = self.market_data()
        return found

    def exchange(self) -> ComponentHealth:
        if self._failing_since_ms is None:
            return _state(HealthState.HEALTHY, "", self._exchange_ok_ms)
        failing_s = (self.wall.now_ms() - self._failing_since_ms) / 1000
        down = failing_s >= self.limits.exchange_down_after_s or self._failures >= self.limits.exchange_down_failures
        reason = f"{self._failures} failed request(s) over {failing_s:.0f} s; last: {self._exchange_error}"
        return _state(HealthState.DOWN if down else HealthState.DEGRADED, reason, self._exchange_ok_ms)

    def rate_limit(self) -> ComponentHealth:
        now = self.wall.now_ms()
        if now >= self._limited_until_ms:
            return _state(HealthState.HEALTHY)
        wait_s = (self._limited_until_ms - now) / 1000
        if self._limited_status == 418:
            return _state(HealthState.DOWN, f"IP banned by the exchange (HTTP 418) for {wait_s:.0f} s more",
                          until_ms=self._limited_until_ms)
        return _state(HealthState.DEGRADED, f"rate limited (HTTP {self._limited_status}); requests wait "
                      f"{wait_s:.1f} s more", until_ms=self._limited_until_ms)

    def user_stream(self) -> ComponentHealth:
        assert self._stream is not None
        connected, since, reason = self._stream
        if connected:
            return _state(HealthState.HEALTHY, "", self._stream_ok_ms)
        if self._stream_stopped:
            status = HealthState.DOWN if self.user_stream_required else HealthState.DEGRADED
            return _state(status, f"stopped: {self._stream_stopped}; orders are followed by REST polling only",
                          self._stream_ok_ms)
        down_s = (self.wall.now_ms() - since) / 1000
        if self._stream_ok_ms is not None and down_s < self.limits.user_stream_grace_s:
            return _state(HealthState.HEALTHY, "reconnecting", self._stream_ok_ms)
        what = "disconnected" if self._stream_ok_ms is not None else "not connected yet"
        cause = f" ({reason})" if reason else ""
        return _state(HealthState.DEGRADED, f"{what} for {down_s:.0f} s{cause}; orders are followed by REST "
                      "polling meanwhile", self._stream_ok_ms)

    def market_data(self) -> ComponentHealth:
        assert self._base is not None
        now, tf = self.market.now_ms(), self._base
        limit_ms = int(self.limits.stale_intervals * tf.ms)
        latest = self._last_closed
        stale: list[str] = []
        for symbol in self._symbols:
            open_time = latest.get(symbol)
            # Age of the newest closed candle; before the first one, time since watching began.
            age = now - (open_time + tf.ms) if open_time is not None else now - self._market_started_ms - tf.ms
            if age >= limit_ms:
                stale.append(f"{symbol} no closed {tf.value} candle for {age // 1000} s")
        closes = [t + tf.ms for s, t in latest.items() if s in self._symbols]
        last_ok = min(closes) if closes and not stale else (max(closes) if closes else None)
        if stale:
            return _state(HealthState.DEGRADED, f"stale (limit {limit_ms // 1000} s): {'; '.join(stale)}", last_ok)
        return _state(HealthState.HEALTHY, "", last_ok)

    def order_entry(self, entries_blocked: Mapping[str, str]) -> ComponentHealth:
        problems = [f"entries blocked: {', '.join(entries_blocked.values())}"] if entries_blocked else []
        if self._order_error is not None:
            when, error = self._order_error
            if (self.wall.now_ms() - when) / 1000 <= self.limits.order_error_memory_s:
                problems.append(f"last order entry failed: {error}")
        status = HealthState.DEGRADED if problems else HealthState.HEALTHY
        return _state(status, "; ".join(problems), self._order_ok_ms)
