"""Translations between the API's request shapes and the configuration/domain vocabulary."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ictbot.domain.errors import ConfigError
from ictbot.domain.position import Position, PositionSide
from ictbot.ports import facade as f

HEALTH = {"healthy": f.HealthState.HEALTHY, "degraded": f.HealthState.DEGRADED}
PCT = Decimal(100)


def risk_changes(update: f.RiskConfigUpdate) -> dict[str, Any]:
    """API names (fractions, seconds) → the risk section's names (percent, minutes)."""
    given = update.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "risk_per_trade" in given:
        changes["risk_per_trade_pct"] = str(Decimal(given["risk_per_trade"]) * PCT)
    if "max_daily_loss" in given:
        changes["daily_loss_limit_pct"] = str(Decimal(given["max_daily_loss"]) * PCT)
    if "max_drawdown" in given:
        changes["max_drawdown_pct"] = str(Decimal(given["max_drawdown"]) * PCT)
    if "max_positions" in given:
        changes["max_open_positions"] = given["max_positions"]
    if "max_exposure" in given:
        changes["max_total_exposure_pct"] = str(given["max_exposure"])
    if "max_leverage" in given:
        changes["max_leverage"] = given["max_leverage"]
    if "cooldown_s" in given:
        changes["cooldown_after_stop_minutes"] = math.ceil(given["cooldown_s"] / 60)
    return changes


def strategy_changes(update: f.StrategyConfigUpdate) -> dict[str, Any]:
    given = update.model_dump(exclude_unset=True, mode="json")
    given.pop("strategy_id", None)
    if "risk_per_trade" in given:
        given["risk_per_trade"] = float(given["risk_per_trade"])
    return given


def trade_side(position: Position) -> PositionSide:
    """A closed position has qty 0; its protective stop tells which side it was."""
    if position.stop_loss is not None and position.stop_loss > position.avg_entry > 0:
        return PositionSide.SHORT
    return PositionSide.LONG


def field_errors(exc: ConfigError) -> f.ValidationFailed:
    return f.ValidationFailed(exc.errors or [("config", str(exc))])
