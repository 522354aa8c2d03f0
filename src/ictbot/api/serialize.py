"""Domain objects and bus payloads -> JSON-ready data (Decimal as string, enums as values)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ictbot.api.dto import CandleView, IndicatorView, OrderView, PositionView
from ictbot.bus import codec
from ictbot.bus.topics import Topic
from ictbot.domain import events as ev
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.redaction import redact
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.ict.sessions import WINDOW_BY_ID, window_bounds

JsonDict = dict[str, Any]


def to_jsonable(value: Any) -> Any:
    """JSON data for display: the bus codec's conversion, with non-finite numbers as null."""
    return codec.to_jsonable(value, lenient=True)


def window_in_progress(window_id: str, at_ms: int) -> list[int] | None:
    """``[start_ms, end_ms)`` of the session of ``window_id`` that ``at_ms`` falls in (DST-aware; the
    dashboard shades a killzone still open from its start)."""
    window = WINDOW_BY_ID.get(window_id)
    if window is None:
        return None
    local = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(window.tz)).date()
    for trading_date in (local, local + timedelta(days=1)):
        start, end = window_bounds(window, trading_date)
        if start <= at_ms < end:
            return [start, end]
    return None


def indicator_view(snapshot: IndicatorSnapshot) -> IndicatorView:
    candle_open = snapshot.time - Timeframe.parse(snapshot.base_timeframe).ms
    bounds = {w: b for w in snapshot.active_windows if (b := window_in_progress(w, candle_open)) is not None}
    return IndicatorView(
        symbol=snapshot.symbol,
        time_ms=snapshot.time,
        base_timeframe=snapshot.base_timeframe,
        active_windows=list(snapshot.active_windows),
        active_window_bounds=bounds,
        views={tf: to_jsonable(view) for tf, view in snapshot.views.items()},
    )


def _signal(payload: ev.SignalGenerated) -> JsonDict:
    data: JsonDict = to_jsonable(payload.signal)
    data["id"] = payload.signal.id
    return data


def _order_executed(payload: ev.OrderExecuted) -> JsonDict:
    return {
        "event": "executed",
        "order": OrderView.from_domain(payload.order).model_dump(mode="json"),
        "fill": to_jsonable(payload.fill),
    }


def _order_updated(payload: ev.OrderUpdated) -> JsonDict:
    return {"event": "updated", "order": OrderView.from_domain(payload.order).model_dump(mode="json")}


def _position_updated(payload: ev.PositionUpdated) -> JsonDict:
    view = PositionView.from_domain(payload.position, payload.mark_price)
    return {"event": "updated", "position": view.model_dump(mode="json")}


def _position_closed(payload: ev.PositionClosed) -> JsonDict:
    return {"event": "closed", "position": PositionView.from_domain(payload.position).model_dump(mode="json")}


def _alert(payload: ev.Alert) -> JsonDict:
    return {
        "level": payload.level.value,
        "source": payload.source,
        "message": payload.message,
        "details": to_jsonable(redact(payload.details)),
    }


def _config(payload: ev.ConfigUpdated) -> JsonDict:
    return {"version": payload.version, "section": payload.section, "changes": to_jsonable(redact(payload.changes))}


def _candle(payload: ev.CandleStored) -> JsonDict:
    candle = payload.candle
    data: JsonDict = CandleView.from_domain(candle).model_dump(mode="json")
    data.update(symbol=candle.symbol, timeframe=candle.timeframe.value, market=candle.market.value)
    return data


def _indicators(payload: ev.IndicatorsUpdated) -> JsonDict:
    """A compact per-candle summary: the full snapshot is large (zones, liquidity, recent events) and
    is served on demand by ``GET /indicators``; serialising it on every candle would cost more than
    computing it."""
    snapshot = payload.snapshot
    views: JsonDict = {}
    for tf, view in snapshot.views.items():
        views[tf] = {
            "trend": view.trend, "swing_trend": view.swing_trend, "atr": to_jsonable(view.atr),
            "close": to_jsonable(view.close), "fvgs": len(view.fvgs), "ifvgs": len(view.ifvgs),
            "order_blocks": len(view.order_blocks), "breakers": len(view.breakers),
            "liquidity": len(view.liquidity),
            "new_events": [{"id": e.id, "kind": e.kind, "direction": e.direction} for e in view.new_events],
        }
    return {"symbol": snapshot.symbol, "time_ms": snapshot.time, "base_timeframe": snapshot.base_timeframe,
            "active_windows": list(snapshot.active_windows), "views": views}


# Bus topic -> (WebSocket message type, payload converter).
TOPIC_MESSAGES: dict[Topic, tuple[str, Callable[[Any], JsonDict]]] = {
    Topic.SIGNAL_GENERATED: ("signal", _signal),
    Topic.ORDER_EXECUTED: ("order", _order_executed),
    Topic.ORDER_UPDATED: ("order", _order_updated),
    Topic.POSITION_UPDATED: ("position", _position_updated),
    Topic.POSITION_CLOSED: ("position", _position_closed),
    Topic.ALERT: ("alert", _alert),
    Topic.CONFIG_UPDATED: ("config", _config),
    Topic.RISK_CONFIG_UPDATED: ("config", _config),
    Topic.CANDLE_STORED: ("candle", _candle),
    Topic.INDICATORS_UPDATED: ("indicator", _indicators),
}
