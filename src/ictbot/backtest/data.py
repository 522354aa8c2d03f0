"""Market data for a backtest: files → validated columns → strategy and detail timeframes.

Files are read with the project's loader (``ictbot.adapters.files``); higher timeframes are built
from the base data with the same aggregation the live candle service uses (``ictbot.candles``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ictbot.adapters.files import read_candle_files
from ictbot.adapters.files.names import check_named_timeframe, group_data_files
from ictbot.candles.aggregate import aggregate
from ictbot.candles.quality import DataQuality, assess
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import InputDataError
from ictbot.domain.timeframe import Timeframe


@dataclass(frozen=True, slots=True)
class DataFile:
    """One input file as recorded in the run metadata."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class MarketData:
    """Candles of one symbol: ``frame`` at the strategy timeframe, ``detail`` (optional) finer."""

    symbol: str
    timeframe: Timeframe
    frame: CandleFrame
    files: tuple[DataFile, ...] = ()
    detail_timeframe: Timeframe | None = None
    detail: CandleFrame | None = None
    source_timeframe: Timeframe | None = None
    extra: dict[str, CandleFrame] = field(default_factory=dict)
    quality: DataQuality | None = None  # of the source candles between --start and --end

    def __len__(self) -> int:
        return len(self.frame)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(paths: Sequence[str | Path]) -> tuple[DataFile, ...]:
    return tuple(
        DataFile(str(Path(p)), sha256_file(p), Path(p).stat().st_size) for p in sorted(str(p) for p in paths)
    )


def parse_time(text: str | None) -> int | None:
    """``2024-01-31``, ``2024-01-31T12:00`` (UTC unless an offset is given) or epoch ms → ms."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read time {text!r}; use YYYY-MM-DD[THH:MM] (UTC) or epoch ms") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def files_for_symbol(paths: Sequence[str | Path], symbol: str, symbols: Sequence[str]) -> list[str]:
    """Files that belong to ``symbol``: by ``SYMBOL=PATH``, else by the symbol in the file name
    (``adapters.files.names``), else all of them for a single-symbol run."""
    for group in group_data_files([str(p) for p in paths], symbols):
        if group.symbol == symbol.upper():
            return [str(f) for f in group.files]
    raise InputDataError(symbol, "no --data file is for this symbol (e.g. BTCUSDT-5m-2024-01.csv)")


def aggregate_frame(frame: CandleFrame, base: Timeframe, target: Timeframe) -> CandleFrame:
    """Build ``target`` candles from ``base`` candles with the live candle service's aggregation."""
    if target == base:
        return frame
    if not target.is_multiple_of(base):
        raise InputDataError(",".join(frame.sources), f"cannot build {target.value} from {base.value} candles")
    return aggregate(frame, base, target)


def load_market_data(
    paths: Sequence[str | Path],
    symbol: str,
    timeframe: Timeframe,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    detail_timeframe: Timeframe | None = None,
) -> MarketData:
    """Read ``paths`` and prepare the strategy timeframe (and the detail timeframe, if asked)."""
    raw = read_candle_files(paths)
    source_tf = raw.infer_timeframe()
    check_named_timeframe(paths, source_tf)
    if detail_timeframe is not None:
        if not timeframe.is_multiple_of(detail_timeframe) or detail_timeframe == timeframe:
            raise InputDataError(symbol, f"--detail-timeframe {detail_timeframe.value} must be finer than "
                                         f"--timeframe {timeframe.value} and divide it")
        if not detail_timeframe.is_multiple_of(source_tf):
            raise InputDataError(symbol, f"--detail-timeframe {detail_timeframe.value} needs {detail_timeframe.value} "
                                         f"or finer data; the files hold {source_tf.value} candles")
    if not timeframe.is_multiple_of(source_tf):
        raise InputDataError(symbol, f"the files hold {source_tf.value} candles; cannot build {timeframe.value}")
    # Cut on bucket boundaries of the strategy timeframe so the first candle is complete.
    lo = None if start_ms is None else timeframe.floor(start_ms + timeframe.ms - 1)
    hi = None if end_ms is None else timeframe.floor(end_ms)
    raw = raw.between(lo, hi)
    if not len(raw):
        raise InputDataError(symbol, "no candles between --start and --end")
    quality = assess(raw.open_time, raw.open, raw.high, raw.low, raw.close, raw.volume, source_tf)
    frame = aggregate_frame(raw, source_tf, timeframe)
    detail = None if detail_timeframe is None else aggregate_frame(raw, source_tf, detail_timeframe)
    return MarketData(
        symbol=symbol.upper(), timeframe=timeframe, frame=frame, files=describe_files(paths),
        detail_timeframe=detail_timeframe, detail=detail, source_timeframe=source_tf, quality=quality,
    )


def data_quality_document(datasets: Sequence[MarketData]) -> dict[str, Any]:
    """The results document's ``data_quality``: every symbol's gaps (each naming its symbol) and the
    counts summed; the per-symbol detail sits under ``symbols.<SYMBOL>.data_quality``."""
    measured = [(d.symbol, d.quality) for d in datasets if d.quality is not None]
    return {
        "gaps": [{"symbol": symbol, **gap.to_json()} for symbol, q in measured for gap in q.gaps],
        "missing_candles": sum(q.missing for _s, q in measured),
        "zero_volume": sum(q.zero_volume for _s, q in measured),
        "duplicates": sum(q.duplicates for _s, q in measured),
        "out_of_order": sum(q.out_of_order for _s, q in measured),
    }
