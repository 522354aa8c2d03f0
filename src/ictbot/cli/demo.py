"""``ictbot demo``: the simulator and the bot against it, offline, in one command."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ictbot.app.demo import DEMO_SPEED
from ictbot.app.logsetup import configure_logging
from ictbot.app.settings import TradingMode
from ictbot.cli.common import SPEED_HELP, console, fail, load_settings, speed_or_exit
from ictbot.cli.run import refuse_bad_environment


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        data: list[Path] = typer.Option(None, "--data", help="candle files to replay (Binance dump CSV or "
                                        "freqtrade feather); default: a seeded synthetic market"),
        more_data: list[Path] = typer.Argument(None, help="more candle files, so that a shell glob after --data "
                                               "works: --data dir/*.csv", show_default=False),
        speed: str = typer.Option(f"{DEMO_SPEED:g}", "--speed",
                                  help=f"{SPEED_HELP}; 6000: a 5m candle every 50 ms"),
        duration: float = typer.Option(None, "--duration", help="stop by itself after this many seconds and "
                                       "print a summary (last line: one JSON object)"),
        no_browser: bool = typer.Option(False, "--no-browser", help="do not open the dashboard in a browser"),
        api_port: int = typer.Option(None, "--api-port", help="API port (default API_PORT or 8000)"),
        reports: Path = typer.Option(None, "--reports", help="folder of backtest results (ictbot backtest --json) "
                                     "that the dashboard lists and opens (default ICTBOT_REPORTS_DIR)"),
    ) -> None:
        """Run the offline demo: a Binance-protocol simulator on 127.0.0.1 and the bot trading against it.

        No network and no API keys: the real Binance adapter talks to the simulator, candles go to a
        fresh SQLite database under data/demo/, the built-in ICT strategies trade, and the API and
        dashboard listen on 127.0.0.1 (API_PORT). Ctrl-C stops both cleanly.
        """
        from ictbot.app.demo import run_demo_sync

        # the demo always trades on paper, but its API is as exposed as run's: the same checks apply
        settings = load_settings(api_port=api_port, trading_mode=TradingMode.PAPER, reports_dir=reports)
        refuse_bad_environment(settings)
        replay_speed = speed_or_exit(speed)
        configure_logging(settings.log_level, settings.log_dir, settings.secret_values())
        from ictbot.domain.errors import IctbotError

        try:
            summary = run_demo_sync(settings, data=[*(data or []), *(more_data or [])], speed=replay_speed,
                                    duration=duration, open_browser=not no_browser and duration is None)
        except IctbotError as exc:
            fail(str(exc), code=1)
        console.print("[bold]demo summary[/]")
        print(json.dumps(summary, sort_keys=True), flush=True)
