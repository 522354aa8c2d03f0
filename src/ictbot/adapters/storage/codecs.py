"""Domain objects ↔ table rows, lossless (round-trip tested). Pure functions, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ictbot.adapters.storage.types import dumps
from ictbot.domain.candle import Candle
from ictbot.domain.market import Market
from ictbot.domain.order import Fill, Order, OrderLeg, OrderSide, OrderStatus, OrderType, TimeInForce
from ictbot.domain.position import Position
from ictbot.domain.timeframe import Timeframe

Row = Mapping[Any, Any]  # SQLAlchemy RowMapping or a plain dict


def _pairs_to_text(pairs: tuple[tuple[str, Decimal], ...]) -> str:
    return dumps([[asset, str(amount)] for asset, amount in pairs])


def _pairs_from_text(text: str) -> tuple[tuple[str, Decimal], ...]:
    return tuple((str(asset), Decimal(amount)) for asset, amount in json.loads(text))


def _ids_to_text(ids: frozenset[str]) -> str:
    return dumps(sorted(ids))


def _ids_from_text(text: str) -> frozenset[str]:
    return frozenset(str(item) for item in json.loads(text))


# ---- orders ---------------------------------------------------------------------------------------


def order_to_row(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": order.quantity,
        "created_at": order.created_at,
        "price": order.price,
        "stop_price": order.stop_price,
        "time_in_force": order.time_in_force.value if order.time_in_force is not None else None,
        "market": order.market.value,
        "reduce_only": order.reduce_only,
        "strategy_id": order.strategy_id,
        "signal_id": order.signal_id,
        "leg": order.leg.value,
        "position_id": order.position_id,
        "list_id": order.list_id,
        "status": order.status.value,
        "exchange_order_id": order.exchange_order_id,
        "filled_qty": order.filled_qty,
        "filled_quote": order.filled_quote,
        "fees": _pairs_to_text(order.fees),
        "trade_ids": _ids_to_text(order.trade_ids),
        "updated_at": order.updated_at,
        "reason": order.reason,
    }


def order_from_row(row: Row) -> Order:
    tif = row["time_in_force"]
    return Order(
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        type=OrderType(row["type"]),
        quantity=row["quantity"],
        created_at=int(row["created_at"]),
        price=row["price"],
        stop_price=row["stop_price"],
        time_in_force=TimeInForce(tif) if tif is not None else None,
        market=Market(row["market"]),
        reduce_only=bool(row["reduce_only"]),
        strategy_id=row["strategy_id"],
        signal_id=row["signal_id"],
        leg=OrderLeg(row["leg"]),
        position_id=row["position_id"],
        list_id=row["list_id"],
        status=OrderStatus(row["status"]),
        exchange_order_id=row["exchange_order_id"],
        filled_qty=row["filled_qty"],
        filled_quote=row["filled_quote"],
        fees=_pairs_from_text(row["fees"]),
        trade_ids=_ids_from_text(row["trade_ids"]),
        updated_at=int(row["updated_at"]),
        reason=row["reason"],
    )


# ---- fills ----------------------------------------------------------------------------------------


def fill_to_row(fill: Fill) -> dict[str, Any]:
    return {
        "symbol": fill.symbol,
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "side": fill.side.value,
        "price": fill.price,
        "qty": fill.qty,
        "fee": fill.fee,
        "fee_asset": fill.fee_asset,
        "time": fill.time,
        "is_maker": fill.is_maker,
    }


def fill_from_row(row: Row) -> Fill:
    return Fill(
        trade_id=row["trade_id"],
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        price=row["price"],
        qty=row["qty"],
        fee=row["fee"],
        fee_asset=row["fee_asset"],
        time=int(row["time"]),
        is_maker=bool(row["is_maker"]),
    )


# ---- positions ------------------------------------------------------------------------------------


def position_to_row(position: Position) -> dict[str, Any]:
    return {
        "id": position.id,
        "symbol": position.symbol,
        "base_asset": position.base_asset,
        "quote_asset": position.quote_asset,
        "market": position.market.value,
        "strategy_id": position.strategy_id,
        "qty": position.qty,
        "avg_entry": position.avg_entry,
        "realized_pnl": position.realized_pnl,
        "fees_quote": position.fees_quote,
        "other_fees": _pairs_to_text(position.other_fees),
        "funding": position.funding,
        "trade_ids": _ids_to_text(position.trade_ids),
        "opened_at": position.opened_at,
        "closed_at": position.closed_at,
        "entry_qty_total": position.entry_qty_total,
        "stop_loss": position.stop_loss,
        "take_profits": dumps([str(price) for price in position.take_profits]),
        "is_open": position.is_open,
    }


def position_from_row(row: Row) -> Position:
    return Position(
        id=row["id"],
        symbol=row["symbol"],
        base_asset=row["base_asset"],
        quote_asset=row["quote_asset"],
        market=Market(row["market"]),
        strategy_id=row["strategy_id"],
        qty=row["qty"],
        avg_entry=row["avg_entry"],
        realized_pnl=row["realized_pnl"],
        fees_quote=row["fees_quote"],
        other_fees=_pairs_from_text(row["other_fees"]),
        funding=row["funding"],
        trade_ids=_ids_from_text(row["trade_ids"]),
        opened_at=None if row["opened_at"] is None else int(row["opened_at"]),
        closed_at=None if row["closed_at"] is None else int(row["closed_at"]),
        entry_qty_total=row["entry_qty_total"],
        stop_loss=row["stop_loss"],
        take_profits=tuple(Decimal(price) for price in json.loads(row["take_profits"])),
    )


# ---- candles --------------------------------------------------------------------------------------


def candle_from_row(row: Row) -> Candle:
    return Candle(
        symbol=row["symbol"],
        timeframe=Timeframe(row["timeframe"]),
        open_time=int(row["open_time"]),
        open=row["open"],
        high=row["high"],
        low=row["low"],
        close=row["close"],
        volume=row["volume"],
        closed=True,
        quote_volume=row["quote_volume"],
        trades=int(row["trades"]),
        exchange=row["exchange"],
        market=Market(row["market"]),
    )
