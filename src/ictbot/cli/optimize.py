"""`ictbot optimize`: walk-forward parameter search on Optuna, on one machine or many."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ictbot.cli.common import fail, make_console

if TYPE_CHECKING:
    from ictbot.backtest.run import BacktestSpec
    from ictbot.optimize.runner import OptimizeJob

_HELP = """Search strategy parameters with Optuna, validated walk-forward: the candles are cut into folds; each fold's parameters are chosen on its in-sample window only and then scored unchanged on the out-of-sample window after it. Every trial is an `ictbot backtest` run (same engine, risk gate, fills and trading config).

Parallel: --workers N runs N processes here; --storage URL --study NAME lets any number of processes on any number of machines fill one study (PostgreSQL; a killed worker's trial is failed by heartbeat and retried). --report with --storage/--study and no --data renders a study others filled. Details: docs/optimize.md.

Example: ictbot optimize --data d/BTCUSDT-5m-*.csv --strategy s1_ema_cross --space fast=5:30 --space slow=40:120:10 --objective sharpe --trials 50 --folds 3 --report opt.html

Example: ictbot optimize --data d/*.csv --strategy strategy_a --space min_reward_risk=1.5:4 --storage postgresql+psycopg://me@db/optuna --study a-sharpe --trials 200
"""  # noqa: E501 - typer rewraps paragraphs


@dataclass(frozen=True)
class _Search:
    """The search flags as given."""

    space: list[str]
    objective: str
    trials: int
    seed: int | None
    folds: int
    walk: str
    oos_fraction: float
    min_trades: int
    storage: str | None
    study: str | None
    workers: int
    heartbeat_interval: int
    grace_period: int


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("trials"),
                    TimeElapsedColumn(), console=console, transient=True)


def _spec(data: list[str], *, strategy: str, symbol: list[str] | None, timeframe: str | None, config: Path | None,
          start: str | None, end: str | None, fee: str | None, cash: str | None) -> BacktestSpec:
    """The spec ``ictbot backtest`` builds from the same flags (its own functions, not a copy)."""
    from ictbot.cli.backtest import build_spec, default_flags, load_setup
    from ictbot.cli.backtest_data import resolve_data
    from ictbot.domain.errors import IctbotError
    from ictbot.optimize.evaluate import resolve_strategy

    try:
        kind = resolve_strategy(strategy)
        entries, symbols, chosen_tf = resolve_data(data, symbol or [], timeframe)
        flags = default_flags(kind, list(symbols), chosen_tf.value, fee=fee, cash=cash)
        return build_spec(flags, load_setup(config), entries, start, end)
    except (ValueError, IctbotError) as exc:
        fail(str(exc))


def _job(spec: BacktestSpec, search: _Search, datasets: list[Any]) -> OptimizeJob:
    from ictbot.optimize.evaluate import check_space
    from ictbot.optimize.folds import Walk
    from ictbot.optimize.objectives import OBJECTIVES
    from ictbot.optimize.runner import OptimizeJob, data_identity, make_folds
    from ictbot.optimize.space import parse_space
    from ictbot.optimize.storage import StorageOptions
    from ictbot.optimize.worker import Search

    if search.objective not in OBJECTIVES:
        fail(f"--objective must be one of {', '.join(OBJECTIVES)}, not {search.objective!r}")
    if search.walk not in {w.value for w in Walk}:
        fail(f"--walk must be anchored or rolling, not {search.walk!r}")
    for flag, value, least in (("--trials", search.trials, 1), ("--workers", search.workers, 1),
                               ("--min-trades", search.min_trades, 0)):
        if value < least:
            fail(f"{flag} must be at least {least}, got {value}")
    if search.storage is not None and not search.study:
        fail("--storage needs --study NAME (the study the workers share)")
    try:
        space = parse_space(search.space)
        check_space(spec, [d.name for d in space])
        folds = make_folds(datasets, folds=search.folds, walk=Walk(search.walk), oos_fraction=search.oos_fraction)
    except ValueError as exc:
        fail(str(exc))
    return OptimizeJob(
        spec=spec, search=Search(space, search.objective, search.min_trades, search.trials), folds=folds,
        walk=Walk(search.walk), oos_fraction=search.oos_fraction, study=search.study or f"{spec.strategy}-optimize",
        storage=StorageOptions(search.storage, search.heartbeat_interval, search.grace_period), seed=search.seed,
        data_id=data_identity(datasets))


def _optimize(job: OptimizeJob, workers: int, datasets: list[Any], out: Console) -> dict[str, Any]:
    """Run the search; returns the results document. A temporary study (--workers without --storage)
    is deleted afterwards, as an in-memory one would be."""
    import shutil

    from ictbot.optimize.results import results_document
    from ictbot.optimize.runner import run_local, run_worker, temporary_storage
    from ictbot.optimize.storage import open_storage

    folder = None
    if workers > 1 and job.storage.url is None:
        job, folder = temporary_storage(job)
        out.print(f"[dim]{workers} local workers on a temporary study in {folder}[/]")
    try:
        with _progress(out) as progress:
            tasks = {f.number: progress.add_task(f"fold {f.number}/{len(job.folds)}", total=job.search.trials)
                     for f in job.folds}

            def on_progress(fold: int, done: int) -> None:
                progress.update(tasks[fold], completed=done)

            storage = open_storage(job.storage)
            if workers > 1:
                run_local(job, workers, progress=on_progress)
            else:
                run_worker(job, datasets=datasets, storage=storage, progress=on_progress)
        return results_document(storage, job.study)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _print_summary(out: Console, document: dict[str, Any]) -> None:
    table = Table(title=f"Walk-forward {document['strategy']}: {document['objective']} ({document['walk']})")
    for name in ("fold", "IS value", "OOS value", "IS trades", "OOS trades", "OOS return %", "parameters"):
        table.add_column(name, justify="left" if name == "parameters" else "right")
    for fold in document["folds"]:
        chosen, oos = fold["chosen"], fold["out_of_sample_result"] or {}
        summary = oos.get("summary") or {}

        def show(value: Any, fmt: str) -> str:
            return "—" if value is None else fmt.format(value)

        table.add_row(str(fold["number"]), show(chosen and chosen["in_sample_value"], "{:+.3f}"),
                      show(oos.get("value"), "{:+.3f}"), show(chosen and (chosen["in_sample"] or {}).get("trades"),
                                                              "{}"),
                      show(summary.get("trades"), "{}"), show(summary.get("total_return_pct"), "{:+.2f}"),
                      ", ".join(f"{k}={v}" for k, v in (chosen or {}).get("params", {}).items()) or
                      (oos.get("reason") or "—"))
    out.print(table)
    total = document["out_of_sample"]["total_return_pct"]
    out.print(f"out-of-sample return, stitched across folds: {'—' if total is None else f'{total:+.2f}%'}")
    out.print(f"best parameters (latest fold): {json.dumps(document['best_params'])}")


def _write_outputs(document: dict[str, Any], out: Console, json_out: Path | None, report: Path | None,
                   best_config: Path | None, config: Path | None) -> None:
    from ictbot.domain.errors import ConfigError
    from ictbot.optimize.fragment import write_config
    from ictbot.optimize.report import write_report

    if json_out is not None:
        json_out.write_text(json.dumps(document, indent=1) + "\n")
        out.print(f"results: {json_out}")
    if report is not None:
        write_report(document, report)
        out.print(f"report:  {report}")
    if best_config is not None:
        if document["best_params"] is None:
            fail("--best-config: no parameter set met --min-trades in the latest fold; nothing to write", code=1)
        try:
            from ictbot.app.backtest_config import LiveSetup

            write_config(best_config, document["strategy"], document["best_params"], LiveSetup.load(config).source)
        except ConfigError as exc:
            fail(f"--best-config: {exc}")
        out.print(f"config:  {best_config} (ictbot run --config {best_config})")


def _render_only(search: _Search, out: Console) -> dict[str, Any]:
    from ictbot.optimize.results import results_document
    from ictbot.optimize.storage import StorageOptions, open_storage

    if search.storage is None or not search.study:
        fail("--data is required, unless --storage and --study name a study to report on")
    try:
        return results_document(open_storage(StorageOptions(search.storage)), search.study)
    except ValueError as exc:
        fail(str(exc))


def _run(data: list[str], spec_flags: dict[str, Any], search: _Search, outputs: dict[str, Any]) -> None:
    from ictbot.cli.backtest import _announce_compile, _quiet_logs
    from ictbot.cli.backtest_data import load_checked
    from ictbot.cli.exchange_info import use_stored_rules
    from ictbot.domain.errors import IctbotError

    _quiet_logs()
    out = make_console()
    if not data:
        document = _render_only(search, out)
    else:
        spec = _spec(data, **spec_flags)
        try:
            use_stored_rules()
            datasets = load_checked(spec, out, fail_on_gap=False).datasets
            job = _job(spec, search, datasets)
            _announce_compile(out, spec)
            document = _optimize(job, search.workers, datasets, out)
        except (IctbotError, ValueError, RuntimeError) as exc:
            fail(str(exc))
    _print_summary(out, document)
    _write_outputs(document, out, **outputs)


def register(app: typer.Typer) -> None:
    @app.command("optimize", help=_HELP, no_args_is_help=True)
    def optimize(
        data: Annotated[list[str] | None, typer.Option("--data", help="Candle files, as for `ictbot backtest` "
                                                       "(SYMBOL=PATH or names like BTCUSDT-5m-2024-01.csv).")]
        = None,
        more_data: Annotated[list[str] | None, typer.Argument(help="More candle files (a shell glob after --data).",
                                                              show_default=False)] = None,
        strategy: Annotated[str, typer.Option(help="Strategy kind, as for `ictbot backtest`.")] = "strategy_a",
        space: Annotated[list[str] | None, typer.Option("--space", help="name=low:high[:step] (integers if all "
                                                        "are) or name=a,b,c; repeat per parameter; risk.<field> "
                                                        "searches a risk limit.")] = None,
        objective: Annotated[str, typer.Option(help="net_return, sharpe, sortino, calmar or profit_factor "
                                               "(maximised).")] = "sharpe",
        trials: Annotated[int, typer.Option(help="COMPLETE trials per fold (exactly this many, with any "
                                            "number of workers).")] = 50,
        seed: Annotated[int | None, typer.Option(help="Sampler seed: one worker, same seed → same trials.")] = None,
        folds: Annotated[int, typer.Option(help="Walk-forward folds (out-of-sample windows).")] = 3,
        walk: Annotated[str, typer.Option(help="anchored (fit from the first candle) or rolling (fixed-length "
                                          "fit window).")] = "anchored",
        oos_fraction: Annotated[float, typer.Option("--oos-fraction", help="Share of the candles, at the end, "
                                                    "split into the out-of-sample windows.")] = 0.5,
        min_trades: Annotated[int, typer.Option("--min-trades", help="A parameter set with fewer in-sample trades "
                                                "cannot win.")] = 10,
        storage: Annotated[str | None, typer.Option(help="Optuna storage shared by workers, e.g. "
                                                    "postgresql+psycopg://user@host:5432/db or sqlite:///opt.db. "
                                                    "Default: in memory (one process).")] = None,
        study: Annotated[str | None, typer.Option(help="Study name (required with --storage); the folds are "
                                                  "NAME.fold1 .. NAME.foldK.")] = None,
        workers: Annotated[int, typer.Option(help="Local worker processes (on --storage, else a temporary "
                                             "SQLite file).")] = 1,
        heartbeat_interval: Annotated[int, typer.Option("--heartbeat-interval", help="Seconds between a running "
                                                        "trial's heartbeats (database storage).")] = 10,
        grace_period: Annotated[int, typer.Option("--grace-period", help="Seconds without a heartbeat after which "
                                                  "a trial's worker counts as dead: the trial is failed and "
                                                  "retried.")] = 30,
        symbol: Annotated[list[str] | None, typer.Option("--symbol", help="As for `ictbot backtest`.")] = None,
        timeframe: Annotated[str | None, typer.Option(help="As for `ictbot backtest`.")] = None,
        config: Annotated[Path | None, typer.Option(help="The trading config (as for `ictbot backtest`); also the "
                                                    "base of --best-config.")] = None,
        start: Annotated[str | None, typer.Option(help="First candle, UTC.")] = None,
        end: Annotated[str | None, typer.Option(help="End (exclusive), UTC.")] = None,
        fee: Annotated[str | None, typer.Option(help="Fee per fill (default: the config's).")] = None,
        cash: Annotated[str | None, typer.Option(help="Starting cash per symbol.")] = None,
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the results document here.")] = None,
        report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")] = None,
        best_config: Annotated[Path | None, typer.Option("--best-config", help="Write the trading config with the "
                                                         "best parameters here (for ictbot run --config).")] = None,
    ) -> None:
        search = _Search(space or [], objective, trials, seed, folds, walk, oos_fraction, min_trades, storage, study,
                         workers, heartbeat_interval, grace_period)
        spec_flags = {"strategy": strategy, "symbol": symbol, "timeframe": timeframe, "config": config,
                      "start": start, "end": end, "fee": fee, "cash": cash}
        _run([*(data or []), *(more_data or [])], spec_flags, search,
             {"json_out": json_out, "report": report, "best_config": best_config, "config": config})
