"""Raw Binance payloads (``schemas``) → domain objects. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ictbot.adapters.binance import schemas as s
from ictbot.domain.candle import Candle
from ictbot.domain.errors import InputDataError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, OrderSide, OrderStatus, OrderType
from ictbot.domain.timeframe import Timeframe
from ictbot.instruments.exchange_info import parse_exchange_info
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.NEW,  # still on the book until the cancel completes
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "NEW_INSURANCE": OrderStatus.NEW,
    "NEW_ADL": OrderStatus.NEW,
}

# USD-M algo (conditional) order states; TRIGGERED/FINISHED hand over to a matching-engine order.
_ALGO_STATUS = {
    "NEW": OrderStatus.NEW,
    "TRIGGERING": OrderStatus.NEW,
    "TRIGGERED": OrderStatus.NEW,
    "FINISHED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
}


def validate(model: type[s._Raw], payload: Any, source: str) -> Any:
    """Validate ``payload`` against ``model``; malformed input becomes ``InputDataError``."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InputDataError(source, f"unexpected payload: {exc.error_count()} error(s): {exc.errors()[:3]}") from None


def order_status(raw: str) -> OrderStatus:
    try:
        return _STATUS[raw]
    except KeyError:
        raise InputDataError("binance", f"unknown order status {raw!r}") from None


def timeframe(interval: str) -> Timeframe:
    return Timeframe.parse(interval)


# ---- instruments ------------------------------------------------------------------------------
def instruments(payload: Any, market: Market = Market.SPOT) -> dict[str, Instrument]:
    """``exchangeInfo`` → instruments, through the catalogue's parser (the one reading of the filters)."""
    validate(s.RawExchangeInfo, payload, "exchangeInfo")
    return parse_exchange_info(payload, market)


# ---- candles ----------------------------------------------------------------------------------
def candle_from_row(
    row: Sequence[Any], symbol: str, tf: Timeframe, server_now_ms: int, market: Market = Market.SPOT
) -> Candle:
    """A REST kline row. It is closed once the server clock has passed its close time."""
    try:
        open_time = int(row[0])
        close_time_incl = int(row[6])
        return Candle(
            symbol=symbol,
            timeframe=tf,
            open_time=open_time,
            open=Decimal(str(row[1])),
            high=Decimal(str(row[2])),
            low=Decimal(str(row[3])),
            close=Decimal(str(row[4])),
            volume=Decimal(str(row[5])),
            closed=server_now_ms > close_time_incl,
            quote_volume=Decimal(str(row[7])),
            trades=int(row[8]),
            market=market,
        )
    except (IndexError, TypeError, ValueError, ArithmeticError) as exc:
        raise InputDataError("klines", f"malformed kline row {row!r}: {exc}") from None


def candles_from_rows(
    rows: Any, symbol: str, tf: Timeframe, server_now_ms: int, market: Market = Market.SPOT
) -> list[Candle]:
    if not isinstance(rows, list):
        raise InputDataError("klines", f"expected a list of rows, got {type(rows).__name__}")
    return [candle_from_row(row, symbol, tf, server_now_ms, market) for row in rows]


def ws_kline(payload: Mapping[str, Any]) -> s.RawWsKline:
    """A kline event, raw or wrapped as a combined-stream frame ``{"stream", "data"}``."""
    data = payload.get("data", payload)
    parsed: s.RawWsKline = validate(s.RawWsKline, data, "kline stream")
    return parsed


def candle_from_ws(raw: s.RawWsKline, market: Market = Market.SPOT) -> Candle:
    k = raw.k
    return Candle(
        symbol=k.s,
        timeframe=timeframe(k.i),
        open_time=k.t,
        open=k.o,
        high=k.h,
        low=k.low,
        close=k.c,
        volume=k.v,
        closed=k.x,
        quote_volume=k.q,
        trades=k.n,
        market=market,
    )


# ---- orders -----------------------------------------------------------------------------------
def report_from_order(raw: s.RawOrder, list_client_id: str = "") -> VenueOrderReport:
    side = OrderSide(raw.side) if raw.side else OrderSide.BUY  # only read when there are fills
    client_id = raw.origClientOrderId or raw.clientOrderId  # a cancel reply names the original in orig*
    time = raw.transactTime or raw.updateTime or raw.time or 0
    if raw.fills and raw.side is None:
        raise InputDataError("order", "fills without a side")
    fills = tuple(
        Fill(
            trade_id=str(f.tradeId),
            client_order_id=client_id,
            symbol=raw.symbol,
            side=side,
            price=f.price,
            qty=f.qty,
            fee=f.commission,
            fee_asset=f.commissionAsset,
            time=time,
        )
        for f in raw.fills
    )
    quote = raw.cummulativeQuoteQty
    if quote is None:
        quote = raw.cumQuote if raw.cumQuote is not None else (raw.avgPrice or ZERO) * raw.executedQty
    return VenueOrderReport(
        client_order_id=client_id,
        symbol=raw.symbol,
        status=order_status(raw.status),
        exchange_order_id=str(raw.orderId),
        executed_qty=raw.executedQty,
        cumulative_quote=quote,
        fills=fills,
        time=time,
        reason=raw.expiryReason or "",
        list_client_id=list_client_id,
        **_terms(raw.side, raw.type, raw.origQty, raw.price, raw.stopPrice, bool(raw.reduceOnly)),
    )


def _terms(side: str | None, order_type: str | None, qty: Decimal, price: Decimal, stop: Decimal | None,
           reduce_only: bool) -> dict[str, Any]:
    """The order's own terms, so reconciliation can adopt an order its journal lost (crash recovery).
    Unknown enum values are left out rather than guessed."""
    terms: dict[str, Any] = {"reduce_only": reduce_only}
    if side in OrderSide.__members__:
        terms["side"] = OrderSide(side)
    if order_type in OrderType.__members__:
        terms["type"] = OrderType(order_type)
    if qty > 0:
        terms["quantity"] = qty
    if price > 0:
        terms["price"] = price
    if stop is not None and stop > 0:
        terms["stop_price"] = stop
    return terms


def order_report(payload: Any, source: str = "order") -> VenueOrderReport:
    return report_from_order(validate(s.RawOrder, payload, source))


def order_list_reports(payload: Any) -> list[VenueOrderReport]:
    raw: s.RawOrderList = validate(s.RawOrderList, payload, "orderList")
    return [report_from_order(order, raw.listClientOrderId) for order in raw.orderReports]


def algo_order_report(payload: Any) -> VenueOrderReport:
    raw: s.RawAlgoOrder = validate(s.RawAlgoOrder, payload, "algoOrder")
    return VenueOrderReport(
        client_order_id=raw.clientAlgoId,
        symbol=raw.symbol,
        status=_algo_status(raw.algoStatus),
        exchange_order_id=f"algo:{raw.algoId}",
        time=raw.updateTime or raw.createTime,
    )


def _algo_status(raw: str) -> OrderStatus:
    try:
        return _ALGO_STATUS[raw]
    except KeyError:
        raise InputDataError("binance", f"unknown algo order status {raw!r}") from None


def fill_from_trade(raw: s.RawTrade, client_order_id: str) -> Fill:
    return Fill(
        trade_id=str(raw.id),
        client_order_id=client_order_id,
        symbol=raw.symbol,
        side=OrderSide.BUY if raw.buyer_side else OrderSide.SELL,
        price=raw.price,
        qty=raw.qty,
        fee=raw.commission,
        fee_asset=raw.commissionAsset,
        time=raw.time,
        is_maker=raw.maker_side,
    )


def trades(payload: Any) -> list[s.RawTrade]:
    if not isinstance(payload, list):
        raise InputDataError("myTrades", "expected a list")
    return [validate(s.RawTrade, row, "myTrades") for row in payload]


# ---- user data stream -------------------------------------------------------------------------
def report_from_execution(raw: s.RawExecutionReport) -> VenueOrderReport:
    """Spot ``executionReport``. A cancel carries the cancel request's id in ``c``, ours in ``C``."""
    client_id = raw.C if raw.x == "CANCELED" and raw.C else raw.c
    fills: tuple[Fill, ...] = ()
    if raw.x == "TRADE" and raw.t >= 0:
        fills = (
            Fill(
                trade_id=str(raw.t),
                client_order_id=client_id,
                symbol=raw.s,
                side=OrderSide(raw.S),
                price=raw.L,
                qty=raw.last_qty,
                fee=raw.n or ZERO,
                fee_asset=raw.N or "",
                time=raw.T,
                is_maker=raw.m,
            ),
        )
    reason = raw.eR if raw.eR and raw.eR != "NONE" else (raw.r if raw.r != "NONE" else "")
    return VenueOrderReport(
        client_order_id=client_id,
        symbol=raw.s,
        status=order_status(raw.X),
        exchange_order_id=str(raw.i),
        executed_qty=raw.z,
        cumulative_quote=raw.Z,
        fills=fills,
        time=raw.T,
        reason=reason,
        **_terms(raw.S, raw.o, raw.q, raw.p, None, False),
    )


def report_from_futures_update(raw: s.RawOrderTradeUpdate) -> VenueOrderReport:
    o = raw.o
    fills: tuple[Fill, ...] = ()
    if o.x == "TRADE":
        fills = (
            Fill(
                trade_id=str(o.t),
                client_order_id=o.c,
                symbol=o.s,
                side=OrderSide(o.S),
                price=o.L,
                qty=o.last_qty,
                fee=o.n or ZERO,
                fee_asset=o.N or "",
                time=o.T,
                is_maker=o.m,
            ),
        )
    return VenueOrderReport(
        client_order_id=o.c,
        symbol=o.s,
        status=order_status(o.X),
        exchange_order_id=str(o.i),
        executed_qty=o.z,
        cumulative_quote=o.ap * o.z,
        fills=fills,
        time=o.T,
    )


def report_from_algo_update(raw: s.RawAlgoUpdate) -> VenueOrderReport:
    """USD-M ``ALGO_UPDATE``. Once triggered, ``ai`` names the matching-engine order; it is kept in
    ``exchange_order_id`` (``algo:<aid>:<ai>``) so the venue can attribute that order's fills to us.
    ``FINISHED`` is FILLED only when the executed quantity ``aq`` reached ``q``, else EXPIRED."""
    o = raw.o
    status = _algo_status(o.X)
    if o.X == "FINISHED" and not (o.q > 0 and o.aq >= o.q):
        status = OrderStatus.EXPIRED
    exchange_id = f"algo:{o.aid}:{o.ai}" if o.ai else f"algo:{o.aid}"
    return VenueOrderReport(
        client_order_id=o.caid,
        symbol=o.s,
        status=status,
        exchange_order_id=exchange_id,
        executed_qty=o.aq,
        cumulative_quote=o.ap * o.aq,
        time=max(raw.E, raw.T),
        reason=o.rm or "",
    )


def algo_child_order_id(report: VenueOrderReport) -> str | None:
    """The matching-engine order id a triggered algo order handed over to, if known."""
    parts = (report.exchange_order_id or "").split(":")
    return parts[2] if len(parts) == 3 and parts[0] == "algo" and parts[2] else None


def user_event(event: Mapping[str, Any]) -> VenueOrderReport | None:
    """Any user-data event (spot or USD-M) → a report, or ``None`` for events without order state."""
    kind = event.get("e")
    if kind == "executionReport":
        return report_from_execution(validate(s.RawExecutionReport, event, "executionReport"))
    if kind == "ORDER_TRADE_UPDATE":
        return report_from_futures_update(validate(s.RawOrderTradeUpdate, event, "ORDER_TRADE_UPDATE"))
    if kind == "ALGO_UPDATE":
        return report_from_algo_update(validate(s.RawAlgoUpdate, event, "ALGO_UPDATE"))
    return None


# ---- account ----------------------------------------------------------------------------------
def spot_balances(payload: Any) -> dict[str, Balance]:
    raw: s.RawSpotAccount = validate(s.RawSpotAccount, payload, "account")
    return {b.asset: Balance(b.asset, b.free, b.locked) for b in raw.balances}


def futures_balances(payload: Any) -> dict[str, Balance]:
    """USD-M assets: ``free`` = available balance, ``locked`` = the rest of the wallet (never < 0)."""
    raw: s.RawFuturesAccount = validate(s.RawFuturesAccount, payload, "futures account")
    return {
        a.asset: Balance(a.asset, a.availableBalance, max(ZERO, a.walletBalance - a.availableBalance))
        for a in raw.assets
    }


def positions(payload: Any) -> list[VenuePosition]:
    if not isinstance(payload, list):
        raise InputDataError("positionRisk", "expected a list")
    found = []
    for row in payload:
        raw: s.RawPositionRisk = validate(s.RawPositionRisk, row, "positionRisk")
        if raw.positionAmt != 0:
            found.append(
                VenuePosition(raw.symbol, raw.positionAmt, raw.entryPrice, raw.unRealizedProfit, raw.leverage or 1)
            )
    return found
