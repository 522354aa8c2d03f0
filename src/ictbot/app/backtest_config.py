"""The live trading configuration as a backtest reads it: the file ``ictbot run`` would load
(``--config``, else ``ICTBOT_CONFIG_FILE`` / ``.config/trading_config.json`` when present, else the
built-in defaults), validated by the same ``ConfigManager`` and stage validators, and never written
(``ictbot run`` creates a missing file and appends to its history; a backtest only reads).

``LiveSetup`` turns it into the backtest's inputs the way the live wiring does (``app.wiring``):
``RiskLimits`` from the ``risk`` section with the strategy's own ``risk_per_trade_pct``
(``stage_links.strategy_risk_pct``), the stop rules and the entry timeout from ``execution``, the
strategy's ``params``, the market and the base timeframe from ``exchange``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ictbot.app.config_manager import ConfigManager
from ictbot.app.config_model import TradingConfig
from ictbot.app.settings import Settings
from ictbot.app.stage_links import strategy_risk_pct
from ictbot.app.validators import section_validators
from ictbot.domain.errors import ConfigError
from ictbot.domain.timeframe import Timeframe

STOP_RULE_KEYS = ("breakeven_at_r", "breakeven_offset", "trail_at_r", "trail_distance")


def read_trading_config(path: Path | None) -> tuple[TradingConfig, Path | None]:
    """The configuration and the file it came from (None: no file, the built-in defaults).

    An explicit ``path`` must exist; the default location is used only when a file is there.
    """
    target = path if path is not None else Settings().config_file
    if not target.exists():
        if path is not None:
            raise ConfigError(f"--config {path} does not exist")
        return TradingConfig(), None
    try:
        document = json.loads(target.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{target} is not valid JSON",
                          [(f"line {exc.lineno} column {exc.colno}", exc.msg)]) from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{target} must hold a JSON object", [("<root>", "not an object")])
    manager = ConfigManager(target, section_validators=section_validators())
    return manager.parse(document), target


@dataclass(frozen=True)
class LiveSetup:
    """What the live bot would run ``strategy`` with, from one trading configuration."""

    config: TradingConfig
    source: Path | None

    @classmethod
    def load(cls, path: Path | None) -> LiveSetup:
        config, source = read_trading_config(path)
        return cls(config, source)

    def risk_section(self, strategy: str) -> dict[str, Any]:
        """The ``risk`` section, with the strategy's own ``risk_per_trade_pct`` as the live risk service
        applies it to that strategy's signals."""
        section = dict(self.config.risk)
        pct = strategy_risk_pct(self.config, strategy)
        if pct is not None:
            section["risk_per_trade_pct"] = str(pct)
        return section

    def strategy_params(self, strategy: str) -> dict[str, Any]:
        entry = self.config.strategies.get(strategy)
        return {} if entry is None else dict(entry.params)

    def strategy_status(self, strategy: str) -> str | None:
        """Why live would not run ``strategy`` from this configuration (None: it would)."""
        entry = self.config.strategies.get(strategy)
        if entry is None:
            return "not in the config's strategies"
        return None if entry.enabled else "disabled in the config (enabled: false)"

    def stop_settings(self) -> dict[str, Any]:
        """The ``execution`` section's stop-moving settings (unset ones omitted)."""
        section = self.config.execution.model_dump()
        return {key: section[key] for key in STOP_RULE_KEYS if section[key] is not None}

    def entry_ttl_candles(self, timeframe: Timeframe) -> int:
        """``execution.entry_timeout_seconds`` in base candles: live cancels an unfilled entry then."""
        seconds = self.config.execution.entry_timeout_seconds
        return max(1, math.ceil(seconds * 1000 / timeframe.ms))
