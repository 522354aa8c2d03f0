"""`ictbot backtest`."""

from __future__ import annotations

import typer

from ictbot.cli.common import not_built


def register(app: typer.Typer) -> None:
    @app.command("backtest", help="(not built yet) see the open issues.")
    def _placeholder() -> None:
        not_built("backtest")
