"""Position sizing: how many base units a validated signal trades.

Risk-percent sizing solves ``qty · (|entry − stop| + entry·fee_in + stop·fee_out) = equity · risk%``
so that a stop-out, entry and exit fees included, loses at most the configured share of equity.
The result is capped by the leverage allowed (spot: 1x, i.e. the equity) and rounded *down* to the
instrument's step, never up: rounding can only make the trade smaller.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.risk.limits import RiskLimits, SizingMode

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class SizeResult:
    quantity: Decimal
    notional: Decimal  # quantity · entry
    risk_amount: Decimal  # loss at the stop, fees included
    leverage: int


@dataclass(frozen=True, slots=True)
class SizingProblem:
    reason: str


def round_trip_fee(entry: Decimal, exit_price: Decimal, limits: RiskLimits, *, entry_is_maker: bool) -> Decimal:
    """Fees per base unit of entering at ``entry`` and leaving at ``exit_price``: the entry at the maker
    rate when it rests as a limit order (else taker), the exit at the taker rate (a stop or a market
    close; a target may fill as maker, which only makes this an upper bound). Shared by sizing and the
    reward:risk check so both judge a trade by the money it really risks and earns."""
    fee_in = limits.maker_fee_rate if entry_is_maker else limits.taker_fee_rate
    return entry * fee_in + exit_price * limits.taker_fee_rate


class PositionSizer:
    def size(
        self, *, entry: Decimal, stop: Decimal, equity: Decimal, limits: RiskLimits, instrument: Instrument,
        entry_is_maker: bool, market_order: bool, max_notional: Decimal | None = None,
    ) -> SizeResult | SizingProblem:
        """``max_notional`` is the exposure headroom: risk-percent sizing shrinks to fit it, fixed
        modes are refused when they do not fit (they promise a size, not a risk)."""
        if equity <= 0:
            return SizingProblem(f"equity {equity} is not positive")
        if entry <= 0 or stop <= 0 or entry == stop:
            return SizingProblem(f"entry {entry} and stop {stop} do not define a risk")
        loss_per_unit = abs(entry - stop) + round_trip_fee(entry, stop, limits, entry_is_maker=entry_is_maker)
        leverage_cap = limits.max_leverage if instrument.market is Market.USDM else 1
        max_qty_by_leverage = equity * leverage_cap / entry
        max_qty = max_qty_by_leverage if max_notional is None else min(max_qty_by_leverage, max_notional / entry)

        if limits.sizing_mode is SizingMode.RISK_PERCENT:
            raw = equity * limits.risk_per_trade_pct / HUNDRED / loss_per_unit
            raw = min(raw, max_qty)
        else:
            if limits.sizing_mode is SizingMode.FIXED_NOTIONAL:
                assert limits.fixed_notional is not None  # guaranteed by RiskLimits validation
                raw = limits.fixed_notional / entry
            else:
                assert limits.fixed_quantity is not None
                raw = limits.fixed_quantity
            if raw > max_qty:
                return SizingProblem(
                    f"{limits.sizing_mode.value} size {raw.normalize()} exceeds the {leverage_cap}x leverage cap "
                    f"or the exposure headroom (at most {max_qty.normalize()} at {entry})"
                )
        quantity = instrument.floor_qty(raw, market_order=market_order)
        if limits.sizing_mode is SizingMode.FIXED_QUANTITY and quantity != raw:
            return SizingProblem(f"fixed_quantity {raw} is not a multiple of the step size")
        if quantity <= ZERO:
            return SizingProblem(f"size {raw.normalize()} rounds down to zero with step {instrument.step_size}")
        notional = quantity * entry
        leverage = max(1, int((notional / equity).to_integral_value(rounding=ROUND_CEILING)))
        return SizeResult(quantity, notional, quantity * loss_per_unit, min(leverage, leverage_cap))
