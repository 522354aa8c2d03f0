"""`ictbot indicators`: compute the ICT event log of candle files and export it (parquet, feather, csv, jsonl)."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ictbot.cli.common import console, fail
from ictbot.domain.errors import ConfigError, InputDataError
from ictbot.domain.timeframe import Timeframe

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from ictbot.domain.candle_frame import CandleFrame
    from ictbot.indicators.export import EventTable

HELP = (
    "Compute ICT / smart-money indicator events (ict-spec) for candle files and export them.\n\n"
    "Reads Binance dump CSVs (ms or µs times), freqtrade feather files or the project's CSV; several --data "
    "files are concatenated in time order. Writes one row per event in the spec's log order: id, kind, "
    "direction, anchor/confirm time (ISO-8601 UTC) and index, top, bottom, level and the kind-specific fields. "
    "A strategy may act on an event only from its confirm candle on.\n\n"
    "Formats: parquet, feather (Arrow IPC), csv, jsonl; default: from the --out suffix (.parquet, .feather / "
    ".arrow, .csv), else jsonl. parquet and feather hold typed columns (times as UTC timestamps, members as a "
    "list); csv and jsonl are text, times ISO-8601.\n\n"
    "The compiled kernels (numba) compute the events; the first run in an install compiles them once "
    "(1-2 min, announced, cached on disk); --no-jit uses the Python engine instead (same events, ~40x slower).\n\n"
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


TEXT_CHUNK_ROWS = 100_000  # the Python engine's table is written in slices of this many events
TEXT_SLICE_ROWS = 16_384  # rows formatted as text at once (the formatting's intermediate columns: peak RSS)
SUFFIX_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".feather": "feather", ".arrow": "feather",
                  ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


def register(app: typer.Typer) -> None:
    @app.command("indicators", help=HELP)
    def indicators(
        data: list[str] = typer.Option(..., "--data", help="Candle file or SYMBOL=PATH (repeatable)."),
        out: Path = typer.Option(..., "--out", help="Output file."),
        timeframe: str | None = typer.Option(None, "--timeframe", help="Timeframe of the files (default: from the "
                                             "name or the candles' spacing; a contradicting value is refused)."),
        resample: str | None = typer.Option(None, "--resample", help="Aggregate to this higher timeframe first."),
        fmt: str | None = typer.Option(None, "--format", help="parquet, feather, csv or jsonl (default: from the "
                                       "--out suffix, else jsonl)."),
        param: list[str] = typer.Option([], "--param", help="Override a parameter: section.name=value (repeatable)."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar or summary."),
        on_gap: str = typer.Option("warn", "--on-gap", help="Missing candles: warn (report and go on) or fail "
                                   "(exit 1)."),
        no_jit: bool = typer.Option(False, "--no-jit", help="The Python engine instead of the compiled kernels "
                                    "(same events, ~40x slower; no numba compile)."),
        fast: bool = typer.Option(False, "--fast", hidden=True, help="Kept for old scripts: the compiled kernels "
                                  "are the default now."),
    ) -> None:
        if fast and no_jit:
            fail("--fast and --no-jit contradict each other")
        run(data, out, timeframe, resample, fmt, param, quiet, jit=not no_jit, on_gap=on_gap)
        if _owns_the_process():
            _exit_at_once()


def run(data: list[str], out: Path, timeframe: str | None, resample: str | None, fmt: str | None,
        param: list[str], quiet: bool = False, *, jit: bool = True, on_gap: str = "warn") -> int:
    from ictbot.indicators.params import IndicatorParams

    fmt = _format(fmt, out)
    try:
        params = IndicatorParams().with_overrides(param)
    except ConfigError as exc:
        fail(str(exc))
    if on_gap not in ("warn", "fail"):
        fail(f"--on-gap must be warn or fail, not {on_gap!r}")
    owner = _owns_the_process()
    if owner:
        _lean_malloc()
    # importing numba and loading the kernels from its disk cache is the longest stretch before the
    # compute (≈ 0.5 s CPU, much of it in LLVM, outside the GIL): it starts first and runs in a thread
    # while Arrow is imported and the files are read and checked
    loader = _KernelLoader(quiet) if jit else None
    if owner:
        _arrow_on_system_allocator()
    try:
        frame, tf = _read(data, timeframe)
    except (InputDataError, ValueError) as exc:
        fail(str(exc))
    _report_quality(frame, tf, quiet=quiet, fail_on_gap=on_gap == "fail")
    if resample:
        from ictbot.indicators.resampling import resample as resample_frame

        try:
            target = Timeframe.parse(resample)
            frame, _complete = resample_frame(frame, tf, target)
        except ValueError as exc:
            fail(str(exc))
        tf = target
    _import_writer(fmt)
    events = _compute(frame, tf, params, loader, quiet)
    _write(events, out, fmt)
    if not quiet:
        _summary(events, len(frame), tf, out)
    return events.count


def _format(fmt: str | None, out: Path) -> str:
    from ictbot.indicators.export import FORMATS

    if fmt is None:
        return SUFFIX_FORMATS.get(out.suffix.lower(), "jsonl")
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameter numbers


def _owns_the_process() -> bool:
    """True when ``ictbot`` is the program (its console script or ``python -m ictbot``), not a library
    call inside a longer-lived process (a test runner, a notebook): the allocator settings below are
    process-wide and cannot be undone."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return Path(sys.argv[0]).name == "ictbot" or getattr(main_spec, "name", "") in ("ictbot", "ictbot.__main__")


def _lean_malloc() -> None:
    """Peak RSS (a year of 5m candles: ≈ 430 → 405 MB for the mmap threshold, ≈ 475 → 430 MB with the
    Arrow pool below): one glibc malloc arena for every thread, so what the reading and loading threads
    free is reused instead of staying in their arenas; every block of 1 MiB or more mapped on its own, so
    the kernels' worst-case event buffers go back to the system when freed (glibc's moving threshold
    would put later arrays on the heap, where freed holes stay). Before any thread starts; no-op
    without glibc."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_ARENA_MAX, 1)
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)


def _arrow_on_system_allocator() -> None:
    """Arrow's buffers from the (lean) malloc above instead of mimalloc's own heaps (peak RSS)."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def _import_writer(fmt: str) -> None:
    """The table builder and the file writer imported now, while the kernel loader may still run, not
    after the compute."""
    import ictbot.indicators.export.table  # noqa: F401

    if fmt == "parquet":
        import pyarrow.parquet  # noqa: F401


def _exit_at_once() -> NoReturn:
    """End the process as soon as the export is done: the file is closed and in place, so the
    interpreter's teardown (freeing numba's, LLVM's and Arrow's state and every module, ≈ 0.3 s CPU on
    this export) has nothing left to do. Output streams and log handlers are flushed first."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


class _KernelLoader:
    """Loads the kernels from numba's disk cache in a thread (or first compiles them, saying so);
    ``wait`` joins it and re-raises its error. numba's import and the cache check run in the thread
    too, so all of it overlaps the reading of the candle files."""

    def __init__(self, quiet: bool) -> None:
        from ictbot.indicators import kernels

        if not kernels.available():
            fail("the compiled kernels need numba (a dependency of ictbot: pip install numba); "
                 "--no-jit uses the Python engine")
        self.quiet = quiet
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._load, name="ictbot-kernel-load", daemon=True)
        self.thread.start()

    def _load(self) -> None:
        from ictbot.indicators import kernels

        try:
            if not kernels.compiled() and not self.quiet:
                console.print("[dim]compiling the indicator kernels (first run of this install, 1-2 min; "
                              "cached afterwards; --no-jit skips it)[/]")
            kernels.warm_up()
        except BaseException as exc:  # handed to the main thread by wait()
            self.error = exc

    def wait(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise self.error


@dataclass(frozen=True)
class _Events:
    """The export's table as ``schema`` and the slices a writer takes one at a time (``chunks`` builds
    them as it goes); ``kinds``: each event's kind code (for the summary)."""

    schema: pa.Schema
    chunks: Callable[[], Iterator[EventTable]]
    count: int
    kinds: npt.NDArray[np.int64]


def _compute(frame: CandleFrame, tf: Timeframe, params: Any, loader: _KernelLoader | None,
             quiet: bool) -> _Events:
    from ictbot.indicators import export

    if loader is not None:
        from ictbot.indicators import kernels

        with ExitStack() as stack:
            if not quiet:
                stack.enter_context(console.status(f"[bold]indicators[/] {tf.value}: compiled kernels",
                                                   spinner="dots"))
            loader.wait()
            columns = kernels.compute_columns(frame.open_time, frame.open, frame.high, frame.low, frame.close, tf,
                                              params)
        from ictbot.indicators.kernels.codes import KIND

        kinds = columns.ints[:, KIND].astype("int64")
        return _Events(export.schema_of(columns), lambda: export.column_chunks(columns), len(columns), kinds)
    from ictbot.indicators.suite import compute

    with Progress(TextColumn("[bold]indicators[/] {task.description}"), BarColumn(),
                  TextColumn("{task.completed:,}/{task.total:,} candles"), TimeElapsedColumn(),
                  console=console, disable=quiet, transient=True) as progress:
        task = progress.add_task(tf.value, total=len(frame))
        result = compute(frame.open_time, frame.open, frame.high, frame.low, frame.close, tf, params,
                         progress=lambda k: progress.update(task, completed=k))
    table = export.from_events(result.events)
    return _Events(table.table.schema, lambda: _slices(table), len(table), table.kinds)


def _slices(table: EventTable) -> Iterator[EventTable]:
    for start in range(0, len(table), TEXT_CHUNK_ROWS):
        yield table.slice(start, min(start + TEXT_CHUNK_ROWS, len(table)))


def _write(events: _Events, out: Path, fmt: str) -> None:
    """Write the file slice by slice (parquet row groups, feather record batches, text lines; for the
    binary formats the next slices are built in a thread meanwhile) next to its final name and move it
    there (no half-written export under that name)."""
    import pyarrow as pa

    from ictbot.indicators.export.prefetch import prefetched

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # ids are unique: a dictionary page for them is built and then abandoned (CPU, a bigger file)
            dictionary = [name for name in events.schema.names if name != "id"]
            with pq.ParquetWriter(partial, events.schema, use_dictionary=dictionary) as writer:
                for chunk in prefetched(events.chunks()):
                    writer.write_table(chunk.table)
        elif fmt == "feather":
            # as pyarrow.feather.write_feather writes it: Arrow IPC file, lz4 when available
            compression = "lz4" if pa.Codec.is_available("lz4") else None
            with pa.ipc.new_file(partial, events.schema,
                                 options=pa.ipc.IpcWriteOptions(compression=compression)) as writer:
                for chunk in prefetched(events.chunks()):
                    writer.write_table(chunk.table)
        else:
            _write_text(events, partial, fmt)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def _write_text(events: _Events, path: Path, fmt: str) -> None:
    from ictbot.indicators.export.text import csv_text, jsonl_text, text_bytes

    with path.open("wb") as handle:
        if fmt == "csv" and events.count:
            handle.write((",".join(events.schema.names) + "\r\n").encode())
        for chunk in events.chunks():  # no prefetch: formatting text holds the GIL much of the time
            for start in range(0, len(chunk), TEXT_SLICE_ROWS):
                part = chunk.slice(start, min(start + TEXT_SLICE_ROWS, len(chunk)))
                handle.write(text_bytes(csv_text(part) if fmt == "csv" else jsonl_text(part)))


def _summary(events: _Events, n: int, tf: Timeframe, out: Path) -> None:
    import numpy as np

    from ictbot.indicators.kernels.codes import KINDS

    counts = Counter({KINDS[code]: int(count) for code, count in enumerate(np.bincount(events.kinds,
                                                                                        minlength=len(KINDS)))
                      if count})
    console.print(f"{n:,} {tf.value} candles → {events.count:,} events in {out}")
    if counts:
        console.print(f"[dim]{', '.join(f'{kind} {count}' for kind, count in counts.most_common())}[/]")


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


# ---- the row-by-row exporter this module used before (reference of the csv / jsonl format; tests) ----


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
