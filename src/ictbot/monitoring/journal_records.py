"""Trade-journal records: one per trading event, built from bus payloads (pure, no I/O).

A record has a stable ``event`` name (``signal_accepted``, ``order_filled``, ``position_closed``
...), a severity, a one-line human ``summary`` for the console and notifications, and flat JSON
fields (ids, symbol, prices as strings so no precision is lost, reason) for the log file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ictbot.domain.events import AlertLevel, OrderIntent
from ictbot.domain.order import Order
from ictbot.domain.position import Position
from ictbot.domain.signal import Signal

JOURNAL_EVENTS = (
    "signal_accepted", "signal_rejected", "order_sent", "order_acknowledged", "order_filled",
    "order_canceled", "order_expired", "order_rejected", "position_opened", "position_closed",
    "breaker_tripped", "trading_halted", "trading_resumed", "alert",
)
_SEVERITY_RANK = {AlertLevel.INFO: 0, AlertLevel.WARNING: 1, AlertLevel.CRITICAL: 2}


def severity_rank(level: AlertLevel) -> int:
    return _SEVERITY_RANK[level]


@dataclass(frozen=True, slots=True)
class JournalRecord:
    event: str
    summary: str
    severity: AlertLevel = AlertLevel.INFO
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    time_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the event, severity, time, summary and every field."""
        return {"event": self.event, "severity": self.severity.value, "time_ms": self.time_ms,
                "summary": self.summary, **self.fields}


def text(value: Decimal | None) -> str | None:
    """A price or quantity as a plain decimal string (``None`` stays ``None``)."""
    return None if value is None else format(value.normalize(), "f")


def _signal_fields(signal: Signal) -> dict[str, Any]:
    return {
        "signal_id": signal.id, "strategy_id": signal.strategy_id, "symbol": signal.symbol,
        "direction": signal.direction.value, "entry_type": signal.entry_type.value,
        "timeframe": signal.timeframe, "signal_time_ms": signal.time,
        "entry_price": text(signal.entry_price or signal.reference_price), "stop_loss": text(signal.stop_loss),
        "take_profits": [text(tp) for tp in signal.take_profits],
    }


def signal_accepted(intent: OrderIntent, time_ms: int) -> JournalRecord:
    signal = intent.signal
    fields = {**_signal_fields(signal), "quantity": text(intent.quantity), "risk_amount": text(intent.risk_amount),
              "leverage": intent.leverage, "reason": "; ".join(signal.reason)}
    summary = (f"SIGNAL accepted {signal.strategy_id} {signal.symbol} {signal.direction.value} "
               f"entry {fields['entry_price'] or 'market'} stop {fields['stop_loss']} qty {fields['quantity']} "
               f"risk {fields['risk_amount']}")
    return JournalRecord("signal_accepted", summary, AlertLevel.INFO, fields, time_ms)


def signal_rejected(signal: Signal, reasons: tuple[str, ...], time_ms: int) -> JournalRecord:
    reason = "; ".join(reasons) or "no reason given"
    fields = {**_signal_fields(signal), "reasons": list(reasons), "reason": reason}
    summary = f"SIGNAL rejected {signal.strategy_id} {signal.symbol} {signal.direction.value}: {reason}"
    return JournalRecord("signal_rejected", summary, AlertLevel.INFO, fields, time_ms)


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id, "exchange_order_id": order.exchange_order_id,
        "symbol": order.symbol, "side": order.side.value, "type": order.type.value, "leg": order.leg.name,
        "status": order.status.value, "quantity": text(order.quantity), "price": text(order.price),
        "stop_price": text(order.stop_price), "signal_id": order.signal_id, "position_id": order.position_id,
        "strategy_id": order.strategy_id, "reason": order.reason,
    }


def _order_label(order: Order) -> str:
    price = f" @ {text(order.price)}" if order.price is not None else ""
    stop = f" stop {text(order.stop_price)}" if order.stop_price is not None else ""
    return (f"{order.client_order_id} {order.symbol} {order.side.value} {order.type.value} "
            f"{text(order.quantity)}{price}{stop} ({order.leg.name})")


def order_event(event: str, order: Order, time_ms: int) -> JournalRecord:
    """order_sent / order_acknowledged / order_canceled / order_expired / order_rejected."""
    verb = event.removeprefix("order_")
    reason = f": {order.reason}" if order.reason and event != "order_sent" else ""
    severity = AlertLevel.WARNING if event == "order_rejected" else AlertLevel.INFO
    return JournalRecord(event, f"ORDER {verb} {_order_label(order)}{reason}", severity, _order_fields(order), time_ms)


def order_filled(order: Order, filled_now: Decimal, time_ms: int) -> JournalRecord:
    avg = order.filled_quote / order.filled_qty if order.filled_qty else None
    fees = {asset: text(amount) for asset, amount in order.fees}
    fields = {**_order_fields(order), "fill_qty": text(filled_now), "filled_qty": text(order.filled_qty),
              "avg_price": text(avg), "fees": fees, "complete": order.filled_qty >= order.quantity}
    summary = (f"ORDER filled {order.client_order_id} {order.symbol} {order.side.value} {text(filled_now)} "
               f"@ {text(avg)} ({order.leg.name}, {text(order.filled_qty)}/{text(order.quantity)})")
    return JournalRecord("order_filled", summary, AlertLevel.INFO, fields, time_ms)


def position_opened(position: Position, time_ms: int) -> JournalRecord:
    fields = {
        "position_id": position.id, "symbol": position.symbol, "strategy_id": position.strategy_id,
        "side": position.side.value, "qty": text(abs(position.qty)), "avg_entry": text(position.avg_entry),
        "stop_loss": text(position.stop_loss), "take_profits": [text(tp) for tp in position.take_profits],
        "opened_at_ms": position.opened_at,
    }
    summary = (f"POSITION opened {position.id} {position.symbol} {position.side.value} {fields['qty']} "
               f"@ {fields['avg_entry']} stop {fields['stop_loss']}")
    return JournalRecord("position_opened", summary, AlertLevel.INFO, fields, time_ms)


def position_closed(position: Position, side: str, risk: Decimal | None, time_ms: int) -> JournalRecord:
    """``realized_pnl`` is already net of quote-asset fees; ``risk`` (the planned loss) gives R."""
    net = position.realized_pnl
    r_multiple = (net / risk).quantize(Decimal("0.01")) if risk else None
    fields = {
        "position_id": position.id, "symbol": position.symbol, "strategy_id": position.strategy_id, "side": side,
        "qty": text(position.entry_qty_total), "avg_entry": text(position.avg_entry), "net_pnl": text(net),
        "fees": text(position.fees_quote), "other_fees": {a: text(v) for a, v in position.other_fees},
        "funding": text(position.funding), "risk_amount": text(risk), "r_multiple": text(r_multiple),
        "opened_at_ms": position.opened_at, "closed_at_ms": position.closed_at,
    }
    r_text = f" ({fields['r_multiple']}R)" if r_multiple is not None else ""
    summary = (f"POSITION closed {position.id} {position.symbol} {side} net P&L {fields['net_pnl']}{r_text} "
               f"fees {fields['fees']}")
    return JournalRecord("position_closed", summary, AlertLevel.INFO, fields, time_ms)


def breaker_tripped(details: Mapping[str, Any], message: str, time_ms: int) -> JournalRecord:
    fields = {"breaker": details.get("reason"), "state": details.get("state"), "reason": message,
              "tripped_at_ms": details.get("tripped_at")}
    return JournalRecord("breaker_tripped", f"BREAKER {message}", AlertLevel.CRITICAL, fields, time_ms)


def trading_state_changed(old: str, new: str, reason: str, time_ms: int) -> JournalRecord:
    resumed = new == "ACTIVE"
    event = "trading_resumed" if resumed else "trading_halted"
    severity = AlertLevel.WARNING if resumed else AlertLevel.CRITICAL
    fields = {"previous_state": old, "state": new, "reason": reason}
    summary = f"TRADING {'resumed' if resumed else new.lower()} (was {old}): {reason}"
    return JournalRecord(event, summary, severity, fields, time_ms)


def alert(level: AlertLevel, source: str, message: str, details: Mapping[str, Any], time_ms: int) -> JournalRecord:
    fields = {"source": source, "reason": message, "details": {k: str(v) for k, v in details.items()}}
    return JournalRecord("alert", f"ALERT {level.value.upper()} [{source}] {message}", level, fields, time_ms)
