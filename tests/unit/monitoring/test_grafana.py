"""The sample Grafana dashboard only queries metrics that the collector actually exports."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from prometheus_client import generate_latest

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel
from ictbot.monitoring import ClosedTrade, MetricsCollector
from tests.conftest import REPO_ROOT


def test_dashboard_metrics_exist() -> None:
    dashboard = json.loads((REPO_ROOT / "deploy" / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bictbot_[a-z0-9_]+", target["expr"])
    }
    collector = MetricsCollector(initial_equity=Decimal(100))
    bus = EventBus()
    collector.attach(bus)
    bus.publish_nowait(Topic.ALERT, Alert(AlertLevel.INFO, "x", "published so the bus counters have a sample"))
    collector.record_trade(ClosedTrade(0, "s", "BTCUSDT", Decimal(1)))
    collector.observe_execution_latency(0.01)
    collector.observe_indicator_seconds(0.001)
    collector.prometheus.slippage.observe(1.0)
    collector.prometheus.order_states.labels("NEW").inc()
    collector.prometheus.signals.labels("s").inc()
    collector.prometheus.signals_rejected.labels("s").inc()
    collector.prometheus.alerts.labels("info", "x").inc()
    exported = generate_latest(collector.prometheus.registry).decode()
    names = set(re.findall(r"^(ictbot_[a-z0-9_]+)", exported, re.M))
    assert queried, "the dashboard queries no ictbot metric"
    missing = sorted(q for q in queried if q not in names)
    assert missing == [], missing
