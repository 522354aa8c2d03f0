"""Entries that carry their own protection: spot OTOCO order lists. Pure, no I/O, no clock.

One list per target tranche: the working order buys the tranche (LIMIT; a MARKET-style entry becomes a
LIMIT FOK capped at ``market_entry_slippage`` above the reference price, and a tick below the nearest
target, because Binance takes only
LIMIT / LIMIT_MAKER as working order and all-or-nothing means the pending OCO covers every fill), and
the pending OCO (STOP_LOSS_LIMIT + target) sells it again. The exchange places the OCO the moment the
working order is fully filled, so a bot that dies right after the fill leaves nothing unprotected.

Ids are those of the plain path: entry ``E<n>`` (``E0`` is the signal's id, the duplicate check),
stop ``S<n>``, target ``T<n>`` and the list ``L<n>`` for tranche ``n``, all from the position id.
``entry_lists`` returns ``[]`` whenever the plain path must be taken instead (not spot, the symbol or
venue does not take OTO, no target, the OCO price rules or a filter would refuse a leg).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderLeg, OrderSide, OrderType, TimeInForce
from ictbot.domain.signal import Direction, EntryType
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.ids import entry_list_id, leg_client_id
from ictbot.execution.planning import entry_order, entry_problems, split_tranches, spot_protection, tradable


@dataclass(frozen=True, slots=True)
class EntryList:
    """One OTOCO: the working ``entry`` and the pending OCO pair ``stop`` / ``target``."""

    entry: Order
    stop: Order
    target: Order
    list_id: str

    @property
    def orders(self) -> tuple[Order, Order, Order]:
        return self.entry, self.stop, self.target


def working_order(intent: OrderIntent, instrument: Instrument, config: ExecutionConfig, now_ms: int) -> Order | None:
    """The entry as an OTOCO working order (tranche 0, full quantity); None without a price to send."""
    plain = entry_order(intent, instrument, config, now_ms)
    signal = intent.signal
    if signal.entry_type is EntryType.MARKET:
        reference = signal.reference_price
        if reference is None:
            return None
        cap = instrument.ceil_price(reference * (1 + config.market_entry_slippage))
        if intent.take_profits:  # the pending target must stay above the working price (OCO rule)
            cap = min(cap, instrument.floor_price(min(intent.take_profits)) - instrument.tick_size)
        if cap < reference:
            return None
        return replace(plain, type=OrderType.LIMIT, price=cap, time_in_force=TimeInForce.FOK,
                       quantity=instrument.floor_qty(intent.quantity))
    if plain.type not in (OrderType.LIMIT, OrderType.LIMIT_MAKER) or plain.price is None:
        return None
    return plain


def entry_lists(intent: OrderIntent, instrument: Instrument, config: ExecutionConfig, now_ms: int) -> list[EntryList]:
    signal = intent.signal
    usable = (config.entry_lists and instrument.market is Market.SPOT and instrument.oto_allowed
              and signal.direction is Direction.LONG and intent.take_profits)
    working = working_order(intent, instrument, config, now_ms) if usable else None
    if working is None or working.price is None:
        return []
    stop = instrument.round_price(intent.stop_loss)
    targets = tuple(instrument.round_price(t) for t in intent.take_profits)
    tranches = split_tranches(working.quantity, len(targets), instrument, stop)
    lists: list[EntryList] = []
    for n, tranche in enumerate(tranches):
        found = _tranche(working, n, tranche, stop, targets[n], instrument, config, now_ms)
        if found is None:
            return []
        lists.append(found)
    return lists


def _tranche(
    working: Order, n: int, qty: Decimal, stop: Decimal, target: Decimal, instrument: Instrument,
    config: ExecutionConfig, now_ms: int,
) -> EntryList | None:
    """Tranche ``n``: its working order and pending OCO, or None when a rule would refuse one of them."""
    price = working.price
    assert price is not None
    if not stop < price < target:  # OCO rule around the price the working order fills at
        return None
    position_id = working.position_id
    list_id = entry_list_id(position_id, n)
    entry = replace(working, client_order_id=leg_client_id(position_id, OrderLeg.ENTRY, n), quantity=qty,
                    list_id=list_id)
    pending_qty = instrument.floor_qty(qty * (1 - config.pending_fee_reserve))
    if entry_problems(entry, instrument, price) or not tradable(pending_qty, stop, instrument):
        return None
    legs = spot_protection(
        position_id=position_id, symbol=entry.symbol, long=entry.side is OrderSide.BUY, qty=pending_qty,
        stop_price=stop, targets=(target,), instrument=instrument, config=config, attempt=n, now_ms=now_ms,
        strategy_id=entry.strategy_id, signal_id=entry.signal_id,
    )
    if len(legs) != 1 or legs[0].count != 2:
        return None
    leg_stop, leg_target = (replace(o, list_id=list_id) for o in legs[0].orders)
    for leg in (leg_stop, leg_target):
        if leg.price is None or instrument.order_problems(leg.price, pending_qty):
            return None
    return EntryList(entry, leg_stop, leg_target, list_id)
