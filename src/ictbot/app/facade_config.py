"""The configuration half of the trading facade: read, change, validate, history, rollback.

It needs only the config manager, so the API contract tests run it without a trading pipeline.
Failures leave as ``ValidationFailed`` (422, field and reason), ``Conflict`` (409: a start-only
setting while the bot runs) or ``NotFound`` (404).
"""

from __future__ import annotations

from ictbot.api import dto as f
from ictbot.app.config_manager import ConfigManager, RestartRequired, risk_change, strategy_change
from ictbot.app.facade_mapping import field_errors, risk_changes, strategy_changes
from ictbot.domain.errors import ConfigError
from ictbot.domain.redaction import redact
from ictbot.ports.facade import Conflict, FacadeError, NotFound


def config_failure(exc: ConfigError) -> FacadeError:
    if isinstance(exc, RestartRequired):
        return Conflict("the change needs a restart", [f"{field}: {reason}" for field, reason in exc.errors])
    return field_errors(exc)


class ConfigFacade:
    def __init__(self, config: ConfigManager) -> None:
        self.config = config

    def _config_view(self) -> f.ConfigView:
        document = self.config.document()
        other = {k: v for k, v in document.items() if k not in ("strategies", "risk")}
        return f.ConfigView(version=self.config.version, strategies=redact(document["strategies"]),
                            risk=redact(document["risk"]), other=redact(other))

    async def get_config(self) -> f.ConfigView:
        return self._config_view()

    async def update_strategy_config(self, update: f.StrategyConfigUpdate) -> f.ConfigView:
        if update.strategy_id not in self.config.document()["strategies"]:
            raise NotFound("strategy", update.strategy_id)
        try:
            await self.config.update_strategy_config(update.strategy_id, strategy_changes(update))
        except ConfigError as exc:
            raise config_failure(exc) from exc
        return self._config_view()

    async def update_risk_config(self, update: f.RiskConfigUpdate) -> f.ConfigView:
        try:
            await self.config.update_risk_config(risk_changes(update))
        except ConfigError as exc:
            raise config_failure(exc) from exc
        return self._config_view()

    async def validate_config(self, document: f.ConfigDocument) -> f.ConfigValidation:
        candidate = self.config.document()
        try:
            for update in document.strategies or []:
                candidate = strategy_change(candidate, update.strategy_id, strategy_changes(update))
            if document.risk is not None:
                candidate = risk_change(candidate, risk_changes(document.risk))
        except ConfigError as exc:
            errors = exc.errors
        else:
            errors = self.config.validate(candidate)
        return f.ConfigValidation(valid=not errors, errors=[f.FieldError(field=a, reason=b) for a, b in errors])

    async def config_history(self, limit: int) -> list[f.ConfigVersion]:
        versions = self.config.history()[-limit:] if limit > 0 else []
        return [
            f.ConfigVersion(version=v.version, section=",".join(v.sections), changed_at_ms=v.time_ms,
                            changes=redact({s: v.document.get(s) for s in v.sections}), source=v.reason)
            for v in versions
        ]

    async def rollback_config(self, version: int) -> f.ConfigView:
        if not any(v.version == version for v in self.config.history()):
            raise NotFound("config version", version)
        if self.config.is_active(version):
            raise Conflict(f"version {version} is already active",
                             [f"the running configuration equals version {version}; nothing to roll back"])
        try:
            await self.config.rollback(version)
        except ConfigError as exc:
            raise config_failure(exc) from exc
        return self._config_view()
