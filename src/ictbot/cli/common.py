"""Helpers shared by the CLI commands."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console(stderr=True)


def not_built(command: str) -> NoReturn:
    console.print(f"[yellow]ictbot {command}[/] is not built yet.")
    raise typer.Exit(code=2)


def fail(message: str, code: int = 2) -> NoReturn:
    # one line whatever the terminal width: easy to grep in logs and CI output
    console.print(f"[red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code=code)
