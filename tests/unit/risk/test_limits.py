from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from ictbot.risk.limits import RiskLimits, SizingMode
from ictbot.risk.state import BreakerReason, TradingState


def test_defaults_are_valid_and_round_trip_through_json() -> None:
    limits = RiskLimits()
    assert limits.sizing_mode is SizingMode.RISK_PERCENT
    assert RiskLimits.model_validate_json(limits.model_dump_json()) == limits
    assert limits.breaker_state(BreakerReason.MAX_DRAWDOWN) is TradingState.HALTED
    assert limits.breaker_state(BreakerReason.DAILY_LOSS) is TradingState.REDUCING


def test_json_numbers_become_exact_decimals() -> None:
    limits = RiskLimits.model_validate({"risk_per_trade_pct": 0.1, "taker_fee_rate": 0.00075})
    assert limits.risk_per_trade_pct == Decimal("0.1")
    assert limits.taker_fee_rate == Decimal("0.00075")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"max_positions": 3}, "Extra inputs are not permitted"),
        ({"sizing_mode": "fixed_notional"}, "needs fixed_notional"),
        ({"sizing_mode": "fixed_quantity"}, "needs fixed_quantity"),
        ({"max_open_positions": 1, "max_open_positions_per_symbol": 2}, "cannot exceed max_open_positions"),
        ({"max_symbol_exposure_pct": 80, "max_total_exposure_pct": 50}, "cannot exceed max_total_exposure_pct"),
        ({"breaker_states": {"daily_loss": "ACTIVE"}}, "REDUCING or HALTED"),
        ({"risk_per_trade_pct": 0}, "greater than 0"),
        ({"risk_per_trade_pct": 25}, "less than or equal to 10"),
        ({"daily_loss_limit_pct": 150}, "less than or equal to 100"),
        ({"max_leverage": 0}, "greater than or equal to 1"),
    ],
)
def test_invalid_limits_have_clear_messages(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        RiskLimits.model_validate(payload)
    assert message in str(info.value)


def test_partial_breaker_states_keep_the_other_defaults() -> None:
    limits = RiskLimits.model_validate({"breaker_states": {"daily_loss": "HALTED"}})
    assert limits.breaker_state(BreakerReason.DAILY_LOSS) is TradingState.HALTED
    assert limits.breaker_state(BreakerReason.CONSECUTIVE_LOSSES) is TradingState.REDUCING
