"""``ExecutionVenue`` implementations on Binance spot and USD-M futures.

Errors propagate as translated by the client: ``NetworkError`` on an order create means the outcome
is unknown (the execution layer queries by client order id before any resend);
``DuplicateOrderError`` means an order with that id is already open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.orders import (
    FUTURES_ALGO_TYPES,
    futures_algo_params,
    futures_order_params,
    oco_params,
    otoco_params,
    spot_order_params,
)
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import ParamValue
from ictbot.adapters.binance.user_stream import UserDataStream
from ictbot.domain.errors import FinalError, OrderNotFoundError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.order import Fill, Order
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition

_DAY_MS = 86_400_000
_TRADES_PAGE = 1000
_MAX_TRADE_PAGES = 200  # bound: 200k fills per call


class BinanceVenue:
    """Spot venue: ``/api/v3`` orders, OCO via ``/api/v3/orderList/oco``, WS-API user stream."""

    market = Market.SPOT

    def __init__(self, client: BinanceRestClient, user_stream: UserDataStream | None = None) -> None:
        self.client = client
        self.user_stream = user_stream
        self._instruments: dict[str, Instrument] = {}
        self._client_ids: dict[tuple[str, str], str] = {}  # (symbol, orderId) -> clientOrderId

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client={self.client!r})"

    async def instruments(self) -> dict[str, Instrument]:
        self._instruments = await self.client.instruments()
        return dict(self._instruments)

    # ---- orders ---------------------------------------------------------------------------
    async def place_order(self, order: Order) -> VenueOrderReport:
        body = await self.client.request(
            "POST", "/api/v3/order", spot_order_params(order), signed=True, weight=1, orders=1
        )
        return self._remember(parse.order_report(body, "new order"))

    async def place_oco(self, stop: Order, target: Order, list_client_id: str) -> list[VenueOrderReport]:
        body = await self.client.request(
            "POST", "/api/v3/orderList/oco", oco_params(stop, target, list_client_id), signed=True, weight=1, orders=2
        )
        return [self._remember(r) for r in parse.order_list_reports(body)]

    async def place_otoco(self, entry: Order, stop: Order, target: Order, list_client_id: str
                          ) -> list[VenueOrderReport]:
        """The entry as an OTOCO working order; Binance places the stop/target OCO the moment it fills.
        Reports come back working order first; the pending legs report ``PENDING_NEW`` (read as NEW)."""
        body = await self.client.request(
            "POST", "/api/v3/orderList/otoco", otoco_params(entry, stop, target, list_client_id), signed=True,
            weight=1, orders=3,
        )
        return [self._remember(r) for r in parse.order_list_reports(body)]

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrderReport:
        body = await self.client.request(
            "DELETE", "/api/v3/order", {"symbol": symbol, "origClientOrderId": client_order_id}, signed=True, weight=1
        )
        return self._remember(parse.order_report(body, "cancel order"))

    async def query_order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None:
        try:
            body = await self.client.request(
                "GET", "/api/v3/order", {"symbol": symbol, "origClientOrderId": client_order_id}, signed=True, weight=4
            )
        except OrderNotFoundError:
            return None
        return self._remember(parse.order_report(body, "query order"))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderReport]:
        params: dict[str, ParamValue] = {"symbol": symbol} if symbol else {}
        body = await self.client.request("GET", "/api/v3/openOrders", params, signed=True, weight=6 if symbol else 80)
        return [self._remember(parse.order_report(row, "open orders")) for row in _rows(body)]

    # ---- fills ----------------------------------------------------------------------------
    async def trades(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Own trades since ``since_ms`` (inclusive), oldest first, without duplicates."""
        rows: dict[int, Any] = {}
        if since_ms is None:
            for raw in parse.trades(await self._trade_page(symbol, {})):
                rows[raw.id] = raw
        else:
            start = since_ms
            estimated_now = self.client.server_time.now_ms()
            for _ in range(_MAX_TRADE_PAGES):
                # The last window has no endTime: the exchange's clock bounds it, not our estimate of
                # that clock (an estimate that lags would hide the newest trades; Found 2 in
                # docs/reliability.md). Earlier windows: Binance allows a span of at most 24 h.
                last = start + _DAY_MS > estimated_now
                window: dict[str, ParamValue] = {"startTime": start}
                if not last:
                    window["endTime"] = start + _DAY_MS - 1
                page = parse.trades(await self._trade_page(symbol, window))
                for raw in page:
                    rows[raw.id] = raw
                if len(page) >= _TRADES_PAGE:
                    start = max(r.time for r in page)  # same ms may hold more: dedupe by id above
                    if start == min(r.time for r in page):
                        start += 1
                elif last:
                    break
                else:
                    start += _DAY_MS
        ordered = sorted(rows.values(), key=lambda r: (r.time, r.id))
        await self._resolve_client_ids(symbol, {str(r.orderId) for r in ordered}, since_ms)
        return [parse.fill_from_trade(r, self._client_ids.get((symbol, str(r.orderId)), "")) for r in ordered]

    async def _trade_page(self, symbol: str, extra: dict[str, ParamValue]) -> Any:
        params: dict[str, ParamValue] = {"symbol": symbol, "limit": _TRADES_PAGE, **extra}
        return await self.client.request("GET", self._trades_path, params, signed=True, weight=20)

    _trades_path = "/api/v3/myTrades"
    _all_orders_path = "/api/v3/allOrders"

    async def _resolve_client_ids(self, symbol: str, order_ids: set[str], since_ms: int | None) -> None:
        """Trades name only ``orderId``; map unknown ones to client ids through ``allOrders``."""
        missing = {oid for oid in order_ids if (symbol, oid) not in self._client_ids}
        if not missing:
            return
        lowest = min(int(oid) for oid in missing)
        params: dict[str, ParamValue] = {"symbol": symbol, "orderId": lowest, "limit": 1000}
        for _ in range(_MAX_TRADE_PAGES):
            rows = _rows(await self.client.request("GET", self._all_orders_path, params, signed=True, weight=20))
            for row in rows:
                self._remember(parse.order_report(row, "allOrders"))
            missing = {oid for oid in missing if (symbol, oid) not in self._client_ids}
            if not missing or len(rows) < 1000:
                return
            params["orderId"] = max(int(r["orderId"]) for r in rows) + 1

    # ---- account --------------------------------------------------------------------------
    async def balances(self) -> dict[str, Balance]:
        body = await self.client.request("GET", "/api/v3/account", {"omitZeroBalances": "true"}, signed=True, weight=20)
        return parse.spot_balances(body)

    async def positions(self) -> list[VenuePosition]:
        return []

    _prices_path = "/api/v3/ticker/price"

    async def prices(self) -> dict[str, Decimal]:
        """Last price of every symbol (marks holdings when equity is rebuilt at start)."""
        rows = _rows(await self.client.request("GET", self._prices_path, {}, weight=4))
        return {str(row["symbol"]): Decimal(str(row["price"])) for row in rows if Decimal(str(row["price"])) > 0}

    async def order_updates(self) -> AsyncIterator[VenueOrderReport]:
        if self.user_stream is None:
            raise FinalError("no user-data stream configured for this venue")
        async for report in self.user_stream.updates():
            yield self._remember(report)

    def _remember(self, report: VenueOrderReport) -> VenueOrderReport:
        if report.exchange_order_id:
            self._client_ids[(report.symbol, report.exchange_order_id)] = report.client_order_id
        return report


class BinanceFuturesVenue(BinanceVenue):
    """USD-M venue: MARKET/LIMIT (reduceOnly) on ``/fapi/v1/order``; STOP_MARKET/TAKE_PROFIT_MARKET on
    ``/fapi/v1/algoOrder``; leverage, margin type, ``positionRisk``; listenKey user stream."""

    market = Market.USDM
    _trades_path = "/fapi/v1/userTrades"
    _prices_path = "/fapi/v1/ticker/price"
    _all_orders_path = "/fapi/v1/allOrders"

    def __init__(
        self, client: BinanceRestClient, user_stream: UserDataStream | None = None, working_type: str = "MARK_PRICE"
    ) -> None:
        if client.market is not Market.USDM:
            raise ValueError("BinanceFuturesVenue needs a USD-M client")
        super().__init__(client, user_stream)
        self._working_type = working_type
        self._algo_children: dict[tuple[str, str], str] = {}  # (symbol, triggered orderId) -> our id

    def _remember(self, report: VenueOrderReport) -> VenueOrderReport:
        """A triggered algo order continues as a matching-engine order with Binance's own client id;
        its reports and fills are re-labelled with our algo client id so they reach our order."""
        child = parse.algo_child_order_id(report)
        if child is not None:
            self._algo_children[(report.symbol, child)] = report.client_order_id
            self._client_ids[(report.symbol, child)] = report.client_order_id
            return report
        parent = self._algo_children.get((report.symbol, report.exchange_order_id or ""))
        if parent is not None and parent != report.client_order_id:
            report = replace(
                report,
                client_order_id=parent,
                fills=tuple(replace(fill, client_order_id=parent) for fill in report.fills),
            )
        return super()._remember(report)

    async def place_order(self, order: Order) -> VenueOrderReport:
        if order.type in FUTURES_ALGO_TYPES:
            body = await self.client.request(
                "POST",
                "/fapi/v1/algoOrder",
                futures_algo_params(order, self._working_type),
                signed=True,
                weight=0,
                orders=1,
            )
            return parse.algo_order_report(body)
        body = await self.client.request(
            "POST", "/fapi/v1/order", futures_order_params(order), signed=True, weight=0, orders=1
        )
        return self._remember(parse.order_report(body, "new futures order"))

    async def place_otoco(self, entry: Order, stop: Order, target: Order, list_client_id: str
                          ) -> list[VenueOrderReport]:
        raise FinalError("USD-M has no OTOCO order lists")  # futures instruments never allow OTO

    async def place_oco(self, stop: Order, target: Order, list_client_id: str) -> list[VenueOrderReport]:
        """USD-M has no OCO: both legs are placed reduce-only; the position closing cancels nothing by
        itself, so the caller cancels the surviving leg (``closePosition`` is not used on purpose)."""
        return [await self.place_order(stop), await self.place_order(target)]

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrderReport:
        try:
            body = await self.client.request(
                "DELETE",
                "/fapi/v1/order",
                {"symbol": symbol, "origClientOrderId": client_order_id},
                signed=True,
                weight=1,
            )
            return self._remember(parse.order_report(body, "cancel futures order"))
        except OrderNotFoundError:
            body = await self.client.request(
                "DELETE", "/fapi/v1/algoOrder", {"clientAlgoId": client_order_id}, signed=True, weight=1
            )
            return VenueOrderReport(
                client_order_id=client_order_id,
                symbol=symbol,
                status=parse.order_status("CANCELED"),
                exchange_order_id=f"algo:{body.get('algoId')}" if isinstance(body, dict) else None,
            )

    async def query_order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None:
        try:
            body = await self.client.request(
                "GET", "/fapi/v1/order", {"symbol": symbol, "origClientOrderId": client_order_id}, signed=True, weight=1
            )
            return self._remember(parse.order_report(body, "query futures order"))
        except OrderNotFoundError:
            pass
        try:
            body = await self.client.request(
                "GET", "/fapi/v1/algoOrder", {"clientAlgoId": client_order_id}, signed=True, weight=1
            )
        except OrderNotFoundError:
            return None
        return parse.algo_order_report(body)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderReport]:
        params: dict[str, ParamValue] = {"symbol": symbol} if symbol else {}
        regular = _rows(
            await self.client.request("GET", "/fapi/v1/openOrders", params, signed=True, weight=1 if symbol else 40)
        )
        algo = _rows(
            await self.client.request("GET", "/fapi/v1/openAlgoOrders", params, signed=True, weight=1 if symbol else 40)
        )
        reports = [self._remember(parse.order_report(row, "open futures orders")) for row in regular]
        return reports + [parse.algo_order_report(row) for row in algo]

    async def balances(self) -> dict[str, Balance]:
        return parse.futures_balances(await self.client.request("GET", "/fapi/v3/account", signed=True, weight=5))

    async def positions(self) -> list[VenuePosition]:
        return parse.positions(await self.client.request("GET", "/fapi/v3/positionRisk", signed=True, weight=5))

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        body = await self.client.request(
            "POST", "/fapi/v1/leverage", {"symbol": symbol, "leverage": leverage}, signed=True, weight=1
        )
        return int(body.get("leverage", leverage)) if isinstance(body, dict) else leverage

    async def set_margin_type(self, symbol: str, margin_type: str) -> None:
        """``ISOLATED`` or ``CROSSED``; "no need to change" (-4046) is success."""
        if margin_type not in ("ISOLATED", "CROSSED"):
            raise ValueError("margin type must be ISOLATED or CROSSED")
        try:
            await self.client.request(
                "POST", "/fapi/v1/marginType", {"symbol": symbol, "marginType": margin_type}, signed=True, weight=1
            )
        except FinalError as exc:
            if exc.code != -4046:
                raise


def _rows(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise FinalError(f"expected a list reply, got {type(body).__name__}")
    return body
