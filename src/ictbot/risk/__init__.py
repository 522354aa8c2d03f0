"""Risk stage: the pure validator and sizer, circuit breakers, limits and the bus service."""

from ictbot.risk.account import AccountTracker
from ictbot.risk.breakers import BreakerBook, CircuitBreakers, Trip
from ictbot.risk.limits import RiskLimits, SizingMode
from ictbot.risk.service import RiskService
from ictbot.risk.sizing import PositionSizer, SizeResult, SizingProblem
from ictbot.risk.state import (
    BreakerReason,
    MarketQuote,
    PendingIntent,
    RecentSignal,
    Rejection,
    RiskState,
    TradingState,
)
from ictbot.risk.validator import validate

__all__ = [
    "AccountTracker",
    "BreakerBook",
    "BreakerReason",
    "CircuitBreakers",
    "MarketQuote",
    "PendingIntent",
    "PositionSizer",
    "RecentSignal",
    "Rejection",
    "RiskLimits",
    "RiskService",
    "RiskState",
    "SizeResult",
    "SizingMode",
    "SizingProblem",
    "TradingState",
    "Trip",
    "validate",
]
