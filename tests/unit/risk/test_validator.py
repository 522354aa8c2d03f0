from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from ictbot.domain.events import OrderIntent
from ictbot.domain.market import Market
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.risk.limits import RiskLimits, SizingMode
from ictbot.risk.state import MarketQuote, PendingIntent, RecentSignal, Rejection, RiskState, TradingState
from ictbot.risk.validator import validate
from tests.unit.risk.support import make_signal, open_position, real_instrument

NOW = 1_700_000_000_000
BTC = real_instrument("BTCUSDT")
LIMITS = RiskLimits(max_symbol_exposure_pct=Decimal(100), max_open_positions=3)


def run(
    signal: Signal | None = None, *, state: RiskState | None = None, limits: RiskLimits = LIMITS,
    price: str = "60000", instrument: Any = BTC,
) -> OrderIntent | Rejection:
    return validate(
        signal or make_signal(), state or RiskState(now_ms=NOW, equity=Decimal(10_000)), limits, instrument,
        MarketQuote(Decimal(price), NOW),
    )


def rejected(result: OrderIntent | Rejection, *fragments: str) -> bool:
    return isinstance(result, Rejection) and all(any(f in r for r in result.reasons) for f in fragments)


def test_valid_market_signal_becomes_a_sized_intent() -> None:
    result = run()
    assert isinstance(result, OrderIntent)
    assert result.entry_price is None
    assert result.quantity == Decimal("0.13900")
    assert result.stop_loss == Decimal("59400.00")
    assert result.take_profits == (Decimal("61800.00"),)
    assert result.risk_amount <= Decimal(100)
    assert BTC.order_problems(Decimal(60000), result.quantity, market_order=True) == []


@pytest.mark.parametrize("state", [TradingState.REDUCING, TradingState.HALTED])
def test_not_active_rejects(state: TradingState) -> None:
    assert rejected(run(state=RiskState(now_ms=NOW, equity=Decimal(10_000), trading_state=state)), state.value)


def test_stale_data_rejects() -> None:
    assert rejected(run(state=RiskState(now_ms=NOW, equity=Decimal(10_000), data_stale=True)), "stale")


def test_duplicate_id_is_rejected_even_if_first_was_rejected() -> None:
    signal = make_signal()
    seen = RecentSignal(signal.id, signal.strategy_id, signal.symbol, signal.direction, signal.time, accepted=False)
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), recent_signals=(seen,))
    assert rejected(run(signal, state=state), "duplicate signal")


def test_same_idea_within_the_window_is_suppressed_then_allowed() -> None:
    first = make_signal(time=NOW - 300_000 + 1)
    seen = RecentSignal(first.id, first.strategy_id, first.symbol, first.direction, first.time, accepted=True)
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), recent_signals=(seen,))
    assert rejected(run(make_signal(time=NOW), state=state), "duplicate of accepted")
    later = replace(seen, time=NOW - 300_000)
    assert isinstance(run(make_signal(time=NOW), state=replace(state, recent_signals=(later,))), OrderIntent)
    other_side = make_signal(time=NOW, direction=Direction.SHORT, stop="60600", targets=("58800",))
    allowed = LIMITS.model_copy(update={"allow_short_on_spot": True})
    assert isinstance(run(other_side, state=state, limits=allowed), OrderIntent)


def test_cooldown_after_stop_out() -> None:
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), last_stop_out={"BTCUSDT": NOW - 29 * 60_000})
    assert rejected(run(state=state), "cooldown")
    assert isinstance(run(state=replace(state, last_stop_out={"BTCUSDT": NOW - 30 * 60_000})), OrderIntent)
    assert isinstance(run(state=replace(state, last_stop_out={"ETHUSDT": NOW})), OrderIntent)


def test_max_open_positions_global_and_per_symbol() -> None:
    eth = open_position("ETHUSDT", qty="0.1", entry="4000", pid="e1")
    btc = open_position("BTCUSDT", qty="0.01", pid="b1")
    limits = LIMITS.model_copy(update={"max_open_positions": 2})
    assert rejected(run(state=RiskState(now_ms=NOW, equity=Decimal(10_000), open_positions=(btc,))),
                    "max open positions for BTCUSDT")
    full = RiskState(now_ms=NOW, equity=Decimal(10_000), open_positions=(eth, replace(eth, id="e2")))
    assert rejected(run(state=full, limits=limits), "max open positions reached (2/2)")
    one = RiskState(now_ms=NOW, equity=Decimal(10_000), open_positions=(eth,))
    assert isinstance(run(state=one, limits=limits), OrderIntent)


def test_pending_intents_count_as_positions_and_exposure() -> None:
    pending = PendingIntent("x", "strategy_b", "BTCUSDT", Decimal(9_000), NOW)
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), pending=(pending,))
    assert rejected(run(state=state), "max open positions for BTCUSDT")
    limits = LIMITS.model_copy(update={"max_open_positions_per_symbol": 2})
    result = run(state=state, limits=limits)
    assert isinstance(result, OrderIntent)
    assert result.quantity * Decimal(60000) <= Decimal(1_000)  # shrunk to the 10 % left


def test_exposure_caps_per_symbol_and_total() -> None:
    eth = open_position("ETHUSDT", qty="2", entry="4000", pid="e1")  # 8 000 at entry, 9 000 at the mark
    limits = RiskLimits(max_total_exposure_pct=Decimal(100), max_symbol_exposure_pct=Decimal(100))
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), open_positions=(eth,), marks={"ETHUSDT": Decimal(4500)})
    result = run(state=state, limits=limits)
    assert isinstance(result, OrderIntent)
    assert result.quantity == Decimal("0.01666")  # 1 000 of total headroom at the mark
    full = replace(state, marks={"ETHUSDT": Decimal(5000)})
    assert rejected(run(state=full, limits=limits), "no exposure headroom")
    fixed = limits.model_copy(update={"sizing_mode": SizingMode.FIXED_NOTIONAL, "fixed_notional": Decimal(2000)})
    assert rejected(run(state=state, limits=fixed), "exposure headroom")


def test_symbol_exposure_cap_limits_the_size() -> None:
    result = run(limits=RiskLimits(max_symbol_exposure_pct=Decimal(20)))
    assert isinstance(result, OrderIntent)
    assert result.quantity * Decimal(60000) <= Decimal(2000)


FEE_FREE = LIMITS.model_copy(update={"maker_fee_rate": Decimal(0), "taker_fee_rate": Decimal(0)})


def test_min_reward_risk_boundary_without_fees() -> None:
    limits = FEE_FREE.model_copy(update={"min_reward_risk": Decimal(2)})
    assert isinstance(run(make_signal(targets=("61200",)), limits=limits), OrderIntent)  # exactly 2.0
    assert rejected(run(make_signal(targets=("61199.99",)), limits=limits), "reward:risk")


def test_reward_risk_is_measured_after_rounding_and_at_the_current_price() -> None:
    limits = FEE_FREE.model_copy(update={"min_reward_risk": Decimal(2)})
    # 59399.995 has exactly 2.0 R, but the stop rounds down to 59399.99 (farther), so it falls below 2
    assert rejected(run(make_signal(stop="59399.995", targets=("61200.01",)), limits=limits), "reward:risk")
    # the price moved up 0.1 % since the signal: less reward, more risk
    assert rejected(run(make_signal(targets=("61200",)), limits=limits, price="60060"), "reward:risk")


def test_tight_stop_is_rejected_because_the_round_trip_fee_exceeds_the_reward() -> None:
    # entry 100, stop 99.94 (0.06 %), target 100.20, 0.1 % per side:
    # risk = 0.06 + 0.100 (entry fee) + 0.09994 (exit fee at the stop) = 0.25994
    # reward = 0.20 - 0.100 - 0.1002 (exit fee at the target) = -0.0002  ->  R:R -0.00 (3.33 before fees)
    eth = real_instrument("ETHUSDT")
    signal = make_signal(symbol="ETHUSDT", entry="100", stop="99.94", targets=("100.20",))
    limits = LIMITS.model_copy(update={"min_reward_risk": Decimal("1.5")})
    result = run(signal, limits=limits, price="100", instrument=eth)
    assert isinstance(result, Rejection)
    assert result.reasons == ("reward:risk -0.00 below minimum 1.5 after fees (after rounding; 3.33 before the "
                              "round-trip fees at 0.001)",)
    # the same prices without fees pass: the fees alone reject the trade
    assert isinstance(run(signal, limits=limits.model_copy(update={"maker_fee_rate": Decimal(0),
                                                                    "taker_fee_rate": Decimal(0)}),
                          price="100", instrument=eth), OrderIntent)


def test_wide_stop_is_accepted_with_its_reward_risk_net_of_fees() -> None:
    # entry 100, stop 98, target 104, 0.1 % per side: risk 2 + 0.1 + 0.098 = 2.198,
    # reward 4 - 0.1 - 0.104 = 3.796  ->  R:R 1.727 after fees (2.0 before)
    eth = real_instrument("ETHUSDT")
    signal = make_signal(symbol="ETHUSDT", entry="100", stop="98", targets=("104",))
    accepted = LIMITS.model_copy(update={"min_reward_risk": Decimal("1.72")})
    assert isinstance(run(signal, limits=accepted, price="100", instrument=eth), OrderIntent)
    refused = run(signal, limits=LIMITS.model_copy(update={"min_reward_risk": Decimal("1.73")}), price="100",
                  instrument=eth)
    # 1.727 is shown cut to 1.72: rounded, it read "1.73 below minimum 1.73"
    assert rejected(refused, "reward:risk 1.72 below minimum 1.73 after fees")


def test_short_reward_risk_counts_fees_the_same_way() -> None:
    # short entry 100, stop 102, target 96: risk 2 + 0.1 + 0.102 = 2.202, reward 4 - 0.1 - 0.096 = 3.804 -> 1.7275
    eth = real_instrument("ETHUSDT", Market.USDM)
    signal = make_signal(symbol="ETHUSDT", direction=Direction.SHORT, entry="100", stop="102", targets=("96",))
    assert isinstance(run(signal, limits=LIMITS.model_copy(update={"min_reward_risk": Decimal("1.72")}),
                          price="100", instrument=eth), OrderIntent)
    assert rejected(run(signal, limits=LIMITS.model_copy(update={"min_reward_risk": Decimal("1.73")}),
                        price="100", instrument=eth), "reward:risk 1.72 below")


def test_min_reward_risk_zero_switches_the_check_off_even_when_fees_eat_the_reward() -> None:
    eth = real_instrument("ETHUSDT")
    signal = make_signal(symbol="ETHUSDT", entry="100", stop="99.94", targets=("100.20",))
    limits = LIMITS.model_copy(update={"min_reward_risk": Decimal(0)})
    assert isinstance(run(signal, limits=limits, price="100", instrument=eth), OrderIntent)


def test_slippage_tolerance() -> None:
    limits = LIMITS.model_copy(update={"max_slippage_pct": Decimal("0.5"), "min_reward_risk": Decimal(0)})
    assert isinstance(run(limits=limits, price="60300"), OrderIntent)  # exactly 0.5 %
    assert rejected(run(limits=limits, price="60300.01"), "price moved")
    assert rejected(run(limits=limits, price="59699.99"), "price moved")


def test_price_already_through_the_stop() -> None:
    limit_signal = make_signal(entry_type=EntryType.LIMIT, entry="59800", stop="59400")
    assert rejected(run(limit_signal, price="59300"), "beyond the stop")


def test_geometry_errors() -> None:
    assert rejected(run(make_signal(stop="60100")), "losing side")
    assert rejected(run(make_signal(targets=("59000",))), "not all beyond entry")


def test_limit_prices_round_in_the_safe_direction() -> None:
    long = run(make_signal(entry_type=EntryType.LIMIT, entry="59999.999", stop="59400.005", targets=("61500",)))
    assert isinstance(long, OrderIntent)
    assert long.entry_price == Decimal("59999.99") and long.stop_loss == Decimal("59400.00")
    limits = LIMITS.model_copy(update={"allow_short_on_spot": True})
    short = run(make_signal(direction=Direction.SHORT, entry_type=EntryType.LIMIT, entry="60000.001",
                            stop="60599.995", targets=("58500",)), limits=limits)
    assert isinstance(short, OrderIntent)
    assert short.entry_price == Decimal("60000.01") and short.stop_loss == Decimal("60600.00")


def test_below_min_notional_is_rejected_not_bumped_up() -> None:
    result = run(state=RiskState(now_ms=NOW, equity=Decimal(500)))  # risk 5 -> 0.00695 BTC = 417 USDT: fine
    assert isinstance(result, OrderIntent)
    tiny = run(state=RiskState(now_ms=NOW, equity=Decimal(12)))  # 0.00016 BTC = 9.6 USDT < 10
    assert rejected(tiny, "minNotional")


def test_fixed_quantity_above_max_qty_is_rejected() -> None:
    futures = replace(BTC, market=Market.USDM)
    limits = LIMITS.model_copy(update={
        "sizing_mode": SizingMode.FIXED_QUANTITY, "fixed_quantity": Decimal("9001"), "max_leverage": 125,
        "max_symbol_exposure_pct": Decimal(12_500), "max_total_exposure_pct": Decimal(12_500)})
    state = RiskState(now_ms=NOW, equity=Decimal(10_000_000))
    assert rejected(run(state=state, limits=limits, instrument=futures), "above maxQty")


def test_short_on_spot_needs_the_flag_and_futures_allow_it() -> None:
    short = make_signal(direction=Direction.SHORT, stop="60600", targets=("58800",))
    assert rejected(run(short), "spot")
    intent = run(short, instrument=replace(BTC, market=Market.USDM))
    assert isinstance(intent, OrderIntent) and intent.stop_loss == Decimal("60600.00")


def test_unknown_or_halted_instrument() -> None:
    assert rejected(run(instrument=replace(BTC, status="BREAK")), "not TRADING")
    assert rejected(run(instrument=real_instrument("ETHUSDT")), "does not match")


def test_all_failures_are_reported_together() -> None:
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), trading_state=TradingState.HALTED, data_stale=True)
    result = run(make_signal(targets=("60100",)), state=state)
    assert rejected(result, "HALTED", "stale", "reward:risk")


def test_price_filter_bounds_apply_to_limit_entries_stops_and_targets() -> None:
    huge = make_signal(entry_type=EntryType.LIMIT, entry="1000001", stop="990000", targets=("1100000",))
    assert rejected(run(huge, price="1000001"), "entry: price 1000001.00 above maxPrice", "take-profit")
    # a market order sends no price: an off-tick last price is not a filter problem
    assert isinstance(run(price="60000.005"), OrderIntent)
