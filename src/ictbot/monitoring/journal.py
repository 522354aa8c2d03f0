"""The trade journal: a bus subscriber turning trading events into one record each.

Every record is logged once (the ``ictbot.journal`` logger: one line on the console, one JSON
object in the log file) and handed to the registered sinks (the notifier) without waiting on
them. Order and position records come from state changes the journal tracks itself, so an order
update that changes nothing records nothing. The last signals (accepted or rejected, with their
reasons) are kept for ``GET /signals``.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog

from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription, Topic
from ictbot.domain.events import Alert, AlertLevel, PositionClosed, PositionUpdated, SignalRejected, SignalValidated
from ictbot.domain.order import Order, OrderLeg, OrderStatus
from ictbot.monitoring import journal_records as jr
from ictbot.monitoring.journal_records import JournalRecord

journal_log = structlog.get_logger("ictbot.journal")

Sink = Callable[[JournalRecord], None]
_LEVEL_METHOD = {AlertLevel.INFO: "info", AlertLevel.WARNING: "warning", AlertLevel.CRITICAL: "error"}
_TERMINAL_EVENTS = {OrderStatus.CANCELED: "order_canceled", OrderStatus.EXPIRED: "order_expired",
                    OrderStatus.REJECTED: "order_rejected"}
_MEMORY = 5_000  # ids remembered per kind; old entries go first so memory stays bounded


@dataclass(frozen=True, slots=True)
class SignalEntry:
    """One signal as ``GET /signals`` shows it."""

    signal_id: str
    time_ms: int
    strategy_id: str
    symbol: str
    direction: str
    accepted: bool
    reasons: tuple[str, ...]
    entry_price: str | None
    stop_loss: str | None


class _Bounded(OrderedDict[str, Any]):
    def remember(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _MEMORY:
            self.popitem(last=False)


class TradeJournal:
    def __init__(self, bus: EventBus, *, trading_state: Callable[[], str] | None = None,
                 recent_signals: int = 500) -> None:
        self.bus = bus
        self._trading_state = trading_state
        self._state = trading_state() if trading_state else "ACTIVE"
        self._sinks: list[Sink] = []
        self._subs: list[Subscription] = []
        self._signals: deque[SignalEntry] = deque(maxlen=recent_signals)
        self._orders = _Bounded()  # client id -> (status, filled qty, acknowledged)
        self._signal_risk = _Bounded()  # signal id -> planned risk amount
        self._position_risk = _Bounded()  # position id -> planned risk amount
        self._open_sides = _Bounded()  # open position id -> side
        self.recorded = 0

    # ---- wiring ---------------------------------------------------------------------------
    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def attach(self) -> None:
        handlers: list[tuple[Topic, Callable[[Envelope], None]]] = [
            (Topic.SIGNAL_VALIDATED, self._on_validated), (Topic.SIGNAL_REJECTED, self._on_rejected),
            (Topic.ORDER_UPDATED, self._on_order), (Topic.POSITION_UPDATED, self._on_position),
            (Topic.POSITION_CLOSED, self._on_closed), (Topic.ALERT, self._on_alert),
        ]
        if self._trading_state is not None:
            self._state = self._trading_state()
        for topic, handler in handlers:
            # The handlers only log and hand off, so the queue stays short; if it ever fills, the
            # journal loses its oldest entries rather than holding up trading.
            self._subs.append(self.bus.subscribe(topic, handler, name=f"journal.{topic.value}", maxsize=10_000,
                                                 policy=BackpressurePolicy.DROP_OLDEST))

    def detach(self) -> None:
        while self._subs:
            self.bus.unsubscribe(self._subs.pop())

    def recent_signals(self, limit: int = 100, *, rejected_only: bool = False) -> list[SignalEntry]:
        """Newest first."""
        entries = [e for e in reversed(self._signals) if not (rejected_only and e.accepted)]
        return entries[:limit]

    # ---- recording ------------------------------------------------------------------------
    def record(self, record: JournalRecord) -> None:
        self.recorded += 1
        method = getattr(journal_log, _LEVEL_METHOD[record.severity])
        method(record.event, summary=record.summary, severity=record.severity.value, **record.fields)
        for sink in self._sinks:
            try:
                sink(record)
            except Exception:  # a broken sink must not cost the journal its other records
                journal_log.exception("journal sink failed", sink=repr(sink))

    # ---- handlers -------------------------------------------------------------------------
    def _on_validated(self, envelope: Envelope) -> None:
        payload: SignalValidated = envelope.payload
        intent = payload.intent
        self._signal_risk.remember(intent.signal.id, intent.risk_amount)
        record = jr.signal_accepted(intent, envelope.time_ms)
        self._remember_signal(record, accepted=True, reasons=())
        self.record(record)

    def _on_rejected(self, envelope: Envelope) -> None:
        payload: SignalRejected = envelope.payload
        record = jr.signal_rejected(payload.signal, payload.reasons, envelope.time_ms)
        self._remember_signal(record, accepted=False, reasons=payload.reasons)
        self.record(record)

    def _remember_signal(self, record: JournalRecord, *, accepted: bool, reasons: tuple[str, ...]) -> None:
        f = record.fields
        self._signals.append(SignalEntry(
            signal_id=f["signal_id"], time_ms=f["signal_time_ms"], strategy_id=f["strategy_id"], symbol=f["symbol"],
            direction=f["direction"], accepted=accepted, reasons=reasons, entry_price=f["entry_price"],
            stop_loss=f["stop_loss"],
        ))

    def _on_order(self, envelope: Envelope) -> None:
        order: Order = envelope.payload.order
        now = envelope.time_ms
        cid = order.client_order_id
        known = self._orders.get(cid)
        status, filled, acked = known if known else (None, Decimal(0), False)
        if known is None:
            self.record(jr.order_event("order_sent", order, now))
            if order.leg is OrderLeg.ENTRY and order.signal_id in self._signal_risk:
                self._position_risk.remember(order.position_id, self._signal_risk[order.signal_id])
        if order.exchange_order_id and not acked and order.status is not OrderStatus.REJECTED:
            acked = True
            self.record(jr.order_event("order_acknowledged", order, now))
        if order.filled_qty > filled:
            self.record(jr.order_filled(order, order.filled_qty - filled, now))
        if order.status is not status and order.status in _TERMINAL_EVENTS:
            self.record(jr.order_event(_TERMINAL_EVENTS[order.status], order, now))
        if order.status.is_terminal:
            self._orders.pop(cid, None)
        else:
            self._orders.remember(cid, (order.status, order.filled_qty, acked))

    def _on_position(self, envelope: Envelope) -> None:
        payload: PositionUpdated = envelope.payload
        position = payload.position
        if position.is_open and position.id not in self._open_sides:
            self._open_sides.remember(position.id, position.side.value)
            self.record(jr.position_opened(position, envelope.time_ms))

    def _on_closed(self, envelope: Envelope) -> None:
        payload: PositionClosed = envelope.payload
        position = payload.position
        side = self._open_sides.pop(position.id, None) or ("LONG" if position.entry_qty_total >= 0 else "SHORT")
        risk = self._position_risk.pop(position.id, None)
        self.record(jr.position_closed(position, side, risk, envelope.time_ms))

    def _on_alert(self, envelope: Envelope) -> None:
        alert: Alert = envelope.payload
        now = envelope.time_ms
        if "tripped_at" in alert.details and "state" in alert.details:
            self.record(jr.breaker_tripped(alert.details, alert.message, now))
        else:
            self.record(jr.alert(alert.level, alert.source, alert.message, alert.details, now))
        self._check_trading_state(alert.message, now)

    def _check_trading_state(self, reason: str, now: int) -> None:
        if self._trading_state is None:
            return
        state = self._trading_state()
        if state != self._state:
            old, self._state = self._state, state
            self.record(jr.trading_state_changed(old, state, reason, now))
