"""Async REST client for Binance spot (``/api/v3``) and USD-M futures (``/fapi``) on httpx.

Every request goes through the shared rate budget, signed requests carry a server-synchronised
``timestamp`` and ``recvWindow``, and every error reply is translated at this edge. GETs are retried
(bounded) on retryable errors; writes never are, except after a ``-1021`` rejection, which happens
before the matching engine (so the order cannot exist).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.errors import translate_error
from ictbot.adapters.binance.ratelimit import RateBudget, RateLimitRule, shared_budget
from ictbot.adapters.binance.signing import Credentials, ParamValue, encode_query, signed_query
from ictbot.adapters.binance.timesync import ServerTime
from ictbot.domain.candle import Candle
from ictbot.domain.errors import (
    AuthenticationError,
    ExchangeError,
    NetworkError,
    RateLimitedError,
    RetryableError,
    TimestampError,
)
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.clock import Clock

log = structlog.get_logger(__name__)

KLINE_PAGE_LIMIT = 1000
MAX_RETRY_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class _Paths:
    time: str
    exchange_info: str
    klines: str
    order: str
    open_orders: str
    all_orders: str
    trades: str
    account: str


_SPOT = _Paths(
    "/api/v3/time",
    "/api/v3/exchangeInfo",
    "/api/v3/klines",
    "/api/v3/order",
    "/api/v3/openOrders",
    "/api/v3/allOrders",
    "/api/v3/myTrades",
    "/api/v3/account",
)
_USDM = _Paths(
    "/fapi/v1/time",
    "/fapi/v1/exchangeInfo",
    "/fapi/v1/klines",
    "/fapi/v1/order",
    "/fapi/v1/openOrders",
    "/fapi/v1/allOrders",
    "/fapi/v1/userTrades",
    "/fapi/v3/account",
)


class BinanceRestClient:
    """One client per API family (``Market.SPOT`` or ``Market.USDM``)."""

    def __init__(
        self,
        endpoints: BinanceEndpoints,
        credentials: Credentials | None = None,
        *,
        market: Market = Market.SPOT,
        budget: RateBudget | None = None,
        clock: Clock | None = None,
        server_time: ServerTime | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        recv_window_ms: int = 5000,
        get_retries: int = 2,
    ) -> None:
        if not 0 < recv_window_ms <= 60_000:
            raise ValueError("recvWindow must be in (0, 60000] ms")
        self.market = market
        self.endpoints = endpoints
        self._credentials = credentials
        self._paths = _USDM if market is Market.USDM else _SPOT
        base = endpoints.fapi_rest if market is Market.USDM else endpoints.rest
        self.budget: RateBudget = budget or shared_budget(market.value, httpx.URL(base).netloc.decode())
        self.server_time = server_time or ServerTime(clock)
        self._recv_window = recv_window_ms
        self._get_retries = get_retries
        self._http = httpx.AsyncClient(base_url=base, transport=transport, timeout=timeout)
        # Told (method, path, error or None) after every request: how /health sees the exchange.
        self.outcome_listeners: list[Callable[[str, str, ExchangeError | None], None]] = []

    def __repr__(self) -> str:
        return (
            f"BinanceRestClient(market={self.market.value}, base={self._http.base_url}, "
            f"credentials={self._credentials!r})"
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> BinanceRestClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    @property
    def has_credentials(self) -> bool:
        return self._credentials is not None

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            raise AuthenticationError("this Binance client has no API credentials configured")
        return self._credentials

    # ---- core request -------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue] | None = None,
        *,
        signed: bool = False,
        api_key: bool = False,
        weight: int = 1,
        orders: int = 0,
    ) -> Any:
        """Send one request and return the decoded JSON; raise a translated ``ExchangeError``."""
        attempts = 1 + (self._get_retries if method == "GET" else 0)
        timestamp_retry_used = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._send(
                    method, path, params or {}, signed=signed, api_key=api_key, weight=weight, orders=orders
                )
            except TimestampError:
                # Rejected before the matching engine: resync and resend once, writes included.
                if timestamp_retry_used:
                    raise
                timestamp_retry_used = True
                self.server_time.invalidate()
                await self.sync_time()
            except RetryableError as exc:
                if attempt >= attempts or (exc.retry_after or 0) > MAX_RETRY_WAIT_S:
                    raise  # an IP ban of minutes to days is the caller's decision, not a silent wait
                delay = exc.retry_after if isinstance(exc, RateLimitedError) and exc.retry_after else 0.2 * attempt
                log.warning("binance GET retry", path=path, attempt=attempt, error=str(exc))
                await self.server_time.clock.sleep(delay)

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue],
        *,
        signed: bool,
        api_key: bool,
        weight: int,
        orders: int,
    ) -> Any:
        """One request; every outcome is told to ``outcome_listeners`` (health reporting)."""
        try:
            result = await self._send_once(method, path, params, signed=signed, api_key=api_key,
                                           weight=weight, orders=orders)
        except ExchangeError as exc:
            self._tell(method, path, exc)
            raise
        self._tell(method, path, None)
        return result

    def _tell(self, method: str, path: str, error: ExchangeError | None) -> None:
        for listener in self.outcome_listeners:
            try:
                listener(method, path, error)
            except Exception:  # a health observer must never break a request
                log.exception("request outcome listener failed")

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue],
        *,
        signed: bool,
        api_key: bool,
        weight: int,
        orders: int,
    ) -> Any:
        headers: dict[str, str] = {}
        if signed or api_key:
            headers["X-MBX-APIKEY"] = self.credentials.api_key
        if signed and self.server_time.needs_sync():
            await self.sync_time()
        # Wait for the budget *before* stamping: a request held back for a window must not leave
        # with a timestamp older than its recvWindow.
        await self.budget.acquire(weight, orders)
        if signed:
            full = dict(params)
            full["recvWindow"] = self._recv_window
            full["timestamp"] = self.server_time.now_ms()
            query = signed_query(full, self.credentials.signer)
        else:
            query = encode_query(params)
        url = f"{path}?{query}" if query else path
        try:
            response = await self._http.request(method, url, headers=headers)
        except httpx.TimeoutException as exc:
            raise NetworkError(f"{method} {path}: timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise NetworkError(f"{method} {path}: connection failed ({type(exc).__name__})") from None
        self.budget.observe_headers(response.headers)
        return self._decode(method, path, response)

    def _decode(self, method: str, path: str, response: httpx.Response) -> Any:
        try:
            body: Any = response.json() if response.content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.is_success:
            if body is None and response.content:
                raise NetworkError(f"{method} {path}: undecodable success body", http_status=response.status_code)
            return body
        code = body.get("code") if isinstance(body, dict) else None
        msg = str(body.get("msg", "")) if isinstance(body, dict) else response.reason_phrase
        retry_after = _retry_after(response.headers.get("Retry-After"))
        error = translate_error(
            response.status_code,
            code if isinstance(code, int) else None,
            msg,
            retry_after=retry_after,
            where=f"{method} {path}",
        )
        if isinstance(error, RateLimitedError):
            self.budget.pause(retry_after if retry_after is not None else 1.0)
        raise error

    # ---- general ----------------------------------------------------------------------------
    async def sync_time(self) -> int:
        """Measure the server clock offset; returns the offset in ms."""
        sent = self.server_time.local_ms()
        body = await self._send("GET", self._paths.time, {}, signed=False, api_key=False, weight=1, orders=0)
        received = self.server_time.local_ms()
        self.server_time.record(sent, int(body["serverTime"]), received)
        return self.server_time.offset_ms

    async def exchange_info_raw(self, symbols: list[str] | None = None) -> Any:
        params: dict[str, ParamValue] = {}
        if symbols:
            params["symbols"] = json.dumps(symbols, separators=(",", ":"))
        weight = 1 if self.market is Market.USDM else 20
        return await self.request("GET", self._paths.exchange_info, params, weight=weight)

    async def instruments(self, symbols: list[str] | None = None) -> dict[str, Instrument]:
        """Filters per symbol; also adopts ``rateLimits`` into the shared budget."""
        payload = await self.exchange_info_raw(symbols)
        limits = payload.get("rateLimits") if isinstance(payload, dict) else None
        if limits:
            self.budget.configure([RateLimitRule.from_exchange(raw) for raw in limits])
        return parse.instruments(payload, self.market)

    # ---- klines -----------------------------------------------------------------------------
    async def fetch_klines(
        self,
        symbol: str,
        timeframe: Timeframe,
        start_ms: int,
        end_ms: int | None = None,
        limit: int = KLINE_PAGE_LIMIT,
    ) -> list[Candle]:
        """One page of candles from ``start_ms`` (inclusive open time); the last may still be open."""
        params: dict[str, ParamValue] = {
            "symbol": symbol,
            "interval": timeframe.value,
            "startTime": start_ms,
            "limit": limit,
        }
        if end_ms is not None:
            params["endTime"] = end_ms
        if self.server_time.needs_sync():
            await self.sync_time()
        # A row counts as closed only if it had closed when we asked: rows are a snapshot taken after
        # our send, so judging them by a later clock would pass an open candle's partial values.
        asked_at = self.server_time.now_ms()
        rows = await self.request("GET", self._paths.klines, params, weight=self._kline_weight(limit))
        return parse.candles_from_rows(rows, symbol, timeframe, asked_at, self.market)

    def _kline_weight(self, limit: int) -> int:
        if self.market is Market.SPOT:
            return 2
        return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10

    async def iter_klines(
        self,
        symbol: str,
        timeframe: Timeframe,
        start_ms: int,
        end_ms: int | None = None,
        *,
        page_limit: int = KLINE_PAGE_LIMIT,
        closed_only: bool = True,
    ) -> AsyncIterator[list[Candle]]:
        """Pages of candles covering ``[start_ms, end_ms]`` by open time."""
        from ictbot.marketdata.history import fetch_klines  # one paging implementation

        async for page in fetch_klines(
            self, symbol, timeframe, start_ms, end_ms, page_limit=page_limit, closed_only=closed_only
        ):
            yield page


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


__all__ = ["KLINE_PAGE_LIMIT", "BinanceRestClient", "ExchangeError"]
