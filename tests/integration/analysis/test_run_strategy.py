"""``ictbot run --strategy SPEC``: the spec is resolved and enabled in the trading config before the start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from ictbot.app.settings import Settings
from ictbot.cli.run import enable_strategies
from ictbot.strategies.registry import StrategyRegistry, registry_section
from tests.integration.analysis.support import CHEATERS


def settings_for(tmp_path: Path) -> Settings:
    return Settings(config_file=tmp_path / "trading_config.json")


def test_a_user_file_is_enabled_with_its_absolute_source(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    enable_strategies(settings, [f"{CHEATERS}:Honest", "strategy_b"])
    document = json.loads(settings.config_file.read_text())
    entry = document["strategies"]["honest"]
    assert entry["enabled"] is True and entry["type"] == "honest"
    assert entry["source"] == f"{CHEATERS.resolve()}:Honest"
    assert document["strategies"]["strategy_b"]["enabled"] is True
    registry = StrategyRegistry()  # what `ictbot run` builds from the section
    registry.configure(registry_section(document["strategies"]))
    assert registry.is_enabled("honest") and type(registry.get("honest")).__name__ == "Honest"


def test_a_bad_spec_stops_the_start_and_leaves_the_config_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    settings = settings_for(tmp_path)
    with pytest.raises(typer.Exit) as stopped:
        enable_strategies(settings, [f"{CHEATERS}:Nope"])
    assert stopped.value.exit_code == 2
    assert "no class 'Nope'" in capsys.readouterr().err
    assert not settings.config_file.exists() or "Nope" not in settings.config_file.read_text()
