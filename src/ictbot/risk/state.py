"""Risk vocabulary: trading state, breaker reasons, the state a validation reads, its outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType

from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, Signal


class TradingState(str, Enum):
    """ACTIVE: new trades allowed. REDUCING: close-only (no new entries). HALTED: nothing new at all;
    execution is expected to stop and cancel pending entries."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    @property
    def severity(self) -> int:
        return {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}[self.value]


class BreakerReason(str, Enum):
    DAILY_LOSS = "daily_loss"
    MAX_DRAWDOWN = "max_drawdown"
    CONSECUTIVE_LOSSES = "consecutive_losses"
    STALE_DATA = "stale_data"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class RecentSignal:
    """A signal the validator has already seen (for duplicate suppression)."""

    id: str
    strategy_id: str
    symbol: str
    direction: Direction
    time: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class PendingIntent:
    """A validated intent whose position has not shown up yet; it counts as exposure meanwhile."""

    signal_id: str
    strategy_id: str
    symbol: str
    notional: Decimal
    time: int


_NO_PRICES: Mapping[str, Decimal] = MappingProxyType({})
_NO_TIMES: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RiskState:
    """Everything ``validate`` needs to know about the account and the recent past at ``now_ms``."""

    now_ms: int
    equity: Decimal
    trading_state: TradingState = TradingState.ACTIVE
    data_stale: bool = False
    open_positions: tuple[Position, ...] = ()
    marks: Mapping[str, Decimal] = field(default_factory=lambda: _NO_PRICES)
    pending: tuple[PendingIntent, ...] = ()
    recent_signals: tuple[RecentSignal, ...] = ()
    last_stop_out: Mapping[str, int] = field(default_factory=lambda: _NO_TIMES)  # symbol -> ms


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """The current price of the signal's symbol (last trade or mark) and when it was seen."""

    price: Decimal
    time: int | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    signal: Signal
    reasons: tuple[str, ...]
