"""Config honesty: null unsets, start-only fields refused while running, strategy symbols checked,
bounded history."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ictbot.app.config_manager import ConfigManager, RestartRequired
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.errors import ConfigError


@pytest.fixture
def manager(tmp_path: Path) -> ConfigManager:
    manager = ConfigManager(tmp_path / "trading_config.json")
    manager.load()
    return manager


async def test_null_unsets_risk_and_strategy_overrides(manager: ConfigManager) -> None:
    await manager.update_risk_config({"risk_per_trade_pct": "2", "max_open_positions": 5})
    await manager.update_risk_config({"risk_per_trade_pct": None})
    assert manager.document()["risk"] == {"max_open_positions": 5}
    await manager.update_strategy_config("strategy_a", {"risk_per_trade_pct": 2, "enabled": False, "swing": 3})
    await manager.update_strategy_config("strategy_a", {"risk_per_trade_pct": None, "enabled": None, "swing": None})
    entry = manager.config.strategies["strategy_a"]
    assert (entry.risk_per_trade_pct, entry.enabled, entry.params) == (None, True, {})
    await manager.update_strategy_config("strategy_a", {"params": {"swing": 4, "other": 1}})
    await manager.update_strategy_config("strategy_a", {"params": None})
    assert manager.config.strategies["strategy_a"].params == {}


async def test_strategy_symbols_must_be_configured_exchange_symbols(manager: ConfigManager) -> None:
    with pytest.raises(ConfigError) as error:
        await manager.update_strategy_config("strategy_a", {"symbols": ["BTCUSDT", "DOGEUSDT"]})
    assert error.value.errors == [("strategies.strategy_a.symbols", "DOGEUSDT not in exchange.symbols (BTCUSDT)")]
    await manager.update_strategy_config("strategy_a", {"symbols": ["BTCUSDT"]})
    assert manager.config.strategies["strategy_a"].symbols == ["BTCUSDT"]


async def test_exchange_changes_are_refused_while_running_and_allowed_when_stopped(manager: ConfigManager) -> None:
    before = manager.version
    await manager.start_watching()
    try:
        exchange = {**manager.document()["exchange"], "symbols": ["BTCUSDT", "DOGEUSDT"], "base_timeframe": "1m"}
        with pytest.raises(RestartRequired) as refused:
            await manager.replace({**manager.document(), "exchange": exchange}, "api")
        assert [field for field, _ in refused.value.errors] == ["exchange.base_timeframe", "exchange.symbols"]
        assert "takes effect only at start" in str(refused.value)
        assert manager.version == before and manager.config.exchange.symbols == ["BTCUSDT"]
        await manager.update_risk_config({"max_open_positions": 2})  # other sections still hot-reload
    finally:
        await manager.stop_watching()
    assert not manager.running_marker.exists()
    await manager.replace({**manager.document(), "exchange": exchange}, "api")
    assert manager.config.exchange.symbols == ["BTCUSDT", "DOGEUSDT"]


async def test_rollback_and_file_edit_of_the_exchange_are_refused_while_running(manager: ConfigManager) -> None:
    first = manager.version
    document = manager.document()
    await manager.replace({**document, "exchange": {**document["exchange"], "symbols": ["ETHUSDT"]}}, "api")
    bus = EventBus()
    alerts: list[Envelope] = []
    bus.subscribe(Topic.ALERT, alerts.append)
    await bus.start()
    running = ConfigManager(manager.path, bus)
    running.load()
    await running.start_watching()
    try:
        with pytest.raises(RestartRequired):
            await running.rollback(first)
        document = running.document()
        document["exchange"]["market"] = "usdm"
        manager.path.write_text(json.dumps(document))
        os.utime(manager.path, ns=(1, 1))
        assert await running.check_file() is False
        await bus.wait_idle()
        assert any("exchange.market: takes effect only at start" in a.payload.message for a in alerts)
    finally:
        await running.stop_watching()
        await bus.stop()


async def test_another_process_sees_the_running_bot(manager: ConfigManager) -> None:
    other = ConfigManager(manager.path)
    other.load()
    exchange = {**manager.document()["exchange"], "symbols": ["ETHUSDT"]}
    manager.running_marker.write_text(f"{os.getppid()}\n")  # a live process that is not this one
    with pytest.raises(RestartRequired):
        await other.replace({**other.document(), "exchange": exchange}, "api")
    manager.running_marker.write_text("999999999\n")  # stale: that process is gone
    await other.replace({**other.document(), "exchange": exchange}, "api")
    assert other.config.exchange.symbols == ["ETHUSDT"]


async def test_history_is_pruned_to_the_newest_versions(tmp_path: Path) -> None:
    manager = ConfigManager(tmp_path / "c.json", history_versions=5)
    manager.load()
    for n in range(1, 21):
        await manager.update_risk_config({"max_open_positions": n})
    assert manager.version == 21
    assert len(manager.history()) <= 6 and manager.history()[-1].version == 21
    reloaded = ConfigManager(tmp_path / "c.json", history_versions=5)
    reloaded.load()
    assert [v.version for v in reloaded.history()] == [17, 18, 19, 20, 21]
    assert len(reloaded.history_path.read_text().splitlines()) == 5
    with pytest.raises(ConfigError, match="no version 3"):
        await reloaded.rollback(3)


async def test_history_is_capped_in_bytes(tmp_path: Path) -> None:
    manager = ConfigManager(tmp_path / "c.json", history_bytes=20_000)
    manager.load()
    for n in range(1, 60):
        await manager.update_risk_config({"max_open_positions": n})
    size = manager.history_path.stat().st_size
    assert size <= 22_000 and manager.history()[-1].version == manager.version == 60
    assert len(manager.history()) < 59


def test_cli_rollback_of_the_exchange_is_refused_while_the_bot_runs(manager: ConfigManager) -> None:
    import asyncio

    from typer.testing import CliRunner

    from ictbot.cli.main import app

    document = manager.document()
    asyncio.run(manager.replace({**document, "exchange": {**document["exchange"], "symbols": ["ETHUSDT"]}}, "api"))
    manager.running_marker.write_text(f"{os.getppid()}\n")
    result = CliRunner().invoke(app, ["config", "rollback", "1", "--config", str(manager.path)])
    assert result.exit_code == 2
    assert "exchange.symbols" in result.output and "takes effect only at start" in result.output
    assert json.loads(manager.path.read_text())["exchange"]["symbols"] == ["ETHUSDT"]


async def test_a_change_that_changes_nothing_adds_no_version(manager: ConfigManager) -> None:
    version = await manager.update_risk_config({"max_open_positions": 2})
    lines = len(manager.history_path.read_text().splitlines())
    assert await manager.update_risk_config({"max_open_positions": 2}) == version
    assert await manager.update_strategy_config("strategy_a", {"enabled": True}) == version  # already so
    assert len(manager.history_path.read_text().splitlines()) == lines
