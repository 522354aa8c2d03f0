"""Positions, changed only by ``Position.apply(fill)``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum

from ictbot.domain.errors import DuplicateFillError
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, OrderSide


class PositionSide(str, Enum):
    LONG = "LONG"
    SHORT = "SHORT"
    FLAT = "FLAT"


@dataclass(frozen=True, slots=True)
class Position:
    """Net position in one symbol. ``qty`` is signed (> 0 long, < 0 short).

    Fees paid in the quote asset reduce ``realized_pnl``; a fee paid in the base asset (Binance spot
    buys) reduces the quantity received and is valued at the fill price; other fee assets (BNB) are
    kept in ``other_fees`` and not converted.
    """

    id: str
    symbol: str
    base_asset: str
    quote_asset: str
    market: Market = Market.SPOT
    strategy_id: str = ""
    qty: Decimal = ZERO
    avg_entry: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees_quote: Decimal = ZERO
    other_fees: tuple[tuple[str, Decimal], ...] = ()
    funding: Decimal = ZERO
    trade_ids: frozenset[str] = field(default_factory=frozenset)
    opened_at: int | None = None
    closed_at: int | None = None
    entry_qty_total: Decimal = ZERO
    stop_loss: Decimal | None = None
    take_profits: tuple[Decimal, ...] = ()

    @property
    def side(self) -> PositionSide:
        if self.qty > 0:
            return PositionSide.LONG
        if self.qty < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    @property
    def is_open(self) -> bool:
        return self.qty != 0

    @property
    def is_closed(self) -> bool:
        return self.qty == 0 and self.closed_at is not None

    def unrealized_pnl(self, mark_price: Decimal) -> Decimal:
        return (mark_price - self.avg_entry) * self.qty if self.qty else ZERO

    def notional(self, mark_price: Decimal) -> Decimal:
        return abs(self.qty) * mark_price

    def with_protection(self, stop_loss: Decimal | None, take_profits: tuple[Decimal, ...]) -> Position:
        return replace(self, stop_loss=stop_loss, take_profits=take_profits)

    def apply_funding(self, amount: Decimal) -> Position:
        return replace(self, funding=self.funding + amount, realized_pnl=self.realized_pnl + amount)

    def apply(self, fill: Fill) -> Position:
        if fill.trade_id in self.trade_ids:
            raise DuplicateFillError(f"position {self.id}: trade {fill.trade_id} already applied")
        if fill.symbol != self.symbol:
            raise ValueError(f"fill for {fill.symbol} applied to position in {self.symbol}")
        signed_qty = fill.qty * fill.side.sign
        fee_quote = ZERO
        other_fees = self.other_fees
        if fill.fee_asset == self.quote_asset:
            fee_quote = fill.fee
        elif fill.fee_asset == self.base_asset and fill.fee:
            # The exchange kept part of the base asset: fewer coins held, valued at the fill price.
            signed_qty -= fill.fee if fill.side is OrderSide.BUY else -fill.fee
            fee_quote = fill.fee * fill.price
        elif fill.fee:
            other = dict(other_fees)
            other[fill.fee_asset] = other.get(fill.fee_asset, ZERO) + fill.fee
            other_fees = tuple(sorted(other.items()))

        qty, avg, realized = self.qty, self.avg_entry, self.realized_pnl - fee_quote
        entry_total = self.entry_qty_total
        if qty == 0 or (qty > 0) == (signed_qty > 0):
            new_qty = qty + signed_qty
            avg = (avg * abs(qty) + fill.price * abs(signed_qty)) / abs(new_qty) if new_qty else ZERO
            entry_total += abs(signed_qty)
            qty = new_qty
        else:
            closing = min(abs(signed_qty), abs(qty))
            realized += (fill.price - avg) * closing * (1 if qty > 0 else -1)
            remainder = abs(signed_qty) - closing
            qty = qty + signed_qty
            # Flat: ``avg_entry`` keeps the closed position's average entry (trade reports need it;
            # with zero quantity it weighs nothing if the position is reopened).
            if remainder > 0:  # flipped through zero: the rest opens at the fill price
                avg = fill.price
                entry_total += remainder
        opened = self.opened_at if self.opened_at is not None else fill.time
        # Every field spelt out (not ``dataclasses.replace``): this runs on every fill of every backtest.
        return Position(
            self.id, self.symbol, self.base_asset, self.quote_asset, self.market, self.strategy_id, qty, avg,
            realized, self.fees_quote + fee_quote, other_fees, self.funding, self.trade_ids | {fill.trade_id},
            opened, fill.time if qty == 0 else None, entry_total, self.stop_loss, self.take_profits,
        )
