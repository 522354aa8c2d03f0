"""The pure risk gate: ``validate(signal, state, limits, instrument, market)``.

Every check that applies is run and every failure is reported, so a rejection explains itself.
Prices are rounded to the tick in the direction that never makes the trade riskier than proposed
(long stops down, long limit entries down; shorts mirror) and quantities are rounded down; when
the rounded order breaks an exchange filter the signal is rejected rather than turned into a
different trade (a size is never bumped up to the minimum).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.risk.limits import RiskLimits
from ictbot.risk.sizing import PositionSizer, SizingProblem, round_trip_fee
from ictbot.risk.state import MarketQuote, Rejection, RiskState, TradingState

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
_SIZER = PositionSizer()


def validate(
    signal: Signal, state: RiskState, limits: RiskLimits, instrument: Instrument, market: MarketQuote,
) -> OrderIntent | Rejection:
    reasons = _gate_reasons(signal, state, limits, instrument)
    priced = _priced(signal, limits, instrument, market)
    if isinstance(priced, list):
        return Rejection(signal, tuple(reasons + priced))
    entry, stop, targets = priced
    is_market = signal.entry_type is EntryType.MARKET
    headroom = _exposure_headroom(signal.symbol, state, limits)
    if headroom <= 0:
        return Rejection(signal, tuple([*reasons, f"no exposure headroom left for {signal.symbol}"]))
    sized = _SIZER.size(
        entry=entry, stop=stop, equity=state.equity, limits=limits, instrument=instrument,
        entry_is_maker=not is_market, market_order=is_market, max_notional=headroom,
    )
    if isinstance(sized, SizingProblem):
        return Rejection(signal, tuple([*reasons, sized.reason]))
    reasons += [f"order filter: {problem}" for problem in instrument.order_problems(entry, sized.quantity,
                                                                                    market_order=is_market)]
    reasons += _exposure_reasons(signal.symbol, sized.notional, state, limits)
    if reasons:
        return Rejection(signal, tuple(reasons))
    return OrderIntent(
        signal=signal,
        quantity=sized.quantity,
        entry_price=None if is_market else entry,
        stop_loss=stop,
        take_profits=targets,
        risk_amount=sized.risk_amount,
        leverage=sized.leverage,
    )


def _gate_reasons(signal: Signal, state: RiskState, limits: RiskLimits, instrument: Instrument) -> list[str]:
    """Checks that do not depend on prices: state, staleness, duplicates, cooldown, counts."""
    reasons: list[str] = []
    if state.trading_state is not TradingState.ACTIVE:
        reasons.append(f"trading state is {state.trading_state.value}: no new positions")
    if state.data_stale:
        reasons.append("market data is stale")
    if instrument.symbol != signal.symbol:
        reasons.append(f"instrument {instrument.symbol} does not match signal symbol {signal.symbol}")
    if instrument.status != "TRADING":
        reasons.append(f"{instrument.symbol} status is {instrument.status}, not TRADING")
    if signal.direction is Direction.SHORT and instrument.market is Market.SPOT and not limits.allow_short_on_spot:
        reasons.append("short signals are not allowed on a spot market (allow_short_on_spot is off)")
    reasons += _duplicate_reasons(signal, state, limits)
    stopped_at = state.last_stop_out.get(signal.symbol)
    cooldown_ms = limits.cooldown_after_stop_minutes * 60_000
    if stopped_at is not None and cooldown_ms and state.now_ms - stopped_at < cooldown_ms:
        left = (cooldown_ms - (state.now_ms - stopped_at)) // 1000
        reasons.append(f"cooldown after a stop-out on {signal.symbol}: {left}s left")
    open_positions = [p for p in state.open_positions if p.is_open]
    open_count = len(open_positions) + len(state.pending)
    symbol_count = sum(1 for p in open_positions if p.symbol == signal.symbol) + sum(
        1 for p in state.pending if p.symbol == signal.symbol
    )
    if open_count >= limits.max_open_positions:
        reasons.append(f"max open positions reached ({open_count}/{limits.max_open_positions})")
    if symbol_count >= limits.max_open_positions_per_symbol:
        reasons.append(
            f"max open positions for {signal.symbol} reached ({symbol_count}/{limits.max_open_positions_per_symbol})"
        )
    return reasons


def _duplicate_reasons(signal: Signal, state: RiskState, limits: RiskLimits) -> list[str]:
    window_ms = limits.duplicate_window_seconds * 1000
    for seen in state.recent_signals:
        if seen.id == signal.id:
            return [f"duplicate signal {signal.id} (already {'accepted' if seen.accepted else 'rejected'})"]
    for seen in state.recent_signals:
        if (
            seen.accepted and seen.strategy_id == signal.strategy_id and seen.symbol == signal.symbol
            and seen.direction is signal.direction and 0 <= signal.time - seen.time < window_ms
        ):
            return [f"duplicate of accepted signal {seen.id} within {limits.duplicate_window_seconds}s"]
    return []


def _priced(
    signal: Signal, limits: RiskLimits, instrument: Instrument, market: MarketQuote,
) -> tuple[Decimal, Decimal, tuple[Decimal, ...]] | list[str]:
    """Entry, stop and targets on the tick grid, or the reasons they are unusable."""
    side = signal.direction.sign
    problems: list[str] = []
    if signal.entry_type is EntryType.MARKET:
        entry = market.price
        reference = signal.reference_price
        if reference is None or reference <= 0:
            problems.append("market signal without a reference price")
        elif abs(entry - reference) / reference * HUNDRED > limits.max_slippage_pct:
            moved = (entry - reference) / reference * HUNDRED
            problems.append(
                f"price moved {moved:.3f}% from the signal's {reference} to {entry} "
                f"(tolerance {limits.max_slippage_pct}%)"
            )
    else:
        assert signal.entry_price is not None  # enforced by Signal
        entry = instrument.floor_price(signal.entry_price) if side > 0 else instrument.ceil_price(signal.entry_price)
    stop = instrument.floor_price(signal.stop_loss) if side > 0 else instrument.ceil_price(signal.stop_loss)
    targets = tuple(instrument.round_price(target) for target in signal.take_profits)
    if entry <= 0 or market.price <= 0:
        return [*problems, f"unusable entry price {entry}"]
    # Names are formatted only for a problem found (this runs on every decision of a backtest).
    if signal.entry_type is EntryType.LIMIT:  # a market order sends no price
        problems += [f"entry: {problem}" for problem in instrument.price_problems(entry)]
    problems += [f"stop: {problem}" for problem in instrument.price_problems(stop)]
    for target in targets:
        problems += [f"take-profit {target}: {problem}" for problem in instrument.price_problems(target)]
    if (entry - stop) * side <= 0:
        problems.append(f"stop {stop} is not on the losing side of entry {entry} for a {signal.direction.value}")
    if any((target - entry) * side <= 0 for target in targets):
        problems.append(f"take-profits {[str(t) for t in targets]} are not all beyond entry {entry}")
    if (market.price - stop) * side <= 0:
        problems.append(f"current price {market.price} is already beyond the stop {stop}")
    if problems:
        return problems
    problem = _reward_risk_problem(entry, stop, targets[0], side, limits,
                                   entry_is_maker=signal.entry_type is not EntryType.MARKET)
    return [problem] if problem else (entry, stop, targets)


def _reward_risk_problem(
    entry: Decimal, stop: Decimal, target: Decimal, side: int, limits: RiskLimits, *, entry_is_maker: bool,
) -> str | None:
    """``min_reward_risk`` judged on money, not distances: risk = stop distance + entry fee + exit fee
    at the stop, reward = target distance − entry fee − exit fee at the target (the same fee rule the
    sizer uses). A tight stop whose round trip costs more than it risks is refused however far the
    target. ``min_reward_risk`` 0 switches the check off."""
    if limits.min_reward_risk <= 0:
        return None
    risk = (entry - stop) * side + round_trip_fee(entry, stop, limits, entry_is_maker=entry_is_maker)
    reward = (target - entry) * side - round_trip_fee(entry, target, limits, entry_is_maker=entry_is_maker)
    reward_risk = reward / risk
    if reward_risk >= limits.min_reward_risk:
        return None
    gross = (target - entry) / (entry - stop)
    # cut, not rounded: 1.4996 against a minimum of 1.5 must not read "1.50 below minimum 1.5"
    shown = reward_risk.quantize(CENT, rounding=ROUND_DOWN)
    return (f"reward:risk {shown} below minimum {limits.min_reward_risk} after fees "
            f"(after rounding; {gross:.2f} before the round-trip fees at {limits.taker_fee_rate})")


def _exposure(state: RiskState, only: str | None) -> Decimal:
    """Notional of open positions (at their mark, else entry) plus pending intents."""
    total = ZERO
    for position in state.open_positions:
        if position.is_open and only in (None, position.symbol):
            total += position.notional(state.marks.get(position.symbol, position.avg_entry))
    for pending in state.pending:
        if only in (None, pending.symbol):
            total += pending.notional
    return total


def _exposure_headroom(symbol: str, state: RiskState, limits: RiskLimits) -> Decimal:
    symbol_cap = state.equity * limits.max_symbol_exposure_pct / HUNDRED
    total_cap = state.equity * limits.max_total_exposure_pct / HUNDRED
    return min(symbol_cap - _exposure(state, symbol), total_cap - _exposure(state, None))


def _exposure_reasons(symbol: str, notional: Decimal, state: RiskState, limits: RiskLimits) -> list[str]:
    """Safety net after sizing (fixed modes, rounding): the caps in quote units."""
    reasons: list[str] = []
    symbol_after = _exposure(state, symbol) + notional
    total_after = _exposure(state, None) + notional
    symbol_cap = state.equity * limits.max_symbol_exposure_pct / HUNDRED
    total_cap = state.equity * limits.max_total_exposure_pct / HUNDRED
    if symbol_after > symbol_cap:
        reasons.append(
            f"{symbol} exposure {symbol_after:.2f} would exceed {limits.max_symbol_exposure_pct}% of equity "
            f"({symbol_cap:.2f})"
        )
    if total_after > total_cap:
        reasons.append(
            f"total exposure {total_after:.2f} would exceed {limits.max_total_exposure_pct}% "
            f"of equity ({total_cap:.2f})"
        )
    return reasons
