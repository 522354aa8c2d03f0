"""``ictbot`` entry point: assembles the sub-commands, importing only the one that runs.

Each command's module (and what it pulls in: pydantic config models, the backtest engine, the API)
is imported when that command is invoked, so ``ictbot indicators`` starts without the others.
``ictbot --help`` lists the commands from ``COMMANDS`` without importing any of them; a test checks
that listing against the one the modules themselves produce.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer
import typer.main
from typer import _click as click  # typer vendors click: its commands and contexts are these classes
from typer.core import TyperCommand, TyperGroup

# name → (module under ictbot.cli whose ``register(app)`` adds it, the first paragraph of its help),
# in the order ``ictbot --help`` lists them (typer's: single commands, then the groups)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "Run the trading bot: market data → indicators → strategies → risk → execution, with the API."),
    "demo": ("demo", "Run the offline demo: a Binance-protocol simulator on 127.0.0.1 and the bot trading "
                     "against it."),
    "backtest": ("backtest", "Backtest a strategy on candle files with the live code path: the same strategy "
                             "objects, risk gate (sizing included) and order/position model as live trading; only "
                             "the clock, the feed (your files) and the venue (an in-process fill model) differ. "
                             "Higher timeframes are built from the files with the live aggregation."),
    "optimize": ("optimize", "Search strategy parameters with Optuna, validated walk-forward: the candles are cut "
                             "into folds; each fold's parameters are chosen on its in-sample window only and then "
                             "scored unchanged on the out-of-sample window after it. Every trial is an `ictbot "
                             "backtest` run (same engine, risk gate, fills and trading config)."),
    "new-strategy": ("new_strategy", "Write NAME.py: a small working strategy (trend + fresh fair value gap) with "
                                     "every part of the strategy contract commented. It backtests and passes "
                                     "`ictbot analyze lookahead` as written; edit it from there. Use it with "
                                     "--strategy NAME.py:ClassName (printed). See docs/strategies.md."),
    "sim": ("sim", "Run a local exchange that speaks Binance's wire protocol (spot /api/v3 + WS streams + WS API,\n"
                   "USD-M /fapi + listenKey streams) on 127.0.0.1, replaying candle files or a seeded synthetic "
                   "market."),
    "indicators": ("indicators", "Compute ICT / smart-money indicator events (ict-spec) for candle files and "
                                 "export them."),
    "download": ("download", "Download candle history from Binance REST, or import candle files."),
    "analyze": ("analyze", "Check a strategy: lookahead (uses the future?) and recursive (enough warm-up?)."),
    "config": ("config", "Show, validate and change the trading configuration."),
    "db": ("db", "Database schema migrations and contents."),
}


def load_command(name: str) -> click.Command:
    """The click command ``name`` as its module registers it (importing that module)."""
    module = importlib.import_module(f"ictbot.cli.{COMMANDS[name][0]}")
    holder = typer.Typer()
    module.register(holder)
    return typer.main.get_group(holder).commands[name]


class LazyGroup(TyperGroup):
    """The root group: commands are built on first lookup; while the help is being formatted, a
    lookup returns a stand-in that carries only the name and the help summary."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if self._listing and cmd_name not in self.commands:
            return TyperCommand(name=cmd_name, help=COMMANDS[cmd_name][1])
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="ictbot",
    cls=LazyGroup,
    help="ICT / smart-money trading bot for Binance: live, paper (simulator) and backtests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


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
