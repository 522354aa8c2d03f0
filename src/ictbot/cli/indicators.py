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
    from ictbot.domain.candle_frame import CandleFrame
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
    "Missing candles (gaps) and zero-volume flat bars are reported with their times before the export; "
    "--on-gap fail stops with exit 1 instead. The timeframe is the candles' spacing: a file name or "
    "--timeframe that says otherwise is refused.\n\n"
    "Exit code 2 on unreadable input or bad parameters; the message names the file and line."
)

CORE_COLUMNS = ("id", "kind", "direction", "tf", "anchor_time", "confirm_time", "anchor_index", "confirm_index",
                "top", "bottom", "level", "params_hash")


def register(app: typer.Typer) -> None:
    @app.command("indicators", help=HELP)
    def indicators(
        data: list[str] = typer.Option(..., "--data", help="Candle file or SYMBOL=PATH (repeatable)."),
        out: Path = typer.Option(..., "--out", help="Output file."),
        timeframe: str | None = typer.Option(None, "--timeframe", help="Timeframe of the files (default: from the "
                                             "name or the candles' spacing; a contradicting value is refused)."),
        resample: str | None = typer.Option(None, "--resample", help="Aggregate to this higher timeframe first."),
        fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
        param: list[str] = typer.Option([], "--param", help="Override a parameter: section.name=value (repeatable)."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar or summary."),
        on_gap: str = typer.Option("warn", "--on-gap", help="Missing candles: warn (report and go on) or fail "
                                   "(exit 1)."),
        fast: bool = typer.Option(False, "--fast", help="Compiled kernels (needs `pip install 'ictbot\\[fast]'`, "
                                  "numba): the same events ~40x faster; the first run in an install compiles "
                                  "them once (1-2 min, cached afterwards)."),
    ) -> None:
        run(data, out, timeframe, resample, fmt, param, quiet, fast=fast, on_gap=on_gap)


def run(data: list[str], out: Path, timeframe: str | None, resample: str | None, fmt: str, param: list[str],
        quiet: bool = False, *, fast: bool = False, on_gap: str = "warn") -> int:
    from ictbot.indicators.params import IndicatorParams
    from ictbot.indicators.resampling import resample as resample_frame
    from ictbot.indicators.suite import compute

    if fmt not in ("jsonl", "csv"):
        fail(f"--format must be jsonl or csv, not {fmt!r}")
    try:
        params = IndicatorParams().with_overrides(param)
    except ConfigError as exc:
        fail(str(exc))
    if on_gap not in ("warn", "fail"):
        fail(f"--on-gap must be warn or fail, not {on_gap!r}")
    try:
        frame, tf = _read(data, timeframe)
    except (InputDataError, ValueError) as exc:
        fail(str(exc))
    _report_quality(frame, tf, quiet=quiet, fail_on_gap=on_gap == "fail")
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


def _read(data: list[str], timeframe: str | None) -> tuple[CandleFrame, Timeframe]:
    """The files' candles and their timeframe: the spacing, which the names and ``--timeframe`` must match."""
    from ictbot.adapters.files import read_candle_files
    from ictbot.adapters.files.names import check_named_timeframe, split_data_arg

    paths = [path for arg in data for path in split_data_arg(arg)[1]]
    frame = read_candle_files(paths)
    spacing = frame.infer_timeframe()
    check_named_timeframe(paths, spacing)
    if timeframe and Timeframe.parse(timeframe) is not spacing:
        raise InputDataError("--timeframe", f"{timeframe} contradicts the files: their candles are "
                                            f"{spacing.value} apart")
    return frame, spacing


def _report_quality(frame: CandleFrame, tf: Timeframe, *, quiet: bool, fail_on_gap: bool) -> None:
    from ictbot.candles.quality import assess

    quality = assess(frame.open_time, frame.open, frame.high, frame.low, frame.close, frame.volume, tf)
    if not quiet:
        for line in quality.describe():
            console.print(f"[yellow]data quality:[/] {line.strip()}", highlight=False, soft_wrap=True)
    if fail_on_gap and quality.gaps:
        gap = quality.gaps[0].to_json()
        fail(f"{len(quality.gaps)} gap(s) in the candles, first {gap['start']} → {gap['end']} "
             f"({gap['missing']} missing); --on-gap fail", code=1)


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
