"""``ictbot new-strategy NAME``: write a commented strategy template to start from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ictbot.cli.common import fail, make_console

_HELP = """Write NAME.py: a small working strategy (trend + fresh fair value gap) with every part of the strategy contract commented. It backtests and passes `ictbot analyze lookahead` as written; edit it from there. Use it with --strategy NAME.py:ClassName (printed). See docs/strategies.md.

Example: ictbot new-strategy my_breakout --out strategies/
"""  # noqa: E501 - typer rewraps paragraphs


def register(app: typer.Typer) -> None:
    @app.command("new-strategy", help=_HELP, no_args_is_help=True)
    def new_strategy(
        name: Annotated[str, typer.Argument(help="Strategy kind in snake case (my_breakout): the file is NAME.py, "
                                            "the class MyBreakout.")],
        out: Annotated[Path, typer.Option(help="Folder to write NAME.py into (created if missing).")] = Path("."),
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing NAME.py.")] = False,
    ) -> None:
        from ictbot.strategies.template import class_name_for, render_template

        try:
            source = render_template(name)
        except ValueError as exc:
            fail(str(exc))
        target = out / f"{name}.py"
        if target.exists() and not force:
            fail(f"{target} exists; choose another NAME or --out, or overwrite it with --force")
        if out.exists() and not out.is_dir():
            fail(f"--out {out} is not a folder")
        out.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        console = make_console()
        console.print(f"wrote {target}", soft_wrap=True)
        console.print(f"use it with: --strategy {target}:{class_name_for(name)}", soft_wrap=True, highlight=False)
