"""``ictbot`` entry point: assembles the sub-commands."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from ictbot.cli import analyze, backtest, config, db, demo, download, indicators, new_strategy, optimize, run, sim

app = typer.Typer(
    name="ictbot",
    help="ICT / smart-money trading bot for Binance: live, paper (simulator) and backtests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for module in (run, demo, backtest, optimize, analyze, new_strategy, sim, indicators, download, config, db):
    module.register(app)


def _installed_version() -> str:
    try:
        return version("ictbot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ictbot {_installed_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: bool = typer.Option(
        False, "--version", help="Print the installed ictbot version and exit.", is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """ICT / smart-money trading bot for Binance: live, paper (simulator) and backtests."""
