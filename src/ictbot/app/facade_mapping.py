"""Translations between the API's request shapes and the configuration/domain vocabulary."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ictbot.api import dto as f
from ictbot.domain.errors import ConfigError
from ictbot.domain.position import Position, PositionSide
from ictbot.ports.facade import ValidationFailed

PCT = Decimal(100)


_RISK_NAMES = {
    "risk_per_trade_pct": "risk_per_trade_pct", "risk_per_trade": "risk_per_trade_pct",
    "max_daily_loss": "daily_loss_limit_pct",
    "max_drawdown": "max_drawdown_pct", "max_positions": "max_open_positions",
    "max_exposure": "max_total_exposure_pct", "max_leverage": "max_leverage",
    "cooldown_s": "cooldown_after_stop_minutes",
}
_FRACTIONS = {"risk_per_trade", "max_daily_loss", "max_drawdown"}


def risk_changes(update: f.RiskConfigUpdate) -> dict[str, Any]:
    """API names (fractions, seconds) → the risk section's names (percent, minutes).

    ``risk_per_trade_pct`` is percent in both; ``risk_per_trade`` is its deprecated fraction spelling.

    An explicit ``null`` stays ``None``: the config manager then removes the setting (default applies).
    """
    changes: dict[str, Any] = {}
    for name, value in update.model_dump(exclude_unset=True).items():
        target = _RISK_NAMES[name]
        if value is None:
            changes[target] = None
        elif name in _FRACTIONS:
            changes[target] = str(Decimal(value) * PCT)
        elif name in ("max_exposure", "risk_per_trade_pct"):
            changes[target] = str(value)
        elif name == "cooldown_s":
            changes[target] = math.ceil(value / 60)
        else:
            changes[target] = value
    return changes


def strategy_changes(update: f.StrategyConfigUpdate) -> dict[str, Any]:
    given = update.model_dump(exclude_unset=True, mode="json")
    given.pop("strategy_id", None)
    if "risk_per_trade" in given:  # the deprecated fraction spelling
        legacy = given.pop("risk_per_trade")
        given["risk_per_trade_pct"] = None if legacy is None else Decimal(legacy) * PCT
    if given.get("risk_per_trade_pct") is not None:
        given["risk_per_trade_pct"] = float(given["risk_per_trade_pct"])
    return given


def trade_side(position: Position) -> PositionSide:
    """A closed position has qty 0; its protective stop tells which side it was."""
    if position.stop_loss is not None and position.stop_loss > position.avg_entry > 0:
        return PositionSide.SHORT
    return PositionSide.LONG


def field_errors(exc: ConfigError) -> ValidationFailed:
    return ValidationFailed(exc.errors or [("config", str(exc))])
