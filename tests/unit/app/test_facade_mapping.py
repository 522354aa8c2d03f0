from __future__ import annotations

from decimal import Decimal

from ictbot.api import dto as f
from ictbot.app.facade_mapping import risk_changes, strategy_changes, trade_side
from ictbot.domain.position import Position, PositionSide
from ictbot.risk.limits import RiskLimits


def test_api_risk_fields_map_to_valid_risk_limits() -> None:
    update = f.RiskConfigUpdate(risk_per_trade_pct=Decimal("0.5"), max_daily_loss=Decimal("0.02"),
                                max_drawdown=Decimal("0.1"), max_positions=4, max_exposure=Decimal("80"),
                                max_leverage=3, cooldown_s=90)
    changes = risk_changes(update)
    limits = RiskLimits.model_validate(changes)
    assert limits.risk_per_trade_pct == Decimal("0.5")
    assert limits.daily_loss_limit_pct == Decimal("2")
    assert limits.max_drawdown_pct == Decimal("10")
    assert limits.max_open_positions == 4 and limits.max_leverage == 3
    assert limits.max_total_exposure_pct == Decimal("80")
    assert limits.cooldown_after_stop_minutes == 2  # 90 s rounds up, never down


def test_only_given_fields_change() -> None:
    assert risk_changes(f.RiskConfigUpdate(max_positions=2)) == {"max_open_positions": 2}
    assert strategy_changes(f.StrategyConfigUpdate(strategy_id="strategy_a", enabled=False)) == {"enabled": False}


def test_closed_trade_side_comes_from_its_stop() -> None:
    base = Position("p", "BTCUSDT", "BTC", "USDT", avg_entry=Decimal("100"))  # closed: qty 0, entry kept
    assert trade_side(base.with_protection(Decimal("110"), ())) is PositionSide.SHORT
    assert trade_side(base.with_protection(Decimal("90"), ())) is PositionSide.LONG
