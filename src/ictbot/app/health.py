"""``/health`` of the running bot: the orchestrator's services plus what the ``HealthBoard`` sees of
the exchange, the rate limits, the user stream, market data and order entry.

A name reported by both (``exchange``, ``market_data``) takes the worse of the two states. The
answer is ``down`` (HTTP 503) when any component is down: trading cannot proceed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ictbot.api import dto as f
from ictbot.bus import BackpressurePolicy, Envelope, Subscription, Topic
from ictbot.monitoring.health import SEVERITY, HealthBoard
from ictbot.monitoring.prometheus import HealthCollector

if TYPE_CHECKING:
    from ictbot.app.application import Application
    from ictbot.app.wiring import Pipeline

_ORCHESTRATOR_STATES = {"healthy": f.HealthState.HEALTHY, "degraded": f.HealthState.DEGRADED}
_ORDER = [f.HealthState.HEALTHY, f.HealthState.DEGRADED, f.HealthState.DOWN]


def worse(a: f.ComponentHealth, b: f.ComponentHealth) -> f.ComponentHealth:
    """The worse state with both reasons; the later ``last_ok_ms``."""
    status = max(a.status, b.status, key=_ORDER.index)
    reason = "; ".join(r for r in (a.reason, b.reason) if r)
    last_ok = max((t for t in (a.last_ok_ms, b.last_ok_ms) if t is not None), default=None)
    until = b.until_ms if b.until_ms is not None else a.until_ms
    return f.ComponentHealth(status=status, reason=reason, detail=reason, last_ok_ms=last_ok, until_ms=until)


def pipeline_health(application: Application, pipeline: Pipeline) -> f.HealthReport:
    status = application.orchestrator.get_health_status()
    components = {
        name: f.ComponentHealth(status=_ORCHESTRATOR_STATES.get(item["status"], f.HealthState.DOWN),
                                reason=str(item.get("detail", "")))
        for name, item in status["components"].items()
    }
    blocked = pipeline.execution.health().get("entries_blocked") or {}
    for name, observed in pipeline.health.components(entries_blocked=blocked).items():
        components[name] = worse(components[name], observed) if name in components else observed
    return f.HealthReport.combine(components)


def connect_health(application: Application, pipeline: Pipeline) -> None:
    """Feed the board from the REST client and the user stream; publish states to Prometheus."""
    board = pipeline.health
    pipeline.venue.client.outcome_listeners.append(board.request_outcome)
    stream = pipeline.venue.user_stream
    if stream is not None:
        stream.add_state_listener(lambda connected, reason, final: board.user_stream_state(
            connected, reason, final=final))
    board.watch_market(pipeline.symbols, pipeline.base)

    def severities() -> dict[str, int]:
        report = pipeline_health(application, pipeline)
        return {name: int(SEVERITY[c.status]) for name, c in report.components.items()}

    pipeline.collector.prometheus.registry.register(HealthCollector(severities))


def watch_closed_candles(application: Application, board: HealthBoard) -> Subscription:
    """Closed candles from the market-data stage, for the staleness check."""

    def on_kline(envelope: Envelope) -> None:
        candle = envelope.payload.candle
        if candle.closed:
            board.candle_closed(candle.symbol, candle.timeframe, candle.open_time)

    return application.bus.subscribe(Topic.KLINE_UPDATED, on_kline, name="health.market_data",
                                     maxsize=10_000, policy=BackpressurePolicy.DROP_OLDEST)
