"""JSON payloads exactly as Binance writes them (field names, order, strings for decimals).

Shapes follow the recorded fixtures in ``binance-fixtures`` (spot REST/WS, USD-M REST/WS).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.engine.matching import MatchingEngine
from ictbot.exchange_sim.engine.model import (
    STOP_TYPES,
    AlgoOrder,
    BalanceView,
    OrderEvent,
    OrderList,
    PositionView,
    SimOrder,
    Trade,
)
from ictbot.exchange_sim.formatting import fixed, plain
from ictbot.exchange_sim.market.replay import Bar
from ictbot.exchange_sim.symbols import SymbolSpec

Json = dict[str, Any]
ZERO = Decimal(0)


# ---- spot REST ---------------------------------------------------------------------------------


def order_ack(order: SimOrder, transact_time: int) -> Json:
    return {"symbol": order.symbol, "orderId": order.order_id, "orderListId": order.order_list_id,
            "clientOrderId": order.client_order_id, "transactTime": transact_time}


def order_result(order: SimOrder, transact_time: int) -> Json:
    body = order_ack(order, transact_time)
    body.update({
        "price": fixed(order.price), "origQty": fixed(order.orig_qty), "executedQty": fixed(order.executed_qty),
        "origQuoteOrderQty": fixed(order.orig_quote_order_qty), "cummulativeQuoteQty": fixed(order.cum_quote),
        "status": order.status, "timeInForce": order.time_in_force, "type": order.type, "side": order.side,
    })
    if order.type in STOP_TYPES:
        body["stopPrice"] = fixed(order.stop_price)
    body["workingTime"] = order.working_time
    if order.expiry_reason != "NONE":
        body["expiryReason"] = order.expiry_reason
    body["selfTradePreventionMode"] = "NONE"
    return body


def fill_row(trade: Trade) -> Json:
    return {"price": fixed(trade.price), "qty": fixed(trade.qty), "commission": fixed(trade.commission),
            "commissionAsset": trade.commission_asset, "tradeId": trade.trade_id}


def order_full(order: SimOrder, transact_time: int, trades: list[Trade]) -> Json:
    body = order_result(order, transact_time)
    body["fills"] = [fill_row(t) for t in trades]
    return body


def order_query(order: SimOrder) -> Json:
    return {
        "symbol": order.symbol, "orderId": order.order_id, "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id, "price": fixed(order.price), "origQty": fixed(order.orig_qty),
        "executedQty": fixed(order.executed_qty), "cummulativeQuoteQty": fixed(order.cum_quote),
        "status": order.status, "timeInForce": order.time_in_force, "type": order.type, "side": order.side,
        "stopPrice": fixed(order.stop_price), "icebergQty": fixed(ZERO), "time": order.time,
        "updateTime": order.update_time, "isWorking": order.is_working, "workingTime": order.working_time,
        "origQuoteOrderQty": fixed(order.orig_quote_order_qty), "selfTradePreventionMode": "NONE",
        **({"expiryReason": order.expiry_reason} if order.expiry_reason != "NONE" else {}),
    }


def order_cancel(order: SimOrder, cancel_client_id: str, transact_time: int) -> Json:
    body: Json = {"symbol": order.symbol, "origClientOrderId": order.client_order_id, "orderId": order.order_id,
                  "orderListId": order.order_list_id, "clientOrderId": cancel_client_id,
                  "transactTime": transact_time}
    result = order_result(order, transact_time)
    for key in ("symbol", "orderId", "orderListId", "clientOrderId", "transactTime", "workingTime"):
        result.pop(key, None)
    body.update(result)
    return body


def my_trade(trade: Trade) -> Json:
    return {
        "symbol": trade.symbol, "id": trade.trade_id, "orderId": trade.order_id, "orderListId": trade.order_list_id,
        "price": fixed(trade.price), "qty": fixed(trade.qty), "quoteQty": fixed(trade.quote_qty),
        "commission": fixed(trade.commission), "commissionAsset": trade.commission_asset, "time": trade.time,
        "isBuyer": trade.side == "BUY", "isMaker": trade.is_maker, "isBestMatch": True,
    }


def account(engine: MatchingEngine, account_id: str, uid: int, omit_zero: bool) -> Json:
    acct = engine.spot_account(account_id)
    maker = int(engine.config.maker_commission * 10000)
    taker = int(engine.config.taker_commission * 10000)
    balances = [b for b in acct.view() if not omit_zero or b.free or b.locked]
    return {
        "makerCommission": maker, "takerCommission": taker, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": fixed(engine.config.maker_commission),
                            "taker": fixed(engine.config.taker_commission),
                            "buyer": fixed(ZERO), "seller": fixed(ZERO)},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": [{"asset": b.asset, "free": fixed(b.free), "locked": fixed(b.locked)} for b in balances],
        "permissions": ["SPOT"], "uid": uid,
    }


def order_list(lst: OrderList, orders: list[SimOrder], transact_time: int, with_reports: bool = True) -> Json:
    body: Json = {
        "orderListId": lst.order_list_id, "contingencyType": lst.contingency_type,
        "listStatusType": lst.list_status_type,
        "listOrderStatus": lst.list_order_status, "listClientOrderId": lst.list_client_order_id,
        "transactionTime": transact_time, "symbol": lst.symbol,
        "orders": [{"symbol": o.symbol, "orderId": o.order_id, "clientOrderId": o.client_order_id} for o in orders],
    }
    if with_reports:
        body["orderReports"] = [order_result(o, transact_time) for o in orders]
    return body


def kline_row(bar: Bar) -> list[Any]:
    return [bar.open_time, fixed(bar.open), fixed(bar.high), fixed(bar.low), fixed(bar.close), fixed(bar.volume),
            bar.close_time, fixed(bar.quote_volume), _trades(bar), fixed(bar.volume / 2), fixed(bar.quote_volume / 2),
            "0"]


def _trades(bar: Bar) -> int:
    return max(0, bar.last_trade - bar.first_trade + 1)


def book_ticker(spec: SymbolSpec, bid: Decimal, ask: Decimal, qty: Decimal) -> Json:
    return {"symbol": spec.symbol, "bidPrice": fixed(bid), "bidQty": fixed(qty), "askPrice": fixed(ask),
            "askQty": fixed(qty)}


def rate_limits(weight: int, orders_10s: int, orders_1d: int, raw_5m: int) -> list[Json]:
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": orders_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": orders_1d},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": raw_5m},
    ]


def spot_symbol(spec: SymbolSpec) -> Json:
    return {
        "symbol": spec.symbol, "status": spec.status, "baseAsset": spec.base, "baseAssetPrecision": 8,
        "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": spec.oto_allowed, "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
        "amendAllowed": True, "pegInstructionsAllowed": False, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fixed(spec.min_price), "maxPrice": fixed(spec.max_price),
             "tickSize": fixed(spec.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": fixed(spec.min_qty), "maxQty": fixed(spec.max_qty),
             "stepSize": fixed(spec.step_size)},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": fixed(spec.market_min_qty),
             "maxQty": fixed(spec.market_max_qty), "stepSize": fixed(spec.market_step_size)},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
             "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": str(spec.bid_multiplier_up),
             "bidMultiplierDown": str(spec.bid_multiplier_down), "askMultiplierUp": str(spec.ask_multiplier_up),
             "askMultiplierDown": str(spec.ask_multiplier_down), "avgPriceMins": spec.avg_price_mins},
            {"filterType": "NOTIONAL", "minNotional": fixed(spec.min_notional),
             "applyMinToMarket": spec.apply_min_to_market, "maxNotional": fixed(spec.max_notional),
             "applyMaxToMarket": spec.apply_max_to_market, "avgPriceMins": spec.avg_price_mins},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": spec.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": spec.max_num_algo_orders},
        ],
        "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


# ---- spot user data (WS API events) -----------------------------------------------------------------


def execution_report(event: OrderEvent, event_time: int) -> Json:
    order, trade = event.order, event.trade
    canceled = event.execution_type == "CANCELED" and bool(event.cancel_client_order_id)
    body: Json = {
        "e": "executionReport", "E": event_time, "s": order.symbol,
        "c": event.cancel_client_order_id if canceled else order.client_order_id,
        "S": order.side, "o": order.type, "f": order.time_in_force, "q": fixed(order.orig_qty),
        "p": fixed(order.price), "P": fixed(order.stop_price), "F": fixed(ZERO), "g": order.order_list_id,
        "C": order.client_order_id if canceled else "", "x": event.execution_type, "X": order.status,
        "r": event.reject_reason, "i": order.order_id,
        "l": fixed(trade.qty if trade else ZERO), "z": fixed(order.executed_qty),
        "L": fixed(trade.price if trade else ZERO), "n": fixed(trade.commission) if trade else "0",
        "N": trade.commission_asset if trade else None, "T": event.time, "t": trade.trade_id if trade else -1,
        "I": order.order_id * 2 + (trade.trade_id if trade else 0), "w": order.is_open and order.is_working,
        "m": trade.is_maker if trade else False, "M": trade is not None, "O": order.time,
        "Z": fixed(order.cum_quote), "Y": fixed(trade.quote_qty if trade else ZERO),
        "Q": fixed(order.orig_quote_order_qty),
    }
    if order.working_time >= 0:
        body["W"] = order.working_time
    body["V"] = "NONE"
    if order.expiry_reason != "NONE":
        body["eR"] = order.expiry_reason
    return body


def outbound_account_position(balances: tuple[BalanceView, ...], event_time: int, update_time: int) -> Json:
    return {"e": "outboundAccountPosition", "E": event_time, "u": update_time,
            "B": [{"a": b.asset, "f": fixed(b.free), "l": fixed(b.locked)} for b in balances]}


def list_status(lst: OrderList, event_time: int) -> Json:
    return {"e": "listStatus", "E": event_time, "s": lst.symbol, "g": lst.order_list_id, "c": lst.contingency_type,
            "l": lst.list_status_type, "L": lst.list_order_status, "r": "NONE", "C": lst.list_client_order_id,
            "T": lst.transaction_time,
            "O": [{"s": lst.symbol, "i": i, "c": c} for i, c in zip(lst.order_ids, lst.client_order_ids, strict=True)]}


# ---- market streams --------------------------------------------------------------------------------


def kline_event(bar: Bar, event_time: int, interval: Timeframe) -> Json:
    return {"e": "kline", "E": event_time, "s": bar.symbol, "k": {
        "t": bar.open_time, "T": bar.close_time, "s": bar.symbol, "i": interval.value, "f": bar.first_trade,
        "L": bar.last_trade, "o": fixed(bar.open), "c": fixed(bar.close), "h": fixed(bar.high), "l": fixed(bar.low),
        "v": fixed(bar.volume), "n": _trades(bar), "x": bar.closed, "q": fixed(bar.quote_volume),
        "V": fixed(bar.volume / 2), "Q": fixed(bar.quote_volume / 2), "B": "0"}}


def agg_trade(symbol: str, trade_id: int, price: Decimal, qty: Decimal, time: int, buyer_maker: bool,
              event_time: int, futures: bool = False) -> Json:
    body: Json = {"e": "aggTrade", "E": event_time, "s": symbol, "a": trade_id, "p": fixed(price), "q": fixed(qty),
                  "f": trade_id, "l": trade_id, "T": time, "m": buyer_maker}
    if not futures:
        body["M"] = True
    return body


def book_ticker_event(symbol: str, update_id: int, bid: Decimal, ask: Decimal, qty: Decimal) -> Json:
    return {"u": update_id, "s": symbol, "b": fixed(bid), "B": fixed(qty), "a": fixed(ask), "A": fixed(qty)}


# ---- USD-M ------------------------------------------------------------------------------------------


def futures_symbol(spec: SymbolSpec) -> Json:
    return {
        "symbol": spec.symbol, "pair": spec.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": spec.status, "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": spec.base, "quoteAsset": spec.quote, "marginAsset": spec.quote,
        "pricePrecision": spec.price_precision, "quantityPrecision": spec.quantity_precision,
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
        "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "filters": [
            {"minPrice": plain(spec.min_price), "maxPrice": plain(spec.max_price), "filterType": "PRICE_FILTER",
             "tickSize": plain(spec.tick_size)},
            {"stepSize": plain(spec.step_size), "filterType": "LOT_SIZE", "maxQty": plain(spec.max_qty),
             "minQty": plain(spec.min_qty)},
            {"stepSize": plain(spec.market_step_size), "filterType": "MARKET_LOT_SIZE",
             "maxQty": plain(spec.market_max_qty), "minQty": plain(spec.market_min_qty)},
            {"limit": spec.max_num_orders, "filterType": "MAX_NUM_ORDERS"},
            {"notional": plain(spec.min_notional), "filterType": "MIN_NOTIONAL"},
            {"multiplierDown": str(spec.bid_multiplier_down), "multiplierUp": str(spec.bid_multiplier_up),
             "multiplierDecimal": "4", "filterType": "PERCENT_PRICE"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def futures_order(order: SimOrder) -> Json:
    return {
        "clientOrderId": order.client_order_id, "cumQty": plain(order.executed_qty), "cumQuote": plain(order.cum_quote),
        "executedQty": plain(order.executed_qty), "orderId": order.order_id, "avgPrice": plain(order.avg_price),
        "origQty": plain(order.orig_qty), "price": plain(order.price), "reduceOnly": order.reduce_only,
        "side": order.side, "positionSide": order.position_side, "status": order.status,
        "stopPrice": plain(order.stop_price), "closePosition": order.close_position, "symbol": order.symbol,
        "timeInForce": order.time_in_force, "type": order.type, "origType": order.orig_type or order.type,
        "updateTime": order.update_time, "workingType": "CONTRACT_PRICE", "priceProtect": False,
        "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
    }


def futures_order_query(order: SimOrder) -> Json:
    body = futures_order(order)
    body["time"] = order.time
    return body


def futures_trade(trade: Trade) -> Json:
    return {
        "buyer": trade.side == "BUY", "commission": plain(trade.commission), "commissionAsset": trade.commission_asset,
        "id": trade.trade_id, "maker": trade.is_maker, "orderId": trade.order_id, "price": plain(trade.price),
        "qty": plain(trade.qty), "quoteQty": plain(trade.quote_qty), "realizedPnl": plain(trade.realized_pnl),
        "side": trade.side, "positionSide": "BOTH", "symbol": trade.symbol, "time": trade.time,
    }


def algo_order(algo: AlgoOrder) -> Json:
    return {
        "algoId": algo.algo_id, "clientAlgoId": algo.client_algo_id, "algoType": "CONDITIONAL",
        "orderType": algo.order_type, "symbol": algo.symbol, "side": algo.side, "positionSide": algo.position_side,
        "timeInForce": algo.time_in_force, "quantity": plain(algo.quantity), "algoStatus": algo.algo_status,
        "triggerPrice": plain(algo.trigger_price), "price": plain(algo.price), "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER", "workingType": algo.working_type, "priceMatch": "NONE",
        "closePosition": algo.close_position, "priceProtect": False, "reduceOnly": algo.reduce_only,
        "activatePrice": "", "callbackRate": "", "createTime": algo.create_time, "updateTime": algo.update_time,
        "triggerTime": algo.trigger_time, "goodTillDate": 0,
    }


def position_risk(view: PositionView, account_wallet: Decimal) -> Json:
    notional = view.position_amt * view.mark_price
    margin = abs(notional) / view.leverage if view.leverage else ZERO
    return {
        "symbol": view.symbol, "positionSide": "BOTH", "positionAmt": plain(view.position_amt),
        "entryPrice": plain(view.entry_price), "breakEvenPrice": plain(view.entry_price),
        "markPrice": fixed(view.mark_price), "unRealizedProfit": fixed(view.unrealized_pnl),
        "liquidationPrice": "0", "isolatedMargin": "0", "notional": fixed(notional), "marginAsset": "USDT",
        "isolatedWallet": "0", "initialMargin": fixed(margin), "maintMargin": fixed(abs(notional) * Decimal("0.004")),
        "positionInitialMargin": fixed(margin), "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0",
        "askNotional": "0", "updateTime": view.update_time,
    }


def order_trade_update(event: OrderEvent, event_time: int) -> Json:
    order, trade = event.order, event.trade
    return {"e": "ORDER_TRADE_UPDATE", "T": event.time, "E": event_time, "o": {
        "s": order.symbol, "c": order.client_order_id, "S": order.side, "o": order.type, "f": order.time_in_force,
        "q": plain(order.orig_qty), "p": plain(order.price), "ap": fixed(order.avg_price, 5),
        "sp": plain(order.stop_price), "x": event.execution_type, "X": order.status, "i": order.order_id,
        "l": plain(trade.qty if trade else ZERO), "z": plain(order.executed_qty),
        "L": plain(trade.price if trade else ZERO), "N": "USDT", "n": fixed(trade.commission) if trade else "0",
        "T": event.time, "t": trade.trade_id if trade else 0, "b": "0", "a": "0",
        "m": trade.is_maker if trade else False, "R": order.reduce_only, "wt": "CONTRACT_PRICE",
        "ot": order.orig_type or order.type, "ps": order.position_side, "cp": order.close_position,
        "rp": plain(trade.realized_pnl if trade else ZERO), "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER",
        "pm": "NONE", "gtd": 0, "er": "0"}}


def account_update(reason: str, balances: tuple[BalanceView, ...], positions: tuple[PositionView, ...],
                   event_time: int, transaction_time: int) -> Json:
    return {"e": "ACCOUNT_UPDATE", "T": transaction_time, "E": event_time, "a": {
        "m": reason,
        "B": [{"a": b.asset, "wb": fixed(b.free), "cw": fixed(b.free), "bc": "0"} for b in balances],
        "P": [{"s": p.symbol, "pa": plain(p.position_amt), "ep": plain(p.entry_price), "bep": plain(p.entry_price),
               "cr": plain(p.realized_pnl), "up": fixed(p.unrealized_pnl), "mt": p.margin_type, "iw": "0",
               "ps": "BOTH"} for p in positions]}}


def algo_update(algo: AlgoOrder, event_time: int, transaction_time: int) -> Json:
    return {"e": "ALGO_UPDATE", "T": transaction_time, "E": event_time, "o": {
        "caid": algo.client_algo_id, "aid": algo.algo_id, "at": "CONDITIONAL", "o": algo.order_type, "s": algo.symbol,
        "S": algo.side, "ps": algo.position_side, "f": algo.time_in_force, "q": plain(algo.quantity),
        "X": algo.algo_status, "ai": str(algo.actual_order_id) if algo.actual_order_id else "", "ap": "0", "aq": "0",
        "act": "MARKET" if algo.order_type.endswith("MARKET") else "LIMIT", "tp": plain(algo.trigger_price),
        "p": plain(algo.price), "V": "EXPIRE_MAKER", "wt": algo.working_type, "pm": "NONE",
        "cp": algo.close_position, "pP": False, "R": algo.reduce_only, "tt": algo.trigger_time, "gtd": 0}}


def mark_price_event(symbol: str, mark: Decimal, funding_rate: Decimal, next_funding: int, event_time: int) -> Json:
    return {"e": "markPriceUpdate", "E": event_time, "s": symbol, "p": fixed(mark), "ap": fixed(mark),
            "i": fixed(mark), "P": fixed(mark), "r": fixed(funding_rate), "T": next_funding}


def premium_index(symbol: str, mark: Decimal, funding_rate: Decimal, next_funding: int, now: int) -> Json:
    return {"symbol": symbol, "markPrice": fixed(mark), "indexPrice": fixed(mark), "estimatedSettlePrice": fixed(mark),
            "lastFundingRate": fixed(funding_rate), "interestRate": "0.00010000", "nextFundingTime": next_funding,
            "time": now}
