"""Payloads carried on the event bus, one type per topic (see ``ictbot.bus.topics``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any

from ictbot.domain.candle import Candle
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.order import Fill, Order
from ictbot.domain.position import Position
from ictbot.domain.signal import Signal

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class AlertLevel(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class KlineUpdated:
    candle: Candle


@dataclass(frozen=True, slots=True)
class CandleStored:
    candle: Candle


@dataclass(frozen=True, slots=True)
class IndicatorsUpdated:
    snapshot: IndicatorSnapshot
    candle: Candle


@dataclass(frozen=True, slots=True)
class SignalGenerated:
    signal: Signal


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A validated, sized order plan for one signal."""

    signal: Signal
    quantity: Decimal
    entry_price: Decimal | None
    stop_loss: Decimal
    take_profits: tuple[Decimal, ...]
    risk_amount: Decimal
    leverage: int = 1


@dataclass(frozen=True, slots=True)
class SignalValidated:
    intent: OrderIntent


@dataclass(frozen=True, slots=True)
class SignalRejected:
    signal: Signal
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderExecuted:
    order: Order
    fill: Fill | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    order: Order


@dataclass(frozen=True, slots=True)
class PositionUpdated:
    position: Position
    mark_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionClosed:
    position: Position


@dataclass(frozen=True, slots=True)
class ConfigUpdated:
    version: int
    section: str
    changes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Alert:
    level: AlertLevel
    source: str
    message: str
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
