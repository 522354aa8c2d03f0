"""``ictbot backtest``'s data arguments: symbol and timeframe from the file names, quality printed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console

from ictbot.cli.common import fail

if TYPE_CHECKING:
    from ictbot.backtest.data import MarketData
    from ictbot.backtest.run import BacktestSpec
    from ictbot.domain.timeframe import Timeframe


def resolve_data(args: list[str], symbols: list[str], timeframe: str | None
                 ) -> tuple[tuple[str, ...], tuple[str, ...], Timeframe]:
    """``--data`` values as ``SYMBOL=PATH`` entries (one per file), the symbols (``--symbol`` order,
    else the files'), and the timeframe: ``--timeframe``, else what the names say, else the spacing."""
    from ictbot.adapters.files import read_candle_files
    from ictbot.adapters.files.names import group_data_files
    from ictbot.domain.timeframe import Timeframe

    groups = group_data_files(args, symbols)
    order = [s.upper() for s in symbols] or [g.symbol for g in groups]
    by_symbol = {g.symbol: g for g in groups}
    entries = tuple(f"{s}={f}" for s in order for f in by_symbol[s].files)
    named = {g.timeframe for g in groups}
    if timeframe:
        chosen = Timeframe.parse(timeframe)
    elif len(named) == 1 and None not in named:
        chosen = next(tf for tf in named if tf is not None)
    else:
        chosen = read_candle_files(by_symbol[order[0]].files).infer_timeframe()
    return entries, tuple(order), chosen


@dataclass(frozen=True)
class LoadedData:
    datasets: list[MarketData]
    seconds: float


def load_checked(spec: BacktestSpec, out: Console, *, fail_on_gap: bool) -> LoadedData:
    """Read every symbol's files once, print their data quality; ``--on-gap fail`` stops on a gap."""
    from ictbot.backtest.data import files_for_symbol, load_market_data

    started = time.perf_counter()
    datasets = [
        load_market_data(files_for_symbol(spec.data, symbol, spec.symbols), symbol, spec.timeframe,
                         start_ms=spec.start_ms, end_ms=spec.end_ms, detail_timeframe=spec.detail_timeframe)
        for symbol in spec.symbols
    ]
    seconds = time.perf_counter() - started
    for data in datasets:
        lines = data.quality.describe() if data.quality is not None else []
        for line in lines:
            out.print(f"[yellow]{data.symbol} data quality:[/] {line.strip()}", highlight=False, soft_wrap=True)
        if fail_on_gap and data.quality is not None and data.quality.gaps:
            gap = data.quality.gaps[0].to_json()
            fail(f"{data.symbol}: {len(data.quality.gaps)} gap(s) in the candles, first {gap['start']} → "
                 f"{gap['end']} ({gap['missing']} missing); --on-gap fail", code=1)
    return LoadedData(datasets, seconds)
