"""Candle files: Binance dump CSVs (ms or µs), freqtrade feather files, the project's own CSV."""

from ictbot.adapters.files.candle_files import read_candle_file, read_candle_files, write_candle_csv
from ictbot.domain.candle_frame import CandleFrame  # re-exported: callers written before it moved to the core

__all__ = ["CandleFrame", "read_candle_file", "read_candle_files", "write_candle_csv"]
