"""The fake facade with the real configuration half (config manager + the stages' validators)."""

from __future__ import annotations

from pathlib import Path

from ictbot.api import dto as f
from ictbot.app.config_manager import ConfigManager
from ictbot.app.facade_config import ConfigFacade
from ictbot.app.validators import section_validators
from tests.unit.api.fakes import FakeFacade


class ContractFacade(FakeFacade):
    def __init__(self, config_dir: Path) -> None:
        super().__init__()
        self.manager = ConfigManager(config_dir / "trading_config.json", section_validators=section_validators(),
                                     history_versions=50)
        self.manager.load()
        self.real_config = ConfigFacade(self.manager)

    async def get_config(self) -> f.ConfigView:
        return await self.real_config.get_config()

    async def update_strategy_config(self, update: f.StrategyConfigUpdate) -> f.ConfigView:
        return await self.real_config.update_strategy_config(update)

    async def update_risk_config(self, update: f.RiskConfigUpdate) -> f.ConfigView:
        return await self.real_config.update_risk_config(update)

    async def validate_config(self, document: f.ConfigDocument) -> f.ConfigValidation:
        return await self.real_config.validate_config(document)

    async def config_history(self, limit: int) -> list[f.ConfigVersion]:
        return await self.real_config.config_history(limit)

    async def rollback_config(self, version: int) -> f.ConfigView:
        return await self.real_config.rollback_config(version)
