"""The API's data shapes (its schema): everything the facade port takes and returns.

Split by subject (``system``, ``config``, ``trading``, ``market``); monitoring's reports and the
port's ``FieldError`` are re-exported so that the API has one namespace for its schema.
"""

from ictbot.api.dto.config import (
    ConfigDocument,
    ConfigValidation,
    ConfigVersion,
    ConfigView,
    RiskConfigUpdate,
    StrategyConfigUpdate,
)
from ictbot.api.dto.fields import WS_TYPES, Reason
from ictbot.api.dto.market import CandleQuery, CandleView, IndicatorView
from ictbot.api.dto.system import (
    BackgroundTask,
    EmergencyStopReport,
    PerformanceReport,
    RiskReport,
    StatusReport,
    TradingStateView,
)
from ictbot.api.dto.trading import (
    ManualOrderRequest,
    OrderPage,
    OrderQuery,
    OrderView,
    PositionView,
    SignalQuery,
    SignalView,
    StrategyView,
    TradePage,
    TradeQuery,
    TradeView,
)
from ictbot.monitoring.reports import ComponentHealth, EquityPoint, HealthReport, HealthState, TradingMetrics
from ictbot.ports.facade import FieldError
from ictbot.risk.state import TradingState

__all__ = [
    "WS_TYPES",
    "BackgroundTask",
    "CandleQuery",
    "CandleView",
    "ComponentHealth",
    "ConfigDocument",
    "ConfigValidation",
    "ConfigVersion",
    "ConfigView",
    "EmergencyStopReport",
    "EquityPoint",
    "FieldError",
    "HealthReport",
    "HealthState",
    "IndicatorView",
    "ManualOrderRequest",
    "OrderPage",
    "OrderQuery",
    "OrderView",
    "PerformanceReport",
    "PositionView",
    "Reason",
    "RiskConfigUpdate",
    "RiskReport",
    "SignalQuery",
    "SignalView",
    "StatusReport",
    "StrategyConfigUpdate",
    "StrategyView",
    "TradePage",
    "TradeQuery",
    "TradeView",
    "TradingMetrics",
    "TradingState",
    "TradingStateView",
]
