"""USD-M REST ``/fapi/*``: market data, leverage/margin, orders, algo orders, account, listenKey (A12).

One-way position mode only (``positionSide=BOTH``); hedge mode is refused.
"""

from __future__ import annotations

from typing import Any

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book
from ictbot.exchange_sim.engine.model import OrderRequest
from ictbot.exchange_sim.errors import SimError, mandatory, order_does_not_exist
from ictbot.exchange_sim.formatting import fixed, plain
from ictbot.exchange_sim.server import payloads
from ictbot.exchange_sim.server.context import Ctx, Endpoint, fixed_weight
from ictbot.exchange_sim.server.params import Params
from ictbot.exchange_sim.server.spot_rest import depth as spot_depth
from ictbot.exchange_sim.server.spot_rest import klines as spot_klines

USDM = Market.USDM


def _position_side(params: Params) -> str:
    side = params.get("positionSide") or "BOTH"
    if side != "BOTH":
        raise SimError(-4061, "Order's position side does not match user's setting.")
    return side


def _request(params: Params) -> OrderRequest:
    client_id = params.get("newClientOrderId") or params.get("clientAlgoId")
    return OrderRequest(
        symbol=params.required("symbol"), side=params.required("side"), type=params.required("type"),
        quantity=params.decimal("quantity"), price=params.decimal("price"),
        time_in_force=params.get("timeInForce"), client_order_id=client_id,
        reduce_only=params.boolean("reduceOnly"), position_side=_position_side(params),
        close_position=params.boolean("closePosition"),
    )


async def ping(ctx: Ctx) -> Any:
    return {}


async def server_time(ctx: Ctx) -> Any:
    return {"serverTime": ctx.now}


async def exchange_info(ctx: Ctx) -> Any:
    specs = [s for (m, _), s in ctx.sim.engine.specs.items() if m is USDM]
    limiter = ctx.sim.futures_limiter
    return {
        "timezone": "UTC", "serverTime": ctx.now, "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limiter.weight_limit},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limiter.orders_10s},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [payloads.futures_symbol(s) for s in specs],
    }


async def klines(ctx: Ctx) -> Any:
    return await spot_klines(ctx)


async def depth(ctx: Ctx) -> Any:
    body = await spot_depth(ctx)
    body["E"] = ctx.now
    body["T"] = ctx.now
    return body


async def ticker_price(ctx: Ctx) -> Any:
    specs = [ctx.spec()] if ctx.params.get("symbol") else [s for (m, _), s in ctx.sim.engine.specs.items() if m is USDM]
    rows = [{"symbol": s.symbol, "price": plain(ctx.sim.price(s.symbol)), "time": ctx.now} for s in specs]
    return rows[0] if ctx.params.get("symbol") else rows


async def book_ticker(ctx: Ctx) -> Any:
    specs = [ctx.spec()] if ctx.params.get("symbol") else [s for (m, _), s in ctx.sim.engine.specs.items() if m is USDM]
    config = ctx.sim.engine.config
    rows = []
    for spec in specs:
        last = ctx.sim.price(spec.symbol)
        qty = book.level_qty(spec, last, config)
        rows.append({"symbol": spec.symbol, "bidPrice": plain(book.best_bid(spec, last)), "bidQty": plain(qty),
                     "askPrice": plain(book.best_ask(spec, last, config)), "askQty": plain(qty), "time": ctx.now})
    return rows[0] if ctx.params.get("symbol") else rows


async def premium_index(ctx: Ctx) -> Any:
    specs = [ctx.spec()] if ctx.params.get("symbol") else [s for (m, _), s in ctx.sim.engine.specs.items() if m is USDM]
    rows = [payloads.premium_index(s.symbol, ctx.sim.price(s.symbol), ctx.sim.config.funding_rate,
                                   ctx.sim.next_funding[s.symbol], ctx.now) for s in specs]
    return rows[0] if ctx.params.get("symbol") else rows


async def leverage(ctx: Ctx) -> Any:
    spec = ctx.spec()
    value = ctx.params.integer("leverage")
    if value is None:
        raise mandatory("leverage")
    ctx.sim.engine.set_leverage(ctx.account, spec.symbol, value)
    return {"leverage": value, "maxNotionalValue": "1000000", "symbol": spec.symbol}


async def margin_type(ctx: Ctx) -> Any:
    spec = ctx.spec()
    ctx.sim.engine.set_margin_type(ctx.account, spec.symbol, ctx.params.required("marginType"))
    return {"code": 200, "msg": "success"}


async def position_mode(ctx: Ctx) -> Any:
    if ctx.params.boolean("dualSidePosition"):
        raise SimError(-4059, "No need to change position side.")
    return {"code": 200, "msg": "success"}


async def get_position_mode(ctx: Ctx) -> Any:
    return {"dualSidePosition": False}


async def new_order(ctx: Ctx) -> Any:
    order, events = ctx.sim.engine.place(ctx.account, USDM, _request(ctx.params), ctx.now)
    ctx.sim.dispatch(events)
    return payloads.futures_order(order)


def _ids(params: Params) -> tuple[int | None, str | None]:
    order_id, client_id = params.integer("orderId"), params.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise SimError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    return order_id, client_id


async def cancel_order(ctx: Ctx) -> Any:
    spec = ctx.spec()
    order_id, client_id = _ids(ctx.params)
    order, events = ctx.sim.engine.cancel(ctx.account, USDM, spec.symbol, ctx.now, order_id, client_id)
    ctx.sim.dispatch(events)
    return payloads.futures_order(order)


async def query_order(ctx: Ctx) -> Any:
    spec = ctx.spec()
    order_id, client_id = _ids(ctx.params)
    order = ctx.sim.engine.find_order(ctx.account, USDM, spec.symbol, order_id, client_id)
    if order is None:
        raise order_does_not_exist()
    return payloads.futures_order_query(order)


async def open_orders(ctx: Ctx) -> Any:
    symbol = ctx.spec().symbol if ctx.params.get("symbol") else None
    return [payloads.futures_order_query(o) for o in ctx.sim.engine.open_orders(ctx.account, USDM, symbol)]


async def cancel_all(ctx: Ctx) -> Any:
    spec = ctx.spec()
    _, events = ctx.sim.engine.cancel_all(ctx.account, USDM, spec.symbol, ctx.now)
    ctx.sim.dispatch(events)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


async def all_orders(ctx: Ctx) -> Any:
    spec = ctx.spec()
    limit = ctx.limit(500, 1000)
    return [payloads.futures_order_query(o) for o in ctx.sim.engine.all_orders(ctx.account, USDM, spec.symbol)][-limit:]


async def user_trades(ctx: Ctx) -> Any:
    spec = ctx.spec()
    limit = ctx.limit(500, 1000)
    trades = ctx.sim.engine.account_trades(ctx.account, USDM, spec.symbol)
    from_id = ctx.params.integer("fromId")
    if from_id is not None:
        trades = [t for t in trades if t.trade_id >= from_id][:limit]
    return [payloads.futures_trade(t) for t in trades[-limit:]]


async def new_algo(ctx: Ctx) -> Any:
    params = ctx.params
    if (params.get("algoType") or "") != "CONDITIONAL":
        raise SimError(-1102, "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.")
    req = _request(params)
    algo, events = ctx.sim.engine.place_algo(ctx.account, req, params.decimal("triggerPrice"),
                                             params.get("workingType") or "CONTRACT_PRICE", ctx.now,
                                             params.get("clientAlgoId"))
    ctx.sim.dispatch(events)
    return payloads.algo_order(algo)


def _algo_ids(params: Params) -> tuple[int | None, str | None]:
    algo_id, client = params.integer("algoId"), params.get("clientAlgoId")
    if algo_id is None and client is None:
        raise SimError(-1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!")
    return algo_id, client


async def cancel_algo(ctx: Ctx) -> Any:
    algo_id, client = _algo_ids(ctx.params)
    algo, events = ctx.sim.engine.cancel_algo(ctx.account, ctx.now, algo_id, client)
    ctx.sim.dispatch(events)
    return {"algoId": algo.algo_id, "clientAlgoId": algo.client_algo_id, "code": "200", "msg": "success"}


async def query_algo(ctx: Ctx) -> Any:
    algo_id, client = _algo_ids(ctx.params)
    algo = ctx.sim.engine.find_algo(ctx.account, algo_id, client)
    if algo is None:
        raise order_does_not_exist()
    return payloads.algo_order(algo)


async def open_algos(ctx: Ctx) -> Any:
    return [payloads.algo_order(a) for a in ctx.sim.engine.open_algos(ctx.account, ctx.params.get("symbol"))]


async def cancel_open_algos(ctx: Ctx) -> Any:
    spec = ctx.spec()
    for algo in ctx.sim.engine.open_algos(ctx.account, spec.symbol):
        _, events = ctx.sim.engine.cancel_algo(ctx.account, ctx.now, algo.algo_id)
        ctx.sim.dispatch(events)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def _wallet(ctx: Ctx) -> Any:
    return ctx.sim.engine.futures_account(ctx.account).wallet


async def account(ctx: Ctx) -> Any:
    engine = ctx.sim.engine
    wallet = _wallet(ctx).get("USDT", 0)
    positions = [p for p in engine.positions(ctx.account) if p.position_amt != 0]
    unrealized = sum((p.unrealized_pnl for p in positions), wallet * 0)
    available = engine.available_margin(ctx.account)
    return {
        "totalInitialMargin": fixed(wallet + unrealized - available), "totalMaintMargin": "0.00000000",
        "totalWalletBalance": fixed(wallet), "totalUnrealizedProfit": fixed(unrealized),
        "totalMarginBalance": fixed(wallet + unrealized), "totalPositionInitialMargin": "0.00000000",
        "totalOpenOrderInitialMargin": "0.00000000", "totalCrossWalletBalance": fixed(wallet),
        "totalCrossUnPnl": fixed(unrealized), "availableBalance": fixed(available),
        "maxWithdrawAmount": fixed(available),
        "assets": [{"asset": "USDT", "walletBalance": fixed(wallet), "unrealizedProfit": fixed(unrealized),
                    "marginBalance": fixed(wallet + unrealized), "maintMargin": "0.00000000",
                    "initialMargin": "0.00000000", "positionInitialMargin": "0.00000000",
                    "openOrderInitialMargin": "0.00000000", "crossWalletBalance": fixed(wallet),
                    "crossUnPnl": fixed(unrealized), "availableBalance": fixed(available),
                    "maxWithdrawAmount": fixed(available), "updateTime": ctx.now}],
        "positions": [{"symbol": p.symbol, "positionSide": "BOTH", "positionAmt": plain(p.position_amt),
                       "unrealizedProfit": fixed(p.unrealized_pnl), "isolatedMargin": "0",
                       "notional": fixed(p.position_amt * p.mark_price), "isolatedWallet": "0",
                       "initialMargin": "0", "maintMargin": "0", "updateTime": p.update_time} for p in positions],
    }


async def balance(ctx: Ctx) -> Any:
    wallet = _wallet(ctx).get("USDT", 0)
    available = ctx.sim.engine.available_margin(ctx.account)
    return [{"accountAlias": "SgsR", "asset": "USDT", "balance": fixed(wallet), "crossWalletBalance": fixed(wallet),
             "crossUnPnl": "0.00000000", "availableBalance": fixed(available), "maxWithdrawAmount": fixed(available),
             "marginAvailable": True, "updateTime": ctx.now}]


async def position_risk(ctx: Ctx) -> Any:
    wallet = _wallet(ctx).get("USDT", 0)
    symbol = ctx.params.get("symbol")
    views = [p for p in ctx.sim.engine.positions(ctx.account) if symbol is None or p.symbol == symbol]
    return [payloads.position_risk(v, wallet) for v in views if v.position_amt != 0 or symbol is not None]


async def listen_key_new(ctx: Ctx) -> Any:
    return {"listenKey": ctx.sim.listen_key(ctx.account)}


async def listen_key_keepalive(ctx: Ctx) -> Any:
    key = ctx.sim.keepalive_listen_key(ctx.account)
    if key is None:
        raise SimError(-1125, "This listenKey does not exist.")
    return {"listenKey": key}


async def listen_key_close(ctx: Ctx) -> Any:
    ctx.sim.close_listen_key(ctx.account)
    return {}


def endpoints() -> list[Endpoint]:
    e = Endpoint
    one = fixed_weight(1)

    def by_symbol(a: int, b: int) -> Any:
        return lambda p: a if p.get("symbol") else b

    return [
        e("GET", "/fapi/v1/ping", ping, one, market=USDM),
        e("GET", "/fapi/v1/time", server_time, one, market=USDM),
        e("GET", "/fapi/v1/exchangeInfo", exchange_info, one, market=USDM),
        e("GET", "/fapi/v1/klines", klines, fixed_weight(2), market=USDM),
        e("GET", "/fapi/v1/depth", depth, fixed_weight(5), market=USDM),
        e("GET", "/fapi/v1/ticker/price", ticker_price, by_symbol(1, 2), market=USDM),
        e("GET", "/fapi/v2/ticker/price", ticker_price, by_symbol(1, 2), market=USDM),
        e("GET", "/fapi/v1/ticker/bookTicker", book_ticker, by_symbol(2, 5), market=USDM),
        e("GET", "/fapi/v1/premiumIndex", premium_index, by_symbol(1, 10), market=USDM),
        e("POST", "/fapi/v1/leverage", leverage, one, "SIGNED", USDM),
        e("POST", "/fapi/v1/marginType", margin_type, one, "SIGNED", USDM),
        e("POST", "/fapi/v1/positionSide/dual", position_mode, one, "SIGNED", USDM),
        e("GET", "/fapi/v1/positionSide/dual", get_position_mode, fixed_weight(30), "SIGNED", USDM),
        e("POST", "/fapi/v1/order", new_order, fixed_weight(0), "SIGNED", USDM, places_order=True),
        e("DELETE", "/fapi/v1/order", cancel_order, one, "SIGNED", USDM),
        e("GET", "/fapi/v1/order", query_order, one, "SIGNED", USDM),
        e("GET", "/fapi/v1/openOrders", open_orders, by_symbol(1, 40), "SIGNED", USDM),
        e("DELETE", "/fapi/v1/allOpenOrders", cancel_all, one, "SIGNED", USDM),
        e("GET", "/fapi/v1/allOrders", all_orders, fixed_weight(5), "SIGNED", USDM),
        e("GET", "/fapi/v1/userTrades", user_trades, fixed_weight(5), "SIGNED", USDM),
        e("POST", "/fapi/v1/algoOrder", new_algo, fixed_weight(0), "SIGNED", USDM, places_order=True),
        e("DELETE", "/fapi/v1/algoOrder", cancel_algo, one, "SIGNED", USDM),
        e("GET", "/fapi/v1/algoOrder", query_algo, one, "SIGNED", USDM),
        e("GET", "/fapi/v1/openAlgoOrders", open_algos, by_symbol(1, 40), "SIGNED", USDM),
        e("DELETE", "/fapi/v1/algoOpenOrders", cancel_open_algos, one, "SIGNED", USDM),
        e("GET", "/fapi/v3/account", account, fixed_weight(5), "SIGNED", USDM),
        e("GET", "/fapi/v2/account", account, fixed_weight(5), "SIGNED", USDM),
        e("GET", "/fapi/v3/balance", balance, fixed_weight(5), "SIGNED", USDM),
        e("GET", "/fapi/v2/balance", balance, fixed_weight(5), "SIGNED", USDM),
        e("GET", "/fapi/v3/positionRisk", position_risk, fixed_weight(5), "SIGNED", USDM),
        e("GET", "/fapi/v2/positionRisk", position_risk, fixed_weight(5), "SIGNED", USDM),
        e("POST", "/fapi/v1/listenKey", listen_key_new, one, "API_KEY", USDM),
        e("PUT", "/fapi/v1/listenKey", listen_key_keepalive, one, "API_KEY", USDM),
        e("DELETE", "/fapi/v1/listenKey", listen_key_close, one, "API_KEY", USDM),
    ]
