"""Pure order construction: entry orders and protective orders. No I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderLeg, OrderSide, OrderType, TimeInForce
from ictbot.domain.signal import Direction, EntryType
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.ids import entry_client_id, leg_client_id, oco_list_id, position_id_of


@dataclass(frozen=True, slots=True)
class ProtectionSet:
    """Orders sent together. With ``list_id`` (spot) it is one OCO list: (stop, target)."""

    orders: tuple[Order, ...]
    list_id: str = ""

    @property
    def count(self) -> int:
        return len(self.orders)


def entry_order(intent: OrderIntent, instrument: Instrument, config: ExecutionConfig, now_ms: int) -> Order:
    signal = intent.signal
    side = OrderSide.BUY if signal.direction is Direction.LONG else OrderSide.SELL
    is_market = signal.entry_type is EntryType.MARKET
    price = None if is_market or signal.entry_price is None else instrument.round_price(signal.entry_price)
    order_type = OrderType.MARKET if is_market else config.limit_entry_type
    tif = None
    if order_type is OrderType.LIMIT:
        tif = config.limit_entry_tif
    client_id = entry_client_id(signal.strategy_id, signal.id)
    return Order(
        client_order_id=client_id,
        symbol=signal.symbol,
        side=side,
        type=order_type,
        quantity=instrument.floor_qty(intent.quantity, market_order=is_market),
        created_at=now_ms,
        price=price,
        time_in_force=tif,
        market=instrument.market,
        strategy_id=signal.strategy_id,
        signal_id=signal.id,
        leg=OrderLeg.ENTRY,
        position_id=position_id_of(client_id),
    )


def entry_problems(order: Order, instrument: Instrument, reference_price: Decimal | None) -> list[str]:
    """Filter violations known before sending (saves a -1013 round trip)."""
    problems: list[str] = []
    if instrument.status != "TRADING":
        problems.append(f"{instrument.symbol} is {instrument.status}")
    if order.market is Market.SPOT and order.side is OrderSide.SELL:
        problems.append("spot cannot open a short position")
    price = order.price if order.price is not None else reference_price
    if price is None:
        return problems + instrument.qty_problems(order.quantity, market_order=True)
    return problems + instrument.order_problems(price, order.quantity, market_order=order.type is OrderType.MARKET)


def split_tranches(qty: Decimal, targets: int, instrument: Instrument, price: Decimal) -> list[Decimal]:
    """Split ``qty`` over ``targets`` tranches, merging tranches too small to trade into the last."""
    if targets <= 1:
        return [qty]
    share = instrument.floor_qty(qty / targets)
    if share <= 0 or instrument.order_problems(price, share):
        return [qty]
    tranches = [share] * (targets - 1)
    tranches.append(qty - share * (targets - 1))
    return tranches


def tradable(qty: Decimal, price: Decimal, instrument: Instrument, *, market_order: bool = False) -> bool:
    return qty > 0 and not instrument.qty_problems(qty, market_order=market_order) and not (
        instrument.notional_problems(price, qty, market_order=market_order)
    )


def _base(
    position_id: str, symbol: str, long: bool, qty: Decimal, instrument: Instrument, leg: OrderLeg, attempt: int,
    now_ms: int, strategy_id: str, signal_id: str,
) -> Order:
    return Order(
        client_order_id=leg_client_id(position_id, leg, attempt), symbol=symbol,
        side=OrderSide.SELL if long else OrderSide.BUY, type=OrderType.MARKET, quantity=qty, created_at=now_ms,
        market=instrument.market, strategy_id=strategy_id, signal_id=signal_id, leg=leg, position_id=position_id,
    )


def spot_protection(
    *, position_id: str, symbol: str, long: bool, qty: Decimal, stop_price: Decimal, targets: tuple[Decimal, ...],
    instrument: Instrument, config: ExecutionConfig, attempt: int, now_ms: int, strategy_id: str = "",
    signal_id: str = "",
) -> list[ProtectionSet]:
    """One OCO list (STOP_LOSS_LIMIT + LIMIT_MAKER target) per target tranche; a lone stop without targets.

    Attempts ``attempt``, ``attempt + 1``... are used, one per tranche.
    """
    stop = instrument.round_price(stop_price)
    slip = config.stop_limit_slippage
    limit = instrument.floor_price(stop * (1 - slip)) if long else instrument.ceil_price(stop * (1 + slip))
    prices = tuple(instrument.round_price(t) for t in targets)
    tranches = split_tranches(qty, len(prices), instrument, stop) if prices else [qty]
    sets: list[ProtectionSet] = []
    for index, tranche in enumerate(tranches):
        n = attempt + index
        base = _base(position_id, symbol, long, tranche, instrument, OrderLeg.STOP, n, now_ms, strategy_id, signal_id)
        if not prices:
            stop_only = replace(base, type=OrderType.STOP_LOSS_LIMIT, stop_price=stop, price=limit,
                                time_in_force=TimeInForce.GTC)
            sets.append(ProtectionSet((stop_only,)))
            continue
        list_id = oco_list_id(position_id, n)
        stop_order = replace(base, type=OrderType.STOP_LOSS_LIMIT, stop_price=stop, price=limit,
                             time_in_force=TimeInForce.GTC, list_id=list_id)
        target_order = replace(
            base, client_order_id=leg_client_id(position_id, OrderLeg.TAKE_PROFIT, n), type=OrderType.LIMIT_MAKER,
            price=prices[index], leg=OrderLeg.TAKE_PROFIT, list_id=list_id,
        )
        if config.spot_target_type is OrderType.TAKE_PROFIT_LIMIT:
            target_order = replace(target_order, type=OrderType.TAKE_PROFIT_LIMIT, stop_price=prices[index],
                                   time_in_force=TimeInForce.GTC)
        sets.append(ProtectionSet((stop_order, target_order), list_id))
    return sets


def futures_protection(
    *, position_id: str, symbol: str, long: bool, stop_qty: Decimal, target_qty: Decimal, stop_price: Decimal,
    targets: tuple[Decimal, ...], instrument: Instrument, attempt: int, now_ms: int, strategy_id: str = "",
    signal_id: str = "",
) -> list[ProtectionSet]:
    """A reduce-only STOP_MARKET for ``stop_qty`` and TAKE_PROFIT_MARKET tranches for ``target_qty``."""
    stop = instrument.round_price(stop_price)
    sets: list[ProtectionSet] = []
    if stop_qty > 0:
        base = _base(position_id, symbol, long, stop_qty, instrument, OrderLeg.STOP, attempt, now_ms, strategy_id,
                     signal_id)
        sets.append(ProtectionSet((replace(base, type=OrderType.STOP_MARKET, stop_price=stop, reduce_only=True),)))
    prices = tuple(instrument.round_price(t) for t in targets)
    if target_qty > 0 and prices:
        for index, tranche in enumerate(split_tranches(target_qty, len(prices), instrument, stop)):
            base = _base(position_id, symbol, long, tranche, instrument, OrderLeg.TAKE_PROFIT, attempt + index,
                         now_ms, strategy_id, signal_id)
            sets.append(ProtectionSet((replace(base, type=OrderType.TAKE_PROFIT_MARKET, stop_price=prices[index],
                                               reduce_only=True),)))
    return sets


def exit_order(
    *, position_id: str, symbol: str, long: bool, qty: Decimal, instrument: Instrument, attempt: int,
    now_ms: int, strategy_id: str = "", signal_id: str = "",
) -> Order:
    """Market order that flattens ``qty`` (reduce-only on futures)."""
    return Order(
        client_order_id=leg_client_id(position_id, OrderLeg.EXIT, attempt),
        symbol=symbol,
        side=OrderSide.SELL if long else OrderSide.BUY,
        type=OrderType.MARKET,
        quantity=qty,
        created_at=now_ms,
        market=instrument.market,
        reduce_only=instrument.market is Market.USDM,
        strategy_id=strategy_id,
        signal_id=signal_id,
        leg=OrderLeg.EXIT,
        position_id=position_id,
    )


def fallback_stop(avg_entry: Decimal, long: bool, fraction: Decimal) -> Decimal:
    return avg_entry * (1 - fraction) if long else avg_entry * (1 + fraction)

