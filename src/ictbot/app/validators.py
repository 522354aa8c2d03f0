"""Section validators contributed by the stages (risk limits, strategy configs).

The config manager stays ignorant of each stage's schema: the stage that owns a section validates
it, and a change is accepted only when every validator returns no problem.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ictbot.app.config_manager import SectionValidator, pydantic_errors


def validate_risk(section: Any) -> list[tuple[str, str]]:
    from ictbot.risk.limits import RiskLimits

    try:
        RiskLimits.model_validate(section)
    except ValidationError as exc:
        return pydantic_errors(exc)
    return []


def validate_strategies(section: Any) -> list[tuple[str, str]]:
    from ictbot.strategies.registry import StrategyRegistry, registry_section

    problems = StrategyRegistry().validate_config(registry_section(section))
    return [(field.removeprefix("strategies."), reason) for field, reason in problems]


def validate_notifications(section: Any) -> list[tuple[str, str]]:
    from ictbot.notify.config import NotificationsConfig

    try:
        NotificationsConfig.model_validate(section)
    except ValidationError as exc:
        return pydantic_errors(exc)
    return []


def section_validators() -> dict[str, SectionValidator]:
    return {"risk": validate_risk, "strategies": validate_strategies, "notifications": validate_notifications}
