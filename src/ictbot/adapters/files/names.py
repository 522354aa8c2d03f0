"""What a candle file's name says: symbol, timeframe and market (the one parser of file names).

Names understood:

* Binance public dumps (data.binance.vision): ``BTCUSDT-5m-2024-01.csv``, ``BTCUSDT-5m-2024-01-15.zip``
  (also without the date: ``BTCUSDT-5m.csv``). The symbol is not split into base and quote.
* freqtrade: ``BTC_USDT-5m.feather`` (spot), ``BTC_USDT_USDT-5m-futures.feather`` (USD-M); the symbol
  is the joined pair (``BTCUSDT``) and base/quote are known. Mark, index and funding-rate files
  (``-mark``, ``-funding_rate``...) are not traded candles: their names give nothing.

A ``--data`` value ``SYMBOL=PATH[,PATH...]`` names the symbol explicitly (for files whose name does not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe

_BINANCE = re.compile(r"^(?P<symbol>[A-Z0-9]{2,})-(?P<tf>\d+[mhdw])(?:-\d{4}-\d{2}(?:-\d{2})?)?$")
_FREQTRADE = re.compile(
    r"^(?P<base>[A-Z0-9]+)_(?P<quote>[A-Z0-9]+)(?:_(?P<settle>[A-Z0-9]+))?-(?P<tf>\d+[mhdw])"
    r"(?:-(?P<kind>[a-z_]+))?$"
)
_EXPLICIT = re.compile(r"^[A-Za-z0-9]{2,20}$")


@dataclass(frozen=True, slots=True)
class NamedSeries:
    """What a file name says; ``base``/``quote`` only when the name separates them, ``market`` only
    when it tells (freqtrade names do; Binance dump names do not)."""

    symbol: str
    timeframe: Timeframe
    market: Market | None = None
    base: str | None = None
    quote: str | None = None


def parse_candle_filename(path: str | Path) -> NamedSeries | None:
    """Symbol, timeframe and market hint from a candle file's name; None when the name is not one
    of the known styles (``candles.csv``) or names no traded candles (``BTC_USDT_USDT-1h-mark``)."""
    stem = Path(path).name.split(".")[0]
    match = _BINANCE.match(stem)
    if match:
        timeframe = _timeframe(match["tf"])
        return None if timeframe is None else NamedSeries(match["symbol"], timeframe)
    match = _FREQTRADE.match(stem)
    if match is None or match["kind"] not in (None, "futures"):
        return None
    timeframe = _timeframe(match["tf"])
    if timeframe is None:
        return None
    futures = match["settle"] is not None or match["kind"] == "futures"
    return NamedSeries(match["base"] + match["quote"], timeframe, Market.USDM if futures else Market.SPOT,
                       match["base"], match["quote"])


def _timeframe(text: str) -> Timeframe | None:
    try:
        return Timeframe(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DataGroup:
    """The files of one symbol, with where the symbol came from (for error messages)."""

    symbol: str
    files: tuple[Path, ...]
    timeframe: Timeframe | None  # what the names say (all of them agree), None if they do not say
    market: Market | None
    from_name: bool  # the symbol came from the file names (not from SYMBOL=PATH or --symbol)


def split_data_arg(arg: str) -> tuple[str | None, list[Path]]:
    """``SYMBOL=PATH[,PATH...]`` → (``SYMBOL``, paths); a plain path → (None, [path])."""
    head, sep, rest = arg.partition("=")
    if sep and _EXPLICIT.match(head.strip()) and rest:
        return head.strip().upper(), [Path(p) for p in rest.split(",") if p]
    return None, [Path(arg)]


def group_data_files(args: Sequence[str], symbols: Sequence[str] = ()) -> list[DataGroup]:
    """Group ``--data`` values by symbol: ``SYMBOL=PATH`` first, else the file name, else the one
    ``--symbol`` given. Directories stand for the files in them.

    Refused with ``InputDataError`` (one line, naming the file): a ``--symbol`` that no file is for,
    a file whose name names another symbol than ``SYMBOL=`` / ``--symbol``, a name the symbol cannot
    be read from when neither says it, files of one symbol named with different timeframes.
    """
    wanted = [s.upper() for s in symbols]
    groups: dict[str, list[tuple[Path, NamedSeries | None, bool]]] = {}
    for arg in args:
        explicit, paths = split_data_arg(arg)
        for file in _expand(paths):
            named = parse_candle_filename(file)
            symbol = _symbol_for(file, named, explicit, wanted)
            groups.setdefault(symbol, []).append((file, named, explicit is None and named is not None))
    if not groups:
        raise InputDataError("--data", "no files given")
    missing = [s for s in wanted if s not in groups]
    if missing:
        raise InputDataError(f"--symbol {missing[0]}", f"no --data file is for this symbol (files are for "
                                                       f"{', '.join(sorted(groups))})")
    return [_group(symbol, entries) for symbol, entries in groups.items()]


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputDataError(str(path), "file not found")
        files.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    return files


def _symbol_for(file: Path, named: NamedSeries | None, explicit: str | None, wanted: list[str]) -> str:
    if named is not None and explicit is not None and named.symbol != explicit:
        raise InputDataError(str(file), f"named for {named.symbol}, not {explicit} as {explicit}= says")
    if named is not None and wanted and named.symbol not in wanted:
        raise InputDataError(str(file), f"named for {named.symbol}, not --symbol {' / '.join(wanted)}")
    if explicit is not None:
        return explicit
    if named is not None:
        return named.symbol
    if len(wanted) == 1:
        return wanted[0]
    raise InputDataError(str(file), "cannot tell the symbol from the file name (BTCUSDT-5m-2024-01.csv, "
                                    "BTC_USDT-5m.feather); pass SYMBOL=PATH or one --symbol")


def _group(symbol: str, entries: list[tuple[Path, NamedSeries | None, bool]]) -> DataGroup:
    timeframes = {named.timeframe for _f, named, _n in entries if named is not None}
    if len(timeframes) > 1:
        listed = ", ".join(sorted(tf.value for tf in timeframes))
        raise InputDataError(symbol, f"the files are named with different timeframes ({listed})")
    markets = {named.market for _f, named, _n in entries if named is not None and named.market is not None}
    return DataGroup(
        symbol, tuple(f for f, _named, _n in entries), next(iter(timeframes), None),
        next(iter(markets)) if len(markets) == 1 else None, all(n for _f, _named, n in entries),
    )


def check_named_timeframe(paths: Iterable[str | Path], spacing: Timeframe) -> None:
    """Refuse a file whose name says one timeframe while the candles are ``spacing`` apart."""
    for path in paths:
        named = parse_candle_filename(path)
        if named is not None and named.timeframe is not spacing:
            raise InputDataError(str(path), f"named {named.timeframe.value} but the candles are {spacing.value} apart")
