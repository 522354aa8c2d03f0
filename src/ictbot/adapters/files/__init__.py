"""Candle files: Binance dump CSVs (ms or µs), freqtrade feather files, the project's own CSV."""

from ictbot.adapters.files.candle_files import CandleFrame, read_candle_file, read_candle_files, write_candle_csv

__all__ = ["CandleFrame", "read_candle_file", "read_candle_files", "write_candle_csv"]
