"""``ictbot`` entry point: assembles the sub-commands."""

from __future__ import annotations

import typer

from ictbot.cli import backtest, config, db, demo, download, indicators, run, sim

app = typer.Typer(
    name="ictbot",
    help="ICT / smart-money trading bot for Binance: live, paper (simulator) and backtests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for module in (run, demo, backtest, sim, indicators, download, config, db):
    module.register(app)
