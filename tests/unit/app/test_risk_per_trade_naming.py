"""Risk per trade has one name and unit (``risk_per_trade_pct``, percent) in config, CLI and API; the
old fraction spelling ``risk_per_trade`` is still read, converted, with a warning naming the new key."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs
from typer.testing import CliRunner

from ictbot.api import dto as f
from ictbot.app.config_manager import ConfigManager
from ictbot.app.facade_mapping import risk_changes, strategy_changes
from ictbot.app.stage_links import strategy_risk_pct
from ictbot.app.validators import section_validators
from ictbot.cli.main import app
from ictbot.domain.errors import ConfigError
from ictbot.risk.limits import RiskLimits

OLD_FILE = {"risk": {"risk_per_trade": 0.02}, "strategies": {"strategy_a": {"risk_per_trade": 0.005}}}


def manager_for(path: Path) -> ConfigManager:
    return ConfigManager(path, section_validators=section_validators())


def test_an_old_config_file_loads_converted_with_a_warning_naming_the_new_key(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(OLD_FILE))
    with capture_logs() as logs:
        config = manager_for(path).load()
    assert RiskLimits.model_validate(config.risk).risk_per_trade_pct == Decimal(2)
    assert config.strategies["strategy_a"].risk_per_trade_pct == 0.5
    assert strategy_risk_pct(config, "strategy_a") == Decimal("0.5")
    notes = sorted(entry["detail"] for entry in logs if entry["event"] == "deprecated configuration key")
    assert notes == [
        "risk.risk_per_trade is deprecated: use risk.risk_per_trade_pct in percent "
        "(risk_per_trade=0.02 is risk_per_trade_pct=2)",
        "strategies.strategy_a.risk_per_trade is deprecated: use strategies.strategy_a.risk_per_trade_pct "
        "in percent (risk_per_trade=0.005 is risk_per_trade_pct=0.5)",
    ]
    assert manager_for(path).validate(OLD_FILE) == []  # `ictbot config validate` accepts it too


def test_both_spellings_at_once_are_refused_naming_the_old_one(tmp_path: Path) -> None:
    document = {"strategies": {"strategy_a": {"risk_per_trade": 0.005, "risk_per_trade_pct": 0.5}}}
    errors = manager_for(tmp_path / "c.json").validate(document)
    assert errors == [("strategies.strategy_a.risk_per_trade",
                       "deprecated; remove it (strategies.strategy_a.risk_per_trade_pct is set)")]
    bad = manager_for(tmp_path / "c.json").validate({"risk": {"risk_per_trade": "lots"}})
    assert bad == [("risk.risk_per_trade", "must be a number (a fraction, e.g. 0.005)")]


async def test_rolling_back_to_a_version_saved_with_the_old_key(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    old_version = {"version": 1, "time_ms": 0, "reason": "initial", "sections": ["strategies"], "document": OLD_FILE}
    (tmp_path / "c.json.history.jsonl").write_text(json.dumps(old_version) + "\n")  # as an older release wrote it
    path.write_text(json.dumps({"strategies": {"strategy_a": {"risk_per_trade_pct": 1}}}))
    manager = manager_for(path)
    manager.load()
    assert manager.version == 2 and manager.config.strategies["strategy_a"].risk_per_trade_pct == 1
    assert not manager.is_active(1)
    await manager.rollback(1)
    assert manager.config.strategies["strategy_a"].risk_per_trade_pct == 0.5
    assert manager.is_active(1)


def test_cli_set_risk_takes_the_new_key_and_converts_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    runner = CliRunner()
    result = runner.invoke(app, ["config", "set-risk", "risk_per_trade_pct=0.75", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["risk"] == {"risk_per_trade_pct": 0.75}
    result = runner.invoke(app, ["config", "set-risk", "risk_per_trade=0.005", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "deprecated: risk.risk_per_trade is deprecated: use risk.risk_per_trade_pct" in result.output
    assert json.loads(path.read_text())["risk"] == {"risk_per_trade_pct": 0.5}
    result = runner.invoke(app, ["config", "set-strategy", "strategy_b", "risk_per_trade=0.01", "--config", str(path)])
    assert result.exit_code == 0, result.output
    entry = json.loads(path.read_text())["strategies"]["strategy_b"]
    assert entry["risk_per_trade_pct"] == 1.0 and "risk_per_trade" not in entry and entry["params"] == {}


def test_api_takes_percent_and_the_deprecated_fraction_but_not_both() -> None:
    assert risk_changes(f.RiskConfigUpdate(risk_per_trade_pct=Decimal("0.5"))) == {"risk_per_trade_pct": "0.5"}
    assert risk_changes(f.RiskConfigUpdate(risk_per_trade=Decimal("0.005"))) == {"risk_per_trade_pct": "0.500"}
    old = f.StrategyConfigUpdate(strategy_id="strategy_a", risk_per_trade=Decimal("0.005"))
    assert strategy_changes(old) == {"risk_per_trade_pct": 0.5}
    with pytest.raises(ValidationError, match="give risk_per_trade_pct"):
        f.RiskConfigUpdate(risk_per_trade_pct=Decimal("0.5"), risk_per_trade=Decimal("0.005"))
    with pytest.raises(ValidationError, match="less than or equal to 10"):
        f.StrategyConfigUpdate(strategy_id="strategy_a", risk_per_trade_pct=Decimal(50))


async def test_the_old_key_in_a_strategy_change_is_never_taken_for_a_parameter(tmp_path: Path) -> None:
    manager = manager_for(tmp_path / "c.json")
    manager.load()
    with pytest.raises(ConfigError) as info:
        await manager.update_strategy_config("strategy_a", {"risk_per_trade": 0.5})  # 50 %
    assert info.value.errors[0][0] == "strategies.strategy_a.risk_per_trade_pct"
