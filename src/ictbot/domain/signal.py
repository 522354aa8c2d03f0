"""Trade ideas produced by strategies."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum


class Direction(str, Enum):
    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def sign(self) -> int:
        return 1 if self is Direction.LONG else -1


class EntryType(str, Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


def _text(value: Decimal | None) -> str:
    return "None" if value is None else format(value.normalize(), "f")


class _CachedId:
    """A slot for the computed id that is not a dataclass field (not compared, encoded or sent)."""

    __slots__ = ("_cached_id",)
    _cached_id: str


@dataclass(frozen=True, slots=True)
class Signal(_CachedId):
    """A strategy's proposal. Prices are Decimal; ``time`` is the deciding candle's close (ms UTC)."""

    strategy_id: str
    symbol: str
    direction: Direction
    entry_type: EntryType
    stop_loss: Decimal
    take_profits: tuple[Decimal, ...]
    time: int
    entry_price: Decimal | None = None
    reference_price: Decimal | None = None
    reason: tuple[str, ...] = ()
    timeframe: str = ""
    metadata: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.entry_type is EntryType.LIMIT and self.entry_price is None:
            raise ValueError("a LIMIT signal needs entry_price")
        if not self.take_profits:
            raise ValueError("a signal needs at least one take-profit level")

    @property
    def id(self) -> str:
        """Deterministic id: the same idea at the same time always has the same id.

        Prices enter by value, not by spelling: ``61720.0`` from a file and ``61720.00000000`` from
        Binance are the same price and must give the same id (backtest/live parity). Computed once.
        """
        try:
            return self._cached_id
        except AttributeError:
            raw = "|".join(
                [self.strategy_id, self.symbol, self.direction.value, str(self.time), _text(self.stop_loss),
                 ",".join(_text(tp) for tp in self.take_profits), _text(self.entry_price)]
            )
            value = hashlib.sha256(raw.encode()).hexdigest()[:16]
            object.__setattr__(self, "_cached_id", value)
            return value

    @property
    def planned_entry(self) -> Decimal:
        """Entry price used for risk maths: the limit price, else the reference (last close)."""
        price = self.entry_price if self.entry_price is not None else self.reference_price
        if price is None:
            raise ValueError("a MARKET signal needs reference_price for risk calculations")
        return price

    @property
    def reward_risk(self) -> Decimal:
        risk = abs(self.planned_entry - self.stop_loss)
        if risk == 0:
            return Decimal(0)
        return abs(self.take_profits[0] - self.planned_entry) / risk
