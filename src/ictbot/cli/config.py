"""``ictbot config``: inspect, validate and change the trading configuration file.

Changes go through the same ``ConfigManager`` as the running bot (validated, versioned, atomic);
a running bot picks them up by hot reload.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ictbot.app.config_legacy import upgrade_changes
from ictbot.app.config_manager import ConfigManager
from ictbot.app.validators import section_validators
from ictbot.cli.common import fail, load_settings, make_console
from ictbot.domain.errors import ConfigError

out = make_console()
config_app = typer.Typer(help="Show, validate and change the trading configuration.", no_args_is_help=True)

ConfigOption = typer.Option(
    None, "--config", help="config file (default ICTBOT_CONFIG_FILE or .config/trading_config.json)"
)


def _manager(path: Path | None) -> ConfigManager:
    settings = load_settings()
    # the stages' own validators too, exactly as `ictbot run` plugs them (app.wiring): a config these
    # commands accept is one that run starts with
    manager = ConfigManager(path or settings.config_file, history_versions=settings.config_history_versions,
                            history_bytes=settings.config_history_bytes, section_validators=section_validators())
    try:
        manager.load()
    except ConfigError as exc:
        _print_errors(exc)
        raise typer.Exit(code=2) from exc
    return manager


def _print_errors(exc: ConfigError) -> None:
    out.print(f"[red]{exc.args[0].split(':')[0]}[/]")
    for field, reason in exc.errors:
        out.print(f"  [bold]{field}[/]: {reason}")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@config_app.command("show")
def show(
    config: Path = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="plain JSON of the effective values, without the marks"),
) -> None:
    """Print the effective configuration: the file's values plus every default run applies.

    Values that come from defaults rather than from the file end with `// default`.
    """
    from ictbot.app.effective_config import default_paths, effective_document, render_marked

    manager = _manager(config)
    effective = effective_document(manager.config)
    if as_json:
        print(json.dumps(effective, indent=2))
        return
    stored = json.loads(manager.path.read_text()) if manager.path.exists() else {}
    print(render_marked(effective, default_paths(effective, stored)))


@config_app.command("validate")
def validate(file: Path = typer.Argument(None, help="file to check (default: the active config file)")) -> None:
    """Check a configuration file; prints each problem as field: reason (exit 2 when invalid)."""
    path = file or load_settings().config_file
    if not path.exists():
        fail(f"{path} does not exist")
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    errors = ConfigManager(path, section_validators=section_validators()).validate(document)
    if errors:
        for field, reason in errors:
            out.print(f"[bold]{field}[/]: {reason}")
        raise typer.Exit(code=2)
    out.print(f"[green]{path} is valid[/]")


@config_app.command("set-strategy")
def set_strategy(
    strategy_id: str = typer.Argument(..., help="e.g. strategy_a"),
    assignments: list[str] = typer.Argument(
        ..., help="key=value pairs, e.g. enabled=false risk_per_trade_pct=0.5 (percent of equity)"),
    config: Path = ConfigOption,
) -> None:
    """Change a strategy's settings (enabled, risk_per_trade_pct, max_positions, symbols, or any param)."""
    changes = _upgraded(_assignments(assignments), f"strategies.{strategy_id}")
    manager = _manager(config)
    try:
        version = asyncio.run(manager.update_strategy_config(strategy_id, changes, reason="cli"))
    except ConfigError as exc:
        _print_errors(exc)
        raise typer.Exit(code=2) from exc
    out.print(f"saved as version {version}")


@config_app.command("set-risk")
def set_risk(
    assignments: list[str] = typer.Argument(
        ..., help="key=value pairs of the risk section, e.g. risk_per_trade_pct=0.5 (percent of equity)"),
    config: Path = ConfigOption,
) -> None:
    """Change risk limits (validated before anything is written)."""
    changes = _upgraded(_assignments(assignments), "risk")
    manager = _manager(config)
    try:
        version = asyncio.run(manager.update_risk_config(changes, reason="cli"))
    except ConfigError as exc:
        _print_errors(exc)
        raise typer.Exit(code=2) from exc
    out.print(f"saved as version {version}")


@config_app.command("history")
def history(config: Path = ConfigOption, limit: int = typer.Option(20, help="how many versions to show")) -> None:
    """List configuration versions (newest last)."""
    table = Table("version", "time (UTC)", "sections", "reason")
    from datetime import UTC, datetime

    for entry in _manager(config).history()[-limit:]:
        moment = datetime.fromtimestamp(entry.time_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(entry.version), moment, ", ".join(entry.sections), entry.reason)
    out.print(table)


@config_app.command("rollback")
def rollback(version: int = typer.Argument(..., help="version to restore"), config: Path = ConfigOption) -> None:
    """Restore an earlier version (recorded as a new version)."""
    manager = _manager(config)
    if manager.is_active(version):  # the API answers 409 here; the CLI the same refusal
        fail(f"version {version} is already active; nothing to roll back")
    try:
        new_version = asyncio.run(manager.rollback(version))
    except ConfigError as exc:
        _print_errors(exc)
        raise typer.Exit(code=2) from exc
    out.print(f"restored version {version} as version {new_version}")


def _upgraded(changes: dict[str, Any], where: str) -> dict[str, Any]:
    """Old key spellings converted, each with a deprecation line naming the new key."""
    try:
        upgraded, notes = upgrade_changes(changes, where)
    except ConfigError as exc:
        _print_errors(exc)
        raise typer.Exit(code=2) from exc
    for note in notes:
        out.print(f"[yellow]deprecated:[/] {escape(note)}")
    return upgraded


def _assignments(pairs: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"expected key=value, got {pair!r}")
        changes[key.strip()] = _parse_value(value.strip())
    return changes


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
