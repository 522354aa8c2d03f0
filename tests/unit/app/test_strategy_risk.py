"""A strategy's ``risk_per_trade_pct`` (percent, like the risk section's) reaches the risk stage as is."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from ictbot.app.config_model import TradingConfig
from ictbot.app.stage_links import strategy_risk_pct


def test_set_unset_and_unknown_strategies() -> None:
    config = TradingConfig.model_validate(
        {"strategies": {"strategy_a": {"risk_per_trade_pct": 0.5}, "strategy_b": {"enabled": True}}}
    )
    assert strategy_risk_pct(config, "strategy_a") == Decimal("0.5")
    assert strategy_risk_pct(config, "strategy_b") is None  # the risk section's value applies
    assert strategy_risk_pct(config, "nope") is None


def test_out_of_range_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="strategy_a.risk_per_trade_pct"):
        TradingConfig.model_validate({"strategies": {"strategy_a": {"risk_per_trade_pct": 50}}})
