"""Positions: fills → positions (PositionManager), mark-to-market and stop rules (PositionMonitor)."""

from ictbot.positions.errors import PositionAlreadyClosedError, PositionError, PositionNotFoundError
from ictbot.positions.manager import PositionManager
from ictbot.positions.monitor import PositionMonitor, ProtectionController
from ictbot.positions.rules import StopRules, breached, next_stop

__all__ = [
    "PositionAlreadyClosedError",
    "PositionError",
    "PositionManager",
    "PositionMonitor",
    "PositionNotFoundError",
    "ProtectionController",
    "StopRules",
    "breached",
    "next_stop",
]
