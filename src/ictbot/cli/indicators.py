"""`ictbot indicators`: compute the ICT event log of candle files and export it (jsonl or csv)."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ictbot.cli.common import console, fail
from ictbot.domain.errors import ConfigError, InputDataError
from ictbot.domain.timeframe import Timeframe

if TYPE_CHECKING:
    from ictbot.indicators.events import Event

HELP = (
    "Compute ICT / smart-money indicator events (ict-spec) for candle files and export them.\n\n"
    "Reads Binance dump CSVs (ms or µs times), freqtrade feather files or the project's CSV; several --data "
    "files are concatenated in time order. Writes one row per event in the spec's log order: id, kind, "
    "direction, anchor/confirm time (ISO-8601 UTC) and index, top, bottom, level and the kind-specific fields. "
    "A strategy may act on an event only from its confirm candle on.\n\n"
    "Example: ictbot indicators --data BTCUSDT-5m-2024-01.csv --resample 1h --format csv --out h1.csv "
    "--param fvg.max_active=none --param structure.break_source=wick\n\n"
    "Parameters: --param section.name=value, e.g. atr.length=20, fvg.k_atr=0.5, liquidity.sweep_window=2 "
    "('none' disables an optional limit); the full list is in docs/indicators.md.\n\n"
    "Exit code 2 on unreadable input or bad parameters; the message names the file and line."
)

CORE_COLUMNS = ("id", "kind", "direction", "tf", "anchor_time", "confirm_time", "anchor_index", "confirm_index",
                "top", "bottom", "level", "params_hash")


def register(app: typer.Typer) -> None:
    @app.command("indicators", help=HELP)
    def indicators(
        data: list[Path] = typer.Option(..., "--data", help="Candle file (repeatable)."),
        out: Path = typer.Option(..., "--out", help="Output file."),
        timeframe: str | None = typer.Option(None, "--timeframe", help="Timeframe of the files (default: inferred)."),
        resample: str | None = typer.Option(None, "--resample", help="Aggregate to this higher timeframe first."),
        fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
        param: list[str] = typer.Option([], "--param", help="Override a parameter: section.name=value (repeatable)."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar or summary."),
        fast: bool = typer.Option(False, "--fast", help="Compiled kernels (needs `pip install 'ictbot[fast]'`, "
                                  "numba): the same events ~40x faster; the first run in an install compiles "
                                  "them once (1-2 min, cached afterwards)."),
    ) -> None:
        run(data, out, timeframe, resample, fmt, param, quiet, fast=fast)


def run(data: list[Path], out: Path, timeframe: str | None, resample: str | None, fmt: str, param: list[str],
        quiet: bool = False, *, fast: bool = False) -> int:
    from ictbot.adapters.files import read_candle_files
    from ictbot.indicators.params import IndicatorParams
    from ictbot.indicators.resampling import resample as resample_frame
    from ictbot.indicators.suite import compute

    if fmt not in ("jsonl", "csv"):
        fail(f"--format must be jsonl or csv, not {fmt!r}")
    try:
        params = IndicatorParams().with_overrides(param)
    except ConfigError as exc:
        fail(str(exc))
    try:
        frame = read_candle_files(data)
        tf = Timeframe.parse(timeframe) if timeframe else frame.infer_timeframe()
    except InputDataError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))
    if resample:
        try:
            target = Timeframe.parse(resample)
            frame, _complete = resample_frame(frame, tf, target)
        except ValueError as exc:
            fail(str(exc))
        tf = target
    n = len(frame)
    if fast:
        from ictbot.indicators import kernels

        if not kernels.available():
            fail("--fast needs numba: pip install 'ictbot[fast]'")
        with console.status(f"[bold]indicators[/] {tf.value}: compiled kernels", spinner="dots"):
            events = kernels.compute_events(frame.open_time, frame.open, frame.high, frame.low, frame.close, tf,
                                            params)
        return _export(events, out, fmt, n, tf, quiet)
    with Progress(TextColumn("[bold]indicators[/] {task.description}"), BarColumn(),
                  TextColumn("{task.completed:,}/{task.total:,} candles"), TimeElapsedColumn(),
                  console=console, disable=quiet, transient=True) as progress:
        task = progress.add_task(tf.value, total=n)
        result = compute(frame.open_time, frame.open, frame.high, frame.low, frame.close, tf, params,
                         progress=lambda k: progress.update(task, completed=k))
    return _export(result.events, out, fmt, n, tf, quiet)


def _export(events: list[Event], out: Path, fmt: str, n: int, tf: Timeframe, quiet: bool) -> int:
    rows = [event.to_row() for event in events]
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        _write_jsonl(out, rows)
    else:
        _write_csv(out, rows)
    if not quiet:
        counts = Counter(row["kind"] for row in rows)
        summary = ", ".join(f"{kind} {count}" for kind, count in counts.most_common())
        console.print(f"{n:,} {tf.value} candles → {len(rows):,} events in {out}")
        if summary:
            console.print(f"[dim]{summary}[/]")
    return len(rows)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _write_jsonl(out: Path, rows: list[dict[str, Any]]) -> None:
    with out.open("w") as handle:
        for row in rows:
            handle.write(json.dumps({k: _clean(v) for k, v in row.items()}, separators=(",", ":")))
            handle.write("\n")


def _write_csv(out: Path, rows: list[dict[str, Any]]) -> None:
    extra = sorted({key for row in rows for key in row} - set(CORE_COLUMNS))
    columns = [*CORE_COLUMNS, *extra]
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row.get(col)) for col in columns])


def _csv_value(value: Any) -> str:
    value = _clean(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)
