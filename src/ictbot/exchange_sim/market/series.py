"""Candle series the replay plays: one per symbol, at one base timeframe, prices on the tick grid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ictbot.adapters.files import CandleFrame, read_candle_files
from ictbot.domain.errors import InputDataError
from ictbot.domain.timeframe import Timeframe

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CandleSeries:
    symbol: str
    timeframe: Timeframe
    open_time: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    synthetic: bool = False

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    def index_at(self, time_ms: int) -> int:
        """Index of the candle whose open time is ``time_ms`` (or the next one)."""
        return int(np.searchsorted(self.open_time, time_ms, side="left"))

    @classmethod
    def from_frame(cls, symbol: str, frame: CandleFrame, synthetic: bool = False) -> CandleSeries:
        return cls(symbol, frame.infer_timeframe(), frame.open_time, frame.open, frame.high, frame.low,
                   frame.close, frame.volume, synthetic)


def symbol_from_filename(path: Path) -> str:
    """``BTCUSDT-5m-2024-01.csv`` → ``BTCUSDT`` (Binance dump naming); else the stem upper-cased."""
    return path.name.split("-")[0].split("_")[0].split(".")[0].upper()


def load_data_args(args: list[str]) -> dict[str, CandleSeries]:
    """Parse ``--data`` values: ``SYMBOL=PATH[,PATH...]``, a file, or a directory of files.

    Files without an explicit symbol are grouped by the symbol in their name. Every file goes
    through ``ictbot.adapters.files.read_candle_files`` (ms/µs dumps, feather, headed CSV).
    """
    groups: dict[str, list[Path]] = {}
    for arg in args:
        symbol, sep, rest = arg.partition("=")
        paths = [Path(p) for p in (rest if sep else arg).split(",") if p]
        explicit = symbol.upper() if sep else None
        for path in paths:
            files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
            for file in files:
                groups.setdefault(explicit or symbol_from_filename(file), []).append(file)
    if not groups:
        raise InputDataError("--data", "no files given")
    return {symbol: CandleSeries.from_frame(symbol, read_candle_files(files)) for symbol, files in groups.items()}


def price_decimal(value: float, tick: Decimal) -> Decimal:
    """A float price from a file/generator as a Decimal on the tick grid."""
    raw = Decimal(repr(float(value)))
    if tick <= 0:
        return raw
    return (raw / tick).to_integral_value() * tick
