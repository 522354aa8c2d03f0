"""One backtest run from a ``BacktestSpec``: load data, build the live stages, run every symbol,
and assemble the results document (metadata, trades, summary, fingerprint)."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ictbot.backtest.data import MarketData, data_quality_document, files_for_symbol, load_market_data
from ictbot.backtest.deviations import Deviation, RunChoices, deviations_from_live
from ictbot.backtest.driver import SnapshotSource
from ictbot.backtest.engine import BacktestConfig, BacktestEngine
from ictbot.backtest.fills import FillModel
from ictbot.backtest.metrics import (
    Summary,
    buy_and_hold_return_pct,
    buy_and_hold_total_pct,
    monthly_returns,
    summarise,
)
from ictbot.backtest.reference import REFERENCE_STRATEGIES
from ictbot.backtest.results import SymbolResult, count_reasons, fingerprint
from ictbot.backtest.sizing import RiskGate, reference_limits
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe, ms_to_datetime
from ictbot.instruments import InstrumentCatalogue, InstrumentSource, default_catalogue
from ictbot.positions.rules import StopRules
from ictbot.risk.limits import RiskLimits
from ictbot.strategies.base import Strategy
from ictbot.strategies.loader import ResolvedStrategy, resolve_strategy
from ictbot.strategies.registry import StrategyRegistry

SCHEMA = "ictbot.backtest/1"
REFERENCE_KINDS = frozenset(cls.kind for cls in REFERENCE_STRATEGIES)


@dataclass(frozen=True)
class BacktestSpec:
    """Everything that determines a run's trades (and so its fingerprint)."""

    data: tuple[str, ...]
    symbols: tuple[str, ...]
    timeframe: Timeframe
    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    start_ms: int | None = None
    end_ms: int | None = None
    initial_cash: Decimal = Decimal(10_000)
    stake: Decimal = Decimal(1_000)
    fee_rate: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal(0)
    limit_fills_on_touch: bool = False
    market: Market = Market.SPOT
    detail_timeframe: Timeframe | None = None
    risk: Mapping[str, Any] | None = None  # the config's risk section; None: reference limits or live defaults
    circuit_breakers: bool | None = None  # None: as live (on), except for the reference strategies (off)
    limit_ttl_candles: int = 12
    per_candle: bool = False
    stop_rules: Mapping[str, Any] | None = None  # the live config's execution.breakeven_at_r etc.; None: off
    config_file: str | None = None  # the trading config the run started from; None: built-in defaults
    # Departures the caller knows of that the spec cannot see (a flag overriding the config's value).
    extra_deviations: tuple[Deviation, ...] = ()

    def with_params(self, **overrides: Any) -> BacktestSpec:
        return replace(self, params={**self.params, **overrides})

    @property
    def is_reference(self) -> bool:
        return self.strategy in REFERENCE_KINDS

    @property
    def breakers_on(self) -> bool:
        return (not self.is_reference) if self.circuit_breakers is None else self.circuit_breakers

    def deviations(self) -> list[Deviation]:
        """Every way this run departs from the live bot on the same configuration."""
        choices = RunChoices(
            strategy=self.strategy, reference=self.is_reference, stake=self.stake, initial_cash=self.initial_cash,
            fee_rate=self.fee_rate, slippage_bps=self.slippage_bps, limit_fills_on_touch=self.limit_fills_on_touch,
            detail_timeframe=None if self.detail_timeframe is None else self.detail_timeframe.value,
            circuit_breakers=self.breakers_on,
        )
        return deviations_from_live(choices, live_limits(self), self.extra_deviations)

    def describe(self) -> dict[str, Any]:
        return {
            "symbols": list(self.symbols), "timeframe": self.timeframe.value, "strategy": self.strategy,
            "params": dict(self.params), "start": self.start_ms, "end": self.end_ms,
            "initial_cash": str(self.initial_cash), "stake": str(self.stake), "fee_rate": str(self.fee_rate),
            "slippage_bps": str(self.slippage_bps), "limit_fills_on_touch": self.limit_fills_on_touch,
            "market": self.market.value,
            "detail_timeframe": None if self.detail_timeframe is None else self.detail_timeframe.value,
            "risk": None if self.risk is None else dict(self.risk), "circuit_breakers": self.breakers_on,
            "limit_ttl_candles": self.limit_ttl_candles, "per_candle": self.per_candle,
            "stop_rules": None if self.stop_rules is None else dict(self.stop_rules),
            "config_file": self.config_file,
        }


@dataclass
class BacktestOutcome:
    spec: BacktestSpec
    results: list[SymbolResult]
    data: list[MarketData]
    seconds: float  # engine time (strategies, risk, fills), data loading excluded
    load_seconds: float = 0.0
    instrument_sources: dict[str, InstrumentSource] = field(default_factory=dict)  # where each symbol's rules came from

    @property
    def trades(self) -> list[Any]:
        return sorted((t for r in self.results for t in r.trades), key=lambda t: (t.entry_time, t.symbol))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.trades)

    @property
    def candles(self) -> int:
        return sum(r.candles for r in self.results)

    def combined_equity(self) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]]]:
        """Sum of the symbols' equity curves on the union of their candle times (carried forward)."""
        if len(self.results) == 1:
            return self.results[0].times, self.results[0].equity
        times = np.unique(np.concatenate([r.times for r in self.results]))
        total = np.zeros(times.size, dtype=np.float64)
        for r in self.results:
            pos = np.searchsorted(r.times, times, side="right") - 1
            values = np.where(pos >= 0, r.equity[np.clip(pos, 0, None)], float(r.initial_cash))
            total += values
        return times, total

    def summary(self) -> Summary:
        times, equity = self.combined_equity()
        initial = sum((r.initial_cash for r in self.results), Decimal(0))
        tf = self.results[0].timeframe_ms if self.results else 0
        return summarise(self.trades, times, equity, initial, tf)


def build_registry() -> StrategyRegistry:
    registry = StrategyRegistry(include_builtins=True)
    for cls in REFERENCE_STRATEGIES:
        registry.register_kind(cls.kind, cls.from_params_factory())
    return registry


def strategy_kinds() -> tuple[str, ...]:
    return build_registry().kinds


def resolve(strategy: str) -> ResolvedStrategy:
    """``--strategy``: a built-in or reference kind, or a user file ``path.py:Class`` (strategies.loader)."""
    return resolve_strategy(strategy, extra=REFERENCE_STRATEGIES)


def build_strategy(spec: BacktestSpec) -> Strategy:
    params = {"base_timeframe": spec.timeframe.value, **spec.params}
    return resolve(spec.strategy).build(params)


def live_limits(spec: BacktestSpec) -> RiskLimits:
    """The risk section the live bot would run with (the config's, else the built-in defaults)."""
    return RiskLimits.model_validate(dict(spec.risk or {}))


def risk_limits(spec: BacktestSpec) -> RiskLimits:
    """The limits the backtest's risk gate applies: the live ones, judged at the fee the fills charge
    (a ``--fee`` different from the config's rate is a listed deviation)."""
    if spec.risk is None and spec.is_reference:
        return reference_limits(spec.stake, spec.fee_rate)
    limits = live_limits(spec)
    if spec.fee_rate != limits.taker_fee_rate:
        limits = limits.model_copy(update={"maker_fee_rate": spec.fee_rate, "taker_fee_rate": spec.fee_rate})
    return limits


def snapshot_source(strategy: Strategy, data: MarketData, *, per_candle: bool = False) -> SnapshotSource | None:
    """Indicator snapshots for strategies that read ICT state (``backtest.ict.indicator_source``);
    None (bare snapshots) otherwise."""
    if type(strategy).__module__.startswith("ictbot.backtest."):
        return None
    from ictbot.backtest.ict import indicator_source

    return indicator_source(strategy, data, per_candle=per_candle)


def run_backtest(
    spec: BacktestSpec,
    *,
    loaded: Sequence[MarketData] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    catalogue: InstrumentCatalogue | None = None,
) -> BacktestOutcome:
    started = time.perf_counter()
    datasets = list(loaded) if loaded is not None else [
        load_market_data(files_for_symbol(spec.data, symbol, spec.symbols), symbol, spec.timeframe,
                         start_ms=spec.start_ms, end_ms=spec.end_ms, detail_timeframe=spec.detail_timeframe)
        for symbol in spec.symbols
    ]
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    limits = risk_limits(spec)
    # Every symbol's own rules, resolved before any runs: an unknown symbol fails at once.
    resolved = {d.symbol: (catalogue or default_catalogue()).resolve(d.symbol, spec.market) for d in datasets}
    results = []
    for data in datasets:
        instrument = resolved[data.symbol].instrument
        strategy = build_strategy(spec)
        config = BacktestConfig(
            initial_cash=spec.initial_cash, market=spec.market, instrument=instrument,
            fill_model=FillModel(spec.fee_rate, spec.slippage_bps, spec.limit_fills_on_touch),
            limit_ttl_candles=spec.limit_ttl_candles, per_candle=spec.per_candle,
            stop_rules=StopRules.from_settings(spec.stop_rules or {}),
        )
        symbol_progress = None
        if progress is not None:
            total = len(data)
            symbol = data.symbol

            def symbol_progress(index: int, _symbol: str = symbol, _total: int = total) -> None:
                progress(_symbol, index, _total)

        engine = BacktestEngine(
            data, [strategy], config,
            risk=RiskGate(limits, instrument, circuit_breakers=spec.breakers_on),
            snapshots=snapshot_source(strategy, data, per_candle=spec.per_candle), progress=symbol_progress,
        )
        results.append(engine.run())
        if progress is not None:
            progress(data.symbol, len(data), len(data))
    return BacktestOutcome(spec, results, datasets, time.perf_counter() - started, load_seconds,
                           {name: found.source for name, found in resolved.items()})


# ---- the results document ----------------------------------------------------------------------


def code_version() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[3]
    info: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        info["package_version"] = importlib.metadata.version("ictbot")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        info["package_version"] = None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "src"], capture_output=True,
                               text=True, timeout=5, check=False).stdout.strip()
        info["git_commit"] = commit or None
        info["git_dirty"] = bool(dirty)
    except (OSError, subprocess.SubprocessError):
        info["git_commit"], info["git_dirty"] = None, None
    return info


def results_document(outcome: BacktestOutcome, *, include_code_version: bool = True) -> dict[str, Any]:
    spec = outcome.spec
    summary = outcome.summary()
    trades = outcome.trades
    times, equity = outcome.combined_equity()
    return {
        "schema": SCHEMA,
        "deviations_from_live": [d.to_json() for d in spec.deviations()],
        "metadata": {
            "code": code_version() if include_code_version else None,
            "data": [
                {"symbol": d.symbol, "path": f.path, "sha256": f.sha256, "bytes": f.size}
                for d in outcome.data for f in d.files
            ],
            "candles": {d.symbol: {"count": len(d), "source_timeframe": d.source_timeframe.value
                                   if d.source_timeframe else None,
                                   "first": ms_to_datetime(int(d.frame.open_time[0])).isoformat(),
                                   "last": ms_to_datetime(int(d.frame.open_time[-1])).isoformat()}
                        for d in outcome.data if len(d)},
            "parameters": spec.describe(),
            "instrument_source": {name: source.to_json() for name, source in outcome.instrument_sources.items()},
            "fill_model": {
                "entry": "market orders decided at a candle's close fill at the next candle's open",
                "stops": "touch triggers; fill at the stop or the worse open",
                "targets_and_limits": "touch fills" if spec.limit_fills_on_touch else "price must trade through",
                "ambiguous_candle": "stop first" if spec.detail_timeframe is None
                else f"resolved on {spec.detail_timeframe.value} candles, stop first within one",
                "fees": f"{spec.fee_rate} of notional per fill, quote asset",
                "slippage_bps": str(spec.slippage_bps),
            },
        },
        "summary": {**summary.to_json(), "buy_and_hold_return": buy_and_hold_total_pct(outcome.results)},
        "data_quality": data_quality_document(outcome.data),
        "symbols": {
            r.symbol: {
                "summary": {**summarise(r.trades, r.times, r.equity, r.initial_cash, r.timeframe_ms).to_json(),
                            "buy_and_hold_return": buy_and_hold_return_pct(r.open, r.close)},
                "fingerprint": r.fingerprint, "signals": r.signals, "rejected_signals": len(r.rejections),
                "rejection_reasons": count_reasons(r.rejections),
                "data_quality": next((d.quality.to_json() for d in outcome.data
                                      if d.symbol == r.symbol and d.quality is not None), None),
                "trading_stopped": None if r.trading_stopped is None else {
                    "at": ms_to_datetime(r.trading_stopped[0]).isoformat(), "breaker": r.trading_stopped[1]},
            }
            for r in outcome.results
        },
        "monthly_returns": [
            {"year": y, "month": m, "return_pct": round(v, 6)}
            for y, m, v in monthly_returns(times, equity, summary.initial_equity)
        ],
        "trades": [t.to_json() for t in trades],
        "fingerprint": outcome.fingerprint,
        "timing": {"seconds": round(outcome.seconds, 4), "load_seconds": round(outcome.load_seconds, 4),
                   "candles_per_second": round(outcome.candles / outcome.seconds) if outcome.seconds else None},
    }


def write_json(document: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
