"""Section validators contributed by the stages (risk limits, strategy configs)."""

from __future__ import annotations

from ictbot.app.config_manager import SectionValidator


def section_validators() -> dict[str, SectionValidator]:
    """Validators for config sections whose schema belongs to a stage; empty when a stage is absent."""
    return {}

