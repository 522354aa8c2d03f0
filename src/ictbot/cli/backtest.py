"""`ictbot backtest`: replay candle files through the live strategy, risk and execution stages."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ictbot.cli import backtest_options as opt
from ictbot.cli.common import fail, make_console

if TYPE_CHECKING:
    from ictbot.app.backtest_config import LiveSetup
    from ictbot.backtest.deviations import Deviation
    from ictbot.backtest.run import BacktestOutcome, BacktestSpec
    from ictbot.domain.timeframe import Timeframe

_HELP = """Backtest a strategy on candle files with the live code path: the same strategy objects, risk gate (sizing included) and order/position model as live trading; only the clock, the feed (your files) and the venue (an in-process fill model) differ. Higher timeframes are built from the files with the live aggregation.

Fill model: orders decided at a candle's close fill at the next open; stops trigger on a touch; targets and limit entries need the price to trade through (--touch-fills: a touch is enough); a candle that could hit both stop and target counts as a stop unless --detail-timeframe shows the order; fees and slippage on every fill; exchange filters enforced. Details: docs/backtesting.md.

Data: symbol and timeframe come from the file names (BTCUSDT-5m-2024-01.csv, ETH_USDT-15m.feather) or SYMBOL=PATH; a --symbol or --timeframe that contradicts them is refused. Gaps and zero-volume bars in the data are printed and written to the results (data_quality); --on-gap fail stops instead.

Example: ictbot backtest --data data/BTCUSDT-5m-*.csv --strategy strategy_a --json out.json --report out.html

Example: ictbot backtest --data BTCUSDT-1m.feather --timeframe 5m --detail-timeframe 1m --strategy strategy_b

Example: ictbot backtest --data d/*.csv --strategy s1_ema_cross --sweep fast=10,20,30 --sweep slow=50,100
"""  # noqa: E501 - typer rewraps paragraphs; hard line breaks would show as ragged lines


def _decimal(name: str, value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        fail(f"{name} must be a number, got {value!r}")


_STOP_FLAGS = {"breakeven_at_r": "--breakeven-at-r", "trail_at_r": "--trail-at-r", "trail_distance": "--trail-distance"}


def _stop_rules(from_config: dict[str, Any], flags: dict[str, float | None]) -> dict[str, Any] | None:
    """The live config's stop-moving settings (``execution`` section), flags winning; validated by
    the live schema so a bad value is named the same way as in ``ictbot run``. None: no rule moves
    the stop (neither breakeven nor trailing set)."""
    from pydantic import ValidationError

    from ictbot.app.backtest_config import STOP_RULE_KEYS
    from ictbot.app.config_model import ExecutionSection

    chosen = {**from_config, **{k: v for k, v in flags.items() if v is not None}}
    try:
        section = ExecutionSection.model_validate(chosen)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"execution.{'.'.join(map(str, first['loc']))}: {first['msg']}")
    if section.breakeven_at_r is None and section.trail_at_r is None:
        return None
    return {k: getattr(section, k) for k in STOP_RULE_KEYS}


@dataclass(frozen=True)
class BacktestFlags:
    """The command line as given (None: not given, the live configuration decides)."""

    strategy: str
    symbols: list[str] | None
    timeframe: str | None
    market: str | None
    fee: str | None
    slippage_bps: str | None
    cash: str | None
    stake: str | None
    detail_timeframe: str | None
    touch_fills: bool
    circuit_breakers: bool | None
    per_candle: bool
    stops: dict[str, float | None]


def default_flags(strategy: str, symbols: list[str], timeframe: str, *, fee: str | None = None,
                  cash: str | None = None, per_candle: bool = False) -> BacktestFlags:
    """The command line of a tool that offers only these of ``ictbot backtest``'s flags (``analyze``,
    ``optimize``): every other one not given, so the live configuration decides it."""
    return BacktestFlags(strategy=strategy, symbols=symbols, timeframe=timeframe, market=None, fee=fee,
                         slippage_bps=None, cash=cash, stake=None, detail_timeframe=None, touch_fills=False,
                         circuit_breakers=None, per_candle=per_candle, stops={})


def load_setup(config: Path | None) -> LiveSetup:
    from ictbot.app.backtest_config import LiveSetup
    from ictbot.domain.errors import ConfigError

    try:
        return LiveSetup.load(config)
    except ConfigError as exc:
        fail(f"trading config: {exc}")


def build_spec(flags: BacktestFlags, setup: LiveSetup, data: tuple[str, ...], start: str | None,
                end: str | None) -> BacktestSpec:
    from ictbot.backtest.data import parse_time
    from ictbot.backtest.run import REFERENCE_KINDS, BacktestSpec, resolve
    from ictbot.domain.market import Market
    from ictbot.domain.timeframe import Timeframe
    from ictbot.risk.limits import RiskLimits

    live = setup.config
    kind = resolve(flags.strategy).kind  # a user file's strategy is configured under its kind
    reference = flags.strategy in REFERENCE_KINDS
    timeframe = live.exchange.base_timeframe if flags.timeframe is None else Timeframe.parse(flags.timeframe)
    risk = None if reference else setup.risk_section(kind)
    live_fee = RiskLimits.model_validate(risk or {}).taker_fee_rate
    return BacktestSpec(
        data=data, symbols=tuple(s.upper() for s in (flags.symbols or live.exchange.symbols)),
        timeframe=timeframe, strategy=flags.strategy, params=setup.strategy_params(kind),
        start_ms=parse_time(start), end_ms=parse_time(end),
        initial_cash=_decimal("--cash", flags.cash or "10000"), stake=_decimal("--stake", flags.stake or "1000"),
        fee_rate=live_fee if flags.fee is None else _decimal("--fee", flags.fee),
        slippage_bps=_decimal("--slippage-bps", flags.slippage_bps or "0"),
        limit_fills_on_touch=flags.touch_fills,
        market=live.exchange.market if flags.market is None else Market(flags.market.lower()),
        detail_timeframe=None if flags.detail_timeframe is None else Timeframe.parse(flags.detail_timeframe),
        risk=risk, circuit_breakers=flags.circuit_breakers, limit_ttl_candles=setup.entry_ttl_candles(timeframe),
        per_candle=flags.per_candle, stop_rules=_stop_rules(setup.stop_settings(), flags.stops),
        config_file=None if setup.source is None else str(setup.source),
        extra_deviations=tuple(_flag_deviations(flags, setup, timeframe, reference)),
    )


def _flag_deviations(flags: BacktestFlags, setup: LiveSetup, timeframe: Timeframe, reference: bool) -> list[Deviation]:
    """Flags that override what the live configuration says (the spec alone cannot see them)."""
    from ictbot.backtest.deviations import Deviation

    live = setup.config
    found: list[Deviation] = []
    from ictbot.backtest.run import resolve

    kind = resolve(flags.strategy).kind
    status = None if reference else setup.strategy_status(kind)
    if status is not None:
        found.append(Deviation(f"strategies.{kind}", "backtested", f"not run: {status}"))
    if timeframe != live.exchange.base_timeframe:
        found.append(Deviation("exchange.base_timeframe", f"{timeframe.value} (data / --timeframe)",
                               live.exchange.base_timeframe.value))
    if flags.market is not None and flags.market.lower() != live.exchange.market.value:
        found.append(Deviation("exchange.market", f"{flags.market.lower()} (--market)", live.exchange.market.value))
    others = sorted({s.upper() for s in flags.symbols or ()} - set(live.exchange.symbols))
    if others:
        found.append(Deviation("exchange.symbols", f"{', '.join(others)} (data / --symbol)",
                               f"trades {', '.join(live.exchange.symbols)}"))
    configured = live.execution.model_dump()
    for key, value in flags.stops.items():
        if value is not None and value != configured[key]:
            found.append(Deviation(f"execution.{key}", f"{value} ({_STOP_FLAGS[key]})",
                                   "off" if configured[key] is None else str(configured[key])))
    return found


def register(app: typer.Typer) -> None:
    app.command("backtest", help=_HELP, no_args_is_help=True)(backtest)


def backtest(
    data: opt.Data, more_data: opt.MoreData = None, strategy: opt.Strategy = "strategy_a",
    symbol: opt.Symbol = None, timeframe: opt.TimeframeOpt = None, on_gap: opt.OnGap = "warn",
    config: opt.Config = None, start: opt.Start = None, end: opt.End = None, fee: opt.Fee = None,
    slippage_bps: opt.SlippageBps = None, cash: opt.Cash = None, stake: opt.Stake = None,
    market: opt.MarketOpt = None, detail_timeframe: opt.DetailTimeframe = None, touch_fills: opt.TouchFills = False,
    circuit_breakers: opt.CircuitBreakers = None, json_out: opt.JsonOut = None, report: opt.Report = None,
    sweep: opt.Sweep = None, workers: opt.Workers = None, rank_by: opt.RankBy = "total_return_pct",
    per_candle: opt.PerCandle = False, parity: opt.Parity = False, breakeven_at_r: opt.BreakevenAtR = None,
    trail_at_r: opt.TrailAtR = None, trail_distance: opt.TrailDistance = None, via_live: opt.ViaLive = False,
) -> None:
    from ictbot.backtest.run import results_document

    _quiet_logs()
    out = make_console()
    flags = BacktestFlags(
        strategy=strategy, symbols=symbol, timeframe=timeframe, market=market, fee=fee,
        slippage_bps=slippage_bps, cash=cash, stake=stake, detail_timeframe=detail_timeframe,
        touch_fills=touch_fills, circuit_breakers=circuit_breakers, per_candle=per_candle,
        stops={"breakeven_at_r": breakeven_at_r, "trail_at_r": trail_at_r, "trail_distance": trail_distance},
    )
    setup = load_setup(config)
    if on_gap not in ("warn", "fail"):
        fail(f"--on-gap must be warn or fail, not {on_gap!r}")
    spec = _resolved_spec(flags, setup, [*data, *(more_data or [])], start, end)
    if via_live and spec.stop_rules is not None:
        fail("--via-live compares order lists one to one and needs the stop rules off (a moved stop is a "
             "cancel and a new order live, a new level in the backtest)")
    sweep_args = _SweepArgs(sweep, workers, rank_by, json_out) if sweep else None
    outcome = _execute(spec, out, fail_on_gap=on_gap == "fail", sweep=sweep_args)
    if outcome is None:  # the sweep printed and wrote its own results
        return
    document = results_document(outcome)
    _print_summary(out, document, outcome.seconds)
    for name, source in outcome.instrument_sources.items():
        out.print(f"{name} instrument rules: {source.describe()}", soft_wrap=True)
    if parity:
        _check_signal_parity(out, spec, outcome)
    if via_live:
        _check_order_parity(out, spec, outcome)
    _write_outputs(out, outcome, document, json_out, report)


@dataclass(frozen=True)
class _SweepArgs:
    items: list[str]
    workers: int | None
    rank_by: str
    json_out: Path | None


def _resolved_spec(flags: BacktestFlags, setup: LiveSetup, data: list[str], start: str | None,
                   end: str | None) -> BacktestSpec:
    """The spec of the files given: their symbols and timeframe checked against the flags."""
    from ictbot.cli.backtest_data import resolve_data
    from ictbot.domain.errors import IctbotError

    try:
        entries, symbols, chosen_tf = resolve_data(data, flags.symbols or [], flags.timeframe)
        flags = replace(flags, symbols=list(symbols), timeframe=chosen_tf.value)
        return build_spec(flags, setup, entries, start, end)
    except (ValueError, IctbotError) as exc:
        fail(str(exc))


def _execute(spec: BacktestSpec, out: Console, *, fail_on_gap: bool,
             sweep: _SweepArgs | None) -> BacktestOutcome | None:
    """Load the data (its quality printed) and run the backtest with a progress bar per symbol, or the
    sweep (then None)."""
    from ictbot.backtest.run import run_backtest
    from ictbot.cli.backtest_data import load_checked
    from ictbot.cli.exchange_info import use_stored_rules
    from ictbot.domain.errors import IctbotError

    try:
        use_stored_rules()
        loaded = load_checked(spec, out, fail_on_gap=fail_on_gap)
        if sweep is not None:
            _run_sweep(spec, sweep.items, sweep.workers, sweep.rank_by, sweep.json_out, out)
            return None
        _announce_compile(out, spec)
        with _progress(out) as progress:
            tasks: dict[str, Any] = {}

            def on_progress(sym: str, index: int, total: int) -> None:
                if sym not in tasks:
                    tasks[sym] = progress.add_task(sym, total=total)
                progress.update(tasks[sym], completed=index)

            outcome = run_backtest(spec, loaded=loaded.datasets, progress=on_progress)
            outcome.load_seconds = loaded.seconds
    except IctbotError as exc:
        fail(str(exc))
    return outcome


def _check_signal_parity(out: Console, spec: BacktestSpec, outcome: BacktestOutcome) -> None:
    """``--parity``: the live bus services emit the backtest's signals; exit code 1 if not."""
    from ictbot.backtest.parity import check_parity

    for data_set in outcome.data:
        report_ = check_parity(replace(spec, symbols=(data_set.symbol,)), data_set)
        out.print(f"{data_set.symbol}: {report_.describe()}")
        if not report_.ok:
            raise typer.Exit(code=1)


def _check_order_parity(out: Console, spec: BacktestSpec, outcome: BacktestOutcome) -> None:
    """``--via-live``: the live pipeline sends the backtest's orders to the simulator; exit code 1 if not."""
    from ictbot.backtest.live_parity import check_order_parity

    for data_set in outcome.data:
        try:
            orders = check_order_parity(replace(spec, symbols=(data_set.symbol,)), data_set)
        except TimeoutError as exc:  # the live bot got stuck: as much a parity break as a wrong order
            fail(f"{data_set.symbol}: ORDER PARITY BROKEN: {exc}", code=1)
        out.print(f"{data_set.symbol}: {orders.describe()}")
        if not orders.ok:
            raise typer.Exit(code=1)


def _write_outputs(out: Console, outcome: BacktestOutcome, document: dict[str, Any], json_out: Path | None,
                   report: Path | None) -> None:
    from ictbot.backtest.run import write_json

    if json_out is not None:
        write_json(document, json_out)
        out.print(f"results: {json_out}")
    if report is not None:
        from ictbot.backtest.report import write_report

        write_report(outcome, document, str(report))
        out.print(f"report:  {report}")


def _announce_compile(out: Console, spec: BacktestSpec) -> None:
    """Say so when this run will first compile the indicator kernels (silent for a minute otherwise)."""
    from ictbot.backtest.ict import uses_replay
    from ictbot.backtest.run import build_strategy
    from ictbot.indicators import kernels

    if uses_replay(build_strategy(spec), per_candle=spec.per_candle) and not kernels.compiled():
        out.print("[dim]compiling the indicator kernels (first run of this install, about a minute; "
                  "cached afterwards)[/]")


def _quiet_logs() -> None:
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("candles"), TimeElapsedColumn(), console=console, transient=True)


def _print_summary(out: Console, document: dict[str, Any], seconds: float) -> None:
    s = document["summary"]
    table = Table(title="Backtest summary", show_header=False)
    def show(value: Any, fmt: str) -> str:
        return "—" if value is None else fmt.format(value)
    rows = [
        ("Trades", f"{s['trades']:,}"), ("Win rate", f"{s['win_rate_pct']:.2f}%"),
        ("Profit factor", show(s["profit_factor"], "{:.3f}")), ("Expectancy", f"{s['expectancy']:+.4f}"),
        ("Total return", f"{s['total_return_pct']:+.3f}%"), ("CAGR", f"{s['cagr_pct']:+.3f}%"),
        ("P&L gross / fees / net", f"{s['gross_pnl']:+,.4f} / {s['fees']:,.4f} / {s['net_pnl']:+,.4f}"),
        ("Sharpe", show(s["sharpe"], "{:.3f}")), ("Sortino", show(s["sortino"], "{:.3f}")),
        ("Max drawdown", f"{s['max_drawdown_pct']:.3f}% over {s['max_drawdown_duration_days']:.1f} days"),
        ("Exposure", f"{s['exposure_pct']:.2f}%"), ("Final equity", f"{s['final_equity']:,.4f}"),
        ("Fingerprint", document["fingerprint"]),
        ("Speed", f"{s['candles']:,} candles in {seconds:.2f}s ({s['candles'] / max(seconds, 1e-9):,.0f}/s)"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    for symbol, entry in document["symbols"].items():
        if entry["trading_stopped"] is not None:
            stop = entry["trading_stopped"]
            out.print(f"[yellow]{symbol}: trading stopped {stop['at']} by the {stop['breaker']} breaker[/] (live: "
                      "until an operator resets it)")
    for deviation in document["deviations_from_live"]:
        out.print(f"[yellow]deviates from live[/] {deviation['setting']}: {deviation['backtest']} "
                  f"(live: {deviation['live']})")


def _run_sweep(spec: Any, items: list[str], workers: int | None, rank_by: str, json_out: Path | None,
               out: Console) -> None:
    from ictbot.backtest.sweep import combinations, parse_sweep, ranked, run_sweep

    try:
        grid = parse_sweep(items)
    except ValueError as exc:
        fail(str(exc))
    total = len(list(combinations(grid)))
    with _progress(out) as progress:
        task = progress.add_task("sweep", total=total)
        rows = run_sweep(spec, grid, workers=workers, on_done=lambda _row: progress.advance(task))
    table = Table(title=f"Sweep: {total} runs ranked by {rank_by}")
    names = list(grid)
    for name in [*names, "trades", "return %", "max DD %", "sharpe", "PF", "fingerprint"]:
        table.add_column(name, justify="right")
    best = ranked(rows, rank_by)
    for row in best:
        if row.error:
            table.add_row(*(str(row.combination[n]) for n in names), "error", row.error[:40], "", "", "", "")
            continue
        s = row.summary
        table.add_row(*(str(row.combination[n]) for n in names), str(s["trades"]), f"{s['total_return_pct']:+.2f}",
                      f"{s['max_drawdown_pct']:.2f}", "—" if s["sharpe"] is None else f"{s['sharpe']:.2f}",
                      "—" if s["profit_factor"] is None else f"{s['profit_factor']:.2f}", row.fingerprint[:12])
    out.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps({
            "schema": "ictbot.backtest.sweep/1", "parameters": spec.describe(),
            "deviations_from_live": [d.to_json() for d in spec.deviations()], "grid": grid, "rank_by": rank_by,
            "runs": [{"combination": r.combination, "summary": r.summary, "fingerprint": r.fingerprint,
                      "seconds": round(r.seconds, 4), "error": r.error} for r in best],
        }, indent=1) + "\n")
        out.print(f"results: {json_out}")
