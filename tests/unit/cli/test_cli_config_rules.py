"""`ictbot config` judges a configuration by exactly the rules `ictbot run` applies, and shows what run uses."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ictbot.app.config_manager import ConfigManager
from ictbot.app.validators import section_validators
from ictbot.cli.main import app

runner = CliRunner()


def _run_accepts(path: Path) -> list[tuple[str, str]]:
    """What `ictbot run` does with the file (app.wiring): the stage validators on a loaded manager."""
    manager = ConfigManager(path, section_validators=section_validators())
    return manager.validate(json.loads(path.read_text()))


def test_set_strategy_refuses_an_unknown_strategy_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    assert runner.invoke(app, ["config", "show", "--config", str(path)]).exit_code == 0
    before = path.read_text()
    result = runner.invoke(app, ["config", "set-strategy", "strategy_zzz", "enabled=false", "--config", str(path)])
    assert result.exit_code == 2
    assert "strategies.strategy_zzz.type: unknown kind 'strategy_zzz'" in " ".join(result.output.split())
    assert path.read_text() == before and _run_accepts(path) == []


def test_validate_refuses_what_run_refuses(tmp_path: Path) -> None:
    path = tmp_path / "zzz.json"
    path.write_text(json.dumps({"strategies": {"strategy_zzz": {"enabled": False}}, "risk": {"max_open_positions": 0}}))
    assert _run_accepts(path)  # run refuses it ...
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2  # ... and so does validate, naming each field
    text = " ".join(result.output.split())
    assert "strategies.strategy_zzz.type" in text and "risk.max_open_positions" in text


def test_show_prints_effective_values_with_defaults_marked(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"risk": {"max_open_positions": 2}, "strategies": {"strategy_a": {"enabled": True}}}))
    result = runner.invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert '    "max_open_positions": 2,' in lines  # set in the file: no mark
    daily = next(line for line in lines if '"daily_loss_limit_pct"' in line)
    assert daily.endswith("// default") and '"3"' in daily
    plain = runner.invoke(app, ["config", "show", "--json", "--config", str(path)])
    document = json.loads(plain.output)
    assert document["risk"]["max_open_positions"] == 2 and document["risk"]["daily_loss_limit_pct"] == "3"
    assert document["strategies"]["strategy_a"]["params"]["min_reward_risk"] == 2.0
    marked = json.loads("\n".join(line.split("  // default")[0] for line in lines))
    assert marked == document  # the marked form is the same document once the marks are removed


def test_rollback_to_the_active_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    assert runner.invoke(app, ["config", "set-risk", "max_open_positions=2", "--config", str(path)]).exit_code == 0
    history = ConfigManager(path)
    history.load()
    active = history.version
    result = runner.invoke(app, ["config", "rollback", str(active), "--config", str(path)])
    assert result.exit_code == 2 and f"version {active} is already active" in result.output
    assert runner.invoke(app, ["config", "rollback", "1", "--config", str(path)]).exit_code == 0
