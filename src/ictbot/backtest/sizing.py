"""The risk step as the engine sees it: ``Signal`` → ``OrderIntent`` or a rejection.

``RiskStage`` is the seam: the live risk engine (``ictbot.risk``) plugs in through an adapter;
``FixedStakeRisk`` is the reference setup of the comparison benchmarks (a fixed quote amount per
trade, exchange filters enforced, no short selling on spot).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ictbot.domain.events import OrderIntent, SignalRejected
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.signal import Direction, EntryType, Signal


@dataclass(frozen=True, slots=True)
class AccountView:
    """What the risk step may know at a decision: the state at the deciding candle's close."""

    time: int
    cash: Decimal
    equity: Decimal
    open_positions: int
    instrument: Instrument
    market: Market
    fee_rate: Decimal


class RiskStage(Protocol):
    def evaluate(self, signal: Signal, account: AccountView) -> OrderIntent | SignalRejected: ...


@dataclass(frozen=True, slots=True)
class FixedStakeRisk:
    """Spend ``stake`` quote (e.g. 1,000 USDT) per trade, one position at a time."""

    stake: Decimal = Decimal(1000)
    max_open_positions: int = 1

    def evaluate(self, signal: Signal, account: AccountView) -> OrderIntent | SignalRejected:
        reasons: list[str] = []
        if account.open_positions >= self.max_open_positions:
            reasons.append("max open positions reached")
        if signal.direction is Direction.SHORT and account.market is Market.SPOT:
            reasons.append("spot account cannot sell short")
        price = signal.planned_entry
        instrument = account.instrument
        qty = instrument.floor_qty(self.stake / price, market_order=signal.entry_type is EntryType.MARKET)
        entry_price = None
        if signal.entry_type is EntryType.LIMIT and signal.entry_price is not None:
            entry_price = instrument.round_price(signal.entry_price)
        reasons += instrument.order_problems(
            entry_price or price, qty, market_order=entry_price is None
        )
        cost = price * qty * (1 + account.fee_rate)
        if cost > account.cash:
            reasons.append(f"insufficient cash: need {cost:.2f}, have {account.cash:.2f}")
        if reasons:
            return SignalRejected(signal, tuple(reasons))
        return OrderIntent(
            signal=signal, quantity=qty, entry_price=entry_price, stop_loss=signal.stop_loss,
            take_profits=signal.take_profits, risk_amount=abs(price - signal.stop_loss) * qty,
        )
