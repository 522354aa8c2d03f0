"""Candle series the replay plays: one per symbol, at one base timeframe, prices on the tick grid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ictbot.adapters.files import read_candle_files
from ictbot.adapters.files.names import check_named_timeframe, group_data_files, parse_candle_filename
from ictbot.domain.candle_frame import CandleFrame
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
    """``BTCUSDT-5m-2024-01.csv`` / ``BTC_USDT-5m.feather`` → ``BTCUSDT`` (``adapters.files.names``)."""
    named = parse_candle_filename(path)
    if named is None:
        raise InputDataError(str(path), "cannot tell the symbol from the file name; use SYMBOL=PATH")
    return named.symbol


def load_data_args(args: list[str]) -> dict[str, CandleSeries]:
    """Parse ``--data`` values: ``SYMBOL=PATH[,PATH...]``, a file, or a directory of files.

    Files without an explicit symbol are grouped by the symbol in their name
    (``adapters.files.names.group_data_files``: a name that contradicts ``SYMBOL=`` or the candles'
    spacing is refused). Every file goes through ``read_candle_files`` (ms/µs dumps, feather, headed CSV).
    """
    series: dict[str, CandleSeries] = {}
    for group in group_data_files(args):
        frame = read_candle_files(group.files)
        check_named_timeframe(group.files, frame.infer_timeframe())
        series[group.symbol] = CandleSeries.from_frame(group.symbol, frame)
    return series


def price_decimal(value: float, tick: Decimal) -> Decimal:
    """A float price from a file/generator as a Decimal on the tick grid."""
    raw = Decimal(repr(float(value)))
    if tick <= 0:
        return raw
    return (raw / tick).to_integral_value() * tick
