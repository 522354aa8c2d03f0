"""ICT indicator engine (ict-spec): batch = fold of the streaming step, multi-timeframe snapshots."""

from ictbot.indicators.events import Event
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.stream import TimeframeEngine
from ictbot.indicators.suite import SuiteResult, compute

__all__ = ["Event", "IndicatorParams", "SuiteResult", "TimeframeEngine", "compute"]
