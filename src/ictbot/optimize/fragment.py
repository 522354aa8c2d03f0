"""The best parameters as a trading configuration ``ictbot run --config`` accepts: the configuration
the optimisation started from (its file, else the defaults) with the strategy's ``params`` and any
``risk.<field>`` replaced, validated by the same rules ``ictbot run`` applies before it is written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ictbot.app.backtest_config import read_trading_config
from ictbot.backtest.run import REFERENCE_KINDS
from ictbot.backtest.sweep import RISK_PREFIX
from ictbot.domain.errors import ConfigError


def config_document(strategy: str, params: Mapping[str, Any], base: Mapping[str, Any] | None) -> dict[str, Any]:
    """``base`` (a trading config document) with ``strategies.<strategy>`` enabled on ``params``."""
    if strategy in REFERENCE_KINDS:
        raise ConfigError(f"{strategy} is a backtest reference strategy; ictbot run does not trade it")
    document: dict[str, Any] = json.loads(json.dumps(dict(base or {})))
    strategy_params = {k: v for k, v in params.items() if not k.startswith(RISK_PREFIX)}
    risk = {k[len(RISK_PREFIX):]: v for k, v in params.items() if k.startswith(RISK_PREFIX)}
    strategies = document.setdefault("strategies", {})
    entry = strategies.setdefault(strategy, {})
    entry["enabled"] = True
    entry["params"] = {**entry.get("params", {}), **strategy_params}
    if risk:
        document["risk"] = {**document.get("risk", {}), **risk}
    return document


def write_config(path: Path, strategy: str, params: Mapping[str, Any], base_file: Path | None) -> None:
    """Write the configuration, after ``ictbot run``'s validation passed on it (ConfigError if not)."""
    base = None if base_file is None else json.loads(base_file.read_text(encoding="utf-8"))
    document = config_document(strategy, params, base)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    try:
        read_trading_config(tmp)
    except ConfigError:
        tmp.unlink()
        raise
    tmp.replace(path)
