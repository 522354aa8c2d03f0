from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ictbot.app.config_manager import ConfigManager, atomic_write_text
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.errors import ConfigError


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / ".config" / "trading_config.json"


async def started_bus() -> tuple[EventBus, list[Envelope]]:
    bus = EventBus()
    seen: list[Envelope] = []
    bus.subscribe(Topic.CONFIG_UPDATED, seen.append)
    bus.subscribe(Topic.RISK_CONFIG_UPDATED, seen.append)
    await bus.start()
    return bus, seen


def test_load_creates_a_default_file_and_version_one(config_path: Path) -> None:
    manager = ConfigManager(config_path)
    config = manager.load()
    assert config_path.exists() and manager.version == 1
    assert config.exchange.symbols == ["BTCUSDT"]
    assert json.loads(config_path.read_text())["exchange"]["base_timeframe"] == "5m"


async def test_strategy_update_is_validated_versioned_saved_and_published(config_path: Path) -> None:
    bus, seen = await started_bus()
    manager = ConfigManager(config_path, bus)
    manager.load()
    version = await manager.update_strategy_config("strategy_a", {"enabled": False, "min_rr": 3})
    await bus.wait_idle()
    assert version == 2
    saved = json.loads(config_path.read_text())
    assert saved["strategies"]["strategy_a"]["enabled"] is False
    assert saved["strategies"]["strategy_a"]["params"]["min_rr"] == 3
    assert [(e.topic, e.payload.section, e.payload.version) for e in seen] == [
        (Topic.CONFIG_UPDATED, "strategies", 2)
    ]
    assert seen[0].payload.changes["strategy_a"]["enabled"] is False
    await bus.stop()


async def test_bad_change_is_rejected_with_field_reasons_and_nothing_changes(config_path: Path) -> None:
    manager = ConfigManager(config_path)
    manager.load()
    before = config_path.read_text()
    with pytest.raises(ConfigError) as info:
        await manager.update_strategy_config("strategy_a", {"risk_per_trade_pct": 50})
    assert info.value.errors[0][0] == "strategies.strategy_a.risk_per_trade_pct"
    assert "10" in info.value.errors[0][1]
    assert manager.version == 1 and config_path.read_text() == before


async def test_risk_update_uses_plugged_validator_and_publishes_risk_topic(config_path: Path) -> None:
    bus, seen = await started_bus()

    def risk_validator(section: Any) -> list[tuple[str, str]]:
        value = section.get("max_open_positions", 1)
        return [] if isinstance(value, int) and value > 0 else [("max_open_positions", "must be a positive integer")]

    manager = ConfigManager(config_path, bus, section_validators={"risk": risk_validator})
    manager.load()
    with pytest.raises(ConfigError, match="risk.max_open_positions: must be a positive integer"):
        await manager.update_risk_config({"max_open_positions": 0})
    await manager.update_risk_config({"max_open_positions": 3})
    await bus.wait_idle()
    assert {e.topic for e in seen} == {Topic.RISK_CONFIG_UPDATED, Topic.CONFIG_UPDATED}
    await bus.stop()


async def test_rollback_restores_an_earlier_version_as_a_new_version(config_path: Path) -> None:
    manager = ConfigManager(config_path)
    manager.load()
    await manager.update_strategy_config("strategy_b", {"enabled": False})
    version = await manager.rollback(1)
    assert version == 3
    assert manager.config.strategies["strategy_b"].enabled is True
    assert [v.version for v in manager.history()] == [1, 2, 3]
    with pytest.raises(ConfigError, match="no version 99"):
        await manager.rollback(99)
    # History survives a restart.
    again = ConfigManager(config_path)
    again.load()
    assert again.version == 3


async def test_hot_reload_applies_a_valid_edit_and_rejects_an_invalid_one(config_path: Path) -> None:
    bus, _ = await started_bus()
    alerts: list[Envelope] = []
    bus.subscribe(Topic.ALERT, alerts.append)
    manager = ConfigManager(config_path, bus)
    manager.load()
    await manager.start_watching()
    document = json.loads(config_path.read_text())
    document["strategies"]["strategy_a"]["max_positions"] = 3
    atomic_write_text(config_path, json.dumps(document))
    assert await manager.check_file() is True
    assert manager.config.strategies["strategy_a"].max_positions == 3 and manager.version == 2

    document["exchange"]["base_timeframe"] = "7m"
    config_path.write_text(json.dumps(document) + " ")
    os.utime(config_path, ns=(1, 1))
    assert await manager.check_file() is False
    assert manager.config.exchange.base_timeframe.value == "5m" and manager.version == 2
    await bus.wait_idle()
    assert any("rejected" in a.payload.message for a in alerts)
    await manager.stop_watching()
    await bus.stop()


def test_unknown_fields_and_broken_json_are_named(config_path: Path) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text('{"exchange": {"symbol": "BTCUSDT"}}')
    with pytest.raises(ConfigError, match="exchange.symbol: Extra inputs are not permitted"):
        ConfigManager(config_path).load()
    config_path.write_text('{"exchange": ')
    with pytest.raises(ConfigError, match="not valid JSON"):
        ConfigManager(config_path).load()


def test_atomic_write_leaves_the_old_file_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "c.json"
    target.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("ictbot.app.config_manager.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"], "no temp file is left behind"
