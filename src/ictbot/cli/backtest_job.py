"""The worker process behind the dashboard's "start a backtest": ``python -m ictbot.cli.backtest_job JOB``.

``JOB`` is one JSON object (strategy, symbol, timeframe, start_ms, end_ms, database_url, market,
base_timeframe, config_file, output). The run is ``ictbot backtest``'s: the same ``build_spec`` from the
live configuration, ``run_backtest`` and ``results_document``; only the candles come from the bot's
database (its base timeframe, aggregated as the CLI aggregates finer files) instead of files.

It speaks JSON lines on stdout, one event each: ``invalid`` (``field`` and ``reason``; the API answers
422 with them), ``started`` (``total`` candles), ``phase`` (``phase``: what it does before the first
candle, ``null`` once it runs candles; today only the first run's kernel compile), ``progress``
(``done``, ``total``), ``done``
(``result``: the file written) or ``failed`` (``reason``). The results file is written under a
temporary name and renamed, so the reports folder never lists half a document. The worker exits on
its own when its parent (the API) is gone.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ictbot.backtest.data import MarketData
    from ictbot.backtest.run import BacktestSpec

PROGRESS_STEPS = 100  # at most one progress line per percent
COMPILING_KERNELS = "compiling indicator kernels (first run only, ~1–2 min)"


class Invalid(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def _spec(job: dict[str, Any]) -> BacktestSpec:
    import typer

    from ictbot.app.backtest_config import LiveSetup
    from ictbot.backtest.run import resolve
    from ictbot.cli.backtest import build_spec, default_flags
    from ictbot.domain.errors import ConfigError, IctbotError

    try:
        resolve(job["strategy"])
    except (IctbotError, ValueError, ImportError) as exc:
        raise Invalid("strategy", str(exc)) from exc
    try:
        setup = LiveSetup.load(Path(job["config_file"]) if job.get("config_file") else None)
    except ConfigError as exc:
        raise Invalid("config_file", f"trading config: {exc}") from exc
    try:
        flags = default_flags(job["strategy"], [job["symbol"]], job["timeframe"])
        return build_spec(flags, setup, (), str(job["start_ms"]), str(job["end_ms"]))
    except typer.Exit as exc:  # build_spec printed the reason (a stop-rule setting) as the CLI does
        raise Invalid("config_file", "the configuration's execution section is not valid for a backtest") from exc
    except (IctbotError, ValueError) as exc:
        raise Invalid("strategy", str(exc)) from exc


def _stored_candles(job: dict[str, Any], spec: BacktestSpec) -> MarketData:
    """The stored base candles of ``[start, end)`` as the CLI's ``load_market_data`` prepares files."""
    from ictbot.adapters.storage.candles import SqlCandleStore
    from ictbot.adapters.storage.database import Database
    from ictbot.backtest.data import MarketData, aggregate_frame
    from ictbot.candles.quality import assess
    from ictbot.domain.market import Market
    from ictbot.domain.timeframe import Timeframe

    base = Timeframe.parse(job["base_timeframe"])
    timeframe = spec.timeframe
    lo = timeframe.floor(job["start_ms"] + timeframe.ms - 1)  # whole strategy candles only, as the CLI cuts
    hi = timeframe.floor(job["end_ms"])

    async def load() -> Any:
        db = Database(job["database_url"])
        try:
            store = SqlCandleStore(db, market=Market(job["market"]))
            return await store.load_frame(spec.symbols[0], base, lo, hi)
        finally:
            await db.close()

    raw = asyncio.run(load())
    if not len(raw):
        raise Invalid("start_ms", f"no stored {base.value} candles of {spec.symbols[0]} between start and end")
    quality = assess(raw.open_time, raw.open, raw.high, raw.low, raw.close, raw.volume, base)
    frame = aggregate_frame(raw, base, timeframe)
    if not len(frame):
        raise Invalid("start_ms", f"no whole {timeframe.value} candle between start and end")
    return MarketData(symbol=spec.symbols[0], timeframe=timeframe, frame=frame, source_timeframe=base,
                      quality=quality)


def _reporter(parent: int) -> Any:
    last = [-1]

    def on_progress(_symbol: str, index: int, total: int) -> None:
        if os.getppid() != parent:  # the API is gone: nobody waits for this result
            os._exit(3)
        step = index * PROGRESS_STEPS // max(total, 1)
        if step != last[0]:
            last[0] = step
            emit("progress", done=index, total=total)

    return on_progress


def _kernels_to_compile(spec: BacktestSpec) -> bool:
    """Whether this run replays the compiled kernels and this install has no numba cache of them yet."""
    from ictbot.backtest.ict import uses_replay
    from ictbot.backtest.run import build_strategy
    from ictbot.indicators import kernels

    return uses_replay(build_strategy(spec), per_candle=spec.per_candle) and not kernels.compiled()


def compile_kernels_announced() -> None:
    """Compile the kernels before the first candle, saying so: otherwise the first backtest of an install
    sits at 0 % for 1-2 min with no word why, and the progress that follows is the run's own."""
    from ictbot.indicators import kernels

    emit("phase", phase=COMPILING_KERNELS)
    kernels.warm_up()
    emit("phase", phase=None)


def run(job: dict[str, Any], parent: int) -> None:
    from ictbot.backtest.run import results_document, run_backtest, write_json
    from ictbot.cli.exchange_info import use_stored_rules

    try:
        spec = _spec(job)
        data = _stored_candles(job, spec)
    except Invalid as exc:
        emit("invalid", field=exc.field, reason=exc.reason)
        return
    emit("started", total=len(data))
    use_stored_rules()
    if _kernels_to_compile(spec):
        compile_kernels_announced()
    outcome = run_backtest(spec, loaded=[data], progress=_reporter(parent))
    emit("progress", done=len(data), total=len(data))
    output = Path(job["output"])
    partial = output.with_name(output.name + ".part")
    write_json(results_document(outcome), partial)
    partial.replace(output)
    emit("done", result=output.name)


def main(argv: list[str]) -> int:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parent = os.getppid()
    try:
        run(json.loads(argv[1]), parent)
    except Exception as exc:  # the API shows the reason; the traceback goes to stderr for the log
        emit("failed", reason=f"{type(exc).__name__}: {exc}")
        raise
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
