"""Circuit breakers: pure state transitions (``BreakerBook``) and a persisting, alerting shell.

A breaker trip moves trading to REDUCING (close-only) or HALTED (per ``RiskLimits.breaker_states``)
and stays until an explicit ``reset``; the daily-loss trip also clears itself at the next 00:00 UTC.
The book is persisted after every change through a ``KeyValueStore`` so a restart cannot silently
re-enable trading.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import KeyValueStore
from ictbot.risk.limits import RiskLimits
from ictbot.risk.state import BreakerReason, TradingState

log = structlog.get_logger(__name__)

HUNDRED = Decimal(100)
STORE_KEY = "risk.circuit_breakers"
# The latest equity is written at least this often while it changes: after a restart on a new UTC
# day it becomes that day's reference, so it must not be hours old (e.g. the last peak).
EQUITY_WRITE_INTERVAL_MS = 60_000


def utc_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class Trip:
    reason: str  # a BreakerReason value, or a free text reason given to ``trip``
    state: TradingState
    tripped_at: int
    message: str
    day: str | None = None  # set for the daily-loss trip: it expires when this UTC day ends


@dataclass(frozen=True, slots=True)
class BreakerBook:
    """Everything the breakers remember. Trading state = the most severe active trip."""

    trips: tuple[Trip, ...] = ()
    day: str | None = None
    day_start_equity: Decimal | None = None
    peak_equity: Decimal | None = None
    last_equity: Decimal | None = None
    consecutive_losses: int = 0
    stale_since: int | None = None
    history: tuple[Trip, ...] = field(default=())

    @property
    def trading_state(self) -> TradingState:
        return max((trip.state for trip in self.trips), key=lambda s: s.severity, default=TradingState.ACTIVE)

    def tripped(self, reason: str) -> bool:
        return any(trip.reason == reason for trip in self.trips)

    # ---- transitions (pure) ------------------------------------------------------------------
    def roll_day(self, now_ms: int) -> BreakerBook:
        """Start a new UTC day: the day's reference equity is the last one known before it, and
        the previous day's daily-loss trip expires."""
        today = utc_day(now_ms)
        if self.day == today:
            return self
        trips = tuple(t for t in self.trips if not (t.reason == BreakerReason.DAILY_LOSS.value and t.day != today))
        return replace(self, day=today, day_start_equity=self.last_equity, trips=trips)

    def observe_equity(self, equity: Decimal, now_ms: int, limits: RiskLimits) -> tuple[BreakerBook, list[Trip]]:
        book = replace(self.roll_day(now_ms), last_equity=equity)
        if book.day_start_equity is None:
            book = replace(book, day_start_equity=equity)
        peak = equity if book.peak_equity is None else max(book.peak_equity, equity)
        book = replace(book, peak_equity=peak)
        new: list[Trip] = []
        start = book.day_start_equity
        assert start is not None
        if start > 0 and not book.tripped(BreakerReason.DAILY_LOSS.value):
            loss_pct = (start - equity) / start * HUNDRED
            if loss_pct >= limits.daily_loss_limit_pct:
                new.append(_trip(BreakerReason.DAILY_LOSS, limits, now_ms,
                                 f"daily loss {loss_pct:.2f}% ≥ {limits.daily_loss_limit_pct}% "
                                 f"(equity {equity:.2f} vs {start:.2f} at 00:00 UTC)", day=book.day))
        if peak > 0 and not book.tripped(BreakerReason.MAX_DRAWDOWN.value):
            drawdown_pct = (peak - equity) / peak * HUNDRED
            if drawdown_pct >= limits.max_drawdown_pct:
                new.append(_trip(BreakerReason.MAX_DRAWDOWN, limits, now_ms,
                                 f"drawdown {drawdown_pct:.2f}% from peak {peak:.2f} ≥ {limits.max_drawdown_pct}%"))
        return book._with(new), new

    def observe_closed_trade(self, pnl: Decimal, now_ms: int, limits: RiskLimits) -> tuple[BreakerBook, list[Trip]]:
        book = self.roll_day(now_ms)
        if pnl > 0:
            return replace(book, consecutive_losses=0), []
        if pnl == 0:
            return book, []
        book = replace(book, consecutive_losses=book.consecutive_losses + 1)
        new: list[Trip] = []
        if book.consecutive_losses >= limits.max_consecutive_losses and not book.tripped(
            BreakerReason.CONSECUTIVE_LOSSES.value
        ):
            new.append(_trip(BreakerReason.CONSECUTIVE_LOSSES, limits, now_ms,
                             f"{book.consecutive_losses} losing trades in a row"))
        return book._with(new), new

    def observe_staleness(self, stale: bool, now_ms: int, limits: RiskLimits) -> tuple[BreakerBook, list[Trip]]:
        book = self.roll_day(now_ms)
        if not stale:
            return (book, []) if book.stale_since is None else (replace(book, stale_since=None), [])
        since = book.stale_since if book.stale_since is not None else now_ms
        book = replace(book, stale_since=since)
        halt_ms = limits.stale_data_halt_seconds * 1000
        if halt_ms and now_ms - since >= halt_ms and not book.tripped(BreakerReason.STALE_DATA.value):
            new = [_trip(BreakerReason.STALE_DATA, limits, now_ms,
                         f"market data stale for {(now_ms - since) // 1000}s")]
            return book._with(new), new
        return book, []

    def trip(self, reason: str, state: TradingState, now_ms: int, message: str) -> tuple[BreakerBook, list[Trip]]:
        """Trip ``reason``; a reason already tripped at the same or a stricter state is left as is."""
        if any(t.reason == reason and t.state.severity >= state.severity for t in self.trips):
            return self, []
        new = [Trip(reason=reason, state=state, tripped_at=now_ms, message=message or reason)]
        return self._with(new), new

    def reset(self, reason: str | None, now_ms: int) -> tuple[BreakerBook, list[Trip]]:
        """Clear one breaker (or all with ``None``) and re-base what it measures, so it does not
        re-trip on the very next update: peak := current equity, day start := current equity,
        loss streak := 0, staleness timer restarted."""
        cleared = [t for t in self.trips if reason is None or t.reason == reason]
        book = replace(self, trips=tuple(t for t in self.trips if t not in cleared))
        names = {t.reason for t in cleared} if reason is not None else {r.value for r in BreakerReason}
        if BreakerReason.MAX_DRAWDOWN.value in names and book.last_equity is not None:
            book = replace(book, peak_equity=book.last_equity)
        if BreakerReason.DAILY_LOSS.value in names and book.last_equity is not None:
            book = replace(book, day_start_equity=book.last_equity, day=utc_day(now_ms))
        if BreakerReason.CONSECUTIVE_LOSSES.value in names:
            book = replace(book, consecutive_losses=0)
        if BreakerReason.STALE_DATA.value in names:
            book = replace(book, stale_since=None)
        return book, cleared

    def _with(self, new: list[Trip]) -> BreakerBook:
        if not new:
            return self
        return replace(self, trips=self.trips + tuple(new), history=(self.history + tuple(new))[-50:])

    # ---- persistence -------------------------------------------------------------------------
    def to_json(self) -> str:
        def trip(t: Trip) -> dict[str, Any]:
            return {"reason": t.reason, "state": t.state.value, "tripped_at": t.tripped_at, "message": t.message,
                    "day": t.day}

        def dec(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return json.dumps({
            "version": 1, "trips": [trip(t) for t in self.trips], "history": [trip(t) for t in self.history],
            "day": self.day, "day_start_equity": dec(self.day_start_equity), "peak_equity": dec(self.peak_equity),
            "last_equity": dec(self.last_equity), "consecutive_losses": self.consecutive_losses,
            "stale_since": self.stale_since,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> BreakerBook:
        data = json.loads(raw)

        def trip(d: dict[str, Any]) -> Trip:
            return Trip(d["reason"], TradingState(d["state"]), int(d["tripped_at"]), d["message"], d.get("day"))

        def dec(value: str | None) -> Decimal | None:
            return None if value is None else Decimal(value)

        return cls(
            trips=tuple(trip(t) for t in data.get("trips", [])),
            history=tuple(trip(t) for t in data.get("history", [])),
            day=data.get("day"), day_start_equity=dec(data.get("day_start_equity")),
            peak_equity=dec(data.get("peak_equity")), last_equity=dec(data.get("last_equity")),
            consecutive_losses=int(data.get("consecutive_losses", 0)), stale_since=data.get("stale_since"),
        )


def _durable(book: BreakerBook) -> BreakerBook:
    """The part worth a write: the latest equity and the staleness timer change on every update
    and are re-learnt from the next observation after a restart."""
    return replace(book, last_equity=None, stale_since=None)


def _trip(reason: BreakerReason, limits: RiskLimits, now_ms: int, message: str, day: str | None = None) -> Trip:
    return Trip(reason=reason.value, state=limits.breaker_state(reason), tripped_at=now_ms, message=message, day=day)


class CircuitBreakers:
    """Async shell: feeds observations to the book, persists every change, publishes ALERTs.

    ``trip(reason)`` is the entry point for other stages (execution calls it on a reconciliation
    mismatch); ``reset(reason)`` is for the API/CLI.
    """

    def __init__(
        self, store: KeyValueStore, clock: Clock, limits: Callable[[], RiskLimits], *, bus: EventBus | None = None,
        key: str = STORE_KEY, source: str = "risk",
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits
        self._bus = bus
        self._key = key
        self._source = source
        self._book = BreakerBook()
        self._written_at: int | None = None

    @property
    def book(self) -> BreakerBook:
        return self._book

    @property
    def trading_state(self) -> TradingState:
        return self._book.trading_state

    async def load(self) -> BreakerBook:
        """Restore the persisted book (call once at start, before the first signal)."""
        raw = await self._store.get(self._key)
        now = self._clock.now_ms()
        book, new = BreakerBook(), list[Trip]()
        if raw:
            try:
                book = BreakerBook.from_json(raw)
            except (ValueError, KeyError, TypeError) as exc:
                # Unreadable state must not quietly re-enable trading: halt until someone resets.
                book, new = BreakerBook().trip(
                    BreakerReason.MANUAL.value, TradingState.HALTED, now, f"unreadable breaker state: {exc}"
                )
        self._book = book.roll_day(now)
        await self._store.set(self._key, self._book.to_json())
        self._written_at = now
        await self._alert(new)
        return self._book

    async def refresh(self) -> None:
        """Apply the UTC day change without another observation (call from a periodic task)."""
        await self._commit(self._book.roll_day(self._clock.now_ms()), [])

    async def observe_equity(self, equity: Decimal) -> None:
        await self._commit(*self._book.observe_equity(equity, self._clock.now_ms(), self._limits()))

    async def observe_closed_trade(self, pnl: Decimal) -> None:
        await self._commit(*self._book.observe_closed_trade(pnl, self._clock.now_ms(), self._limits()))

    async def observe_staleness(self, stale: bool) -> None:
        await self._commit(*self._book.observe_staleness(stale, self._clock.now_ms(), self._limits()))

    async def trip(self, reason: str, *, message: str = "", state: TradingState | None = None) -> None:
        """Trip a breaker by hand or from another stage (e.g. ``"reconciliation_mismatch"``)."""
        try:
            target = state or self._limits().breaker_state(BreakerReason(reason))
        except ValueError:
            target = state or TradingState.HALTED
        await self._commit(*self._book.trip(reason, target, self._clock.now_ms(), message))

    async def reset(self, reason: str | None = None) -> list[Trip]:
        """Clear one breaker (or all); returns what was cleared."""
        book, cleared = self._book.reset(reason, self._clock.now_ms())
        await self._commit(book, [])
        if cleared and self._bus is not None:
            await self._bus.publish(Topic.ALERT, Alert(
                AlertLevel.INFO, self._source,
                f"circuit breaker reset ({', '.join(t.reason for t in cleared)}); trading state "
                f"{book.trading_state.value}", {"cleared": [t.reason for t in cleared]}))
        return cleared

    async def _commit(self, book: BreakerBook, new: list[Trip]) -> None:
        if book == self._book and not new:
            return
        durable_change = _durable(book) != _durable(self._book)
        now = self._clock.now_ms()
        equity_due = book.last_equity != self._book.last_equity and (
            self._written_at is None or now - self._written_at >= EQUITY_WRITE_INTERVAL_MS)
        self._book = book
        if durable_change or new or equity_due:
            await self._store.set(self._key, book.to_json())
            self._written_at = now
        await self._alert(new)

    async def _alert(self, new: list[Trip]) -> None:
        for trip in new:
            log.warning("circuit_breaker_tripped", reason=trip.reason, state=trip.state.value, message=trip.message)
            if self._bus is not None:
                await self._bus.publish(Topic.ALERT, Alert(
                    AlertLevel.CRITICAL, self._source,
                    f"circuit breaker {trip.reason} tripped: {trip.message}; trading {trip.state.value}",
                    {"reason": trip.reason, "state": trip.state.value, "tripped_at": trip.tripped_at},
                ))
