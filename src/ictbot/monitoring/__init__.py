"""Metrics, Prometheus exposition, health checks and anomaly alerts."""

from ictbot.monitoring.collector import ClosedTrade, MetricsCollector
from ictbot.monitoring.prometheus import PrometheusMetrics
from ictbot.monitoring.rules import AlertDraft, MonitorInputs, Thresholds, evaluate
from ictbot.monitoring.system import MonitoringSystem

__all__ = [
    "AlertDraft", "ClosedTrade", "MetricsCollector", "MonitorInputs", "MonitoringSystem", "PrometheusMetrics",
    "Thresholds", "evaluate",
]
