"""Import candle files (Binance dump CSVs or zips, freqtrade feather) into the candle store.

Binance dumps keep their exact decimal strings, quote volume and trade count; other formats are
stored from their float columns (``repr(float)``, exact for the value read).

Symbol, market and timeframe come from the file name (``BTCUSDT-5m-2024-01.csv`` — Binance;
``BTC_USDT-5m.feather`` / ``BTC_USDT_USDT-5m-futures.feather`` — freqtrade) or from explicit
arguments. Each file is read and validated completely first (``read_candle_file``: bad prices,
high < low, duplicate open times with different values are reported with file and line), then
written in ONE transaction: a bad file leaves nothing behind, the other files still import.
"""

from __future__ import annotations

import csv
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ictbot.adapters.files import read_candle_file
from ictbot.adapters.files.names import parse_candle_filename
from ictbot.candles.quality import DataQuality, assess
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe

TextRow = tuple[int, str, str, str, str, str, str, int]


class FrameStore(Protocol):
    """Where imported candles go (``SqlCandleStore`` of the file's market)."""

    async def upsert_frame(self, frame: CandleFrame, symbol: str, timeframe: Timeframe) -> int: ...

    async def upsert_text_rows(self, rows: Sequence[TextRow], symbol: str, timeframe: Timeframe) -> int: ...


StoreForMarket = Callable[[Market], FrameStore]


@dataclass(frozen=True, slots=True)
class FileSeries:
    symbol: str
    timeframe: Timeframe
    market: Market


@dataclass(frozen=True, slots=True)
class ImportReport:
    path: Path
    series: FileSeries | None
    rows: int
    error: str | None = None
    quality: DataQuality | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def infer_series(path: str | Path) -> FileSeries | None:
    """Symbol, timeframe and market from a Binance-dump or freqtrade file name; None if unknown."""
    named = parse_candle_filename(path)
    if named is None:
        return None
    return FileSeries(named.symbol, named.timeframe, named.market or Market.SPOT)


def read_any(path: Path) -> CandleFrame:
    """``read_candle_file`` plus zipped Binance dumps (one CSV inside, as data.binance.vision ships them)."""
    if path.suffix.lower() != ".zip":
        return read_candle_file(path)
    with zipfile.ZipFile(path) as archive:
        members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
        if len(members) != 1:
            raise InputDataError(str(path), f"expected one CSV inside the zip, found {len(members)}")
        with tempfile.TemporaryDirectory() as tmp:
            extracted = Path(archive.extract(members[0], tmp))
            try:
                check_column_counts(extracted)
                frame = read_candle_file(extracted)
            except InputDataError as exc:
                raise InputDataError(f"{path}!{members[0]}", exc.reason, exc.line) from None
    return CandleFrame(frame.open_time, frame.open, frame.high, frame.low, frame.close, frame.volume, (str(path),))


def binance_dump_text_rows(path: Path, frame: CandleFrame) -> list[TextRow] | None:
    """The exact decimal strings (plus quote volume and trade count) of a headerless Binance dump.

    ``read_candle_file`` has already validated the file as floats; this second, string-typed read
    keeps Binance's own digits instead of float round trips. None when the file is not such a dump
    (then the float frame is stored).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if path.suffix.lower() != ".csv":
        return None
    with path.open("r", newline="") as handle:
        first = handle.readline()
    if len(first.split(",")) < 9 or any(ch.isalpha() for ch in first.split(",")[0]):
        return None
    text = pa.string()
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            convert_options=pacsv.ConvertOptions(
                column_types={"f0": pa.int64(), "f1": text, "f2": text, "f3": text, "f4": text, "f5": text,
                              "f7": text, "f8": pa.int64()},
                include_columns=["f1", "f2", "f3", "f4", "f5", "f7", "f8"],
            ),
        )
    except Exception:  # pyarrow raises several types; the float frame is still good
        return None
    if table.num_rows != len(frame):
        return None
    columns = [table.column(name).to_pylist() for name in ("f1", "f2", "f3", "f4", "f5", "f7", "f8")]
    return list(zip(frame.open_time.tolist(), *columns, strict=True))


def check_column_counts(path: Path) -> None:
    """Every row of a CSV has the first row's column count (a cut row is an error, not a candle).

    The readers take only the columns they need, so a row missing its tail (9 of a Binance dump's
    12 columns) would otherwise import. Blank lines are skipped as the readers skip them.
    """
    if path.suffix.lower() != ".csv":
        return
    with path.open("r", newline="") as handle:
        expected, first = 0, 0
        for line, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            if not expected:
                expected, first = len(row), line
            elif len(row) != expected:
                reason = f"{len(row)} columns, expected {expected} as on line {first}"
                raise InputDataError(str(path), reason, line=line)


def _check_spacing(path: Path, frame: CandleFrame, timeframe: Timeframe) -> None:
    if len(frame) >= 2 and frame.infer_timeframe() is not timeframe:
        raise InputDataError(
            str(path), f"candles are {frame.infer_timeframe().value} apart, not {timeframe.value} as named"
        )
    misaligned = [int(t) for t in frame.open_time[:1000].tolist() if timeframe.floor(int(t)) != int(t)]
    if misaligned:
        raise InputDataError(str(path), f"open time {misaligned[0]} is not aligned to {timeframe.value}")


async def import_file(
    store_for: StoreForMarket,
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | None = None,
    market: Market | None = None,
    refuse_gaps: bool = False,
) -> ImportReport:
    """Import one file; with ``refuse_gaps`` a file with missing candles is reported and not stored."""
    file = Path(path)
    named = infer_series(file)
    chosen_symbol = symbol or (named.symbol if named else None)
    chosen_tf = timeframe or (named.timeframe if named else None)
    chosen_market = market or (named.market if named else Market.SPOT)
    if chosen_symbol is None or chosen_tf is None:
        return ImportReport(file, None, 0, f"{file}: cannot tell symbol/timeframe from the name; pass them")
    series = FileSeries(chosen_symbol.upper().replace("/", "").replace("_", ""), chosen_tf, chosen_market)
    if named is not None and named.symbol != series.symbol:
        return ImportReport(file, series, 0, f"{file}: named for {named.symbol}, not --symbol {series.symbol}")
    if named is not None and named.timeframe is not series.timeframe:
        return ImportReport(file, series, 0, f"{file}: named {named.timeframe.value}, not --timeframe "
                                             f"{series.timeframe.value}")
    try:
        check_column_counts(file)
        frame = read_any(file)
        _check_spacing(file, frame, series.timeframe)
    except InputDataError as exc:
        return ImportReport(file, series, 0, str(exc))
    quality = assess(frame.open_time, frame.open, frame.high, frame.low, frame.close, frame.volume, series.timeframe)
    if refuse_gaps and quality.gaps:
        first = quality.gaps[0].to_json()
        return ImportReport(file, series, 0, f"{file}: {len(quality.gaps)} gap(s) in the candles, first "
                                             f"{first['start']} → {first['end']} (--on-gap fail)", quality)
    store = store_for(series.market)
    exact = binance_dump_text_rows(file, frame)
    if exact is not None:
        rows = await store.upsert_text_rows(exact, series.symbol, series.timeframe)
    else:
        rows = await store.upsert_frame(frame, series.symbol, series.timeframe)
    return ImportReport(file, series, rows, quality=quality)


async def import_files(
    store_for: StoreForMarket,
    paths: Sequence[str | Path],
    *,
    symbol: str | None = None,
    timeframe: Timeframe | None = None,
    market: Market | None = None,
    on_file: Callable[[ImportReport], None] | None = None,
    refuse_gaps: bool = False,
) -> list[ImportReport]:
    """Import each file on its own (all or nothing per file); returns one report per file."""
    reports: list[ImportReport] = []
    for path in paths:
        report = await import_file(store_for, path, symbol=symbol, timeframe=timeframe, market=market,
                                   refuse_gaps=refuse_gaps)
        reports.append(report)
        if on_file is not None:
            on_file(report)
    return reports
