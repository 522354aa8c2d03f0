"""``ictbot run``: start the bot (paper trading against the simulator by default)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from ictbot.app.logsetup import configure_logging
from ictbot.app.settings import Settings, TradingMode, validate_environment
from ictbot.cli.common import SPEED_HELP, console, fail, load_settings, speed_or_exit


def refuse_bad_environment(settings: Settings) -> None:
    """Print every problem that prevents a start, one line each, and exit 2 (nothing when fine)."""
    problems = validate_environment(settings)
    if problems:
        for problem in problems:
            console.print(f"[red]environment:[/] {escape(problem)}", soft_wrap=True)
        raise typer.Exit(code=2)


def check_database_file(settings: Settings, *, reset: bool) -> None:
    """Refuse (exit 2) to open an empty or damaged SQLite file as a fresh database, unless ``reset``."""
    from ictbot.adapters.storage.database import database_file_problem, set_aside_database
    from ictbot.adapters.storage.url import sqlite_file

    file = sqlite_file(settings.resolved_database_url)
    problem = database_file_problem(file) if file is not None else None
    if file is None or problem is None:
        return
    if not reset:
        console.print(f"[red]database:[/] {problem}; restore it from a backup, or start with --reset-db "
                      "to set it aside and begin a new database", soft_wrap=True)
        raise typer.Exit(code=2)
    moved = set_aside_database(file, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    console.print(f"database: {problem}; moved to {moved}, starting a new database", soft_wrap=True)


def enable_strategies(settings: Settings, specs: list[str]) -> None:
    """``--strategy``: each spec (built-in kind or ``path.py:Class``) enabled in the trading config as a
    new version, a user file with its absolute ``source``; a bad spec or config stops the start (exit 2)."""
    from ictbot.app.config_manager import ConfigManager
    from ictbot.app.validators import section_validators
    from ictbot.domain.errors import ConfigError
    from ictbot.strategies.loader import resolve_strategy

    manager = ConfigManager(settings.config_file, history_versions=settings.config_history_versions,
                            history_bytes=settings.config_history_bytes, section_validators=section_validators())
    try:
        manager.load()
        if manager.running_elsewhere is not None:  # the change would hot-reload into that bot
            fail(f"--strategy: a bot is running with {settings.config_file} (pid {manager.running_elsewhere}); "
                 "stop it first, or change its strategies with `ictbot config set-strategy`")
        for spec in specs:
            found = resolve_strategy(spec)
            changes: dict[str, object] = {"enabled": True}
            if found.source is not None and found.source.endswith(".py"):
                changes.update(type=found.kind, source=f"{Path(found.source).resolve()}:{found.cls.__name__}")
            version = asyncio.run(manager.update_strategy_config(found.kind, changes, reason=f"run --strategy {spec}"))
            console.print(f"strategy {found.kind} enabled (config version {version})", soft_wrap=True)
    except ConfigError as exc:
        fail(f"--strategy: {exc}")


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
        more_data: list[Path] = typer.Argument(None, help="more candle files, so that a shell glob after --data "
                                               "works: --data dir/*.csv", show_default=False),
        speed: str = typer.Option("60", "--speed", help=f"paper mode: {SPEED_HELP}", show_default=True),
        reports: Path = typer.Option(None, "--reports", help="folder of backtest results (ictbot backtest --json) "
                                     "that the dashboard lists and opens (default ICTBOT_REPORTS_DIR)"),
        strategy: list[str] = typer.Option(
            None, "--strategy",
            help="trade this strategy: a built-in kind or path/to/my_strategy.py:ClassName (docs/strategies.md); "
                 "enabled in the trading config as a new version before the start (a file with its absolute "
                 "path as source); other strategies there keep their settings; repeat for several",
        ),
        reset_db: bool = typer.Option(
            False, "--reset-db",
            help="an empty or damaged SQLite database file is renamed to <name>.broken-<time> and a new one "
                 "started (without it such a file stops the start); a healthy database is never touched",
        ),
    ) -> None:
        """Run the trading bot: market data → indicators → strategies → risk → execution, with the API.

        In paper mode (the default) the bot trades against the built-in Binance-protocol simulator
        through the real Binance adapter, so nothing leaves this machine and no API keys are needed.
        """
        settings = load_settings(trading_mode=mode, config_file=config, api_port=api_port, reports_dir=reports)
        refuse_bad_environment(settings)
        replay_speed = speed_or_exit(speed)
        check_database_file(settings, reset=reset_db)
        if strategy:
            enable_strategies(settings, strategy)
        log_file = configure_logging(settings.log_level, settings.log_dir, settings.secret_values())
        console.print(f"logging to {log_file}")
        from ictbot.app.system import run_bot
        from ictbot.domain.errors import IctbotError

        try:
            errors = asyncio.run(run_bot(settings, data=[*(data or []), *(more_data or [])], speed=replay_speed))
        except IctbotError as exc:
            fail(str(exc), code=1)
        raise typer.Exit(code=1 if errors else 0)
