"""The fill model: how a backtest turns orders and candles into fills (docs/backtesting.md).

* An order decided at the close of candle ``i`` is live from candle ``i + 1``: a market order fills
  at ``open[i + 1]`` (plus slippage), never at ``close[i]``.
* A protective stop triggers when the candle *touches* it (``low <= stop`` for a long), like a
  Binance STOP_LOSS order, and fills at the stop — or at the open when the candle gapped through
  it — minus slippage.
* A take-profit is a resting limit: it fills at its price only when the candle trades *through* it
  (``high > target`` for a long); a touch is not enough to be sure a queued limit order filled.
  A candle that opens beyond the target fills at the open (the better price).
* When one candle could have hit both the stop and the target, the stop is assumed first, unless
  finer candles (``--detail-timeframe``) show which came first.
* Fees are charged on every fill on its notional, in the quote asset; slippage is adverse and the
  slipped price is rounded to the tick away from the trader.
* Quantities are floored to the lot step and every order is checked against the exchange filters
  (``Instrument.order_problems``); a violating order is rejected, as the exchange would.

Everything here is pure: floats for the candle comparisons (the data are float64), Decimal for
prices, quantities and fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import Enum

import numpy as np
import numpy.typing as npt

from ictbot.domain.instrument import Instrument
from ictbot.domain.money import ZERO, round_to_step
from ictbot.domain.order import OrderSide

F64 = npt.NDArray[np.float64]
_BPS = Decimal(10_000)


class ExitKind(str, Enum):
    STOP = "stop"
    TARGET = "target"
    SIGNAL = "signal"
    END = "end_of_data"


def dec(value: float) -> Decimal:
    """Candle price (float64 from the files) → Decimal with the file's digits, not binary noise."""
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class FillModel:
    fee_rate: Decimal = Decimal("0.001")
    slippage_bps: Decimal = ZERO
    # False (default, conservative): a resting limit / take-profit needs the price to trade through it.
    # True: a touch fills it (backtesting.py's rule; used to compare trades one for one).
    limit_fills_on_touch: bool = False

    def slipped(self, price: Decimal, side: OrderSide, instrument: Instrument) -> Decimal:
        """``price`` moved against the trader by the slippage, rounded to the tick (also against)."""
        if self.slippage_bps == 0:
            return price
        factor = self.slippage_bps / _BPS
        if side is OrderSide.BUY:
            return round_to_step(price * (1 + factor), instrument.tick_size, ROUND_UP)
        return round_to_step(price * (1 - factor), instrument.tick_size, ROUND_DOWN)

    def fee(self, price: Decimal, qty: Decimal) -> Decimal:
        return price * qty * self.fee_rate


@dataclass(frozen=True, slots=True)
class ProtectiveHit:
    """Which protective order fired inside a candle, and at what (pre-slippage) price."""

    kind: ExitKind
    price: float


def protective_hit(
    is_long: bool, stop: float, target: float, o: float, h: float, low: float, *,
    check_target: bool = True, touch: bool = False,
) -> ProtectiveHit | None:
    """Resolve one candle against a stop and a target (``nan`` = absent), stop first when ambiguous."""
    if is_long:
        if stop == stop and low <= stop:
            return ProtectiveHit(ExitKind.STOP, min(o, stop))
        if check_target and target == target and (h >= target if touch else h > target):
            return ProtectiveHit(ExitKind.TARGET, max(o, target))
    else:
        if stop == stop and h >= stop:
            return ProtectiveHit(ExitKind.STOP, max(o, stop))
        if check_target and target == target and (low <= target if touch else low < target):
            return ProtectiveHit(ExitKind.TARGET, min(o, target))
    return None


def first_protective_index(
    is_long: bool, stop: float, target: float, high: F64, low: F64, start: int, *, touch: bool = False
) -> int:
    """Index of the first candle ≥ ``start`` where the stop or the target fires (``len`` if none).

    Scans in growing chunks so a short trade costs a few small numpy calls and a long one stays linear.
    """
    n = int(high.shape[0])
    chunk = 64
    lo = start
    while lo < n:
        hi = min(n, lo + chunk)
        if is_long:
            hits = (low[lo:hi] <= stop) | ((high[lo:hi] >= target) if touch else (high[lo:hi] > target))
        else:
            hits = (high[lo:hi] >= stop) | ((low[lo:hi] <= target) if touch else (low[lo:hi] < target))
        found = np.flatnonzero(hits)
        if found.size:
            return lo + int(found[0])
        lo = hi
        chunk *= 4
    return n


def resolve_with_detail(
    is_long: bool, stop: float, target: float, detail_open: F64, detail_high: F64, detail_low: F64,
    *, touch: bool = False,
) -> ProtectiveHit | None:
    """Walk the finer candles inside one base candle; the first finer candle that fires decides.

    Inside one finer candle the stop still wins an ambiguity (the rule just applies at finer grain).
    """
    for k in range(int(detail_open.shape[0])):
        hit = protective_hit(is_long, stop, target, float(detail_open[k]), float(detail_high[k]),
                             float(detail_low[k]), touch=touch)
        if hit is not None:
            return hit
    return None


def limit_fill_price(
    is_buy: bool, limit: float, o: float, h: float, low: float, *, touch: bool = False
) -> float | None:
    """A resting limit order: buy fills when the candle trades below the limit (at the open if it gapped)."""
    if is_buy:
        if low < limit or (touch and low == limit):
            return min(o, limit)
        return None
    if h > limit or (touch and h == limit):
        return max(o, limit)
    return None

