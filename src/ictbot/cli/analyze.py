"""``ictbot analyze lookahead|recursive``: check a strategy for lookahead and for missing warm-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ictbot.cli.common import fail, make_console

if TYPE_CHECKING:
    from ictbot.analysis.compare import Difference
    from ictbot.analysis.runs import Progress as ProgressCallback
    from ictbot.backtest.data import MarketData
    from ictbot.backtest.run import BacktestSpec

_LOOKAHEAD_HELP = """Does the strategy use candles that closed after its decisions? It runs on the full data and on copies cut after --cuts points drawn with --seed (half right after one of its signals); every signal decided at or before a cut, and every trade entered before it, must be the same in both, field by field. Each difference is printed with its time and fields; exit code 1 when there is one.

Same code path, risk gate and trading config as `ictbot backtest`.

Example: ictbot analyze lookahead --data data/BTCUSDT-5m-2024-0*.csv --strategy my_strategy.py:MyStrategy --cuts 20
"""  # noqa: E501 - typer rewraps paragraphs

_RECURSIVE_HELP = """Does the strategy need more history than it declares (its warmup_candles)? It runs from the first candle and from later start offsets; from each offset + warm-up on, the signals must be those of the run from the first candle (prices to 1e-9 relative). Signals only one run has are not counted while either run held a position. Exit code 1 when a difference is found.

Same code path as `ictbot backtest` (circuit breakers off: they follow each run's own P&L).

Example: ictbot analyze recursive --data data/BTCUSDT-5m-2024-0*.csv --strategy strategy_b --offset 2000 --offset 6000
"""  # noqa: E501


DataOption = Annotated[list[str], typer.Option("--data", help="Candle files or SYMBOL=PATH, as for `ictbot "
                                               "backtest`; repeat for several.")]
MoreData = Annotated[list[str] | None, typer.Argument(help="More candle files (a shell glob after --data).",
                                                      show_default=False)]
StrategyOption = Annotated[str, typer.Option(help="Built-in kind (strategy_a, strategy_b, s1_ema_cross, s2_fvg) or "
                                             "path/to/my_strategy.py:ClassName.")]
SymbolOption = Annotated[list[str] | None, typer.Option("--symbol", help="Symbol; default: from the file names.")]
TimeframeOption = Annotated[str | None, typer.Option(help="Strategy (base) timeframe; default: the files'.")]
ConfigOption = Annotated[Path | None, typer.Option(help="The trading config (strategy params, risk), as for "
                                                   "`ictbot backtest`.")]
StartOption = Annotated[str | None, typer.Option(help="First candle, UTC: 2024-01-01 or 2024-01-01T08:00.")]
EndOption = Annotated[str | None, typer.Option(help="End (exclusive), UTC.")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Write the findings as JSON here.")]
PerCandleOption = Annotated[bool, typer.Option("--per-candle", help="Run ICT strategies on the streaming engine "
                                               "on every candle (as `backtest --per-candle`).")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Check a strategy: lookahead (uses the future?) and recursive (enough warm-up?).",
                        no_args_is_help=True)
    app.add_typer(group, name="analyze")
    group.command("lookahead", help=_LOOKAHEAD_HELP, no_args_is_help=True)(lookahead)
    group.command("recursive", help=_RECURSIVE_HELP, no_args_is_help=True)(recursive)


def lookahead(
    data: DataOption, more_data: MoreData = None, strategy: StrategyOption = "strategy_a",
    symbol: SymbolOption = None, timeframe: TimeframeOption = None, config: ConfigOption = None,
    start: StartOption = None, end: EndOption = None,
    cuts: Annotated[int, typer.Option(min=1, help="Number of truncated copies.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the cut points (same seed, same cuts).")] = 0,
    json_out: JsonOption = None, per_candle: PerCandleOption = False,
) -> None:
    from ictbot.analysis.lookahead import lookahead_analysis

    out = make_console()
    spec, datasets = _prepare([*data, *(more_data or [])], strategy, symbol, timeframe, config, start, end,
                              per_candle, out)
    with _progress(out) as on_progress:
        report = _guarded(lambda: lookahead_analysis(spec, datasets, cuts=cuts, seed=seed, progress=on_progress))
    compared = sum(c.signals_compared for c in report.cuts)
    trades = sum(c.trades_compared for c in report.cuts)
    out.print(f"lookahead {escape(spec.strategy)}: {len(report.cuts)} cuts (seed {seed}), {compared} signals "
              f"and {trades} trades compared", soft_wrap=True)
    _finish(out, report.differences, report.to_json(), json_out, nothing=compared + trades == 0)


def recursive(
    data: DataOption, more_data: MoreData = None, strategy: StrategyOption = "strategy_a",
    symbol: SymbolOption = None, timeframe: TimeframeOption = None, config: ConfigOption = None,
    start: StartOption = None, end: EndOption = None,
    offset: Annotated[list[int] | None, typer.Option("--offset", help="Start a run at this candle (repeat "
                                                     "for several). Default: three spread over the data.")] = None,
    warmup: Annotated[int | None, typer.Option(min=0, help="Warm-up candles to check instead of the "
                                               "strategy's declared warmup_candles.")] = None,
    json_out: JsonOption = None, per_candle: PerCandleOption = False,
) -> None:
    from ictbot.analysis.recursive import recursive_analysis

    out = make_console()
    spec, datasets = _prepare([*data, *(more_data or [])], strategy, symbol, timeframe, config, start, end,
                              per_candle, out)
    with _progress(out) as on_progress:
        report = _guarded(lambda: recursive_analysis(spec, datasets, offsets=offset, warmup=warmup,
                                                     progress=on_progress))
    compared = sum(o.signals_compared for o in report.offsets)
    skipped = sum(o.skipped_while_holding for o in report.offsets)
    starts = ", ".join(f"{o.offset:,}" for o in report.offsets)
    out.print(f"recursive {escape(spec.strategy)}: warm-up {report.warmup_candles:,} candles, starts at "
              f"candles {starts}; {compared} signals compared, {skipped} one-sided signals not counted "
              "(a run held a position)", soft_wrap=True)
    _finish(out, report.differences, report.to_json(), json_out, nothing=compared == 0)


def _prepare(data: list[str], strategy: str, symbols: list[str] | None, timeframe: str | None,
             config: Path | None, start: str | None, end: str | None, per_candle: bool,
             out: Console) -> tuple[BacktestSpec, list[MarketData]]:
    """The backtest's own spec (trading config, flags) and data for the analysis runs."""
    from ictbot.cli.backtest import _quiet_logs, build_spec, default_flags, load_setup
    from ictbot.cli.backtest_data import load_checked, resolve_data
    from ictbot.cli.exchange_info import use_stored_rules
    from ictbot.domain.errors import IctbotError

    _quiet_logs()
    setup = load_setup(config)
    try:
        entries, chosen, chosen_tf = resolve_data(data, symbols or [], timeframe)
        flags = default_flags(strategy, list(chosen), chosen_tf.value, per_candle=per_candle)
        spec = build_spec(flags, setup, entries, start, end)
        use_stored_rules()
        loaded = load_checked(spec, out, fail_on_gap=False)
    except (ValueError, IctbotError) as exc:
        fail(str(exc))
    return spec, loaded.datasets


def _guarded(run: Any) -> Any:
    from ictbot.domain.errors import IctbotError

    try:
        return run()
    except (ValueError, IctbotError) as exc:
        fail(str(exc))


@contextmanager
def _progress(console: Console) -> Iterator[ProgressCallback]:
    """A progress bar over the analysis' backtest runs (transient: gone once they are done)."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                   TimeElapsedColumn(), console=console, transient=True)
    with bar:
        task = bar.add_task("analysis", total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total)

        yield update


def _finish(out: Console, differences: list[Difference], document: dict[str, Any], json_out: Path | None,
            *, nothing: bool) -> None:
    if json_out is not None:
        json_out.write_text(json.dumps(document, indent=1) + "\n")
        out.print(f"findings: {json_out}")
    if nothing:
        out.print("[yellow]warning:[/] nothing was compared (no signal in the compared stretches): give more "
                  "data or other cut points/offsets", soft_wrap=True)
    if not differences:
        out.print("[green]OK[/]: no difference found")
        return
    out.print(f"[red]FOUND {len(differences)} difference(s)[/]:")
    for difference in differences:
        out.print(f"  {escape(difference.describe())}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=1)
