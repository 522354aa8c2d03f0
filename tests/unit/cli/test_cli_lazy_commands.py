"""``ictbot`` imports only the invoked command's module; its help listing and every command's options stay
what the command modules declare."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from ictbot.cli.main import COMMANDS, app

runner = CliRunner()
SRC = Path(__file__).resolve().parents[3] / "src"


def eager_app() -> typer.Typer:
    """The root app as it was assembled before: every command module imported and registered."""
    eager = typer.Typer(name="ictbot", help=app.info.help, no_args_is_help=True, add_completion=False)
    for module in dict.fromkeys(module for module, _summary in COMMANDS.values()):
        importlib.import_module(f"ictbot.cli.{module}").register(eager)
    eager.callback()(app.registered_callback.callback)  # type: ignore[union-attr]
    return eager


def test_help_lists_what_the_modules_declare_in_their_order() -> None:
    lazy = runner.invoke(app, ["--help"], terminal_width=100)
    eager = runner.invoke(eager_app(), ["--help"], terminal_width=100)
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output


def test_every_command_and_sub_command_has_its_own_help() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name in COMMANDS:
        result = runner.invoke(app, [name, "--help"], terminal_width=100)
        assert result.exit_code == 0, (name, result.output)
        assert f"ictbot {name} [OPTIONS]" in result.output.replace("Usage: root", "Usage: ictbot")
        command = group.get_command(typer.Context(group), name)
        for sub in getattr(command, "commands", {}):
            result = runner.invoke(app, [name, sub, "--help"])
            assert result.exit_code == 0 and "Usage:" in result.output, (name, sub, result.output)


def test_an_unknown_command_is_refused() -> None:
    result = runner.invoke(app, ["indicator"])
    assert result.exit_code == 2 and "No such command" in result.output


def imported_after(*args: str) -> set[str]:
    """The ``ictbot.cli`` modules a fresh ``python -m ictbot ARGS`` process has imported when it exits."""
    probe = ("import runpy, sys\n"
             "sys.argv = ['ictbot', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('ictbot', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(' '.join(sorted(m for m in sys.modules if m.startswith(('ictbot.cli.', 'ictbot.app')))))\n")
    env = dict(os.environ, PYTHONPATH=str(SRC), COLUMNS="100")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env,
                          check=True, timeout=120)
    return set(done.stdout.strip().splitlines()[-1].split())


def test_help_and_version_import_no_command_module() -> None:
    for args in (["--help"], ["--version"]):
        assert imported_after(*args) <= {"ictbot.cli.main"}, args


def test_a_command_imports_its_own_module_only() -> None:
    loaded = imported_after("indicators", "--help")
    assert "ictbot.cli.indicators" in loaded
    assert not loaded & {"ictbot.cli.config", "ictbot.cli.backtest", "ictbot.cli.run", "ictbot.cli.optimize",
                         "ictbot.app.config_model"}, loaded


@pytest.mark.parametrize(("name", "expected"), [
    ("backtest", [
        (("--data",), None, True), (("more_data",), None, False), (("--strategy",), "strategy_a", False),
        (("--symbol",), None, False), (("--timeframe",), None, False), (("--on-gap",), "warn", False),
        (("--config",), None, False), (("--start",), None, False), (("--end",), None, False),
        (("--fee",), None, False), (("--slippage-bps",), None, False), (("--cash",), None, False),
        (("--stake",), None, False), (("--market",), None, False), (("--detail-timeframe",), None, False),
        (("--touch-fills",), False, False), (("--circuit-breakers", "--no-circuit-breakers"), None, False),
        (("--json",), None, False), (("--report",), None, False), (("--sweep",), None, False),
        (("--workers",), None, False), (("--rank-by",), "total_return_pct", False), (("--per-candle",), False, False),
        (("--parity",), False, False), (("--breakeven-at-r",), None, False), (("--trail-at-r",), None, False),
        (("--trail-distance",), None, False), (("--via-live",), False, False)]),
    ("sim", [
        (("--data",), None, False), (("--speed",), "1", False), (("--host",), "127.0.0.1", False),
        (("--port",), 0, False), (("--seed",), 0, False), (("--keys",), None, False),
        (("--symbols",), "BTCUSDT,ETHUSDT", False), (("--balance",), None, False), (("--path-mode",), "ohlc", False),
        (("--state",), None, False), (("--no-futures",), False, False), (("--strict-time",), False, False),
        (("--derive-filters",), False, False)]),
])
def test_options_names_order_and_defaults_are_those_of_before_the_split(
        name: str, expected: list[tuple[tuple[str, ...], object, bool]]) -> None:
    """The option table of ``backtest`` and ``sim`` as it was before their functions were split."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    command = group.get_command(typer.Context(group), name)
    assert command is not None
    assert [(tuple(p.opts + p.secondary_opts), p.default, p.required) for p in command.params] == expected
