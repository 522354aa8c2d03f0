"""``ictbot run``: start the bot (paper trading against the simulator by default)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from ictbot.app.logsetup import configure_logging
from ictbot.app.settings import Settings, TradingMode, validate_environment
from ictbot.cli.common import console, fail


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings()
    except Exception as exc:  # pydantic ValidationError names the variable and the reason
        fail(f"invalid environment: {exc}")
    changes = {key: value for key, value in overrides.items() if value is not None}
    return settings.model_copy(update=changes) if changes else settings


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        mode: TradingMode = typer.Option(
            None, "--mode",
            help="paper (built-in simulator, no keys), testnet or live. Default: TRADING_MODE or paper.",
        ),
        config: Path = typer.Option(None, "--config", help="trading config JSON (default .config/trading_config.json)"),
        api_port: int = typer.Option(None, "--api-port", help="API port (default API_PORT or 8000)"),
        data: list[Path] = typer.Option(None, "--data", help="paper mode: candle files for the simulator to replay"),
        speed: float = typer.Option(
            60.0, "--speed", help="paper mode: replay speed (× real time; 0 = as fast as possible)"
        ),
    ) -> None:
        """Run the trading bot: market data → indicators → strategies → risk → execution, with the API.

        In paper mode (the default) the bot trades against the built-in Binance-protocol simulator
        through the real Binance adapter, so nothing leaves this machine and no API keys are needed.
        """
        settings = load_settings(trading_mode=mode, config_file=config, api_port=api_port)
        problems = validate_environment(settings)
        if problems:
            for problem in problems:
                console.print(f"[red]environment:[/] {problem}")
            raise typer.Exit(code=2)
        log_file = configure_logging(settings.log_level, settings.log_dir, settings.secret_values())
        console.print(f"logging to {log_file}")
        from ictbot.app.bootstrap import run_bot
        from ictbot.domain.errors import IctbotError

        try:
            errors = asyncio.run(run_bot(settings, data=list(data or []), speed=speed))
        except IctbotError as exc:
            fail(str(exc), code=1)
        raise typer.Exit(code=1 if errors else 0)
