"""Helpers shared by the CLI commands."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from ictbot.app.settings import Settings

# Rich falls back to 80 columns when it is not writing to a terminal, which cut timestamps and
# paths in piped or logged output (CI, journald, `| less`); there it gets room instead.
PIPED_WIDTH = 240


def make_console(*, stderr: bool = False) -> Console:
    """A console at the terminal's width, or PIPED_WIDTH columns when the output is not a terminal."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=PIPED_WIDTH)


console = make_console(stderr=True)

SPEED_HELP = ("replay speed: N = N× real time (1 = real time), 'max' = as fast as possible, 0 = stepped "
              "(time moves only on the simulator's POST /_sim/step)")


def fail(message: str, code: int = 2) -> NoReturn:
    # one line whatever the terminal width: easy to grep in logs and CI output
    # the message is text, not markup: `pip install 'ictbot[fast]'` must keep its brackets
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=code)


def one_line(exc: ValidationError) -> str:
    """A pydantic error as ``FIELD: reason (got 'value')``, several joined by ``; `` — no URLs, no indents."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "value"
        got = f" (got {error['input']!r})" if isinstance(error.get("input"), str | int | float) else ""
        parts.append(f"{field}: {error['msg']}{got}")
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """The environment's settings (``None`` overrides ignored); a bad variable is one line, exit 2."""
    from ictbot.app.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:  # names the variable and the reason, on one line
        fail(f"invalid environment: {one_line(exc)}")
    changes = {key: value for key, value in overrides.items() if value is not None}
    return settings.model_copy(update=changes) if changes else settings


def parse_speed(raw: str) -> float:
    """The one meaning of ``--speed`` for run, demo and sim: a number ≥ 0 (0 = stepped) or ``max``."""
    if raw.strip().lower() in ("max", "inf", "fast"):
        return math.inf
    try:
        value = float(raw)
    except ValueError:
        raise typer.BadParameter(f"{raw!r} is not a number or 'max'") from None
    if value < 0 or math.isnan(value):
        raise typer.BadParameter(f"{raw!r}: must be ≥ 0 (0 = stepped) or 'max'")
    return value


def speed_or_exit(raw: str) -> float:
    """``parse_speed`` for a command body: a bad value is one line naming --speed, exit 2."""
    try:
        return parse_speed(raw)
    except typer.BadParameter as exc:
        fail(f"--speed {exc.message}")
