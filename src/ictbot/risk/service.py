"""Bus shell of the risk stage: signals in, sized intents or rejections out; positions feed the
account and the circuit breakers; ``RISK_CONFIG_UPDATED`` hot-reloads the limits.

Limits are snapshotted at the signal's arrival (its bus sequence number): a signal is validated
against the limits in force when it was published *and* the current ones, so a reload can tighten
but never loosen the treatment of a signal already in flight.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import structlog
from pydantic import ValidationError

from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription, Topic
from ictbot.domain.events import (
    Alert,
    AlertLevel,
    CandleStored,
    ConfigUpdated,
    KlineUpdated,
    OrderIntent,
    PositionClosed,
    PositionUpdated,
    SignalGenerated,
    SignalRejected,
    SignalValidated,
)
from ictbot.domain.instrument import Instrument
from ictbot.domain.signal import Signal
from ictbot.ports.clock import Clock
from ictbot.risk.account import AccountTracker
from ictbot.risk.breakers import CircuitBreakers
from ictbot.risk.limits import RiskLimits
from ictbot.risk.recent import RecentSignalLog
from ictbot.risk.state import MarketQuote, PendingIntent, RecentSignal, Rejection, RiskState, TradingState
from ictbot.risk.validator import validate

log = structlog.get_logger(__name__)

CONFIG_SECTION = "risk"
_HISTORY = 64  # limit versions kept for in-flight signals


class RiskService:
    def __init__(
        self,
        bus: EventBus,
        *,
        limits: RiskLimits,
        instruments: Mapping[str, Instrument] | Callable[[str], Instrument | None],
        clock: Clock,
        breakers: CircuitBreakers,
        account: AccountTracker,
        data_stale: Callable[[str], bool] | None = None,
        price_of: Callable[[str], Decimal | None] | None = None,
        strategy_risk_pct: Callable[[str], Decimal | None] | None = None,
        name: str = "risk",
    ) -> None:
        """``strategy_risk_pct(strategy_id)``: that strategy's own risk per trade in percent of
        equity (``None``: the limits' ``risk_per_trade_pct``), read at every signal so a config
        reload applies to the next signal."""
        self.bus = bus
        self.clock = clock
        self.breakers = breakers
        self.account = account
        self.name = name
        self._instruments = instruments
        self._data_stale = data_stale
        self._price_of = price_of
        self._strategy_risk_pct = strategy_risk_pct
        self._limits_history: deque[tuple[int, RiskLimits]] = deque([(0, limits)], maxlen=_HISTORY)
        self._last_price: dict[str, tuple[Decimal, int]] = {}
        self._pending: list[PendingIntent] = []
        self._recent = RecentSignalLog(capacity=10_000)
        self._last_stop_out: dict[str, int] = {}
        self._subscriptions: list[Subscription] = []
        self._equity_deferred = False  # start-up: the books may still disagree with the exchange

    # ---- wiring -------------------------------------------------------------------------------
    def attach(self) -> None:
        if self._subscriptions:
            return
        latest = BackpressurePolicy.DROP_OLDEST  # only the newest price matters
        self._subscriptions = [
            self.bus.subscribe(Topic.SIGNAL_GENERATED, self._on_signal, name=f"{self.name}.signals"),
            self.bus.subscribe(Topic.POSITION_UPDATED, self._on_position, name=f"{self.name}.positions"),
            self.bus.subscribe(Topic.POSITION_CLOSED, self._on_position, name=f"{self.name}.closed"),
            self.bus.subscribe(Topic.RISK_CONFIG_UPDATED, self._on_config, name=f"{self.name}.config"),
            self.bus.subscribe(
                Topic.KLINE_UPDATED, self._on_price, name=f"{self.name}.klines", maxsize=1_000, policy=latest
            ),
            self.bus.subscribe(
                Topic.CANDLE_STORED, self._on_price, name=f"{self.name}.candles", maxsize=1_000, policy=latest
            ),
        ]

    def defer_equity_observation(self) -> None:
        """Until ``resume_equity_observation()``, position updates move the account but its equity
        is not shown to the breakers: at start the books are partial until the start reconciliation
        has applied the fills made while the bot was down and the account is re-based."""
        self._equity_deferred = True

    async def resume_equity_observation(self) -> None:
        """The account is settled: the breakers observe its equity from now on, starting now."""
        self._equity_deferred = False
        await self.breakers.observe_equity(self.account.equity())

    def detach(self) -> None:
        for sub in self._subscriptions:
            self.bus.unsubscribe(sub)
        self._subscriptions = []

    @property
    def trading_state(self) -> TradingState:
        return self.breakers.trading_state

    def status(self) -> dict[str, Any]:
        """Plain summary for the API/CLI facade."""
        book = self.breakers.book
        return {
            "trading_state": book.trading_state.value,
            "equity": str(self.account.equity()),
            "open_positions": len(self.account.open_positions()),
            "pending_intents": len(self._pending),
            "breakers": [
                {"reason": t.reason, "state": t.state.value, "tripped_at": t.tripped_at, "message": t.message}
                for t in book.trips
            ],
            "consecutive_losses": book.consecutive_losses,
            "peak_equity": None if book.peak_equity is None else str(book.peak_equity),
            "day_start_equity": None if book.day_start_equity is None else str(book.day_start_equity),
            "limits": self.limits.model_dump(mode="json"),
        }

    # ---- limits -------------------------------------------------------------------------------
    @property
    def limits(self) -> RiskLimits:
        return self._limits_history[-1][1]

    def update_limits(self, limits: RiskLimits | Mapping[str, Any], *, seq: int | None = None) -> RiskLimits:
        """Install new limits (validated; raises ``pydantic.ValidationError``). ``seq`` is the bus
        sequence number of the update, used to tell which signals were already in flight."""
        parsed = limits if isinstance(limits, RiskLimits) else RiskLimits.model_validate(dict(limits))
        last_seq = self._limits_history[-1][0]
        self._limits_history.append((max(seq if seq is not None else last_seq + 1, last_seq), parsed))
        return parsed

    def _limits_at(self, seq: int | None) -> RiskLimits:
        if seq is None:
            return self.limits
        chosen = self._limits_history[0][1]
        for since, limits in self._limits_history:
            if since < seq:
                chosen = limits
        return chosen

    # ---- validation ---------------------------------------------------------------------------
    def state(self, *, data_stale: bool = False, for_signal: Signal | None = None) -> RiskState:
        """The validator's input now. ``for_signal``: only the remembered signals its duplicate checks
        can match under any limits still in use (the largest duplicate window of the kept limit
        versions) — the verdict of the whole log at a cost independent of its size."""
        now = self.clock.now_ms()
        self._expire(now)
        return RiskState(
            now_ms=now,
            equity=self.account.equity(),
            trading_state=self.breakers.trading_state,
            data_stale=data_stale,
            open_positions=self.account.open_positions(),
            marks=dict(self.account.marks),
            pending=tuple(self._pending),
            recent_signals=self._recent.all() if for_signal is None
            else self._recent.relevant_to(for_signal, self._largest_duplicate_window_ms()),
            last_stop_out=dict(self._last_stop_out),
        )

    def _largest_duplicate_window_ms(self) -> int:
        return max(limits.duplicate_window_seconds for _, limits in self._limits_history) * 1000

    async def evaluate(self, signal: Signal, *, seq: int | None = None) -> OrderIntent | Rejection:
        """Validate one signal (the bus handler calls this; backtests may call it directly)."""
        stale = self._data_stale(signal.symbol) if self._data_stale is not None else False
        await self.breakers.observe_staleness(stale)
        state = self.state(data_stale=stale, for_signal=signal)
        instrument = self._instrument(signal.symbol)
        quote = self._quote(signal)
        if instrument is None or quote is None:
            missing = "instrument filters" if instrument is None else "a current price"
            result: OrderIntent | Rejection = Rejection(signal, (f"no {missing} known for {signal.symbol}",))
        else:
            candidates = {id(limits): limits for limits in (self._limits_at(seq), self.limits)}
            own_pct = self._strategy_risk_pct(signal.strategy_id) if self._strategy_risk_pct is not None else None
            results = [validate(signal, state, _with_risk_pct(limits, own_pct), instrument, quote)
                       for limits in candidates.values()]
            result = _strictest(signal, results)
        self._remember(signal, result, state.now_ms)
        return result

    def _instrument(self, symbol: str) -> Instrument | None:
        if callable(self._instruments):
            return self._instruments(symbol)
        return self._instruments.get(symbol)

    def _quote(self, signal: Signal) -> MarketQuote | None:
        if self._price_of is not None:
            price = self._price_of(signal.symbol)
            if price is not None:
                return MarketQuote(price, self.clock.now_ms())
        seen = self._last_price.get(signal.symbol)
        if seen is not None and seen[1] >= signal.time:
            return MarketQuote(*seen)
        # Nothing newer than the deciding candle: its close is the current price.
        fallback = signal.reference_price or signal.entry_price
        return MarketQuote(fallback, signal.time) if fallback is not None else None

    def _remember(self, signal: Signal, result: OrderIntent | Rejection, now: int) -> None:
        accepted = isinstance(result, OrderIntent)
        self._recent.add(
            now, RecentSignal(signal.id, signal.strategy_id, signal.symbol, signal.direction, signal.time, accepted)
        )
        if isinstance(result, OrderIntent):
            entry = result.entry_price or signal.planned_entry
            self._pending.append(
                PendingIntent(signal.id, signal.strategy_id, signal.symbol, result.quantity * entry, now)
            )

    def _expire(self, now: int) -> None:
        ttl = self.limits.pending_intent_ttl_seconds * 1000
        self._pending = [p for p in self._pending if now - p.time < ttl]
        window = max(self.limits.duplicate_window_seconds * 1000, 86_400_000)
        self._recent.expire(now, window)

    async def poll(self) -> None:
        """Periodic check (call every few seconds from a background task): data staleness of every
        symbol with known filters or a price, and the UTC day change. Staleness must be polled
        because a stale feed produces no candles, hence no signals that would notice it."""
        symbols = set(self._last_price)
        if not callable(self._instruments):
            symbols |= set(self._instruments)
        stale = self._data_stale is not None and any(self._data_stale(symbol) for symbol in sorted(symbols))
        await self.breakers.observe_staleness(stale)
        await self.breakers.refresh()

    # ---- handlers -----------------------------------------------------------------------------
    async def _on_signal(self, envelope: Envelope) -> None:
        payload: SignalGenerated = envelope.payload
        try:
            result = await self.evaluate(payload.signal, seq=envelope.seq)
        except Exception as exc:  # a fault in the gate must reject, never let a signal through
            log.exception("risk_validation_failed", signal_id=payload.signal.id)
            result = Rejection(payload.signal, (f"internal risk error: {type(exc).__name__}: {exc}",))
            await self.bus.publish(Topic.ALERT, Alert(
                AlertLevel.CRITICAL, self.name, f"risk validation failed for signal {payload.signal.id}: {exc!r}"))
        if isinstance(result, OrderIntent):
            await self.bus.publish(Topic.SIGNAL_VALIDATED, SignalValidated(result))
        else:
            await self.bus.publish(Topic.SIGNAL_REJECTED, SignalRejected(result.signal, result.reasons))

    async def _on_position(self, envelope: Envelope) -> None:
        payload: PositionUpdated | PositionClosed = envelope.payload
        position = payload.position
        mark = payload.mark_price if isinstance(payload, PositionUpdated) else None
        realized = self.account.apply(position, mark)
        # The position now exists (or is gone): its pending reservation is no longer needed.
        self._pending = [
            p for p in self._pending if not (p.symbol == position.symbol and p.strategy_id == position.strategy_id)
        ]
        if realized is not None:
            if realized < 0:
                self._last_stop_out[position.symbol] = position.closed_at or self.clock.now_ms()
            await self.breakers.observe_closed_trade(realized)
        if not self._equity_deferred:
            await self.breakers.observe_equity(self.account.equity())

    async def _on_config(self, envelope: Envelope) -> None:
        update: ConfigUpdated = envelope.payload
        if update.section != CONFIG_SECTION:
            return
        try:
            self.update_limits(update.changes, seq=envelope.seq)
        except ValidationError as exc:
            await self.bus.publish(Topic.ALERT, Alert(
                AlertLevel.WARNING, self.name, f"risk config v{update.version} rejected; keeping the previous limits",
                {"errors": [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]},
            ))

    async def _on_price(self, envelope: Envelope) -> None:
        payload: KlineUpdated | CandleStored = envelope.payload
        candle = payload.candle
        seen_at = candle.close_time if candle.closed else self.clock.now_ms()
        known = self._last_price.get(candle.symbol)
        if known is None or seen_at >= known[1]:
            self._last_price[candle.symbol] = (candle.close, seen_at)
            self.account.set_mark(candle.symbol, candle.close)


def _with_risk_pct(limits: RiskLimits, pct: Decimal | None) -> RiskLimits:
    if pct is None or pct == limits.risk_per_trade_pct:
        return limits
    return limits.model_copy(update={"risk_per_trade_pct": pct})


def _strictest(signal: Signal, results: list[OrderIntent | Rejection]) -> OrderIntent | Rejection:
    """Reject if any limit set rejects (all reasons, once each); else the smallest intent."""
    reasons = [reason for result in results if isinstance(result, Rejection) for reason in result.reasons]
    if reasons:
        return Rejection(signal, tuple(dict.fromkeys(reasons)))
    intents = [result for result in results if isinstance(result, OrderIntent)]
    return min(intents, key=lambda intent: intent.quantity)
