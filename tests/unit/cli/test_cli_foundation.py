from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ictbot.cli.main import app

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "demo", "backtest", "optimize", "analyze", "new-strategy", "sim", "indicators", "download",
                    "config", "db"):
        assert command in result.output


def test_version_flag_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ictbot {version('ictbot')}"


def test_config_validate_names_field_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"exchange": {"base_timeframe": "7m"}, "risk": {}}))
    result = runner.invoke(app, ["config", "validate", str(bad)])
    assert result.exit_code == 2
    assert "exchange.base_timeframe" in result.output


def test_config_set_strategy_rejects_bad_value_and_keeps_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.json"
    assert runner.invoke(app, ["config", "show", "--config", str(path)]).exit_code == 0
    before = path.read_text()
    too_much = ["config", "set-strategy", "strategy_a", "risk_per_trade_pct=90", "--config", str(path)]
    result = runner.invoke(app, too_much)
    assert result.exit_code == 2 and "risk_per_trade_pct" in result.output
    assert path.read_text() == before
    result = runner.invoke(app, ["config", "set-strategy", "strategy_a", "enabled=false", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["strategies"]["strategy_a"]["enabled"] is False
    assert runner.invoke(app, ["config", "rollback", "1", "--config", str(path)]).exit_code == 0
    assert json.loads(path.read_text())["strategies"]["strategy_a"]["enabled"] is True


def test_run_refuses_live_mode_without_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BINANCE_API_KEY", "BINANCE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TESTNET", "false")
    result = runner.invoke(app, ["run", "--mode", "live"])
    assert result.exit_code == 2
    assert "BINANCE_API_KEY is not set" in result.output


def test_run_refuses_a_rest_override_without_the_ws_api_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {"BINANCE_API_KEY": "k" * 16, "BINANCE_SECRET_KEY": "s" * 16, "TESTNET": "true",
                        "BINANCE_REST_URL": "http://127.0.0.1:9", "BINANCE_WS_URL": "ws://127.0.0.1:9"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BINANCE_WS_API_URL", raising=False)
    result = runner.invoke(app, ["run", "--mode", "testnet"])
    assert result.exit_code == 2
    assert "BINANCE_WS_API_URL is not set while BINANCE_REST_URL is" in result.output
