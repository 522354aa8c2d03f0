"""Bus topics and the payload type each one carries."""

from __future__ import annotations

from enum import Enum

from ictbot.domain import events as ev


class Topic(str, Enum):
    KLINE_UPDATED = "kline_updated"
    CANDLE_STORED = "candle_stored"
    INDICATORS_UPDATED = "indicators_updated"
    SIGNAL_GENERATED = "signal_generated"
    SIGNAL_VALIDATED = "signal_validated"
    SIGNAL_REJECTED = "signal_rejected"
    ORDER_EXECUTED = "order_executed"
    ORDER_UPDATED = "order_updated"
    POSITION_UPDATED = "position_updated"
    POSITION_CLOSED = "position_closed"
    CONFIG_UPDATED = "config_updated"
    RISK_CONFIG_UPDATED = "risk_config_updated"
    ALERT = "alert"


TOPIC_PAYLOADS: dict[Topic, type] = {
    Topic.KLINE_UPDATED: ev.KlineUpdated,
    Topic.CANDLE_STORED: ev.CandleStored,
    Topic.INDICATORS_UPDATED: ev.IndicatorsUpdated,
    Topic.SIGNAL_GENERATED: ev.SignalGenerated,
    Topic.SIGNAL_VALIDATED: ev.SignalValidated,
    Topic.SIGNAL_REJECTED: ev.SignalRejected,
    Topic.ORDER_EXECUTED: ev.OrderExecuted,
    Topic.ORDER_UPDATED: ev.OrderUpdated,
    Topic.POSITION_UPDATED: ev.PositionUpdated,
    Topic.POSITION_CLOSED: ev.PositionClosed,
    Topic.CONFIG_UPDATED: ev.ConfigUpdated,
    Topic.RISK_CONFIG_UPDATED: ev.ConfigUpdated,
    Topic.ALERT: ev.Alert,
}
