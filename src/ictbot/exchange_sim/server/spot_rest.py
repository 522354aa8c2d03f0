"""Spot REST ``/api/v3/*``: market data, orders, order lists, account (binance-protocol.md A4/A5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book
from ictbot.exchange_sim.engine.model import OrderEvent, OrderRequest, Trade
from ictbot.exchange_sim.engine.validation import check_filters, check_shape
from ictbot.exchange_sim.errors import SimError, invalid_symbol, mandatory, order_does_not_exist, unknown_order_cancel
from ictbot.exchange_sim.formatting import fixed
from ictbot.exchange_sim.server import payloads
from ictbot.exchange_sim.server.context import Ctx, Endpoint, fixed_weight
from ictbot.exchange_sim.server.params import Params

_CLIENT_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _client_id(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is not None and (len(value) > 36 or not set(value) <= _CLIENT_ID_CHARS):
        raise SimError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                              "'^[a-zA-Z0-9-_]{1,36}$'.")
    return value


def order_request(params: Params, prefix: str = "", side: str | None = None, quantity: Any = None) -> OrderRequest:
    def name(n: str) -> str:
        return prefix + (n[0].upper() + n[1:] if prefix else n)

    return OrderRequest(
        symbol=params.required("symbol"), side=side or params.required("side"), type=params.required(name("type")),
        quantity=quantity if quantity is not None else params.decimal("quantity"),
        quote_order_qty=params.decimal("quoteOrderQty") if not prefix else None,
        price=params.decimal(name("price")), stop_price=params.decimal(name("stopPrice")),
        time_in_force=params.get(name("timeInForce")),
        client_order_id=_client_id(params, name("clientOrderId") if prefix else "newClientOrderId"),
    )


def _order_ids(params: Params) -> tuple[int | None, str | None]:
    order_id = params.integer("orderId")
    client_id = params.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise SimError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    return order_id, client_id


# ---- market data ----------------------------------------------------------------------------------


async def ping(ctx: Ctx) -> Any:
    return {}


async def server_time(ctx: Ctx) -> Any:
    return {"serverTime": ctx.now}


async def exchange_info(ctx: Ctx) -> Any:
    sim = ctx.sim
    specs = [s for (m, _), s in sim.engine.specs.items() if m is Market.SPOT]
    one = ctx.params.get("symbol")
    wanted = ctx.params.symbol_list() or ([one] if one else None)
    if wanted is not None:
        by_name = {s.symbol: s for s in specs}
        if any(w not in by_name for w in wanted):
            raise invalid_symbol()
        specs = [by_name[w] for w in wanted]
    config = sim.config
    return {
        "timezone": "UTC", "serverTime": ctx.now,
        "rateLimits": payloads.rate_limits(sim.limiter.weight_limit, sim.limiter.orders_10s, sim.limiter.orders_1d,
                                           config.raw_requests_limit_5m),
        "exchangeFilters": [], "symbols": [payloads.spot_symbol(s) for s in specs], "sors": [],
    }


async def klines(ctx: Ctx) -> Any:
    spec = ctx.spec()
    interval = ctx.interval()
    bars = ctx.sim.replay.klines(spec.symbol, interval, ctx.params.time_ms("startTime"), ctx.params.time_ms("endTime"),
                                 ctx.limit(500, 1000))
    return [payloads.kline_row(b) for b in bars]


def _depth_weight(params: Params) -> int:
    limit = int(params.get("limit") or 100)
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


async def depth(ctx: Ctx) -> Any:
    spec = ctx.spec()
    limit = ctx.limit(100, 5000)
    last = ctx.sim.price(spec.symbol)
    bids, asks = book.depth_snapshot(spec, last, ctx.sim.engine.config, limit)
    return {"lastUpdateId": ctx.sim._book_update_id,
            "bids": [[fixed(p), fixed(q)] for p, q in bids], "asks": [[fixed(p), fixed(q)] for p, q in asks]}


def _spot_specs(ctx: Ctx) -> list[Any]:
    if ctx.params.get("symbol"):
        return [ctx.spec()]
    wanted = ctx.params.symbol_list()
    specs = [s for (m, _), s in ctx.sim.engine.specs.items() if m is ctx.market]
    if wanted is not None:
        by_name = {s.symbol: s for s in specs}
        if any(w not in by_name for w in wanted):
            raise invalid_symbol()
        specs = [by_name[w] for w in wanted]
    return specs


async def ticker_price(ctx: Ctx) -> Any:
    rows = [{"symbol": s.symbol, "price": fixed(ctx.sim.price(s.symbol))} for s in _spot_specs(ctx)]
    return rows[0] if ctx.params.get("symbol") else rows


async def book_ticker(ctx: Ctx) -> Any:
    config = ctx.sim.engine.config
    rows = []
    for spec in _spot_specs(ctx):
        last = ctx.sim.price(spec.symbol)
        rows.append(payloads.book_ticker(spec, book.best_bid(spec, last), book.best_ask(spec, last, config),
                                         book.level_qty(spec, last, config)))
    return rows[0] if ctx.params.get("symbol") else rows


async def ticker_24hr(ctx: Ctx) -> Any:
    rows = []
    config = ctx.sim.engine.config
    for spec in _spot_specs(ctx):
        replay = ctx.sim.replay
        bars = replay.klines(spec.symbol, replay.timeframe, start_ms=ctx.now - 86_400_000, limit=100_000)
        last = ctx.sim.price(spec.symbol)
        open_price = bars[0].open if bars else last
        volume = sum((b.volume for b in bars), Decimal(0))
        quote = sum((b.quote_volume for b in bars), Decimal(0))
        change = last - open_price
        rows.append({
            "symbol": spec.symbol, "priceChange": fixed(change),
            "priceChangePercent": f"{(change / open_price * 100) if open_price else 0:.3f}",
            "weightedAvgPrice": fixed(quote / volume if volume else last), "prevClosePrice": fixed(open_price),
            "lastPrice": fixed(last), "lastQty": fixed(bars[-1].volume / 4 if bars else Decimal(0)),
            "bidPrice": fixed(book.best_bid(spec, last)), "bidQty": fixed(book.level_qty(spec, last, config)),
            "askPrice": fixed(book.best_ask(spec, last, config)), "askQty": fixed(book.level_qty(spec, last, config)),
            "openPrice": fixed(open_price), "highPrice": fixed(max((b.high for b in bars), default=last)),
            "lowPrice": fixed(min((b.low for b in bars), default=last)), "volume": fixed(volume),
            "quoteVolume": fixed(quote), "openTime": ctx.now - 86_400_000, "closeTime": ctx.now,
            "firstId": bars[0].first_trade if bars else -1, "lastId": bars[-1].last_trade if bars else -1,
            "count": (bars[-1].last_trade - bars[0].first_trade + 1) if bars else 0,
        })
    return rows[0] if ctx.params.get("symbol") else rows


async def avg_price(ctx: Ctx) -> Any:
    spec = ctx.spec()
    return {"mins": 5, "price": fixed(ctx.sim.price(spec.symbol)), "closeTime": ctx.now}


def _symbols_weight(one: int, many: int) -> Any:
    return lambda params: one if params.get("symbol") else many


# ---- orders -----------------------------------------------------------------------------------------


def _trades_of(events: list[Any], order_id: int) -> list[Trade]:
    return [e.trade for e in events if isinstance(e, OrderEvent) and e.trade and e.order.order_id == order_id]


async def new_order(ctx: Ctx) -> Any:
    req = order_request(ctx.params)
    order, events = ctx.sim.engine.place(ctx.account, Market.SPOT, req, ctx.now)
    ctx.sim.dispatch(events)
    resp_type = ctx.params.get("newOrderRespType") or ("FULL" if req.type in ("MARKET", "LIMIT") else "ACK")
    if resp_type == "ACK":
        return payloads.order_ack(order, ctx.now)
    if resp_type == "RESULT":
        return payloads.order_result(order, ctx.now)
    return payloads.order_full(order, ctx.now, _trades_of(events, order.order_id))


async def test_order(ctx: Ctx) -> Any:
    req = order_request(ctx.params)
    spec = ctx.spec()
    check_shape(req, futures=False)
    check_filters(spec, req, ctx.sim.price(spec.symbol))
    if ctx.params.boolean("computeCommissionRates"):
        rate = fixed(ctx.sim.engine.config.taker_commission)
        zero = fixed(ctx.sim.engine.config.taker_commission * 0)
        return {"standardCommissionForOrder": {"maker": fixed(ctx.sim.engine.config.maker_commission), "taker": rate},
                "specialCommissionForOrder": {"maker": zero, "taker": zero},
                "taxCommissionForOrder": {"maker": zero, "taker": zero},
                "discount": {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": "BNB",
                             "discount": "0.25000000"}}
    return {}


async def cancel_order(ctx: Ctx) -> Any:
    spec = ctx.spec()
    order_id, client_id = _order_ids(ctx.params)
    cancel_id = _client_id(ctx.params, "newClientOrderId") or ctx.sim.engine.next_client_id()
    restriction = ctx.params.get("cancelRestrictions")
    if restriction is not None:
        current = ctx.sim.engine.find_order(ctx.account, Market.SPOT, spec.symbol, order_id, client_id)
        wanted = {"ONLY_NEW": "NEW", "ONLY_PARTIALLY_FILLED": "PARTIALLY_FILLED"}.get(restriction)
        if wanted is None:
            raise SimError(-1145, "Invalid cancelRestrictions")
        if current is not None and current.is_open and current.status != wanted:
            raise SimError(-2011, "Order was not canceled due to cancel restrictions.")
    order, events = ctx.sim.engine.cancel(ctx.account, Market.SPOT, spec.symbol, ctx.now, order_id, client_id,
                                          cancel_id)
    ctx.sim.dispatch(events)
    return payloads.order_cancel(order, cancel_id, ctx.now)


async def query_order(ctx: Ctx) -> Any:
    spec = ctx.spec()
    order_id, client_id = _order_ids(ctx.params)
    order = ctx.sim.engine.find_order(ctx.account, Market.SPOT, spec.symbol, order_id, client_id)
    if order is None:
        raise order_does_not_exist()
    return payloads.order_query(order)


async def open_orders(ctx: Ctx) -> Any:
    symbol = ctx.spec().symbol if ctx.params.get("symbol") else None
    return [payloads.order_query(o) for o in ctx.sim.engine.open_orders(ctx.account, Market.SPOT, symbol)]


async def cancel_open_orders(ctx: Ctx) -> Any:
    spec = ctx.spec()
    open_now = ctx.sim.engine.open_orders(ctx.account, Market.SPOT, spec.symbol)
    if not open_now:
        raise unknown_order_cancel()
    canceled, events = ctx.sim.engine.cancel_all(ctx.account, Market.SPOT, spec.symbol, ctx.now)
    ctx.sim.dispatch(events)
    cancel_ids = {e.order.order_id: e.cancel_client_order_id for e in events if isinstance(e, OrderEvent)}
    return [payloads.order_cancel(o, cancel_ids.get(o.order_id, ""), ctx.now) for o in canceled]


def _time_filter(ctx: Ctx, rows: list[Any], time_of: Any) -> list[Any]:
    start, end = ctx.params.time_ms("startTime"), ctx.params.time_ms("endTime")
    if start is not None and end is not None and end - start > 86_400_000:
        raise SimError(-1127, "More than 24 hours between startTime and endTime.")
    return [r for r in rows if (start is None or time_of(r) >= start) and (end is None or time_of(r) <= end)]


async def all_orders(ctx: Ctx) -> Any:
    spec = ctx.spec()
    limit = ctx.limit(500, 1000)
    orders = ctx.sim.engine.all_orders(ctx.account, Market.SPOT, spec.symbol)
    from_id = ctx.params.integer("orderId")
    if from_id is not None:
        orders = [o for o in orders if o.order_id >= from_id]
    orders = _time_filter(ctx, orders, lambda o: o.time)
    orders = orders[:limit] if from_id is not None or ctx.params.get("startTime") else orders[-limit:]
    return [payloads.order_query(o) for o in orders]


async def my_trades(ctx: Ctx) -> Any:
    spec = ctx.spec()
    limit = ctx.limit(500, 1000)
    trades = ctx.sim.engine.account_trades(ctx.account, Market.SPOT, spec.symbol)
    order_id = ctx.params.integer("orderId")
    if order_id is not None:
        trades = [t for t in trades if t.order_id == order_id]
    from_id = ctx.params.integer("fromId")
    if from_id is not None:
        trades = [t for t in trades if t.trade_id >= from_id]
    trades = _time_filter(ctx, trades, lambda t: t.time)
    trades = trades[:limit] if from_id is not None or ctx.params.get("startTime") else trades[-limit:]
    return [payloads.my_trade(t) for t in trades]


async def account(ctx: Ctx) -> Any:
    omit_zero = ctx.params.boolean("omitZeroBalances")
    return payloads.account(ctx.sim.engine, ctx.account, ctx.sim.uid(ctx.account), omit_zero)


async def account_commission(ctx: Ctx) -> Any:
    spec = ctx.spec()
    config = ctx.sim.engine.config
    zero = fixed(config.maker_commission * 0)
    return {"symbol": spec.symbol,
            "standardCommission": {"maker": fixed(config.maker_commission), "taker": fixed(config.taker_commission),
                                   "buyer": zero, "seller": zero},
            "specialCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
            "taxCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
            "discount": {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": "BNB",
                         "discount": "0.25000000"}}


async def rate_limit_order(ctx: Ctx) -> Any:
    count_10s, count_1d = ctx.sim.limiter.order_counts(ctx.account, ctx.now)
    limiter = ctx.sim.limiter
    return [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limiter.orders_10s,
             "count": count_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": limiter.orders_1d,
             "count": count_1d}]


# ---- order lists --------------------------------------------------------------------------------------


async def new_oco(ctx: Ctx) -> Any:
    params = ctx.params
    side = params.required("side")
    quantity = params.decimal("quantity")
    if quantity is None:
        raise mandatory("quantity")
    above = order_request(params, "above", side, quantity)
    below = order_request(params, "below", side, quantity)
    order_list, orders, events = ctx.sim.engine.place_oco(
        ctx.account, params.required("symbol"), side, quantity, above, below, ctx.now,
        _client_id(params, "listClientOrderId"))
    ctx.sim.dispatch(events)
    current = [ctx.sim.engine.orders[(Market.SPOT, o.symbol, o.order_id)] for o in orders]
    return payloads.order_list(ctx.sim.engine.lists[order_list.order_list_id], current, ctx.now)


async def cancel_order_list(ctx: Ctx) -> Any:
    spec = ctx.spec()
    list_id = ctx.params.integer("orderListId")
    list_client_id = ctx.params.get("listClientOrderId")
    if list_id is None and list_client_id is None:
        raise SimError(-1102, "Param 'listClientOrderId' or 'orderListId' must be sent, but both were empty/null!")
    order_list, orders, events = ctx.sim.engine.cancel_list(ctx.account, spec.symbol, ctx.now, list_id, list_client_id)
    ctx.sim.dispatch(events)
    return payloads.order_list(order_list, orders, ctx.now)


async def query_order_list(ctx: Ctx) -> Any:
    list_id = ctx.params.integer("orderListId")
    client = ctx.params.get("origClientOrderId")
    for lst in ctx.sim.engine.lists.values():
        if lst.account == ctx.account and (lst.order_list_id == list_id or lst.list_client_order_id == client):
            legs = [ctx.sim.engine.orders[(Market.SPOT, lst.symbol, i)] for i in lst.order_ids]
            return payloads.order_list(lst, legs, lst.transaction_time, with_reports=False)
    raise SimError(-2011, "Order list does not exist.")


async def user_data_stream_gone(ctx: Ctx) -> Any:
    raise SimError(-1, "Gone: listenKey user data streams were retired on 2026-02-20; use the WebSocket API.", 410)


def endpoints() -> list[Endpoint]:
    spot = Market.SPOT
    e = Endpoint
    return [
        e("GET", "/api/v3/ping", ping, fixed_weight(1)),
        e("GET", "/api/v3/time", server_time, fixed_weight(1)),
        e("GET", "/api/v3/exchangeInfo", exchange_info, fixed_weight(20)),
        e("GET", "/api/v3/klines", klines, fixed_weight(2)),
        e("GET", "/api/v3/uiKlines", klines, fixed_weight(2)),
        e("GET", "/api/v3/depth", depth, _depth_weight),
        e("GET", "/api/v3/ticker/price", ticker_price, _symbols_weight(2, 4)),
        e("GET", "/api/v3/ticker/bookTicker", book_ticker, _symbols_weight(2, 4)),
        e("GET", "/api/v3/avgPrice", avg_price, fixed_weight(2)),
        e("GET", "/api/v3/ticker/24hr", ticker_24hr, _symbols_weight(2, 80)),
        e("POST", "/api/v3/order", new_order, fixed_weight(1), "SIGNED", spot, places_order=True,
          free_on_success=True),
        e("POST", "/api/v3/order/test", test_order, fixed_weight(1), "SIGNED", spot),
        e("DELETE", "/api/v3/order", cancel_order, fixed_weight(1), "SIGNED", spot, free_on_success=True),
        e("GET", "/api/v3/order", query_order, fixed_weight(4), "SIGNED", spot),
        e("GET", "/api/v3/openOrders", open_orders, _symbols_weight(6, 80), "SIGNED", spot),
        e("DELETE", "/api/v3/openOrders", cancel_open_orders, fixed_weight(1), "SIGNED", spot, free_on_success=True),
        e("GET", "/api/v3/allOrders", all_orders, fixed_weight(20), "SIGNED", spot),
        e("GET", "/api/v3/myTrades", my_trades, lambda p: 5 if p.get("orderId") else 20, "SIGNED", spot),
        e("GET", "/api/v3/account", account, fixed_weight(20), "SIGNED", spot),
        e("GET", "/api/v3/account/commission", account_commission, fixed_weight(20), "SIGNED", spot),
        e("GET", "/api/v3/rateLimit/order", rate_limit_order, fixed_weight(40), "SIGNED", spot),
        e("POST", "/api/v3/orderList/oco", new_oco, fixed_weight(1), "SIGNED", spot, places_order=True,
          free_on_success=True),
        e("DELETE", "/api/v3/orderList", cancel_order_list, fixed_weight(1), "SIGNED", spot, free_on_success=True),
        e("GET", "/api/v3/orderList", query_order_list, fixed_weight(4), "SIGNED", spot),
        e("POST", "/api/v3/userDataStream", user_data_stream_gone, fixed_weight(2), "API_KEY", spot),
        e("PUT", "/api/v3/userDataStream", user_data_stream_gone, fixed_weight(2), "API_KEY", spot),
        e("DELETE", "/api/v3/userDataStream", user_data_stream_gone, fixed_weight(2), "API_KEY", spot),
    ]
