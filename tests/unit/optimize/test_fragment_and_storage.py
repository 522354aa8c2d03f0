from __future__ import annotations

from pathlib import Path

import pytest

from ictbot.adapters.storage.url import redact
from ictbot.app.backtest_config import read_trading_config
from ictbot.domain.errors import ConfigError
from ictbot.optimize.fragment import config_document, write_config
from ictbot.optimize.storage import StorageOptions, open_storage


def test_risk_parameters_go_to_the_risk_section_and_the_rest_is_kept() -> None:
    base = {"risk": {"max_open_positions": 2}, "strategies": {"strategy_b": {"enabled": False}}}
    document = config_document("strategy_a", {"min_reward_risk": 2.5, "risk.risk_per_trade_pct": "0.5"}, base)
    assert document["strategies"]["strategy_a"] == {"enabled": True, "params": {"min_reward_risk": 2.5}}
    assert document["strategies"]["strategy_b"] == {"enabled": False}
    assert document["risk"] == {"max_open_positions": 2, "risk_per_trade_pct": "0.5"}
    assert base["risk"] == {"max_open_positions": 2}  # the base is not modified


def test_written_config_loads_with_the_rules_run_applies(tmp_path: Path) -> None:
    path = tmp_path / "best.json"
    write_config(path, "strategy_a", {"min_reward_risk": 3.0, "max_targets": 1}, None)
    config, source = read_trading_config(path)
    assert source == path and config.strategies["strategy_a"].params == {"min_reward_risk": 3.0, "max_targets": 1}


def test_a_config_run_would_refuse_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "best.json"
    with pytest.raises(ConfigError):
        write_config(path, "strategy_a", {"min_reward_risk": -1}, None)
    assert not path.exists() and not list(tmp_path.iterdir())
    with pytest.raises(ConfigError, match="reference strategy"):
        config_document("s1_ema_cross", {"fast": 10}, None)


def test_storage_urls_lose_their_password_in_messages() -> None:
    assert redact("postgresql+psycopg://opt:s3cret@db.lan:5432/optuna") == (
        "postgresql+psycopg://opt:***@db.lan:5432/optuna")
    assert redact("postgresql+psycopg://opt@db.lan/optuna") == "postgresql+psycopg://opt@db.lan/optuna"
    with pytest.raises(ValueError) as caught:
        open_storage(StorageOptions("postgresql+psycopg://opt:s3cret@127.0.0.1:1/none"))
    assert "s3cret" not in str(caught.value) and str(caught.value).startswith("--storage postgresql+psycopg://opt:***@")


def test_heartbeat_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="--grace-period"):
        open_storage(StorageOptions("sqlite://", heartbeat_interval=10, grace_period=5))
