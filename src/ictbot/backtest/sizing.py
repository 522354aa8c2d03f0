"""The risk step of the backtest: the live pure gate ``ictbot.risk.validate`` fed with backtest state.

``RiskGate`` builds the ``RiskState`` the live ``RiskService`` would hold at the deciding candle's
close (equity, open positions, pending entries, recently seen signals, last stop-out per symbol,
circuit-breaker state) and calls the same ``validate`` (sizing included). A backtest run switches the
breakers on, as live (``BacktestSpec.breakers_on``): a tripped consecutive-loss or drawdown breaker
then stops new entries for the rest of the replay, exactly as it would wait for an operator live.
Off (``--no-circuit-breakers``, the reference strategies) is listed in ``deviations_from_live``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ictbot.domain.events import OrderIntent, SignalRejected
from ictbot.domain.instrument import Instrument
from ictbot.domain.position import Position
from ictbot.domain.signal import Signal
from ictbot.risk.breakers import BreakerBook, Trip
from ictbot.risk.limits import RiskLimits, SizingMode
from ictbot.risk.recent import RecentSignalLog
from ictbot.risk.state import BreakerReason, MarketQuote, PendingIntent, RecentSignal, RiskState
from ictbot.risk.validator import validate


@dataclass(frozen=True, slots=True)
class AccountView:
    """What the risk step may know at a decision: the state at the deciding candle's close."""

    time: int
    equity: Decimal
    price: Decimal
    open_positions: tuple[Position, ...] = ()
    pending: tuple[PendingIntent, ...] = ()


class RiskStage(Protocol):
    def evaluate(self, signal: Signal, account: AccountView) -> OrderIntent | SignalRejected: ...

    def on_trade_closed(self, symbol: str, pnl: Decimal, stopped: bool, time: int, equity: Decimal) -> None: ...

    @property
    def stopped(self) -> Trip | None:
        """A breaker trip that blocks every later entry of the replay, else None."""
        ...


def reference_limits(stake: Decimal = Decimal(1000), fee_rate: Decimal = Decimal("0.001")) -> RiskLimits:
    """The comparison setup of S1/S2: a fixed stake per trade, one position, no extra filters."""
    return RiskLimits(
        sizing_mode=SizingMode.FIXED_NOTIONAL, fixed_notional=stake, maker_fee_rate=fee_rate,
        taker_fee_rate=fee_rate, max_open_positions=1, max_open_positions_per_symbol=1,
        max_symbol_exposure_pct=Decimal(100), max_total_exposure_pct=Decimal(100), min_reward_risk=Decimal(0),
        duplicate_window_seconds=0, cooldown_after_stop_minutes=0,
        daily_loss_limit_pct=Decimal(100), max_drawdown_pct=Decimal(100), max_consecutive_losses=1_000_000,
    )


class RiskGate:
    def __init__(self, limits: RiskLimits, instrument: Instrument, *, circuit_breakers: bool = False) -> None:
        self.limits = limits
        self.instrument = instrument
        self.circuit_breakers = circuit_breakers
        self.book = BreakerBook()
        self._recent = RecentSignalLog(capacity=256)
        self._last_stop_out: dict[str, int] = {}
        self.stopped: Trip | None = None

    def evaluate(self, signal: Signal, account: AccountView) -> OrderIntent | SignalRejected:
        if self.circuit_breakers:
            self.book, _ = self.book.observe_equity(account.equity, account.time, self.limits)
        state = RiskState(
            now_ms=account.time, equity=account.equity, trading_state=self.book.trading_state,
            open_positions=account.open_positions, marks={signal.symbol: account.price},
            pending=account.pending, last_stop_out=self._last_stop_out,
            recent_signals=self._recent.relevant_to(signal, self.limits.duplicate_window_seconds * 1000),
        )
        outcome = validate(signal, state, self.limits, self.instrument, MarketQuote(account.price, account.time))
        accepted = isinstance(outcome, OrderIntent)
        if self.limits.duplicate_window_seconds:
            self._recent.add(account.time, RecentSignal(signal.id, signal.strategy_id, signal.symbol,
                                                        signal.direction, signal.time, accepted))
        if isinstance(outcome, OrderIntent):
            return outcome
        return SignalRejected(outcome.signal, outcome.reasons)

    def on_trade_closed(self, symbol: str, pnl: Decimal, stopped: bool, time: int, equity: Decimal) -> None:
        if stopped:
            self._last_stop_out[symbol] = time
        if self.circuit_breakers:
            self.book, _ = self.book.observe_closed_trade(pnl, time, self.limits)
            self.book, _ = self.book.observe_equity(equity, time, self.limits)
            # Every trip but the daily loss (which expires at 00:00 UTC) lasts until an operator resets
            # it; a replay has none, so no entry can follow it (the engine stops asking the strategy).
            self.stopped = next((trip for trip in self.book.trips if trip.reason != BreakerReason.DAILY_LOSS.value),
                                None)
