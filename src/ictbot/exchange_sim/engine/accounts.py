"""Account ledgers: spot balances (free/locked) and USD-M wallets with one-way positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.exchange_sim.engine.model import BalanceView, PositionView

ZERO = Decimal(0)


@dataclass(slots=True)
class SpotAccount:
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    update_time: int = 0

    def available(self, asset: str) -> Decimal:
        return self.free.get(asset, ZERO)

    def lock(self, asset: str, amount: Decimal) -> None:
        self.free[asset] = self.free.get(asset, ZERO) - amount
        self.locked[asset] = self.locked.get(asset, ZERO) + amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        self.locked[asset] = self.locked.get(asset, ZERO) - amount
        self.free[asset] = self.free.get(asset, ZERO) + amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        self.locked[asset] = self.locked.get(asset, ZERO) - amount

    def credit(self, asset: str, amount: Decimal) -> None:
        self.free[asset] = self.free.get(asset, ZERO) + amount

    def view(self, assets: set[str] | None = None) -> tuple[BalanceView, ...]:
        names = sorted(assets if assets is not None else set(self.free) | set(self.locked))
        return tuple(BalanceView(a, self.free.get(a, ZERO), self.locked.get(a, ZERO)) for a in names)


@dataclass(slots=True)
class FuturesPosition:
    amt: Decimal = ZERO
    entry: Decimal = ZERO
    realized: Decimal = ZERO
    update_time: int = 0

    def apply_fill(self, side: str, qty: Decimal, price: Decimal) -> Decimal:
        """Apply a fill to a one-way position; returns the realised PnL of the closed part."""
        signed = qty if side == "BUY" else -qty
        realized = ZERO
        if self.amt == 0 or (self.amt > 0) == (signed > 0):
            new_amt = self.amt + signed
            self.entry = (self.entry * abs(self.amt) + price * qty) / abs(new_amt)
            self.amt = new_amt
            return realized
        closing = min(abs(self.amt), qty)
        direction = Decimal(1) if self.amt > 0 else Decimal(-1)
        realized = (price - self.entry) * closing * direction
        self.amt += signed
        if self.amt == 0:
            self.entry = ZERO
        elif (self.amt > 0) != (direction > 0):  # flipped: the excess opens at the fill price
            self.entry = price
        self.realized += realized
        return realized


@dataclass(slots=True)
class FuturesAccount:
    wallet: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, FuturesPosition] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    update_time: int = 0

    def position(self, symbol: str) -> FuturesPosition:
        return self.positions.setdefault(symbol, FuturesPosition())

    def position_view(self, symbol: str, mark: Decimal, default_leverage: int) -> PositionView:
        pos = self.positions.get(symbol) or FuturesPosition()
        return PositionView(
            symbol=symbol, position_amt=pos.amt, entry_price=pos.entry, mark_price=mark,
            unrealized_pnl=(mark - pos.entry) * pos.amt if pos.amt else ZERO,
            leverage=self.leverage.get(symbol, default_leverage),
            margin_type=self.margin_type.get(symbol, "cross"), realized_pnl=pos.realized,
            update_time=pos.update_time,
        )

    def balances(self) -> tuple[BalanceView, ...]:
        return tuple(BalanceView(a, v, ZERO) for a, v in sorted(self.wallet.items()))
