"""The CLI's start-up checks and output: one clear line instead of a traceback, the same rules everywhere."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ictbot.cli.common import parse_speed
from ictbot.cli.main import app

runner = CliRunner()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)
    for name in ("ICTBOT_API_TOKEN", "ICTBOT_API_READ_TOKEN", "API_HOST", "TESTNET", "TRADING_MODE",
                 "BINANCE_API_KEY", "BINANCE_SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    return monkeypatch


@pytest.mark.parametrize("command", ["run", "demo"])
def test_a_short_api_token_is_one_line_and_exit_2(clean_env: pytest.MonkeyPatch, command: str) -> None:
    clean_env.setenv("ICTBOT_API_TOKEN", "short")
    result = runner.invoke(app, [command, "--duration", "1"] if command == "demo" else [command])
    assert result.exit_code == 2, result.output
    assert "ICTBOT_API_TOKEN has 5 characters: it must have at least 16" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_short_read_token_is_refused_too(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ICTBOT_API_READ_TOKEN", "r" * 15)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "ICTBOT_API_READ_TOKEN has 15 characters" in result.output


def test_demo_on_all_interfaces_requires_an_explicit_token(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("API_HOST", "0.0.0.0")
    result = runner.invoke(app, ["demo", "--duration", "1", "--no-browser"])
    assert result.exit_code == 2, result.output
    assert "API_HOST=0.0.0.0 exposes the API beyond this machine: set ICTBOT_API_TOKEN explicitly" in result.output
    assert not Path("data/demo").exists()  # refused before anything was created


def test_an_invalid_testnet_value_is_one_clear_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("TESTNET", "maybe")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "invalid environment: TESTNET: Input should be a valid boolean" in lines[0] and "'maybe'" in lines[0]
    assert "errors.pydantic.dev" not in lines[0]


def test_the_database_directory_is_created(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    database = tmp_path / "nested" / "deeper" / "bot.db"
    clean_env.setenv("DATABASE_PATH", str(database))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert database.is_file() and database.parent.is_dir()
    assert database.parent.stat().st_mode & 0o777 == 0o700


def test_speed_has_one_meaning_for_run_demo_and_sim() -> None:
    assert parse_speed("0") == 0.0  # stepped, as in `ictbot sim`
    assert parse_speed("max") == math.inf
    assert parse_speed("60") == 60.0
    for bad in ("-1", "fast-ish", "nan"):
        with pytest.raises(typer.BadParameter):
            parse_speed(bad)
    for command in ("run", "demo", "sim"):
        output = runner.invoke(app, [command, "--help"]).output.replace("│", " ")
        help_text = " ".join(output.split())
        assert "0 = stepped" in help_text and "'max' = as fast as possible" in help_text, command


def test_run_refuses_a_bad_speed_with_the_flag_named(clean_env: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["run", "--speed", "-3"])
    assert result.exit_code == 2
    assert "--speed" in result.output and "must be ≥ 0" in result.output


def test_help_keeps_square_brackets(clean_env: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["optimize", "--help"])  # rich markup would swallow "[:step]"
    assert "low:high[:step]" in " ".join(result.output.replace("│", " ").split())


def test_an_error_message_keeps_square_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    from ictbot.cli.common import fail

    with pytest.raises(typer.Exit):
        fail("--fast needs numba: pip install 'ictbot[fast]'")
    assert "pip install 'ictbot[fast]'" in capsys.readouterr().err


def test_piped_output_is_not_cut_at_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.table import Table

    from ictbot.cli.common import PIPED_WIDTH, make_console

    out = make_console()  # pytest captures stdout: not a terminal
    assert out.width == PIPED_WIDTH
    table = Table("version", "time (UTC)", "sections", "reason")
    table.add_row("12", "2026-12-07 14:21:59", "exchange, strategies, risk, indicators", "rollback to version 3 by cli")
    out.print(table)
    assert "2026-12-07 14:21:59" in capsys.readouterr().out


def test_alembic_start_lines_stay_off_the_console(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from ictbot.adapters.storage import Database
    from ictbot.app.logsetup import configure_logging

    for name in ("alembic", "alembic.runtime.migration"):  # as a fresh process has them: earlier tests of the
        logger = logging.getLogger(name)                     # session may leave them disabled or re-levelled
        logger.disabled, logger.propagate = False, True
        logger.setLevel(logging.NOTSET)
    log_file = configure_logging("INFO", tmp_path / "logs")
    try:
        database = Database(f"sqlite:///{tmp_path / 'quiet.db'}")
        database.upgrade("head")
        database.close_sync()
        logging.getLogger("alembic.runtime.migration").warning("a real alembic problem")
    finally:
        for handler in logging.getLogger().handlers[:]:
            logging.getLogger().removeHandler(handler)
            handler.close()
    console = capsys.readouterr().err
    assert "Context impl" not in console and "a real alembic problem" in console
    assert log_file is not None and "Context impl" in log_file.read_text()


def test_backtest_help_shows_the_defaults() -> None:
    output = runner.invoke(app, ["backtest", "--help"]).output.replace("│", " ")
    text = " ".join(output.split())
    for flag, default in (("--fee", "0.001"), ("--slippage-bps", "0"), ("--cash", "10000"), ("--stake", "1000"),
                          ("--market", "spot"), ("--trail-distance", "0.01"), ("--strategy", "strategy_a")):
        after = text[text.index(f" {flag} ", text.index("Options")):]
        assert f"[default: {default}]" in after[:400] or f"[default: ({default})]" in after[:400], flag


def test_demo_takes_a_shell_glob_of_data_files(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the demo itself is exercised end to end in tests/e2e; here only what the command hands it
    import ictbot.app.demo as demo_module

    received: dict[str, object] = {}

    def record(settings: object, **kwargs: object) -> dict[str, object]:
        received.update(kwargs)
        return {"candles": 0}

    clean_env.setattr(demo_module, "run_demo_sync", record)
    files = [tmp_path / f"BTCUSDT-5m-2024-0{month}.csv" for month in (1, 2, 3)]
    result = runner.invoke(app, ["demo", "--data", *map(str, files), "--duration", "1", "--speed", "max"])
    assert result.exit_code == 0, result.output
    assert received["data"] == files and received["speed"] == math.inf


@pytest.mark.parametrize("command", [["db", "current"], ["config", "show"], ["config", "validate"]])
def test_every_command_reports_a_bad_variable_in_one_line(clean_env: pytest.MonkeyPatch, command: list[str]) -> None:
    clean_env.setenv("API_PORT", "eighty")
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: invalid environment: API_PORT: Input should be a valid integer, unable to parse string as an "
        "integer (got 'eighty')"]
